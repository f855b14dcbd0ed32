"""`thinklab compress`: traces in, A*-Thought-compressed SFT rows out (resumable, batched).

Flow: read traces → split thoughts into steps → BIS scores (cached, scorer workers in parallel) →
greedy A* search per trace, many traces in lockstep so each round is one validator `score` call for all
pending candidates and one `generate` call for all pending checks → one output row per finished trace,
appended at once → when every trace is done the file is rewritten in input order, and a summary is
written next to it.

Resume: the BIS cache and the output file are both appended as work finishes; a restarted run skips
traces already in the output and steps already in the cache, and ends with the same file an
uninterrupted run writes (the search is deterministic given the scores; validation sampling is seeded
per round, so a resumed run may draw different validator samples for the traces it redoes).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from statistics import mean
from typing import Any

from thinklab.backends import SamplingParams, load_backend_from_args
from thinklab.compress.bis import ATTN_NORMS, BISJob, BISScorer, ScorerConfig, cache_key, score_jobs
from thinklab.compress.bis import scorer_fingerprint as _fingerprint
from thinklab.compress.data import OUT_FORMATS, TraceItem, load_items, output_row
from thinklab.compress.search import AStarConfig, Job, SearchResult, run_lockstep
from thinklab.compress.steps import StepSplitter, unescape
from thinklab.compress.validator import Sample, Validator, ValidatorConfig
from thinklab.config import option
from thinklab.data.jsonl import append_jsonl, read_jsonl, write_jsonl
from thinklab.errors import ThinklabError
from thinklab.eval import rundir
from thinklab.grading import extract_answer

REFERENCES = ("solution", "answer")


@dataclass
class CompressConfig:
    """`thinklab compress`: A*-Thought over a trace JSONL (BIS scorer, A* search, validator)."""

    data: str = option(help="Trace JSONL (R1/Sky/s1 tags; response, thinking+solution or chat rows).")
    out: str = option("runs/compress/compressed.jsonl", "Output SFT JSONL (resumed if present).")
    trace_format: str | None = option(None, "Input tag format r1 | sky | s1 (default: detected per row).")
    out_format: str = option("messages", "messages | sharegpt.")
    limit: int | None = option(None, "Only the first N traces.")
    # steps
    step_sep: str = option("\\n\\n", "Step separator (escapes \\n, \\t understood).")
    step_regex: str | None = option(None, "Split steps on this regex instead.")
    # BIS scorer
    scorer: str = option("tiny", "BIS scorer LM (openai-community/gpt2 for real traces; `tiny` here).")
    scorer_device: str | None = option(None, "cpu | cuda | cuda:N (default: cuda if available).")
    scorer_workers: int = option(1, "Scorer processes (each loads the scorer; GPUs round-robin).")
    scorer_max_length: int | None = option(None, "Truncate scorer inputs (default: model max positions).")
    alpha: float = option(0.5, "BIS weight of the solution side (1-alpha: question side).")
    attn_norm: str = option("paper", "ATTN normalisation: paper (mean) | code (divide by |t| only).")
    cache: str | None = option(None, "BIS cache JSONL (default: <out>.bis.jsonl).")
    # validator
    validator: str = option("tiny", "Validator model for costs and checks (hub id, dir, `tiny`).")
    validator_backend: str = option("hf", "hf | vllm | openai | ray (replicas: docs/scaling.md).")
    validator_args: str = option("", "k=v backend arguments, e.g. tensor_parallel_size=8.")
    validator_format: str = option("r1", "Tag layout the validator was trained on: r1 | sky | s1.")
    validator_chat: bool | None = option(
        None,
        "Chat-template the validator prompt (default: if it has one).",
        flag="--validator-chat/--validator-raw",
    )
    validator_sampling: str = option(
        "temperature=0.6,top_p=0.95,max_tokens=1024",
        "Sampling for the answer check (the A*-Thought authors' defaults).",
    )
    validator_max_context: int | None = option(None, "Clip validator inputs to this many tokens.")
    validator_pad_ratio: float | None = option(
        None,
        "Group validator calls by length (shortest >= ratio x longest); default 0.8 on hf, 0 = one call.",
    )
    system_prompt: str | None = option(None, "Validator system prompt for rows that carry none.")
    beta: float = option(0.1, "Weight of the path cost g.")
    reference: str = option("solution", "Answer to keep: solution (trace's own) | answer (row field).")
    seed: int = option(0, "Seed of the validation sampling.")
    # search
    min_steps: int = option(5, "Search steps before the first validation.")
    max_steps: int = option(20, "Search steps before falling back to the full thought.")
    expand: int = option(2, "Candidates expanded per search step (W).")
    span: int = option(1, "Radius of the span a chosen step brings in (authors: 1 = m-1..m+1).")
    min_kept: float = option(
        0.0, "Validate only once the path holds this fraction of the steps (authors: 0)."
    )
    width: int = option(64, "Traces searched in lockstep (validator batch across samples).")
    batch_candidates: bool = option(True, "Score all candidates of a round in one call.")
    overwrite: bool = option(False, "Start over instead of resuming.")
    trust_remote_code: bool = option(False, "Allow model repos to run their own code.")

    def __post_init__(self) -> None:
        # The command line and YAML spell a separator as `\\n\\n`; the search needs the characters.
        self.step_sep = unescape(self.step_sep)

    def check(self) -> None:
        if self.out_format not in OUT_FORMATS:
            raise ThinklabError(
                f"unknown --out-format {self.out_format!r}; choose one of {', '.join(OUT_FORMATS)}"
            )
        if self.attn_norm not in ATTN_NORMS:
            raise ThinklabError(
                f"unknown --attn-norm {self.attn_norm!r}; choose one of {', '.join(ATTN_NORMS)}"
            )
        if self.reference not in REFERENCES:
            raise ThinklabError(
                f"unknown --reference {self.reference!r}; choose one of {', '.join(REFERENCES)}"
            )
        if not 0 <= self.alpha <= 1:
            raise ThinklabError(f"--alpha must be in [0, 1], got {self.alpha}")
        if self.width < 1 or self.scorer_workers < 1:
            raise ThinklabError("--width and --scorer-workers must be at least 1")

    def identity(self) -> dict[str, Any]:
        """Settings that change the output rows (a rerun with others is refused, not mixed in); where
        the output goes, how much of the input, and how the work is spread over processes do not."""
        skip = {"out", "limit", "overwrite", "scorer_workers", "scorer_device", "cache", "trust_remote_code"}
        return {k: v for k, v in asdict(self).items() if k not in skip}

    def scorer_config(self) -> ScorerConfig:
        return ScorerConfig(
            model=self.scorer,
            device=self.scorer_device,
            max_length=self.scorer_max_length,
            workers=self.scorer_workers,
            trust_remote_code=self.trust_remote_code,
        )

    def cache_path(self) -> str:
        return self.cache or f"{self.out}.bis.jsonl"

    def summary_path(self) -> str:
        return f"{self.out}.summary.json"


def reference_answer(item: TraceItem, reference: str) -> str | None:
    """The answer a compressed path must still yield.

    ``solution`` (default, as the seed): the trace's own final answer, so a wrong trace is compressed into
    a shorter wrong trace, not judged; falls back to the row's `answer` when the solution has none.
    ``answer``: the row's answer field (the ground truth), falling back to the solution's.
    """
    own = extract_answer(item.trace.solution) if item.trace.solution else None
    if reference == "answer":
        return item.answer or own
    return own or item.answer


def run_compress(
    cfg: CompressConfig,
    *,
    backend: Any = None,
    scorer: BISScorer | None = None,
    console: Any = None,
) -> dict[str, Any]:
    """Compress every trace of `cfg.data` into `cfg.out` (resuming) and return the run summary."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    cfg.check()
    console = console or Console(stderr=True)
    splitter = StepSplitter(cfg.step_sep, cfg.step_regex)
    search_cfg = AStarConfig(cfg.min_steps, cfg.max_steps, cfg.expand, cfg.span, cfg.min_kept)
    items = load_items(cfg.data, cfg.trace_format, cfg.limit)
    out = Path(cfg.out)
    if cfg.overwrite:
        Path(cfg.summary_path()).unlink(missing_ok=True)
    done, _ = rundir.resume_output(out, cfg.identity(), asdict(cfg), cfg.overwrite)
    usable = [it for it in items if it.trace.finished]
    skipped = len(items) - len(usable)
    todo = [it for it in usable if it.key not in done]
    if not todo:
        console.print(f"all {len(usable)} traces already compressed in {out}")

    steps = {it.key: splitter.split(it.trace.thought or "") for it in todo}
    scorer_cfg = cfg.scorer_config()
    fingerprint = _fingerprint(scorer_cfg)
    jobs = [
        BISJob(
            cache_key(fingerprint, it.trace.problem, it.trace.solution, steps[it.key]),
            steps[it.key],
            it.trace.problem,
            it.trace.solution,
            it.key,
        )
        for it in todo
        if len(steps[it.key]) > 1
    ]
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    t0 = time.time()
    with Progress(*columns, console=console, disable=not todo) as progress:
        bar = progress.add_task("BIS scoring", total=len(jobs))
        scores = score_jobs(
            jobs,
            scorer_cfg,
            cfg.cache_path(),
            scorer=scorer,
            on_progress=lambda k: progress.advance(bar, k),
        )
    bis_seconds = time.time() - t0

    if todo and backend is None:
        backend = load_backend_from_args(
            cfg.validator_backend, cfg.validator, cfg.validator_args, cfg.trust_remote_code
        )
    validator = None
    if backend is not None:
        sampling = SamplingParams.parse(cfg.validator_sampling, seed=cfg.seed)
        validator = Validator(
            backend,
            ValidatorConfig(
                beta=cfg.beta,
                fmt=cfg.validator_format,
                chat=cfg.validator_chat,
                system=cfg.system_prompt,
                sampling=sampling,
                max_context=cfg.validator_max_context,
                pad_ratio=cfg.validator_pad_ratio
                if cfg.validator_pad_ratio is not None
                else (0.8 if getattr(backend, "name", "") == "hf" else None),
            ),
        )
    key_of = {j.id: j.key for j in jobs}
    by_key = {it.key: it for it in todo}
    round_seed = [0]

    def costs(batch: list[tuple[Sample, list[str], frozenset[int]]]) -> list[tuple[float, float]]:
        assert validator is not None
        return validator.costs([(s, splitter.join(st, p)) for s, st, p in batch])

    def check(batch: list[tuple[Sample, list[str], frozenset[int]]]) -> list[bool]:
        assert validator is not None
        round_seed[0] += 1  # a fresh, reproducible seed for every validation call
        validator.cfg.sampling = validator.cfg.sampling.with_(seed=cfg.seed * 1_000_003 + round_seed[0])
        return validator.check([(s, splitter.join(st, p)) for s, st, p in batch])

    count = backend.count_tokens if backend is not None else (lambda text: len(text.split()))
    results: list[dict[str, Any]] = []

    def on_done(job: Job, result: SearchResult) -> None:
        item = by_key[job.key]
        original = item.trace.thought or ""
        thought = None if result.kept is None else splitter.join(job.steps, result.kept)
        n_orig = count(original)
        n_new = n_orig if thought is None else count(thought)
        stats = {
            "rate": round(n_new / n_orig, 4) if n_orig else 1.0,
            "search_steps": result.search_steps,
            "status": result.status,
            "kept_steps": None if result.kept is None else list(result.kept),
            "total_steps": len(job.steps),
            "original_tokens": n_orig,
            "compressed_tokens": n_new,
            "validator_requests": job.requests,
        }
        row = output_row(item, thought, cfg.out_format, stats)
        append_jsonl(out, [row])
        results.append(row)
        progress.advance(bar, 1)

    search_jobs: list[Job] = []
    for it in todo:
        st = steps[it.key]
        if len(st) <= 1:  # nothing to drop: written unchanged, no validator work
            search_jobs.append(Job(it.key, st, [], None, False))
            continue
        order = scores[key_of[it.key]].order(cfg.alpha, cfg.attn_norm)
        gold = reference_answer(it, cfg.reference)
        sample = Sample(it.trace.problem, it.trace.solution, gold, it.system)
        search_jobs.append(Job(it.key, st, order, sample, gold is not None))

    calls_before = validator.stats.calls if validator else 0
    t1 = time.time()
    with Progress(*columns, console=console, disable=not todo) as progress:
        bar = progress.add_task("A* search", total=len(search_jobs))
        lock = run_lockstep(
            search_jobs,
            search_cfg,
            costs,
            check,
            on_done,
            width=cfg.width,
            batch_candidates=cfg.batch_candidates,
        )
    search_seconds = time.time() - t1

    rows = read_jsonl(out, allow_partial_last_line=True) if out.exists() else []
    by_id = {str(r["id"]): r for r in rows}
    complete = all(it.key in by_id for it in usable)
    if complete and rows:
        # Every trace is done: rewrite the file in input order (atomically), dropping duplicates; rows of
        # traces outside this run's input (an earlier run with a larger --limit) are kept at the end.
        keys = {it.key for it in usable}
        write_jsonl(out, [by_id[it.key] for it in usable] + [r for k, r in by_id.items() if k not in keys])
    summary = _summary(cfg, [by_id[it.key] for it in usable if it.key in by_id], results)
    summary.update(
        {
            "traces": len(items),
            "skipped_unfinished": skipped,
            "complete": complete,
            "this_run": {
                "compressed": len(results),
                "bis_seconds": round(bis_seconds, 2),
                "search_seconds": round(search_seconds, 2),
                "samples_per_minute": round(60 * len(results) / search_seconds, 2)
                if search_seconds > 0 and results
                else None,
                "validator_calls": (validator.stats.calls - calls_before) if validator else 0,
                "validator_calls_per_sample": round((validator.stats.calls - calls_before) / len(results), 3)
                if validator and results
                else None,
                "validator": asdict(validator.stats) if validator else None,
                "lockstep_rounds": lock.rounds,
            },
        }
    )
    Path(cfg.summary_path()).parent.mkdir(parents=True, exist_ok=True)
    Path(cfg.summary_path()).write_text(json.dumps(summary, indent=2))
    return summary


def _summary(cfg: CompressConfig, rows: list[dict], fresh: list[dict]) -> dict[str, Any]:
    statuses: dict[str, int] = {}
    for r in rows:
        statuses[r.get("status", "?")] = statuses.get(r.get("status", "?"), 0) + 1
    orig = sum(r.get("original_tokens", 0) for r in rows)
    new = sum(r.get("compressed_tokens", 0) for r in rows)
    return {
        "out": cfg.out,
        "config": asdict(cfg),
        "compressed": len(rows),
        "mean_rate": round(mean(r["rate"] for r in rows), 4) if rows else None,
        "token_rate": round(new / orig, 4) if orig else None,
        "mean_search_steps": round(mean(r["search_steps"] for r in rows), 3) if rows else None,
        "mean_validator_requests": round(mean(r["validator_requests"] for r in rows), 3) if rows else None,
        "status": statuses,
    }


def read_summary(out: str | os.PathLike[str]) -> dict[str, Any]:
    return json.loads(Path(f"{out}.summary.json").read_text())
