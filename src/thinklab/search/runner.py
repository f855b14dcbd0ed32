"""`thinklab search`: run test-time strategies over a task at several compute budgets.

Writes, per strategy, the same run directory as `thinklab eval` (samples.jsonl, summary.json,
accuracy_vs_tokens.png; `thinklab report eval` overlays them) plus one comparison plot for the command.

Budget = width, the number of traces in flight per problem, the same unit for every strategy:
- `single`: one sample per record; at budget N the N samples are N records (avg@N, the expected
  single-sample accuracy), so its curve sits at one trace's tokens;
- `majority` / `weighted` / `bon`: N samples per problem, one decision;
- `beam`: one value-guided block search with N blocks in flight (N // beam_width kept beams);
- `dvts`: N // tree_blocks independent searches of `tree_blocks` blocks in flight, pooled.
Every record's `tokens` is what the policy generated for that problem (all samples, all blocks, pruned
ones included), so the plot is accuracy against generated tokens per problem: equal cost is read off
the x axis, not assumed from the budget.

Nesting (as VGS pools DVTS repetitions, and maj@k uses the first k samples): samples, and DVTS trees,
are generated in power-of-two segments [0,1), [1,2), [2,4), [4,8)... each with its own seed, so the
first N of them are the same whatever the budget list; all sampling strategies of one command share
one pool. Resume works like eval: a chunk of problems whose records are all on disk is skipped, a
partial one is regenerated (same prompts, same seeds, same outputs) and only its missing records written.
"""

from __future__ import annotations

import copy
import hashlib
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from thinklab.backends import SamplingParams, load_backend_from_args, parse_kv
from thinklab.backends.forcing import BUDGET_MODES, BudgetConfig, thinking_format
from thinklab.config import option
from thinklab.errors import ThinklabError
from thinklab.eval import metrics, rundir
from thinklab.prompting.modes import PROMPT_MODES, ChatPrompt, prompt_for
from thinklab.search.beam import BeamConfig, SearchTree, beam_search_trees, force_answers, pool_result
from thinklab.search.strategies import (
    SAMPLING_STRATEGIES,
    Candidate,
    StrategyResult,
    aggregate,
    logprob_scorer,
    sample_candidates,
    score_candidates,
)
from thinklab.tasks.registry import get_task

STRATEGIES = (*SAMPLING_STRATEGIES, "beam", "dvts")
SCORERS = ("value", "logprob")


