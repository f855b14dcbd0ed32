"""`thinklab eval`: one model, one task, a sweep of token budgets, one run directory.

Flow: task problems → prompts (chat template + thinking mode) → budgeted generation in chunks →
grading → `samples.jsonl` (appended per chunk) → metrics per budget → `summary.json`, table, plot.

Resume: the work is a fixed list of chunks (per budget, `chunk_size` problems, each with its own
seed derived from the run seed, the budget and the chunk index). A chunk whose samples are all on
disk is skipped; a partly written chunk is generated again in full (same prompts, same seed, so the
same outputs) and only its missing samples are written. So a killed run, started again, ends with
exactly the samples and summary of an uninterrupted one.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from thinklab.backends import SamplingParams, load_backend_from_args
from thinklab.backends.forcing import BUDGET_MODES, BudgetConfig, generate_budgeted
from thinklab.config import option
from thinklab.data.problem import Problem
from thinklab.errors import ThinklabError
from thinklab.eval import metrics, rundir
from thinklab.prompting.modes import (
    PROMPT_MODES,
    R1,
    ChatPrompt,
    ThinkingFormat,
    format_for,
    prompt_for,
    resolve_template,
)
from thinklab.tasks.registry import Task, get_task


@dataclass
class EvalConfig:
    """`thinklab eval`: one model, one task, a sweep of token budgets (the options of the command)."""

    model: str = option("tiny", "Hub id, local model dir, or `tiny` (the shipped model).")
    task: str = option("arith", "Registry name (see `thinklab tasks list`) or jsonl:PATH.")
    budgets: tuple[int, ...] = option((64, 128, 256), "Comma-separated token budgets to sweep.")
    n: int = option(1, "Samples per problem.")
    sampling: str = option(
        "",
        "k=v list, e.g. temperature=0.6,top_p=0.95 (default: the model's generation_config.json; greedy "
        "when it does not sample). `temperature=0` forces greedy.",
    )
    prompt_mode: str = option("standard", "standard | no-think | ellipsis.")
    budget_mode: str = option("cap", "cap (hard cut) | force-answer (s1: close thinking, then answer).")
    answer_tokens: int = option(32, "Answer allowance after a forced close (force-answer).")
    extend: int = option(0, "s1 budget forcing: replace the end of thinking with extend_str this many times.")
    extend_str: str = option("Wait", "String appended when thinking is extended.")
    backend: str = option("hf", "hf | vllm | openai | ray (replicas: docs/scaling.md).")
    backend_args: str = option(
        "", "k=v list passed to the backend, e.g. tensor_parallel_size=8 or base_url=..."
    )
    limit: int | None = option(None, "Only the first N problems.")
    seed: int = option(0, "Sampling seed.")
    out: str = option("runs", "Parent folder of run directories.")
    data_dir: str | None = option(None, "Benchmark data folder (else $THINKLAB_DATA_DIR).")
    system_prompt: str | None = option(None, "Optional system prompt.")
    prompt_template: str | None = option(
        None, "User message: sky | autothink | vgs | plain, or text with {problem} (default: the task's)."
    )
    thinking_format: str | None = option(
        None,
        "Thinking markers: r1 | qwen3 | qwen3-thinking | s1 | tiny, or a YAML file (default: recognised "
        "from the model's tokenizer and chat template).",
    )
    chunk_size: int = option(256, "Problems per generation call and per write to disk.")
    overwrite: bool = option(False, "Start over instead of resuming.")
    trust_remote_code: bool = option(False, "Allow model repos to run their own code.")
    extraction: str | None = option(
        None,
        "Answer extraction policy: strict | harness (default: the task's, strict for math tasks; harness "
        "adds the published harnesses' prose fallback, docs/grading.md).",
    )

    def identity(self) -> dict[str, Any]:
        """Settings that change results (and so name the run dir). Budgets and limit are left out:
        samples are keyed by budget and problem, so widening a sweep reuses what is already done. An
        explicit extraction policy names its own run dir (verdicts of one policy are never mixed with
        another's on resume); the default leaves the name as it was. `score --extraction` re-grades a run
        in place without generating."""
        skip = {"budgets", "limit", "out", "overwrite"}
        if self.extraction is None:
            skip.add("extraction")
        return {k: v for k, v in asdict(self).items() if k not in skip}


@dataclass
class EvalResult:
    run_dir: Path
    summary: dict
    records: list[dict] = field(repr=False, default_factory=list)


def _chunk_seed(seed: int, budget: int, chunk: int) -> int:
    return int.from_bytes(hashlib.sha256(f"{seed}/{budget}/{chunk}".encode()).digest()[:4], "big")


def sample_key(budget: int, problem_id: str, sample: int) -> str:
    return f"{budget}/{problem_id}/{sample}"


def grade_record(
    record: dict,
    task: Task,
    prefill: str,
    extract: Callable[[str], str | None],
    grade: Callable[[str, str], bool],
    fmt: ThinkingFormat = R1,
) -> dict:
    """Fill `pred`, `correct`, `think`, `format_ok` of a record from its response (used by eval and score).

    The grader reads R1's markers, so another family's (s1's `<|im_start|>answer`) are mapped onto them
    first; whether the model thought is read from the response alone (`ThinkingFormat.thought`), so a
    no-think prefill that closes the block inside the prompt never counts as thinking."""
    response = record["response"]
    pred = extract(fmt.as_r1(prefill + response), truncated=record.get("finish_reason") == "length")
    record["pred"] = pred
    record["correct"] = bool(pred is not None and grade(record["gold"], pred))
    record["think"] = fmt.thought(prefill, response)
    # Format pass: the thinking block (if any) closed and an answer could be extracted.
    record["format_ok"] = pred is not None
    return record


def run_eval(cfg: EvalConfig, backend: Any = None, console: Any = None) -> EvalResult:
    """Run (or resume) an evaluation and return its run dir and summary."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = console or Console(stderr=True)
    if cfg.prompt_mode not in PROMPT_MODES:
        raise ThinklabError(
            f"unknown --prompt-mode {cfg.prompt_mode!r}; choose one of {', '.join(PROMPT_MODES)}"
        )
    task = get_task(cfg.task)
    task.graders(cfg.extraction)  # an unknown --extraction fails before any model loads
    user_template = resolve_template(cfg.prompt_template, task.template)
    sampling = cfg.sampling or model_sampling_defaults(cfg.model)
    params = SamplingParams.parse(sampling, n=cfg.n, seed=cfg.seed)
    budget_cfg = BudgetConfig(
        mode=cfg.budget_mode, answer_tokens=cfg.answer_tokens, extend=cfg.extend, extend_str=cfg.extend_str
    )
    if cfg.budget_mode not in BUDGET_MODES:
        raise ThinklabError(
            f"unknown --budget-mode {cfg.budget_mode!r}; choose one of {', '.join(BUDGET_MODES)}"
        )
    if not cfg.budgets or min(cfg.budgets) < 1:
        raise ThinklabError(f"--budgets must be positive token counts, got {cfg.budgets}")
    problems = task.problems(Path(cfg.data_dir) if cfg.data_dir else None, limit=cfg.limit)
    if not problems:  # an empty file or --limit 0: a table of nothing would look like a result
        raise ThinklabError(f"{cfg.task} holds no problems{' (--limit 0)' if cfg.limit == 0 else ''}")
    identity = {**cfg.identity(), "model_fingerprint": rundir.model_fingerprint(cfg.model)}
    run_dir = rundir.run_dir_for(cfg.out, cfg.model, cfg.task, identity)
    run_config = {"identity": identity, "config": asdict(cfg)}
    rundir.check(run_dir, run_config, cfg.overwrite)

    done = {} if cfg.overwrite else {r["key"]: r for r in rundir.load_samples(run_dir)}
    plan = _plan(problems, cfg)
    todo = [
        (b, k, chunk)
        for b, k, chunk in plan
        if any(sample_key(b, p.id, s) not in done for p in chunk for s in range(cfg.n))
    ]
    if todo and backend is None:
        backend = load_backend_from_args(
            cfg.backend, cfg.model, cfg.backend_args, cfg.trust_remote_code, cfg.thinking_format
        )
    # Only now that the model has loaded: a failed load leaves no empty run dir and wipes nothing.
    rundir.prepare(run_dir, run_config, cfg.overwrite)
    extract, grade = task.graders(cfg.extraction)
    fmt = _format(cfg, backend)
    prefill = fmt.prefix(cfg.prompt_mode)

    started = time.time()
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=not todo,
    ) as progress:
        bar = progress.add_task(
            f"eval {cfg.model} on {cfg.task}", total=sum(len(c) * cfg.n for _, _, c in plan)
        )
        progress.advance(
            bar, sum(1 for b, _, c in plan for p in c for s in range(cfg.n) if sample_key(b, p.id, s) in done)
        )
        for budget, index, chunk in todo:
            prompts = [
                prompt_for(backend, task.render(p, user_template), cfg.prompt_mode, cfg.system_prompt)
                for p in chunk
            ]
            outs = generate_budgeted(
                backend, prompts, params.with_(seed=_chunk_seed(cfg.seed, budget, index)), budget, budget_cfg
            )
            fresh = []
            for p, prompt, row in zip(chunk, prompts, outs, strict=True):
                for s, r in enumerate(row):
                    key = sample_key(budget, p.id, s)
                    if key in done:
                        continue
                    record = {
                        "key": key,
                        "id": p.id,
                        "sample": s,
                        "budget": budget,
                        "prompt": prompt.to_messages() if isinstance(prompt, ChatPrompt) else prompt,
                        "response": r.text,
                        "gold": p.answer,
                        "tokens": r.tokens,
                        "thinking_tokens": r.thinking_tokens,
                        "answer_tokens": r.answer_tokens,
                        "finish_reason": r.finish_reason,
                        "forced_answer": r.forced_answer,
                        "extensions": r.extensions,
                        **_problem_fields(p),
                    }
                    fresh.append(grade_record(record, task, prefill, extract, grade, fmt))
            rundir.append_samples(run_dir, fresh)
            done.update((r["key"], r) for r in fresh)
            progress.advance(bar, len(fresh))
    records = [done[sample_key(b, p.id, s)] for b, _, c in plan for p in c for s in range(cfg.n)]
    n_params = (
        getattr(backend, "num_parameters", None)
        or _known_params(run_dir)
        or rundir.count_parameters(cfg.model)  # all samples on disk, no model loaded, no summary yet
    )
    summary = build_summary(cfg, records, n_params, prefill, time.time() - started)
    summary["sampling"] = sampling or "greedy"
    summary["sampling_source"] = (
        "--sampling" if cfg.sampling else "generation_config.json" if sampling else "greedy default"
    )
    summary["thinking_format"] = fmt.to_dict()
    rundir.write_json(run_dir / rundir.SUMMARY, summary)
    from thinklab.eval.plot import plot_runs

    plot_runs([run_dir], run_dir / rundir.PLOT)
    return EvalResult(run_dir=run_dir, summary=summary, records=records)


def _format(cfg: EvalConfig, backend: Any) -> ThinkingFormat:
    """The model's thinking format, also when everything is on disk and no backend was loaded."""
    if backend is not None and getattr(backend, "thinking", None) is not None:
        return backend.thinking
    return model_thinking_format(cfg.model, cfg.thinking_format, cfg.trust_remote_code)


def model_thinking_format(
    model: str, override: str | None, trust_remote_code: bool = False
) -> ThinkingFormat:
    """`format_for` a model by name without loading its weights (its tokenizer only)."""
    from thinklab.models import resolve_model_path

    if override:
        return format_for(None, None, override)
    path = resolve_model_path(model, weights=False)
    try:
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=trust_remote_code)
    except (OSError, ValueError):
        tokenizer = None
    return format_for(path, tokenizer)


