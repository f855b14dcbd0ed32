"""The vLLM backend (optional extra `thinklab[vllm]`; GPU only).

`tensor_parallel_size` shards one engine over GPUs; `data_parallel_size` runs that many engines, each
on its own GPU group in its own long-lived worker process (started on the first call and kept for the
run, never rebuilt per call), and splits the prompts between them (the lm-eval pattern; the simplest
robust data parallelism for offline batch generation). Prefix caching is on: budget forcing and
search resend long shared prefixes.

What the engine is given, and why:

- **Token-id prompts** (`{"prompt_token_ids": ...}`): thinklab renders the prompt text (template and
  thinking prefill) and encodes it exactly as the HF backend does (a BOS only when the text lacks
  one), so vLLM never adds a second BOS to a template that writes its own.
- **`max_model_len`**: the given value, else planned on the first call (`plan_max_model_len`): the
  longest prompt + `max_tokens`, doubled for the later calls of the same run (budget forcing's answer
  phase, search's growing prefixes), rounded up to 1024 and capped at the model's context. Without it
  vLLM reserves the model's whole context (131072 tokens for R1-Distill), which a small GPU cannot
  hold. A later call that needs more stops with a one-line error naming `max_model_len=N`, rather than
  rebuilding the engine (vLLM does not reliably free GPU memory in-process).
- **Special tokens kept in the text** (`skip_special_tokens=False`, `spaces_between_special_tokens=
  False`): the HF backend decodes the same way, and s1's markers (`<|im_start|>think`,
  `<|im_start|>answer`) are special tokens that vLLM's default would delete from the output.
- **Every end token stops** (`stop_token_ids`): the tokenizer's EOS and the generation config's list
  (Qwen3 / s1 end a turn with `<|im_end|>`).
- **Generated token ids** are returned, so thinking tokens are counted from them.

Status: import-guarded and not exercised on this project's CPU CI (the pure helpers are unit-tested);
`scripts/gpu_check.sh` runs it on a GPU.
"""

from __future__ import annotations

import atexit
import contextlib
import math
import os
from typing import Any

from thinklab.backends.base import BackendError, Completion, SamplingParams, end_token_ids
from thinklab.prompting.modes import format_for

MODEL_LEN_STEP = 1024


def _require_vllm() -> Any:
    try:
        import vllm
    except ImportError:
        raise BackendError(
            "the vllm backend needs `pip install 'thinklab[vllm]'` on a CUDA machine"
        ) from None
    return vllm


# ---------------------------------------------------------------------- pure helpers (unit-tested)
def encode_prompt(tokenizer: Any, text: str) -> list[int]:
    """A rendered prompt's token ids, as the HF backend encodes it: the tokenizer's special tokens only
    when the text does not already start with BOS (a chat template writes its own)."""
    bos = getattr(tokenizer, "bos_token", None)
    add_special = bool(bos) and not text.startswith(bos)
    return list(tokenizer(text, add_special_tokens=add_special)["input_ids"])


def plan_max_model_len(need: int, model_max: int | None, given: int | None = None) -> int:
    """The engine's context length: `given` when the user set it, else twice what the first call
    needs (`need`: longest prompt + max_tokens) rounded up to `MODEL_LEN_STEP`, capped at the model's
    own context (`model_max`). Refused in one line when even `need` does not fit the model."""
    if given:
        return int(given)
    if model_max and need > model_max:
        raise BackendError(
            f"a prompt plus max_tokens needs {need} tokens, more than the model's context ({model_max})"
        )
    planned = math.ceil(2 * need / MODEL_LEN_STEP) * MODEL_LEN_STEP
    return min(planned, model_max) if model_max else planned


def sampling_kwargs(params: SamplingParams, end_ids: set[int], seed_offset: int = 0) -> dict[str, Any]:
    """Keyword arguments of `vllm.SamplingParams` for thinklab's settings (see the module notes)."""
    return dict(
        n=params.n,
        temperature=params.temperature,
        top_p=params.top_p,
        top_k=params.top_k if params.top_k else -1,
        max_tokens=params.max_tokens,
        seed=None if params.seed is None else params.seed + seed_offset,
        stop=list(params.stop) or None,
        stop_token_ids=sorted(end_ids) or None,
        skip_special_tokens=False,
        spaces_between_special_tokens=False,
    )


def convert(outputs: list[Any]) -> list[list[Completion]]:
    """vLLM `RequestOutput`s as thinklab Completions, with the generated token ids."""
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