@dataclass
class SearchConfig:
    """`thinklab search`: test-time search strategies at several compute budgets."""

    model: str = option("tiny", "Policy: hub id, local model dir, or `tiny`.")
    task: str = option("arith", "Registry name (see `thinklab tasks list`) or jsonl:PATH.")
    strategies: tuple[str, ...] = option(
        ("majority",), "Comma-separated: single, majority, weighted, bon, beam, dvts."
    )
    budgets: tuple[int, ...] = option(
        (1, 2, 4, 8), "Widths: samples per problem (voting) or blocks in flight (beam, dvts)."
    )
    value_model: str | None = option(
        None, "Value model dir from `thinklab train value` (weighted, beam, dvts, bon)."
    )
    rank_by: str = option("value", "What best-of-N ranks by: value | logprob (the policy's mean log-prob).")
    sampling: str = option("temperature=0.8,top_p=0.95", "k=v list for the policy's sampling.")
    max_tokens: int = option(512, "Per trace: thinking budget of a sample, length cap of a beam.")
    block_size: int = option(64, "Tokens per block (beam search unit; also used to count blocks).")
    beam_width: int = option(2, "Continuations sampled per kept beam per round (VGS beamK).")
    tree_blocks: int = option(4, "DVTS: blocks in flight per independent tree.")
    prompt_mode: str = option("standard", "standard | no-think | ellipsis.")
    budget_mode: str = option("cap", "cap | force-answer (s1), for samples and capped beams.")
    answer_tokens: int = option(32, "Answer allowance after a forced close (force-answer).")
    extend: int = option(0, "s1: times to replace the end of thinking with extend_str (samples).")
    extend_str: str = option("Wait", "String appended when thinking is extended.")
    backend: str = option("hf", "hf | vllm | openai | ray (replicas: docs/scaling.md).")
    backend_args: str = option("", "k=v list for the policy backend.")
    value_args: str = option("", "k=v list for the value model: device, batch_size, dtype.")
    limit: int | None = option(None, "Only the first N problems.")
    seed: int = option(0, "Sampling seed.")
    out: str = option("runs", "Parent folder of run directories.")
    data_dir: str | None = option(None, "Benchmark data folder (else $THINKLAB_DATA_DIR).")
    system_prompt: str | None = option(None, "Optional system prompt.")
    chunk_size: int = option(64, "Problems per batch and per write to disk.")
    overwrite: bool = option(False, "Start over instead of resuming.")
    trust_remote_code: bool = option(False, "Allow model repos to run their own code.")
    extraction: str | None = option(
        None, "Answer extraction policy: strict | harness (default: the task's own; docs/grading.md)."
    )

    def identity(self, strategy: str) -> dict[str, Any]:
        """Settings that change one strategy's results (they name its run dir). Budgets and limit are
        left out, as in eval; settings a strategy does not use are left out, so they do not split runs."""
        skip = {
            "strategies",
            "budgets",
            "limit",
            "out",
            "overwrite",
            "value_args",
            "value_model",
            "rank_by",
            "beam_width",
            "tree_blocks",
        }
        ident = {k: v for k, v in asdict(self).items() if k not in skip}
        if ident.get("extraction") is None:  # the task's own policy: run dirs named as before the field
            ident.pop("extraction", None)
        ident["strategy"] = strategy
        if needs_value(strategy, self.rank_by):
            ident["value_model"] = self.value_model
        if strategy == "bon":
            ident["scorer"] = self.rank_by  # the key's old name keeps existing run dirs resumable
        if strategy in ("beam", "dvts"):
            ident["beam_width"] = self.beam_width
            # beams are cut at max_tokens; budget forcing only matters for the forced answer
            ident.pop("extend", None)
            ident.pop("extend_str", None)
        if strategy == "dvts":
            ident["tree_blocks"] = self.tree_blocks
        return ident


@dataclass
class SearchRun:
    strategy: str
    run_dir: Path
    summary: dict
    records: list[dict] = field(repr=False, default_factory=list)


@dataclass
class SearchResult:
    runs: list[SearchRun]
    plot: Path | None = None


def run_identity(cfg: SearchConfig, strategy: str) -> dict[str, Any]:
    """`cfg.identity(strategy)` plus the *content* of the models it uses (as `thinklab eval` does), so
    a retrained policy or value model at the same path never resumes an old run dir."""
    ident = {**cfg.identity(strategy), "model_fingerprint": rundir.model_fingerprint(cfg.model)}
    if "value_model" in ident and cfg.value_model:
        ident["value_fingerprint"] = rundir.model_fingerprint(cfg.value_model)
    return ident


def needs_value(strategy: str, scorer: str = "value") -> bool:
    return strategy in ("weighted", "beam", "dvts") or (strategy == "bon" and scorer == "value")


def segments(n: int) -> list[tuple[int, int]]:
    """Power-of-two segments covering [0, n): [0,1), [1,2), [2,4), [4,8), ... (the last may overshoot)."""
    out, start = [], 0
    while start < n:
        end = 1 if start == 0 else 2 * start
        out.append((start, end))
        start = end
    return out


def _seed(*parts: object) -> int:
    return int.from_bytes(hashlib.sha256("/".join(map(str, parts)).encode()).digest()[:4], "big")


