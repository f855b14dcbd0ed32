"""The Transformers backend: batched generation and scoring on CPU or GPU.

Why not call `model.generate` once per prompt as the seeds' scripts do: on small models the per-step
Python overhead dominates, so one prompt at a time wastes nearly all of the machine. Here prompts
(times `n` samples) are sorted by length, left-padded into large batches and decoded with a KV cache;
`bench/generation.py` measures the difference.

Two decoders, chosen with `decoder=` (`--backend-args decoder=generate`):

- `"loop"` (default): a short decode loop with a preallocated KV cache that drops finished rows from
  the batch. Hand-written because `model.generate` keeps every row in the batch until the longest
  one ends and, with its default dynamic cache, copies the whole cache at every step (`torch.cat`);
  on the tiny model on 2 CPU cores those two costs are most of the time. Transformers' continuous
  batching (`generate_batch`) does drop finished rows but measured no faster than `generate` on CPU
  here. For Llama-shaped models (the tiny one) a step is written out over the weights
  (`_LlamaSteps`: stacked matmuls, attention over the filled cache columns only); other models run
  their own forward with a `StaticCache` (`_ModelSteps`). Tried and left out, measured on the tiny
  model on 2 cores (issue 29): `torch.compile` of the step (4 minutes to compile, recompiles as the
  cache column moves, then slower than eager); bf16 (this CPU has no native bf16 matmul: no
  avx512_bf16/AMX); refilling finished rows with waiting prompts (the demo's and eval's calls are one
  batch each, a chunk of 256 problems x n = 1, so no prompt waits; with `--n 4` one would).
  Sampling uses Transformers' own logits warpers (temperature, top-k, top-p, in `generate`'s order)
  and applies exactly the `SamplingParams`, like the vLLM and OpenAI backends (a model's
  `generation_config` defaults such as a repetition penalty are not applied).
- `"generate"`: `model.generate` on the same batches, for architectures whose cache the loop does
  not handle (recurrent or hybrid caches).
"""

from __future__ import annotations

import hashlib
import inspect
from typing import Any, NamedTuple

