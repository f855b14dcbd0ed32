"""The vLLM backend (optional extra `thinklab[vllm]`; GPU only).

`tensor_parallel_size` shards one engine over GPUs; `data_parallel_size` runs that many engines, each
on its own GPU group in its own process, and splits the prompts between them (the lm-eval pattern;
simplest robust data parallelism for offline batch generation). Prompts are text (template and
thinking prefill applied by thinklab), so prompt modes and budget forcing are the same as on HF.
Prefix caching is on: budget forcing and search resend long shared prefixes.

Status: import-guarded and not exercised on this project's CPU CI; see README "GPU use".
"""

from __future__ import annotations

import os
from typing import Any

from thinklab.backends.base import BackendError, Completion, SamplingParams
from thinklab.prompting.modes import modes_for


def _require_vllm() -> Any:
    try:
        import vllm
    except ImportError:
        raise BackendError(
            "the vllm backend needs `pip install 'thinklab[vllm]'` on a CUDA machine"
        ) from None
    return vllm


def _to_vllm_params(vllm: Any, params: SamplingParams, seed_offset: int = 0) -> Any:
    return vllm.SamplingParams(
        n=params.n,
        temperature=params.temperature,
        top_p=params.top_p,
        top_k=params.top_k if params.top_k else -1,
        max_tokens=params.max_tokens,
        seed=None if params.seed is None else params.seed + seed_offset,
        stop=list(params.stop) or None,
    )


def _convert(outputs: list[Any]) -> list[list[Completion]]:
    result = []
    for out in outputs:
        row = []
        for c in out.outputs:
            stop_reason = c.stop_reason if isinstance(c.stop_reason, str) else None
            row.append(
                Completion(
                    text=c.text,
                    tokens=len(c.token_ids),
                    finish_reason="length" if c.finish_reason == "length" else "stop",
                    stop_reason=stop_reason,
                    token_ids=list(c.token_ids),
                )
            )
        result.append(row)
    return result


def _dp_worker(args: tuple) -> list[list[Completion]]:
    model, gpus, engine_kwargs, prompts, params = args
    os.environ["CUDA_VISIBLE_DEVICES"] = gpus
    vllm = _require_vllm()
    llm = vllm.LLM(model=model, **engine_kwargs)
    return _convert(llm.generate(prompts, _to_vllm_params(vllm, params), use_tqdm=False))


class VLLMBackend:
    name = "vllm"

    def __init__(
        self,
        model: str,
        *,
        tensor_parallel_size: int = 1,
        data_parallel_size: int = 1,
        gpu_memory_utilization: float = 0.85,
        dtype: str = "auto",
        max_model_len: int | None = None,
        enable_prefix_caching: bool = True,
        trust_remote_code: bool = False,
        seed: int = 0,
    ) -> None:
        from thinklab.tiny.model import resolve_model_path

        vllm = _require_vllm()
        self.model_id = model
        self.path = resolve_model_path(model)
        self.data_parallel_size = data_parallel_size
        self.engine_kwargs = dict(
            tensor_parallel_size=tensor_parallel_size,
            gpu_memory_utilization=gpu_memory_utilization,
            dtype=dtype,
            max_model_len=max_model_len,
            enable_prefix_caching=enable_prefix_caching,
            trust_remote_code=trust_remote_code,
            seed=seed,
        )
        self.llm = None
        if data_parallel_size == 1:
            self.llm = vllm.LLM(model=self.path, **self.engine_kwargs)
            self.tokenizer = self.llm.get_tokenizer()
            self.num_parameters = None
        else:
            from transformers import AutoTokenizer

            self.tokenizer = AutoTokenizer.from_pretrained(self.path, trust_remote_code=trust_remote_code)
            self.num_parameters = None
        self.modes = modes_for(self.path)

    def generate(self, prompts: list[str], params: SamplingParams) -> list[list[Completion]]:
        vllm = _require_vllm()
        if self.llm is not None:
            return _convert(self.llm.generate(prompts, _to_vllm_params(vllm, params), use_tqdm=False))
        import multiprocessing as mp

        tp = self.engine_kwargs["tensor_parallel_size"]
        shards = [prompts[k :: self.data_parallel_size] for k in range(self.data_parallel_size)]
        jobs = [
            (
                self.path,
                ",".join(str(g) for g in range(k * tp, (k + 1) * tp)),
                self.engine_kwargs,
                shard,
                params,
            )
            for k, shard in enumerate(shards)
        ]
        # Engines are rebuilt per call in DP mode: fine for offline sweeps with large calls; use
        # `vllm serve --data-parallel-size` with the openai backend for many small calls.
        with mp.get_context("spawn").Pool(self.data_parallel_size) as pool:
            parts = pool.map(_dp_worker, jobs)
        out: list[list[Completion]] = [[] for _ in prompts]
        for k, part in enumerate(parts):
            for j, row in enumerate(part):
                out[k + j * self.data_parallel_size] = row
        return out

    def score(self, prompts: list[str], continuations: list[str]) -> list[list[float]]:
        """Per-token log-probs with `prompt_logprobs=0` (A*-Thought's validator call)."""
        vllm = _require_vllm()
        if self.llm is None:
            raise BackendError("score() needs data_parallel_size=1")
        sp = vllm.SamplingParams(max_tokens=1, prompt_logprobs=0, temperature=0)
        out = []
        outputs = self.llm.generate(
            [p + c for p, c in zip(prompts, continuations, strict=True)], sp, use_tqdm=False
        )
        for _p, c, o in zip(prompts, continuations, outputs, strict=True):
            n_cont = self.count_tokens(c)
            ids = o.prompt_token_ids[-n_cont:]
            lps = o.prompt_logprobs[-n_cont:]
            out.append([lp[t].logprob for t, lp in zip(ids, lps, strict=True)])
        return out

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])