def check_config(cfg: SearchConfig) -> None:
    """Every user error, before any model is loaded."""
    if not cfg.strategies:
        raise ThinklabError("give at least one --strategy")
    for s in cfg.strategies:
        if s not in STRATEGIES:
            raise ThinklabError(f"unknown strategy {s!r}; choose from {', '.join(STRATEGIES)}")
        if needs_value(s, cfg.rank_by) and not cfg.value_model:
            raise ThinklabError(
                f"strategy {s!r} needs --value-model DIR (train one with `thinklab train value`)"
            )
    if cfg.rank_by not in SCORERS:
        raise ThinklabError(f"unknown --rank-by {cfg.rank_by!r}; choose one of {', '.join(SCORERS)}")
    if len(set(cfg.strategies)) != len(cfg.strategies):
        raise ThinklabError(f"--strategy lists a strategy twice: {','.join(cfg.strategies)}")
    if not cfg.budgets or min(cfg.budgets) < 1:
        raise ThinklabError(f"--budgets must be positive widths (traces in flight), got {cfg.budgets}")
    if cfg.prompt_mode not in PROMPT_MODES:
        raise ThinklabError(
            f"unknown --prompt-mode {cfg.prompt_mode!r}; choose one of {', '.join(PROMPT_MODES)}"
        )
    if cfg.budget_mode not in BUDGET_MODES:
        raise ThinklabError(
            f"unknown --budget-mode {cfg.budget_mode!r}; choose one of {', '.join(BUDGET_MODES)}"
        )
    if cfg.max_tokens < 1 or cfg.block_size < 1 or cfg.beam_width < 1 or cfg.chunk_size < 1:
        raise ThinklabError("--max-tokens, --block-size, --beam-width and --chunk-size must be positive")
    if "beam" in cfg.strategies:
        # A search keeps budget // beam-width beams, so any remainder would silently go unspent and the
        # strategy would run at a smaller budget than its row says.
        bad = [b for b in cfg.budgets if b < cfg.beam_width or b % cfg.beam_width]
        if bad:
            raise ThinklabError(
                f"beam: budgets must be multiples of --beam-width {cfg.beam_width}, got {bad}"
            )
    if "dvts" in cfg.strategies:
        if cfg.tree_blocks < cfg.beam_width:
            raise ThinklabError(f"--tree-blocks {cfg.tree_blocks} must be >= --beam-width {cfg.beam_width}")
        bad = [b for b in cfg.budgets if b % cfg.tree_blocks]
        if bad:
            raise ThinklabError(
                f"dvts: budgets must be multiples of --tree-blocks {cfg.tree_blocks}, got {bad}"
            )
    params = SamplingParams.parse(cfg.sampling)
    if params.temperature == 0 and any(s != "single" for s in cfg.strategies):
        raise ThinklabError("search strategies need sampling (temperature > 0): identical samples vote alike")