from thinklab.backends.base import BackendError, Completion, SamplingParams, end_token_ids
from thinklab.prompting.modes import format_for


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
        decoder: str = "loop",
        thinking_format: str | None = None,
    ) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from thinklab.models import resolve_model_path

        if threads:
            torch.set_num_threads(threads)
        if decoder not in ("loop", "generate"):
            raise BackendError(f"unknown decoder {decoder!r}: choose loop or generate")
        self.decoder = decoder
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
        self.thinking = format_for(path, self.tokenizer, thinking_format)
        # A sequence ends at any of the model's end tokens (Qwen3 / s1: `<|im_end|>` and `<|endoftext|>`).
        self.end_ids = end_token_ids(path, self.tokenizer)
        self.num_parameters = sum(p.numel() for p in self.model.parameters())
        # Transformers 5.x renames forward's `past_key_values` to `cache` (the old name warns, and goes
        # in 5.40); the range we accept holds both, so ask the installed model which one it takes.
        params = inspect.signature(self.model.forward).parameters
        self._cache_kwarg = "cache" if "cache" in params else "past_key_values"
        self._fast: tuple[tuple[int, int], _LlamaWeights | None] | None = None

    # ------------------------------------------------------------------ helpers
    def _encode(self, text: str) -> list[int]:
        bos = self.tokenizer.bos_token
        add_special = not (bos and text.startswith(bos))
        return self.tokenizer(text, add_special_tokens=add_special and bool(bos))["input_ids"]

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    # ------------------------------------------------------------------ context
    @property
    def context_length(self) -> int | None:
        """Positions the model attends over (None where its config does not say)."""
        config = getattr(self.model.config, "text_config", None) or self.model.config
        for name in ("max_position_embeddings", "n_positions", "max_seq_len", "seq_length"):
            value = getattr(config, name, None)
            if isinstance(value, int) and value > 0:
                return value
        return None

    def prompt_tokens(self, prompt: str) -> int:
        """Tokens `generate` feeds the model for `prompt`, special tokens included (budget checks)."""
        return len(self._encode(prompt))

    def _prompts_too_long(self, encoded: list[list[int]]) -> set[int]:
        """Prompts that leave no room in the context: answered `prompt_too_long`, never batched.

        Why before batching: a batch's cache is allocated for its longest prompt plus the budget, so one
        oversized prompt (a 50 MB problem line) once asked for ~100 GB; and a prompt clamped to fit got
        one token, which was then scored like an answer."""
        context = self.context_length
        return {i for i, ids in enumerate(encoded) if context and len(ids) >= context}

    # ------------------------------------------------------------------ generate
    def generate(self, prompts: list[str], params: SamplingParams) -> list[list[Completion]]:
        import torch

        encoded = [self._encode(p) for p in prompts]
        too_long = self._prompts_too_long(encoded)
        jobs = [(i, j) for i in range(len(prompts)) if i not in too_long for j in range(params.n)]
        # Longest first: similar lengths share a batch (little padding), and a memory error shows early.
        jobs.sort(key=lambda ij: -len(encoded[ij[0]]))
        results: list[list[Completion | None]] = [[None] * params.n for _ in prompts]
        for i in too_long:
            results[i] = [Completion(text="", tokens=0, finish_reason="prompt_too_long")] * params.n
        max_positions = getattr(self.model.config, "max_position_embeddings", None)
        for chunk_index, start in enumerate(range(0, len(jobs), self.batch_size)):
            chunk = jobs[start : start + self.batch_size]
            ids = [encoded[i] for i, _ in chunk]
            width = max(len(x) for x in ids)
            max_new = params.max_tokens
            if max_positions:
                max_new = max(1, min(max_new, max_positions - width))
            if self.decoder == "loop":
                generator = None
                if params.seed is not None:
                    generator = torch.Generator(device=self.device).manual_seed(
                        _seed_for(params.seed, chunk_index)
                    )
                new_tokens = self._decode(ids, params, max_new, generator)
            else:
                new_tokens = self._generate(ids, params, max_new, chunk_index)
            for (i, j), row in zip(chunk, new_tokens, strict=True):
                results[i][j] = self._finish(row, params, max_new)
        return [[c for c in row if c is not None] for row in results]

    def _generate(
        self, ids: list[list[int]], params: SamplingParams, max_new: int, chunk_index: int
    ) -> list[list[int]]:
        """One left-padded batch through `model.generate` (the `decoder="generate"` path)."""
        import torch

        width = max(len(x) for x in ids)
        pad = self.tokenizer.pad_token_id
        input_ids = torch.tensor([[pad] * (width - len(x)) + x for x in ids], device=self.device)
        attention = torch.tensor([[0] * (width - len(x)) + [1] * len(x) for x in ids], device=self.device)
        if params.seed is not None:
            torch.manual_seed(_seed_for(params.seed, chunk_index))
        kwargs: dict[str, Any] = dict(
            max_new_tokens=max_new,
            pad_token_id=pad,
            eos_token_id=sorted(self.end_ids),
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
        return out[:, width:].tolist()

    def _decode(
        self, ids: list[list[int]], params: SamplingParams, max_new: int, generator: Any
    ) -> list[list[int]]:
        """Decode one left-padded batch; returns each row's new tokens (ending at an end token or a stop string).

        Every row writes cache column `width + step` at step `step` (left padding lines the prompts up on
        the right), so one shared column index addresses the cache; a row that finished is dropped from the
        batch (cache, mask, positions) once an eighth of the batch has finished, so late steps run only the
        rows still writing. The forward passes are `_LlamaSteps` for Llama-shaped models (the tiny one)
        and `_ModelSteps` (the model's own forward) for everything else.
        """
        import torch
        from transformers.generation.logits_process import (
            LogitsProcessorList,
            TemperatureLogitsWarper,
            TopKLogitsWarper,
            TopPLogitsWarper,
        )

        device, ends, pad = self.device, self.end_ids, self.tokenizer.pad_token_id
        batch, width = len(ids), max(len(x) for x in ids)
        input_ids = torch.tensor([[pad] * (width - len(x)) + x for x in ids], device=device)
        # True where a row attends: its prompt and every column it will write (padding stays False).
        mask = torch.zeros(batch, width + max_new, dtype=torch.bool, device=device)
        for r, x in enumerate(ids):
            mask[r, width - len(x) :] = True
        positions = (mask[:, :width].cumsum(-1) - 1).clamp(min=0)
        warpers = LogitsProcessorList()
        if params.temperature > 0:
            warpers.append(TemperatureLogitsWarper(params.temperature))
            if params.top_k:
                warpers.append(TopKLogitsWarper(params.top_k))
            if params.top_p < 1.0:
                warpers.append(TopPLogitsWarper(params.top_p))
        stop_window = max((len(s) for s in params.stop), default=0) + 4  # tokens: >= 1 char each, mostly
        new: list[list[int]] = [[] for _ in ids]
        done = [False] * batch
        rows = list(range(batch))  # batch position -> request
        with torch.inference_mode():
            weights = self._llama_weights()
            steps: _LlamaSteps | _ModelSteps = (
                _LlamaSteps(weights, self.model, self._cache_kwarg)
                if weights is not None
                else _ModelSteps(self.model, self._cache_kwarg)
            )
            logits = steps.prefill(input_ids, mask, positions)
            next_positions = positions[:, -1] + 1
            for step in range(max_new):
                if params.temperature > 0:
                    probs = torch.softmax(warpers(None, logits.float()), dim=-1)
                    tokens = torch.multinomial(probs, 1, generator=generator).squeeze(1)
                else:
                    tokens = logits.argmax(-1)
                finished_here = 0
                for req, t in zip(rows, tokens.tolist(), strict=True):
                    if not done[req]:
                        new[req].append(t)
                        if t in ends or (
                            params.stop
                            and any(s in self.tokenizer.decode(new[req][-stop_window:]) for s in params.stop)
                        ):
                            done[req] = True
                    finished_here += done[req]
                if finished_here == len(rows) or step == max_new - 1:
                    break
                column = width + step  # the cache column this step writes
                if finished_here and finished_here >= steps.drop_at(len(rows)):
                    # The last live rows take the finished rows' places (the others stay put), so a
                    # drop moves as many cache rows as finished, not the whole cache.
                    live = [r for r, req in enumerate(rows) if not done[req]]
                    movers = iter(r for r in live if r >= len(live))
                    order = [r if not done[rows[r]] else next(movers) for r in range(len(live))]
                    index = torch.tensor(order, device=device)
                    steps.keep(order, index, column)
                    mask, next_positions, tokens = mask[index], next_positions[index], tokens[index]
                    rows = [rows[r] for r in order]
                logits = steps.step(tokens, next_positions, mask, column)
                next_positions = next_positions + 1
        return new

    def _llama_weights(self) -> _LlamaWeights | None:
        """The fused weights of the fast decode step, built once per model (None: not a Llama shape).

        Rebuilt when the model object or any weight changed in place (parameter version counters), so a
        caller that fine-tunes `backend.model` between calls never decodes with stale copies."""
        version = (id(self.model), sum(p._version for p in self.model.parameters()))
        if self._fast is None or self._fast[0] != version:
            self._fast = (version, _LlamaWeights.build(self.model))
        return self._fast[1]

    def _finish(self, row: list[int], params: SamplingParams, max_new: int) -> Completion:
        ends, pad = self.end_ids, self.tokenizer.pad_token_id
        ended_eos = False
        kept: list[int] = []
        for t in row:
            if t in ends:
                ended_eos = True
                break
            if t == pad and pad not in ends:
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


# ---------------------------------------------------------------------- the decode loop's forward passes
# Both classes answer the same three calls for `HFBackend._decode`: `prefill` (the prompts, returns the
# last position's logits), `step` (one token per row, writing cache column `column`) and `keep` (drop
# the finished rows from the cache).


class _ModelSteps:
    """Any causal LM through its own forward, with a `StaticCache` preallocated for prompt + budget.

    The generic path (used for every model that is not Llama-shaped): a step writes one cache position
    instead of copying the cache (`model.generate`'s dynamic cache `torch.cat`s it at every step)."""

    def __init__(self, model: Any, cache_kwarg: str) -> None:
        self.model, self.cache_kwarg, self.cache = model, cache_kwarg, None

    def _forward(self, input_ids: Any, mask: Any, positions: Any, **kwargs: Any) -> Any:
        out = self.model(
            input_ids=input_ids,
            attention_mask=mask.long(),
            position_ids=positions,
            **{self.cache_kwarg: self.cache},
            use_cache=True,
            **kwargs,
        )
        return out.logits[:, -1]

    def prefill(self, input_ids: Any, mask: Any, positions: Any) -> Any:
        from transformers import StaticCache

        self.cache = StaticCache(config=self.model.config, max_cache_len=mask.shape[1])
        return self._forward(input_ids, mask[:, : input_ids.shape[1]], positions, logits_to_keep=1)

    def step(self, tokens: Any, positions: Any, mask: Any, column: int) -> Any:
        return self._forward(tokens[:, None], mask[:, : column + 1], positions[:, None])

    def drop_at(self, rows: int) -> int:
        """Finished rows worth a drop: an eighth of the batch (a drop gathers the whole cache)."""
        return max(1, rows // 8)

    def keep(self, order: list[int], index: Any, column: int) -> None:
        self.cache.reorder_cache(index)


class _LlamaLayer(NamedTuple):
    ln1: Any
    qkv: Any  # q, k and v projections stacked: one matmul instead of three
    qkv_bias: Any
    o: Any
    o_bias: Any
    ln2: Any
    gate_up: Any  # gate and up projections stacked: one matmul instead of two
    down: Any
    down_bias: Any


class _LlamaWeights(NamedTuple):
    """A Llama-shaped model's weights, laid out for `_LlamaSteps` (built once per model)."""

    layers: list[_LlamaLayer]
    embed: Any
    norm: Any
    lm_head: Any
    cos: Any  # rotary tables for every position: a step indexes them instead of recomputing
    sin: Any
    heads: int
    kv_heads: int
    head_dim: int
    eps: float
    scale: float

    @staticmethod
    def build(model: Any) -> _LlamaWeights | None:
        """None unless the model computes exactly what `_LlamaSteps.step` computes.

        Llama only (Qwen2/Mistral differ in details such as sliding windows; they take `_ModelSteps`),
        rotary types whose tables do not depend on the sequence length, SiLU MLP, and up to 200M
        parameters (the stacked projections are copies of the weights: 14 MB on the tiny model)."""
        import torch

        config = model.config
        rope = (getattr(config, "rope_parameters", None) or {}).get("rope_type", "default")
        body = getattr(model, "model", None)
        if (
            getattr(config, "model_type", None) != "llama"
            or rope not in ("default", "linear", "llama3")
            or getattr(config, "hidden_act", None) != "silu"
            or getattr(config, "pretraining_tp", 1) != 1
            or body is None
            or not hasattr(body, "rotary_emb")
            or sum(p.numel() for p in model.parameters()) > 200_000_000
        ):
            return None
        layers = []
        for layer in body.layers:
            a, mlp = layer.self_attn, layer.mlp
            biases = [a.q_proj.bias, a.k_proj.bias, a.v_proj.bias]
            layers.append(
                _LlamaLayer(
                    ln1=layer.input_layernorm.weight,
                    qkv=torch.cat([a.q_proj.weight, a.k_proj.weight, a.v_proj.weight]),
                    qkv_bias=None if biases[0] is None else torch.cat(biases),
                    o=a.o_proj.weight,
                    o_bias=a.o_proj.bias,
                    ln2=layer.post_attention_layernorm.weight,
                    gate_up=torch.cat([mlp.gate_proj.weight, mlp.up_proj.weight]),
                    down=mlp.down_proj.weight,
                    down_bias=mlp.down_proj.bias,
                )
            )
        embed = body.embed_tokens.weight
        # The model's own rotary module computes the tables, so scaled variants come out as it does.
        cos, sin = body.rotary_emb(embed[None, :1], torch.arange(config.max_position_embeddings)[None])
        heads = config.num_attention_heads
        return _LlamaWeights(
            layers=layers,
            embed=embed,
            norm=body.norm.weight,
            lm_head=model.lm_head.weight,
            cos=cos[0].to(embed.device),
            sin=sin[0].to(embed.device),
            heads=heads,
            kv_heads=config.num_key_value_heads,
            head_dim=getattr(config, "head_dim", None) or config.hidden_size // heads,
            eps=config.rms_norm_eps,
            scale=body.layers[0].self_attn.scaling,
        )


def _rms_norm(x: Any, weight: Any, eps: float) -> Any:
    """Llama's RMSNorm, op for op as Transformers writes it (so the tokens stay the same)."""
    import torch

    h = x.float()
    h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + eps)
    return weight * h.to(x.dtype)


def _rotate(x: Any, cos: Any, sin: Any) -> Any:
    """Rotary embedding (Transformers' `rotate_half` form), on queries and keys in one call."""
    import torch

    half = x.shape[-1] // 2
    return x * cos + torch.cat((-x[..., half:], x[..., :half]), dim=-1) * sin


class _LlamaSteps:
    """Llama decode steps written out over the model's weights, with a cache of plain tensors.

    Why not the model's forward: at the tiny model's sizes (256 wide, 4 layers) the forward's per-call
    work (mask building, cache bookkeeping, module calls) and its attention over the whole preallocated
    cache cost more than the matmuls. Here a step is ~15 tensor operations per layer: q/k/v and
    gate/up stacked into one matmul each, queries and keys rotated together from a precomputed table,
    and attention over the filled columns only (`: column + 1`; the budget's empty columns cost
    nothing). The prompt goes through the model's own forward (one call per batch) and its keys and
    values are copied into the cache."""

    def __init__(self, weights: _LlamaWeights, model: Any, cache_kwarg: str) -> None:
        self.w, self.model, self.cache_kwarg = weights, model, cache_kwarg
        self.kv: Any = None  # [layer, key|value, row, kv head, column, head dim]

    def prefill(self, input_ids: Any, mask: Any, positions: Any) -> Any:
        import torch
        from transformers import DynamicCache

        cache = DynamicCache(config=self.model.config)
        logits = self.model(
            input_ids=input_ids,
            attention_mask=mask[:, : input_ids.shape[1]].long(),
            position_ids=positions,
            **{self.cache_kwarg: cache},
            use_cache=True,
            logits_to_keep=1,
        ).logits[:, -1]
        w, (batch, width) = self.w, input_ids.shape
        self.kv = torch.empty(
            len(w.layers),
            2,
            batch,
            w.kv_heads,
            mask.shape[1],
            w.head_dim,
            dtype=w.embed.dtype,
            device=w.embed.device,
        )
        for i, layer in enumerate(cache.layers):
            self.kv[i, 0, :, :, :width] = layer.keys
            self.kv[i, 1, :, :, :width] = layer.values
        return logits

    def step(self, tokens: Any, positions: Any, mask: Any, column: int) -> Any:
        import torch.nn.functional as F

        w, rows = self.w, tokens.shape[0]
        heads, kv_heads, dim = w.heads, w.kv_heads, w.head_dim
        x = F.embedding(tokens, w.embed)
        cos, sin = w.cos[positions][:, None], w.sin[positions][:, None]
        attend = mask[:, None, None, : column + 1]
        for i, layer in enumerate(w.layers):
            qkv = F.linear(_rms_norm(x, layer.ln1, w.eps), layer.qkv, layer.qkv_bias)
            qkv = qkv.view(rows, heads + 2 * kv_heads, dim)
            qk = _rotate(qkv[:, : heads + kv_heads], cos, sin)
            keys, values = self.kv[i, 0, :rows], self.kv[i, 1, :rows]
            keys[:, :, column], values[:, :, column] = qk[:, heads:], qkv[:, heads + kv_heads :]
            # Grouped queries as extra query positions of their kv head (no repeated keys/values).
            out = F.scaled_dot_product_attention(
                qk[:, :heads].reshape(rows, kv_heads, heads // kv_heads, dim),
                keys[:, :, : column + 1],
                values[:, :, : column + 1],
                attn_mask=attend,
                scale=w.scale,
            )
            x = x + F.linear(out.reshape(rows, heads * dim), layer.o, layer.o_bias)
            gate, up = F.linear(_rms_norm(x, layer.ln2, w.eps), layer.gate_up).chunk(2, dim=-1)
            x = x + F.linear(F.silu(gate) * up, layer.down, layer.down_bias)
        return F.linear(_rms_norm(x, w.norm, w.eps), w.lm_head)

    def drop_at(self, rows: int) -> int:
        """Any finished row is dropped at once: a drop copies only the moved rows' filled columns."""
        return 1

    def keep(self, order: list[int], index: Any, column: int) -> None:
        import torch

        moves = [(to, src) for to, src in enumerate(order) if to != src]
        if moves:
            to, src = (torch.tensor(x, device=self.kv.device) for x in zip(*moves, strict=True))
            self.kv[:, :, to, :, :column] = self.kv[:, :, src, :, :column]
