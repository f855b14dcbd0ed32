"""The Transformers backend: batched generation and scoring on CPU or GPU.

Why not call `model.generate` once per prompt as the seeds' scripts do: on small models the per-step
Python overhead dominates, so one prompt at a time wastes nearly all of the machine. Here prompts
(times `n` samples) are sorted by length, left-padded into large batches and decoded with the KV
cache; `bench/generation.py` measures the difference.
"""

from __future__ import annotations

import hashlib
from typing import Any

from thinklab.backends.base import BackendError, Completion, SamplingParams
from thinklab.prompting.modes import modes_for


def _seed_for(seed: int | None, chunk: int) -> int:
    digest = hashlib.sha256(f"{seed}-{chunk}".encode()).digest()
    return int.from_bytes(digest[:4], "big")


class HFBackend:
    """Generation and scoring with a local or hub Transformers model (`trust_remote_code` off unless asked)."""

    name = "hf"

    def __init__(
        self,
        model: str,
        *,
        device: str | None = None,
        dtype: str = "auto",
        batch_size: int = 256,
        trust_remote_code: bool = False,
        revision: str | None = None,
        threads: int | None = None,
    ) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from thinklab.tiny.model import resolve_model_path

        if threads:
            torch.set_num_threads(threads)
        path = resolve_model_path(model)
        self.model_id = model
        self.path = path
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(
                path, trust_remote_code=trust_remote_code, revision=revision
            )
            torch_dtype = {
                "auto": "auto",
                "float32": torch.float32,
                "bfloat16": torch.bfloat16,
                "float16": torch.float16,
            }[dtype]
            if torch_dtype == "auto" and self.device == "cpu":
                torch_dtype = torch.float32  # bf16 does not speed up CPU generation and costs accuracy
            self.model = AutoModelForCausalLM.from_pretrained(
                path, dtype=torch_dtype, trust_remote_code=trust_remote_code, revision=revision
            )
        except (OSError, ValueError) as exc:
            raise BackendError(f"cannot load model {model!r}: {str(exc).splitlines()[0]}") from None
        self.model.to(self.device).eval()
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.batch_size = batch_size
        self.modes = modes_for(path)
        self.num_parameters = sum(p.numel() for p in self.model.parameters())

    # ------------------------------------------------------------------ helpers
    def _encode(self, text: str) -> list[int]:
        bos = self.tokenizer.bos_token
        add_special = not (bos and text.startswith(bos))
        return self.tokenizer(text, add_special_tokens=add_special and bool(bos))["input_ids"]

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    # ------------------------------------------------------------------ generate
    def generate(self, prompts: list[str], params: SamplingParams) -> list[list[Completion]]:
        import torch

        encoded = [self._encode(p) for p in prompts]
        jobs = [(i, j) for i in range(len(prompts)) for j in range(params.n)]
        # Longest first: similar lengths share a batch (little padding), and a memory error shows early.
        jobs.sort(key=lambda ij: -len(encoded[ij[0]]))
        results: list[list[Completion | None]] = [[None] * params.n for _ in prompts]
        max_positions = getattr(self.model.config, "max_position_embeddings", None)
        for chunk_index, start in enumerate(range(0, len(jobs), self.batch_size)):
            chunk = jobs[start : start + self.batch_size]
            ids = [encoded[i] for i, _ in chunk]
            width = max(len(x) for x in ids)
            max_new = params.max_tokens
            if max_positions:
                max_new = max(1, min(max_new, max_positions - width))
            pad = self.tokenizer.pad_token_id
            input_ids = torch.tensor([[pad] * (width - len(x)) + x for x in ids], device=self.device)
            attention = torch.tensor([[0] * (width - len(x)) + [1] * len(x) for x in ids], device=self.device)
            if params.seed is not None:
                torch.manual_seed(_seed_for(params.seed, chunk_index))
            kwargs: dict[str, Any] = dict(
                max_new_tokens=max_new,
                pad_token_id=pad,
                eos_token_id=self.tokenizer.eos_token_id,
                do_sample=params.temperature > 0,
            )
            if params.temperature > 0:
                kwargs.update(temperature=params.temperature, top_p=params.top_p, top_k=params.top_k or 0)
            else:
                kwargs.update(temperature=None, top_p=None, top_k=None)
            if params.stop:
                kwargs.update(stop_strings=list(params.stop), tokenizer=self.tokenizer)
            with torch.inference_mode():
                out = self.model.generate(input_ids=input_ids, attention_mask=attention, **kwargs)
            new_tokens = out[:, width:].tolist()
            for (i, j), row in zip(chunk, new_tokens, strict=True):
                results[i][j] = self._finish(row, params, max_new)
        return [[c for c in row if c is not None] for row in results]

    def _finish(self, row: list[int], params: SamplingParams, max_new: int) -> Completion:
        eos, pad = self.tokenizer.eos_token_id, self.tokenizer.pad_token_id
        ended_eos = False
        kept: list[int] = []
        for t in row:
            if t == eos:
                ended_eos = True
                break
            if t == pad and pad != eos:
                break
            kept.append(t)
        text = self.tokenizer.decode(kept, skip_special_tokens=False)
        tokens = len(kept) + (1 if ended_eos else 0)
        stop_reason = None
        cut = min(((text.find(s), s) for s in params.stop if s in text), default=None)
        if cut is not None:
            text, stop_reason = text[: cut[0]], cut[1]
        finish = "stop" if ended_eos or stop_reason else ("length" if tokens >= max_new else "stop")
        return Completion(
            text=text, tokens=tokens, finish_reason=finish, stop_reason=stop_reason, token_ids=kept
        )

    # ------------------------------------------------------------------ score
    def score(
        self, prompts: list[str], continuations: list[str], batch_size: int | None = None
    ) -> list[list[float]]:
        """Per-token log-probs of each continuation given its prompt (right-padded batched forwards)."""
        import torch

        pairs = [
            (self._encode(p), self.tokenizer(c, add_special_tokens=False)["input_ids"])
            for p, c in zip(prompts, continuations, strict=True)
        ]
        out: list[list[float]] = [[] for _ in pairs]
        order = sorted(range(len(pairs)), key=lambda k: -(len(pairs[k][0]) + len(pairs[k][1])))
        bs = batch_size or max(1, self.batch_size // 4)
        pad = self.tokenizer.pad_token_id
        for start in range(0, len(order), bs):
            idx = order[start : start + bs]
            seqs = [pairs[k][0] + pairs[k][1] for k in idx]
            width = max(len(s) for s in seqs)
            input_ids = torch.tensor([s + [pad] * (width - len(s)) for s in seqs], device=self.device)
            attention = torch.tensor(
                [[1] * len(s) + [0] * (width - len(s)) for s in seqs], device=self.device
            )
            with torch.inference_mode():
                logits = self.model(input_ids=input_ids, attention_mask=attention).logits.float()
            logp = torch.log_softmax(logits[:, :-1], dim=-1)
            target = input_ids[:, 1:]
            token_logp = logp.gather(-1, target.unsqueeze(-1)).squeeze(-1)
            for row, k in enumerate(idx):
                n_prompt, n_cont = len(pairs[k][0]), len(pairs[k][1])
                out[k] = token_logp[row, n_prompt - 1 : n_prompt - 1 + n_cont].tolist()
        return out
