"""Bidirectional importance scores (BIS): how much a thought step matters for the question and the solution.

For every step t a small scorer LM (GPT-2 in the paper; the tiny model here) reads two texts, step first
(A*-Thought's `condition_in_question="after"`):

- q-side: ``t + q + " We can get the solution to this question in the given thought step."``
- s-side: ``t + s + " We can get this solution in the given thought step."``

From one forward pass with attentions (the scorer is loaded with ``attn_implementation="eager"``, the
only implementation that returns attention weights) we take, for the suffix y after t:

- ``NLL(y|t)``: mean cross-entropy of y's tokens given t;
- ``ATTN(y|t)``: last-layer attention from y's tokens (queries) to t's tokens (keys), summed.

and ``BIS(t) = ((1-α)·ATTN(q|t) + α·ATTN(s|t)) / ((1-α)·NLL(q|t) + α·NLL(s|t))``; steps are ranked by BIS,
highest first. High attention and low NLL both mean "this step explains the question / the solution".

**Normalisation.** The paper (Eq. 2) averages the attention over heads, queries and keys:
``Σ attn / (H·|y|·|t|)``. The released code divides by ``|t|`` only, so its ATTN grows with the number of
heads and with the suffix length |y|; then the s-side (a long solution) outweighs the q-side whatever α
says, and α=0.5 no longer means "balance both directions". thinklab defaults to the paper's mean
(``attn_norm="paper"``) for that reason; ``attn_norm="code"`` reproduces the released code. The cache
stores the raw sums and token counts, so either normalisation (and any α) can be applied later without
running the scorer again.

**Tokenisation.** The seed tokenises ``t + y`` in one piece and cuts at ``len(tok(t)) - 1``, which is off
by one wherever BPE merges across the boundary; here t and y are tokenised separately and concatenated,
so the boundary is exact. Inputs longer than the scorer's context (1024 positions for GPT-2 and the tiny
model) are truncated: y keeps its first tokens (at least half the window), t keeps its last tokens (those
next to y). The seed cuts the joint sequence at 1024, which silently drops the whole suffix of a long step
and makes NLL a mean over nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from thinklab.data.jsonl import append_jsonl, read_jsonl
from thinklab.errors import ThinklabError

Q_SUFFIX = " We can get the solution to this question in the given thought step."
S_SUFFIX = " We can get this solution in the given thought step."
ATTN_NORMS = ("paper", "code")


def bis_formula(attn_q: float, attn_s: float, nll_q: float, nll_s: float, alpha: float) -> float:
    """``((1-α)·ATTN_q + α·ATTN_s) / ((1-α)·NLL_q + α·NLL_s)`` (A*-Thought Eq. 3)."""
    num = (1 - alpha) * attn_q + alpha * attn_s
    den = (1 - alpha) * nll_q + alpha * nll_s
    return num / max(den, 1e-12)


@dataclass(frozen=True)
class SideScore:
    """Raw measurements of one (step, suffix) forward pass."""

    attn_sum: float  # last-layer attention from suffix queries to step keys, summed over heads too
    step_tokens: int
    suffix_tokens: int
    nll: float

    def attn(self, heads: int, norm: str = "paper") -> float:
        if norm == "code":
            return self.attn_sum / self.step_tokens
        if norm == "paper":
            return self.attn_sum / (heads * self.suffix_tokens * self.step_tokens)
        raise ThinklabError(
            f"unknown attention normalisation {norm!r}; choose one of {', '.join(ATTN_NORMS)}"
        )


@dataclass
class StepScores:
    """Both directions' raw scores for every step of one trace."""

    heads: int
    q: list[SideScore]
    s: list[SideScore]

    def bis(self, alpha: float = 0.5, norm: str = "paper") -> list[float]:
        return [
            bis_formula(q.attn(self.heads, norm), s.attn(self.heads, norm), q.nll, s.nll, alpha)
            for q, s in zip(self.q, self.s, strict=True)
        ]

    def order(self, alpha: float = 0.5, norm: str = "paper") -> list[int]:
        """Step indices by BIS, highest first; ties keep the original order (Python's stable sort, as the seed)."""
        values = self.bis(alpha, norm)
        return sorted(range(len(values)), key=lambda i: -values[i])

    def to_json(self) -> dict[str, Any]:
        pack = lambda side: [[x.attn_sum, x.step_tokens, x.suffix_tokens, x.nll] for x in side]  # noqa: E731
        return {"heads": self.heads, "q": pack(self.q), "s": pack(self.s)}

    @classmethod
    def from_json(cls, row: dict[str, Any]) -> StepScores:
        unpack = lambda side: [SideScore(float(a), int(t), int(y), float(n)) for a, t, y, n in side]  # noqa: E731
        return cls(int(row["heads"]), unpack(row["q"]), unpack(row["s"]))