def run_search(
    cfg: SearchConfig, backend: Any = None, value_fn: Any = None, console: Any = None
) -> SearchResult:
    """Run (or resume) every strategy of `cfg` at every budget; returns the run dirs and summaries."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = console or Console(stderr=True)
    check_config(cfg)
    task = get_task(cfg.task)
    problems = task.problems(Path(cfg.data_dir) if cfg.data_dir else None, limit=cfg.limit)
    if not problems:
        raise ThinklabError(f"task {cfg.task} has no problems")
    params = SamplingParams.parse(cfg.sampling, seed=cfg.seed)
    budget_cfg = BudgetConfig(
        mode=cfg.budget_mode, answer_tokens=cfg.answer_tokens, extend=cfg.extend, extend_str=cfg.extend_str
    )
    dirs: dict[str, Path] = {}
    done: dict[str, dict[str, dict]] = {}
    for s in cfg.strategies:
        ident = run_identity(cfg, s)
        dirs[s] = rundir.run_dir_for(cfg.out, cfg.model, f"{cfg.task}-{s}", ident)
        rundir.prepare(dirs[s], {"identity": ident, "config": asdict(cfg)}, cfg.overwrite)
        done[s] = {r["key"]: r for r in rundir.load_samples(dirs[s])}
    chunks = [problems[i : i + cfg.chunk_size] for i in range(0, len(problems), cfg.chunk_size)]
    missing = {
        (k, s): _missing(cfg, s, chunk, done[s]) for k, chunk in enumerate(chunks) for s in cfg.strategies
    }
    todo = [k for k in range(len(chunks)) if any(missing[(k, s)] for s in cfg.strategies)]
    if todo and backend is None:
        backend = load_backend_from_args(cfg.backend, cfg.model, cfg.backend_args, cfg.trust_remote_code)
    if todo and value_fn is None and any(needs_value(s, cfg.rank_by) for s in cfg.strategies):
        from thinklab.search.value_model import ValueFunction

        value_fn = ValueFunction.load(cfg.value_model, **parse_kv(cfg.value_args))  # type: ignore[arg-type]
    extract, grade = task.graders()
    extract = thinking_format(backend).reading(extract)  # s1's markers read as R1's
    prefill = (
        backend.thinking.prefix(cfg.prompt_mode)
        if backend is not None and hasattr(backend, "thinking")
        else ""
    )
    ctx = _Ctx(cfg, task, backend, value_fn, params, budget_cfg, extract, grade, prefill)

    started = time.time()
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=not todo,
    ) as progress:
        bar = progress.add_task(f"search {','.join(cfg.strategies)} on {cfg.task}", total=len(chunks))
        progress.advance(bar, len(chunks) - len(todo))
        for k in todo:
            fresh = ctx.run_chunk(k, chunks[k], {s: missing[(k, s)] for s in cfg.strategies})
            for s, records in fresh.items():
                rundir.append_samples(dirs[s], records)
                done[s].update((r["key"], r) for r in records)
            progress.advance(bar)
    runs = []
    n_params = getattr(backend, "num_parameters", None)
    for s in cfg.strategies:
        records = [done[s][key] for key in _keys(cfg, s, problems)]
        summary = build_search_summary(cfg, s, records, n_params, prefill, time.time() - started, dirs[s])
        if backend is not None:  # the markers it ran with, as eval records them (`score` reads them)
            summary["thinking_format"] = thinking_format(backend).to_dict()
        rundir.write_json(dirs[s] / rundir.SUMMARY, summary)
        from thinklab.eval.plot import plot_runs

        plot_runs([dirs[s]], dirs[s] / rundir.PLOT, [s], title=f"{cfg.model} on {cfg.task}: {s}")
        runs.append(SearchRun(s, dirs[s], summary, records))
    plot = None
    if len(runs) > 1:
        from thinklab.eval.plot import plot_runs

        tag = rundir.config_hash({s: cfg.identity(s) for s in cfg.strategies})
        plot = plot_runs(
            [r.run_dir for r in runs],
            Path(cfg.out) / f"search_{rundir.slug(cfg.model)}_{rundir.slug(cfg.task)}_{tag}.png",
            [r.strategy for r in runs],
            title=f"{cfg.model} on {cfg.task}: accuracy vs generated tokens per problem",
        )
    return SearchResult(runs=runs, plot=plot)


def _samples_per_record(strategy: str, budget: int) -> int:
    return budget if strategy == "single" else 1


def _keys(cfg: SearchConfig, strategy: str, problems: list) -> list[str]:
    return [
        f"{b}/{p.id}/{s}"
        for b in cfg.budgets
        for p in problems
        for s in range(_samples_per_record(strategy, b))
    ]


def _missing(cfg: SearchConfig, strategy: str, chunk: list, done: dict) -> list[int]:
    """Budgets of `strategy` with at least one record of this chunk not on disk."""
    return [
        b
        for b in cfg.budgets
        if any(f"{b}/{p.id}/{s}" not in done for p in chunk for s in range(_samples_per_record(strategy, b)))
    ]


@dataclass
class _Ctx:
    cfg: SearchConfig
    task: Any
    backend: Any
    value_fn: Any
    params: SamplingParams
    budget_cfg: BudgetConfig
    extract: Any
    grade: Any
    prefill: str

    @property
    def close(self) -> str:
        """The model family's end-of-thinking marker (`</think>`, s1's `<|im_start|>answer`)."""
        return thinking_format(self.backend).close

    def run_chunk(self, k: int, chunk: list, missing: dict[str, list[int]]) -> dict[str, list[dict]]:
        cfg = self.cfg
        prompts = [
            prompt_for(self.backend, self.task.render(p), cfg.prompt_mode, cfg.system_prompt) for p in chunk
        ]
        out: dict[str, list[dict]] = {s: [] for s in missing}
        sampling = [s for s in missing if s in SAMPLING_STRATEGIES and missing[s]]
        if sampling:
            n = max(b for s in sampling for b in missing[s])
            pool = self._pool(k, prompts, n)
            scored = {}
            for s in sampling:
                key = (
                    "none"
                    if s in ("single", "majority")
                    else ("logprob" if s == "bon" and cfg.rank_by == "logprob" else "value")
                )
                if key not in scored:
                    scored[key] = copy.deepcopy(pool) if key != "none" else pool
                    if key != "none":
                        scorer = self.value_fn if key == "value" else logprob_scorer(self.backend)
                        score_candidates(scorer, prompts, [row[:n] for row in scored[key]])
                for b in missing[s]:
                    for p, prompt, row in zip(chunk, prompts, scored[key], strict=True):
                        if s == "single":
                            for j in range(b):
                                out[s].append(
                                    self._record(s, b, p, prompt, aggregate("single", row[j : j + 1]), j)
                                )
                        else:
                            out[s].append(self._record(s, b, p, prompt, aggregate(s, row[:b])))
        if missing.get("dvts"):
            n_trees = max(missing["dvts"]) // cfg.tree_blocks
            forest = self._forest(k, prompts, n_trees)
            for b in missing["dvts"]:
                t = b // cfg.tree_blocks
                for p, prompt, trees in zip(chunk, prompts, forest, strict=True):
                    res = pool_result(
                        trees[:t], self.extract, self.prefill, self.backend.count_tokens, self.close
                    )
                    out["dvts"].append(self._record("dvts", b, p, prompt, res))
        for b in missing.get("beam", []):
            bcfg = BeamConfig(cfg.block_size, cfg.beam_width, b, cfg.max_tokens)
            trees = self._search(prompts, bcfg, 1, _seed(cfg.seed, k, "beam", b))
            for p, prompt, row in zip(chunk, prompts, trees, strict=True):
                res = pool_result(row, self.extract, self.prefill, self.backend.count_tokens, self.close)
                out["beam"].append(self._record("beam", b, p, prompt, res))
        return out

    def _pool(self, k: int, prompts: list, n: int) -> list[list[Candidate]]:
        """The first n (rounded up to a segment end) samples per prompt, segment-seeded."""
        pool: list[list[Candidate]] = [[] for _ in prompts]
        for start, end in segments(n):
            part = sample_candidates(
                self.backend,
                prompts,
                self.params.with_(seed=_seed(self.cfg.seed, k, "pool", start)),
                end - start,
                self.cfg.max_tokens,
                self.extract,
                self.budget_cfg,
                self.cfg.block_size,
                self.prefill,
            )
            for row, new in zip(pool, part, strict=True):
                row.extend(new)
        return pool

    def _forest(self, k: int, prompts: list, n_trees: int) -> list[list[SearchTree]]:
        cfg = self.cfg
        bcfg = BeamConfig(cfg.block_size, cfg.beam_width, cfg.tree_blocks, cfg.max_tokens)
        forest: list[list[SearchTree]] = [[] for _ in prompts]
        for start, end in segments(n_trees):
            part = self._search(prompts, bcfg, end - start, _seed(cfg.seed, k, "dvts", start))
            for row, new in zip(forest, part, strict=True):
                row.extend(new)
        return forest

    def _search(self, prompts: list, bcfg: BeamConfig, trees: int, seed: int) -> list[list[SearchTree]]:
        params = self.params.with_(seed=seed)
        forest = beam_search_trees(self.backend, prompts, self.value_fn, params, bcfg, trees)
        if self.budget_cfg.mode == "force-answer":
            force_answers(self.backend, prompts, forest, params, self.budget_cfg, self.value_fn)
        return forest

    def _record(self, strategy: str, budget: int, p, prompt, res: StrategyResult, sample: int = 0) -> dict:
        chosen = res.candidates[res.chosen] if res.chosen is not None and res.candidates else None
        thinking = sum(c.thinking_tokens for c in res.candidates)
        correct = res.answer is not None and bool(self.grade(p.answer, res.answer))
        record = {
            "key": f"{budget}/{p.id}/{sample}",
            "id": p.id,
            "sample": sample,
            "budget": budget,
            "strategy": strategy,
            "prompt": prompt.to_messages() if isinstance(prompt, ChatPrompt) else prompt,
            "response": res.text,
            "gold": p.answer,
            "pred": res.answer,
            "correct": correct,
            "tokens": res.tokens_generated,
            "thinking_tokens": min(thinking, res.tokens_generated),
            "answer_tokens": max(0, res.tokens_generated - thinking),
            "blocks": res.blocks,
            "value_tokens": res.value_tokens,
            "finish_reason": chosen.finish_reason if chosen else "length",
            "forced_answer": bool(chosen and chosen.forced_answer),
            "extensions": sum(c.extensions for c in res.candidates),
            "think": thinking_format(self.backend).thought(self.prefill, res.text),
            "format_ok": res.answer is not None,
            "candidates": [c.to_json() for c in res.candidates] if strategy != "single" else [],
        }
        if res.vote is not None:
            record["tie_credit"] = res.vote.tie_credit(lambda a: bool(self.grade(p.answer, a)))
            record["classes"] = [
                {"answer": c.answer, "size": len(c.members), "weight": round(c.weight, 6)}
                for c in res.vote.classes
            ]
        for name in ("bon", "maj"):
            if name in res.extra:
                ans = res.extra[name]
                record[f"correct_{name}"] = ans is not None and bool(self.grade(p.answer, ans))
        for key in ("level", "form"):
            if key in p.metadata:
                record[key] = p.metadata[key]
        return record


def build_search_summary(
    cfg: SearchConfig,
    strategy: str,
    records: list[dict],
    n_params: int | None,
    prefill: str,
    seconds: float,
    run_dir: Path,
) -> dict:
    """eval's summary (same metrics, same fields) plus the compute a search spends per problem."""
    from thinklab.eval.runner import build_summary

    if n_params is None:
        import json

        path = run_dir / rundir.SUMMARY
        n_params = json.loads(path.read_text()).get("num_parameters") if path.exists() else None
    summary = build_summary(replace(cfg, strategies=(strategy,)), records, n_params, prefill, seconds)
    summary["strategy"] = strategy
    summary["task"] = cfg.task
    for budget, entry in summary["budgets"].items():
        rows = [r for r in records if str(r["budget"]) == budget]
        if not rows:
            continue
        entry["mean_blocks"] = metrics.mean_of(rows, "blocks")
        entry["mean_value_tokens"] = metrics.mean_of(rows, "value_tokens")
        entry["tokens_per_problem"] = entry["mean_tokens"]  # for `single`: one sample's tokens
        if all("tie_credit" in r for r in rows):
            entry["accuracy_tie_split"] = metrics.mean_of(rows, "tie_credit")
        for name in ("bon", "maj"):
            if all(f"correct_{name}" in r for r in rows):
                entry[f"accuracy_{name}"] = metrics.mean_of(rows, f"correct_{name}")
    return summary


def comparison_rows(result: SearchResult) -> list[dict]:
    """One row per (strategy, budget): accuracy, tokens per problem, blocks, value tokens."""
    rows = []
    for run in result.runs:
        for budget, m in run.summary["budgets"].items():
            if m:
                rows.append(
                    {
                        "strategy": run.strategy,
                        "budget": int(budget),
                        "accuracy": m["accuracy"],
                        "stderr": m["accuracy_stderr"],
                        "tokens_per_problem": m["mean_tokens"],
                        "blocks": m.get("mean_blocks"),
                        "value_tokens": m.get("mean_value_tokens"),
                    }
                )
    return rows