def shard(items: list[Any], parts: int) -> list[list[Any]]:
    """Round-robin split over data-parallel engines (similar lengths land on every engine)."""
    return [items[k::parts] for k in range(parts)]


def unshard(parts: list[list[Any]], total: int) -> list[Any]:
    """Inverse of `shard`: results back in the order of the inputs."""
    out: list[Any] = [None] * total
    for k, part in enumerate(parts):
        for j, row in enumerate(part):
            out[k + j * len(parts)] = row
    return out


def gpu_groups(data_parallel_size: int, tensor_parallel_size: int, visible: str | None = None) -> list[str]:
    """`CUDA_VISIBLE_DEVICES` of each data-parallel engine: consecutive groups of `tp` GPUs, taken from
    the GPUs this process may use (`visible`: its own `CUDA_VISIBLE_DEVICES`, else 0, 1, ...), so a
    run restricted to GPUs 4-7 never lands on 0-3. Too few GPUs is a one-line error."""
    tp, need = tensor_parallel_size, data_parallel_size * tensor_parallel_size
    pool = [g.strip() for g in visible.split(",") if g.strip()] if visible else [str(g) for g in range(need)]
    if len(pool) < need:
        raise BackendError(
            f"data_parallel_size={data_parallel_size} x tensor_parallel_size={tp} needs {need} GPUs; "
            f"CUDA_VISIBLE_DEVICES={visible} gives {len(pool)}"
        )
    return [",".join(pool[k * tp : (k + 1) * tp]) for k in range(data_parallel_size)]