def model_sampling_defaults(model: str) -> str:
    """The model's own recommended sampling (its `generation_config.json`) for a local model dir."""
    from thinklab.backends.base import sampling_defaults
    from thinklab.models import resolve_model_path

    return sampling_defaults(resolve_model_path(model, weights=False))


def _plan(problems: list[Problem], cfg: EvalConfig) -> list[tuple[int, int, list[Problem]]]:
    return [
        (budget, k, problems[start : start + cfg.chunk_size])
        for budget in cfg.budgets
        for k, start in enumerate(range(0, len(problems), cfg.chunk_size))
    ]


def _problem_fields(p: Problem) -> dict[str, Any]:
    keep = ("level", "subject", "form")
    return {k: p.metadata[k] for k in keep if k in p.metadata}


def _known_params(run_dir: Path) -> int | None:
    import json

    path = run_dir / rundir.SUMMARY
    try:
        return json.loads(path.read_text()).get("num_parameters") if path.exists() else None
    except ValueError:  # a damaged summary is rewritten at the end of this run anyway
        return None


def _extraction(cfg: EvalConfig) -> str | None:
    """The extraction policy that graded a run (recorded in summary.json; None: the task's own extractor)."""
    return get_task(cfg.task).extraction(cfg.extraction)


def build_summary(
    cfg: EvalConfig, records: list[dict], n_params: int | None, prefill: str, seconds: float
) -> dict:
    from thinklab.grading import is_equivalent

    per_budget = {}
    for budget in cfg.budgets:
        rows = [r for r in records if r["budget"] == budget]
        entry = metrics.summarize(rows, is_equivalent, n_params)
        levels = sorted({r["level"] for r in rows if "level" in r})
        if levels:
            entry["by_level"] = {
                str(lv): {
                    "problems": len({r["id"] for r in rows if r.get("level") == lv}),
                    "accuracy": metrics.accuracy([r for r in rows if r.get("level") == lv]),
                    "mean_tokens": metrics.mean_of([r for r in rows if r.get("level") == lv], "tokens"),
                    "think_rate": metrics.mean_of([r for r in rows if r.get("level") == lv], "think"),
                }
                for lv in levels
            }
        per_budget[str(budget)] = entry
    return {
        "model": cfg.model,
        "task": cfg.task,
        "extraction": _extraction(cfg),
        "config": asdict(cfg),
        "prefill": prefill,
        "num_parameters": n_params,
        "versions": rundir.library_versions(),
        "seconds": round(seconds, 1),
        "budgets": per_budget,
    }