@dataclass
class ScorerConfig:
    """Where and how the BIS scorer runs. `workers` processes each load their own copy of the model."""

    model: str = "tiny"
    device: str | None = None  # None: cuda if available (workers round-robin over GPUs), else cpu
    dtype: str = "auto"  # auto: float16 on GPU (as the seed), float32 on CPU
    max_length: int | None = None  # None: the model's max positions
    attn_budget: int = 2**27  # floats of logits + attentions held per batch (bounds memory)
    max_batch: int = 64
    workers: int = 1
    threads: int | None = None  # torch threads per worker (default 1 per CPU worker when workers > 1)
    trust_remote_code: bool = False


class BISScorer:
    """A causal LM that measures NLL and last-layer attention of suffixes given thought steps."""

    def __init__(self, cfg: ScorerConfig | None = None, device: str | None = None) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from thinklab.models import resolve_model_path

        cfg = cfg or ScorerConfig()
        self.cfg = cfg
        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        path = resolve_model_path(cfg.model)
        self.device = device or cfg.device or ("cuda" if torch.cuda.is_available() else "cpu")
        dtype = {"auto": None, "float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}
        if cfg.dtype not in dtype:
            raise ThinklabError(
                f"unknown scorer dtype {cfg.dtype!r}; choose auto, float32, float16, bfloat16"
            )
        torch_dtype = dtype[cfg.dtype] or (torch.float16 if self.device.startswith("cuda") else torch.float32)
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=cfg.trust_remote_code)
            self.model = AutoModelForCausalLM.from_pretrained(
                path,
                dtype=torch_dtype,
                attn_implementation="eager",  # sdpa/flash return no attention weights
                trust_remote_code=cfg.trust_remote_code,
            )
        except (OSError, ValueError) as exc:
            raise ThinklabError(f"cannot load scorer {cfg.model!r}: {str(exc).splitlines()[0]}") from None
        self.model.to(self.device).eval()
        mc = self.model.config
        mc = getattr(mc, "text_config", None) or mc
        self.heads = int(getattr(mc, "num_attention_heads", 0) or getattr(mc, "n_head", 1))
        self.layers = int(getattr(mc, "num_hidden_layers", 0) or getattr(mc, "n_layer", 1))
        self.vocab = int(getattr(mc, "vocab_size", 50257))
        limit = getattr(mc, "max_position_embeddings", None) or getattr(mc, "n_positions", None)
        self.max_length = min(x for x in (cfg.max_length, limit, 1 << 20) if x)
        self.pad_id = self.tokenizer.pad_token_id
        if self.pad_id is None:
            self.pad_id = self.tokenizer.eos_token_id or 0

    def encode(self, step: str, suffix: str) -> tuple[list[int], int, int]:
        """Token ids of `step + suffix`, truncated to the window; returns (ids, |t|, |y|)."""
        t = self.tokenizer(step, add_special_tokens=True, verbose=False)["input_ids"]
        y = self.tokenizer(suffix, add_special_tokens=False, verbose=False)["input_ids"]
        if self.tokenizer.eos_token_id is not None and len(t) > 1 and t[-1] == self.tokenizer.eos_token_id:
            t = t[:-1]  # tokenizers that append EOS would put it between the step and the suffix
        window = self.max_length
        if len(t) + len(y) > window:
            y = y[: max(window // 2, window - len(t))]
            t = t[-(window - len(y)) :]
        return t + y, len(t), len(y)

    def measure(self, pairs: Sequence[tuple[str, str]]) -> list[SideScore]:
        """One `SideScore` per (step, suffix), in batches sized so logits + attentions fit `attn_budget`."""
        import torch
        import torch.nn.functional as F

        encoded = [self.encode(t, y) for t, y in pairs]
        order = sorted(range(len(encoded)), key=lambda k: -len(encoded[k][0]))
        out: list[SideScore | None] = [None] * len(encoded)
        start = 0
        while start < len(order):
            width = len(encoded[order[start]][0])
            per_seq = width * (self.vocab + self.layers * self.heads * width)
            size = max(1, min(self.cfg.max_batch, self.cfg.attn_budget // max(per_seq, 1)))
            idx = order[start : start + size]
            start += size
            seqs = [encoded[k][0] for k in idx]
            ids = torch.tensor([s + [self.pad_id] * (width - len(s)) for s in seqs], device=self.device)
            mask = torch.tensor([[1] * len(s) + [0] * (width - len(s)) for s in seqs], device=self.device)
            with torch.inference_mode():
                res = self.model(input_ids=ids, attention_mask=mask, output_attentions=True)
            last = res.attentions[-1]  # (batch, heads, queries, keys)
            for row, k in enumerate(idx):
                _, n_t, n_y = encoded[k]
                end = n_t + n_y
                nll = F.cross_entropy(res.logits[row, n_t - 1 : end - 1].float(), ids[row, n_t:end]).item()
                attn = last[row, :, n_t:end, :n_t].float().sum().item()
                out[k] = SideScore(attn, n_t, n_y, nll)
        return [x for x in out if x is not None]

    def score(self, items: Sequence[tuple[list[str], str, str]]) -> list[StepScores]:
        """BIS measurements for several traces at once: (steps, question, solution) each."""
        pairs: list[tuple[str, str]] = []
        for steps, question, solution in items:
            pairs += [(t, question + Q_SUFFIX) for t in steps]
            pairs += [(t, solution + S_SUFFIX) for t in steps]
        scores = self.measure(pairs)
        out, at = [], 0
        for steps, _, _ in items:
            n = len(steps)
            out.append(StepScores(self.heads, scores[at : at + n], scores[at + n : at + 2 * n]))
            at += 2 * n
        return out


# --------------------------------------------------------------------------- cache + parallel workers


def scorer_fingerprint(cfg: ScorerConfig) -> str:
    """Identifies the scorer weights in cache keys: the name, and for a local dir its weights' size/mtime,
    so a retrained checkpoint at the same path never reuses stale scores."""
    from thinklab.models import resolve_model_path

    path = Path(resolve_model_path(cfg.model))
    stamp = ""
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix in (".safetensors", ".bin"))
        stamp = ";".join(f"{p.name}:{p.stat().st_size}:{int(p.stat().st_mtime)}" for p in files)
    return f"{cfg.model}|{stamp}|max_length={cfg.max_length}"


def cache_key(fingerprint: str, question: str, solution: str, steps: Sequence[str]) -> str:
    blob = json.dumps([fingerprint, question, solution, list(steps)], ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def load_cache(path: str | os.PathLike[str] | None) -> dict[str, StepScores]:
    """Scores already computed (a torn last line from a killed run is ignored)."""
    if path is None or not Path(path).exists():
        return {}
    rows = read_jsonl(path, allow_partial_last_line=True)
    return {row["key"]: StepScores.from_json(row) for row in rows}


@dataclass
class BISJob:
    key: str
    steps: list[str]
    question: str
    solution: str
    id: str = ""
    meta: dict = field(default_factory=dict)


_WORKER: BISScorer | None = None


def _worker_init(cfg: ScorerConfig, counter: Any, n_workers: int) -> None:
    """Each worker loads its own scorer; GPUs are assigned round-robin by worker rank (as the seed)."""
    import torch

    global _WORKER
    with counter.get_lock():
        rank = counter.value
        counter.value += 1
    device = cfg.device
    if device in (None, "cuda") and torch.cuda.is_available():
        device = f"cuda:{rank % torch.cuda.device_count()}"
    elif device is None:
        device = "cpu"
    if cfg.threads is None and device == "cpu":
        torch.set_num_threads(1)  # n workers x 1 thread beats n workers fighting over every core
    _WORKER = BISScorer(cfg, device=device)


def _worker_score(chunk: list[tuple[str, list[str], str, str]]) -> list[tuple[str, dict]]:
    assert _WORKER is not None
    scores = _WORKER.score([(steps, q, s) for _, steps, q, s in chunk])
    return [(key, sc.to_json()) for (key, *_), sc in zip(chunk, scores, strict=True)]


def score_jobs(
    jobs: Sequence[BISJob],
    cfg: ScorerConfig,
    cache_path: str | os.PathLike[str] | None,
    *,
    chunk_size: int = 32,
    scorer: BISScorer | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> dict[str, StepScores]:
    """Scores for every job, from the cache where present; new scores are appended to the cache as each
    chunk finishes, so an interrupted scoring pass resumes where it stopped.

    With ``cfg.workers > 1`` chunks are scored by that many spawned processes (each with its own model,
    GPUs round-robin); otherwise in this process (reusing `scorer` if given).
    """
    cached = load_cache(cache_path)
    todo: list[BISJob] = []
    seen: set[str] = set()
    for job in jobs:
        if job.key not in cached and job.key not in seen:
            todo.append(job)
            seen.add(job.key)
    if on_progress:
        on_progress(len(jobs) - len(todo))
    if not todo:
        return cached
    chunks = [
        [(j.key, j.steps, j.question, j.solution) for j in todo[i : i + chunk_size]]
        for i in range(0, len(todo), chunk_size)
    ]

    def save(results: list[tuple[str, dict]]) -> None:
        if cache_path is not None:
            append_jsonl(cache_path, [{"key": k, **row} for k, row in results])
        for k, row in results:
            cached[k] = StepScores.from_json(row)
        if on_progress:
            on_progress(len(results))

    if cfg.workers <= 1:
        local = scorer or BISScorer(cfg)
        for chunk in chunks:
            scores = local.score([(steps, q, s) for _, steps, q, s in chunk])
            save([(key, sc.to_json()) for (key, *_), sc in zip(chunk, scores, strict=True)])
        return cached
    import multiprocessing as mp

    ctx = mp.get_context("spawn")  # CUDA and forked torch threads do not mix
    counter = ctx.Value("i", 0)
    with ProcessPoolExecutor(
        max_workers=cfg.workers,
        mp_context=ctx,
        initializer=_worker_init,
        initargs=(cfg, counter, cfg.workers),
    ) as pool:
        futures = [pool.submit(_worker_score, chunk) for chunk in chunks]
        for fut in as_completed(futures):
            save(fut.result())
    return cached