# ---------------------------------------------------------------------- data-parallel workers
def _dp_worker(conn: Any, model: str, gpus: str, engine_kwargs: dict[str, Any]) -> None:
    """One data-parallel engine for the whole run: built once, then answers `(prompts, kwargs)` jobs
    until it receives None. Errors go back as one line, so the parent can stop cleanly."""
    os.environ["CUDA_VISIBLE_DEVICES"] = gpus
    try:
        vllm = _require_vllm()
        llm = vllm.LLM(model=model, **engine_kwargs)
        conn.send(("ready", None))
    except Exception as exc:  # noqa: BLE001 - reported to the parent as one line
        conn.send(("error", f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"))
        return
    while True:
        job = conn.recv()
        if job is None:
            break
        prompts, kwargs = job
        try:
            outputs = llm.generate(prompts, vllm.SamplingParams(**kwargs), use_tqdm=False)
            conn.send(("ok", convert(outputs)))
        except Exception as exc:  # noqa: BLE001
            conn.send(("error", f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"))


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
        enforce_eager: bool = False,
        thinking_format: str | None = None,
    ) -> None:
        from transformers import AutoConfig, AutoTokenizer

        from thinklab.models import resolve_model_path

        _require_vllm()
        if data_parallel_size < 1 or tensor_parallel_size < 1:
            raise BackendError("data_parallel_size and tensor_parallel_size must be at least 1")
        self.model_id = model
        self.path = resolve_model_path(model)
        self.data_parallel_size = int(data_parallel_size)
        self.engine_kwargs: dict[str, Any] = dict(
            tensor_parallel_size=int(tensor_parallel_size),
            gpu_memory_utilization=float(gpu_memory_utilization),
            dtype=dtype,
            enable_prefix_caching=bool(enable_prefix_caching),
            trust_remote_code=bool(trust_remote_code),
            seed=int(seed),
            enforce_eager=bool(enforce_eager),
        )
        self.given_max_model_len = int(max_model_len) if max_model_len else None
        self.max_model_len: int | None = self.given_max_model_len
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(self.path, trust_remote_code=trust_remote_code)
            config = AutoConfig.from_pretrained(self.path, trust_remote_code=trust_remote_code)
        except (OSError, ValueError) as exc:
            raise BackendError(f"cannot load model {model!r}: {str(exc).splitlines()[0]}") from None
        self.model_max = getattr(config, "max_position_embeddings", None)
        self.num_parameters = None
        self.thinking = format_for(self.path, self.tokenizer, thinking_format)
        self.end_ids = end_token_ids(self.path, self.tokenizer)
        self.llm: Any = None  # the engine (data_parallel_size == 1), built on the first call
        self.workers: list[tuple[Any, Any]] = []  # (process, connection) per data-parallel engine

    # ------------------------------------------------------------------ engines
    @property
    def context_length(self) -> int | None:
        """The engine's context once known (budget forcing refuses prompts that do not fit)."""
        return self.max_model_len

    def prompt_tokens(self, prompt: str) -> int:
        return len(encode_prompt(self.tokenizer, prompt))

    def _ensure_engines(self, need: int) -> None:
        """Build the engine(s) on the first call; later calls must fit the context they were built with."""
        if self.llm is None and not self.workers:
            self.max_model_len = plan_max_model_len(need, self.model_max, self.given_max_model_len)
            kwargs = {**self.engine_kwargs, "max_model_len": self.max_model_len}
            if self.data_parallel_size == 1:
                vllm = _require_vllm()
                self.llm = vllm.LLM(model=self.path, **kwargs)
            else:
                self._start_workers(kwargs)
        elif self.max_model_len and need > self.max_model_len:
            raise BackendError(
                f"this call needs {need} tokens of context but the vLLM engine was built with "
                f"max_model_len={self.max_model_len}; pass --backend-args max_model_len={need}"
            )

    def _start_workers(self, kwargs: dict[str, Any]) -> None:
        import multiprocessing as mp

        ctx = mp.get_context("spawn")
        tp = self.engine_kwargs["tensor_parallel_size"]
        # Not daemons: vLLM's engine starts processes of its own, which a daemon may not. `close` runs
        # at exit instead.
        atexit.register(self.close)
        for gpus in gpu_groups(self.data_parallel_size, tp, os.environ.get("CUDA_VISIBLE_DEVICES")):
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_dp_worker, args=(child, self.path, gpus, kwargs))
            proc.start()
            child.close()  # the worker's end lives in the worker: its death reads as EOF here
            self.workers.append((proc, parent))
        try:
            answers = [self._receive(conn) for _, conn in self.workers]
        except BackendError:
            self.close()
            raise
        errors = [detail for status, detail in answers if status != "ready"]
        if errors:
            self.close()
            raise BackendError(f"a data-parallel vLLM engine failed to start: {errors[0]}")

    @staticmethod
    def _receive(conn: Any) -> tuple[str, Any]:
        try:
            return conn.recv()
        except (EOFError, OSError):
            raise BackendError("a data-parallel vLLM engine process died (see its output above)") from None

    def close(self) -> None:
        """Stop the data-parallel workers (registered to run at exit)."""
        for proc, conn in self.workers:
            with contextlib.suppress(OSError):  # a worker that already died
                conn.send(None)
            proc.join(timeout=30)
            if proc.is_alive():
                proc.terminate()
        self.workers = []

    # ------------------------------------------------------------------ interface
    def generate(self, prompts: list[str], params: SamplingParams) -> list[list[Completion]]:
        if not prompts:
            return []
        ids = [encode_prompt(self.tokenizer, p) for p in prompts]
        self._ensure_engines(max(len(x) for x in ids) + params.max_tokens)
        token_prompts = [{"prompt_token_ids": x} for x in ids]
        kwargs = sampling_kwargs(params, self.end_ids)
        if self.llm is not None:
            vllm = _require_vllm()
            return convert(self.llm.generate(token_prompts, vllm.SamplingParams(**kwargs), use_tqdm=False))
        parts = shard(token_prompts, len(self.workers))
        for (_, conn), part in zip(self.workers, parts, strict=True):
            conn.send((part, kwargs))
        answers = [self._receive(conn) for _, conn in self.workers]
        errors = [detail for status, detail in answers if status != "ok"]
        if errors:
            raise BackendError(f"vLLM generation failed: {errors[0]}")
        return unshard([detail for _, detail in answers], len(prompts))

    def score(self, prompts: list[str], continuations: list[str]) -> list[list[float]]:
        """Per-token log-probs with `prompt_logprobs=0` (A*-Thought's validator call)."""
        if self.data_parallel_size != 1:
            raise BackendError("score() needs data_parallel_size=1")
        vllm = _require_vllm()
        ids = [encode_prompt(self.tokenizer, p + c) for p, c in zip(prompts, continuations, strict=True)]
        if not ids:
            return []
        self._ensure_engines(max(len(x) for x in ids) + 1)
        sp = vllm.SamplingParams(max_tokens=1, prompt_logprobs=0, temperature=0)
        outputs = self.llm.generate([{"prompt_token_ids": x} for x in ids], sp, use_tqdm=False)
        out = []
        for c, o in zip(continuations, outputs, strict=True):
            n_cont = self.count_tokens(c)
            tail_ids = o.prompt_token_ids[-n_cont:] if n_cont else []
            lps = o.prompt_logprobs[-n_cont:] if n_cont else []
            out.append([lp[t].logprob for t, lp in zip(tail_ids, lps, strict=True)])
        return out

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])
