"""A*-Thought's search over step subsets, and a driver that runs many searches in lockstep.

The search (seed: `a_star.py::AStar.search`) is written as a generator that *asks* for validator work
instead of calling a model: it yields ``CostRequest(paths)`` and receives one ``(g, h)`` per path, or
yields ``CheckRequest(path)`` and receives True/False, and finally returns a `SearchResult`. That keeps
the algorithm a small pure function (tested step by step with hand-made costs) and lets `run_lockstep`
batch the work of every candidate of many samples' searches into one validator call per round.

The algorithm, as in the seed (the open set holds one path, so it is greedy best-first):

- Q = step indices by BIS, highest first. Pop the top step m; the root path is {m-1, m, m+1}.
- Loop while Q is not empty, ``i += 1``:
  1. ``i >= max_steps``: give up, return the full thought (search_steps = max_steps).
  2. ``i >= min_steps``: if the sample has no reference answer, return the path unvalidated; if the
     validator's answer from the path is right, return the path.
  3. Expand the first ``expand`` entries m of Q: candidate = path ∪ {m-1, m, m+1}.
  4. Keep the candidate with the lowest f = g + h; remove its m from Q.
  5. Prune: if m-1 and m-2 are in the path and m-1 is still in Q, drop m-1 from Q and ``i += 1``;
     the same on the right (m+1, m+2). A step whose both neighbours are kept adds nothing as a centre.
- Q empty: return the full thought (search_steps = max_steps, as the seed).

Spans are clipped to the trace (the seed adds index 1 to a one-step trace).

Two thinklab options, off by default (the seed's search): ``span`` (the radius of the span a chosen step
brings in; seed 1 = {m-1, m, m+1}; 0 = the step alone) and ``min_kept`` (validate only once the path
holds at least this fraction of the trace's steps; seed 0). With a validator that only copies the answer
stated in the path (the tiny model), the check passes as soon as the path holds the answer line, so the
seed's search always stops at ``min_steps`` and keeps about 3 x min_steps steps whatever the trace's
length, taking both neighbours of every chosen step with it; see docs/compress.md, "Results".
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

Path = frozenset[int]


@dataclass(frozen=True)
class AStarConfig:
    min_steps: int = 5
    max_steps: int = 20
    expand: int = 2
    span: int = 1  # radius of the span a chosen step brings in (seed: 1)
    min_kept: float = 0.0  # validate only once the path holds this fraction of the steps (seed: 0)

    def __post_init__(self) -> None:
        from thinklab.errors import ThinklabError

        if self.expand < 1 or self.min_steps < 1 or self.max_steps < 1:
            raise ThinklabError("--expand, --min-steps and --max-steps must be at least 1")
        if self.span < 0:
            raise ThinklabError(f"--span must be at least 0, got {self.span}")
        if not 0 <= self.min_kept <= 1:
            raise ThinklabError(f"--min-kept must be in [0, 1], got {self.min_kept}")
        if self.min_steps > self.max_steps:
            raise ThinklabError(f"--min-steps {self.min_steps} exceeds --max-steps {self.max_steps}")


@dataclass(frozen=True)
class CostRequest:
    paths: tuple[Path, ...]


@dataclass(frozen=True)
class CheckRequest:
    path: Path


Request = CostRequest | CheckRequest


@dataclass
class SearchResult:
    """`kept` is None when the search fell back to the full thought."""

    kept: tuple[int, ...] | None
    search_steps: int
    status: str  # "valid" | "unvalidated" | "max_steps" | "exhausted"
    scored: int = 0  # candidate paths sent for costs
    checks: int = 0  # validation generations


def span(m: int, n: int, radius: int = 1) -> set[int]:
    """{m-radius, ..., m+radius} ({m-1, m, m+1} by default) clipped to the trace's steps."""
    return {j for j in range(m - radius, m + radius + 1) if 0 <= j < n}


def astar_search(
    n_steps: int, order: list[int], cfg: AStarConfig, has_reference: bool = True
) -> Generator[Request, Any, SearchResult]:
    """The search for one trace of `n_steps` steps ranked by `order` (BIS, highest first)."""
    queue = list(order)
    result = SearchResult(None, cfg.max_steps, "exhausted")
    if not queue:
        return result
    r = cfg.span
    current: Path = frozenset(span(queue.pop(0), n_steps, r))
    need = cfg.min_kept * n_steps
    i = 0
    while queue:
        i += 1
        # 1) verifying
        if i >= cfg.max_steps:
            result.status = "max_steps"
            return result
        if i >= cfg.min_steps and len(current) >= need:
            if not has_reference:
                result.kept, result.search_steps, result.status = tuple(sorted(current)), i, "unvalidated"
                return result
            result.checks += 1
            if (yield CheckRequest(current)):
                result.kept, result.search_steps, result.status = tuple(sorted(current)), i, "valid"
                return result
        # 2) exploring
        heads = queue[: cfg.expand]
        candidates = tuple(current | span(m, n_steps, r) for m in heads)
        # Two centres can give the same path (their spans already kept): score it once. The seed scores
        # both; equal paths have equal costs, so the choice (the first) is the same.
        unique = tuple(dict.fromkeys(candidates))
        result.scored += len(unique)
        answer = yield CostRequest(unique)
        f = {path: g + h for path, (g, h) in zip(unique, answer, strict=True)}
        # 3) updating: lowest f = g + h, first one on ties (as the seed's min())
        best = min(range(len(candidates)), key=lambda k: f[candidates[k]])
        m = queue.pop(best)
        current = candidates[best]
        # 4) pruning (the seed's rule and counter)
        if m - 2 >= 0 and m - 1 in current and m - 2 in current and m - 1 in queue:
            queue.remove(m - 1)
            i += 1
        if m + 2 < n_steps and m + 1 in current and m + 2 in current and m + 1 in queue:
            queue.remove(m + 1)
            i += 1
    result.search_steps = cfg.max_steps
    return result


# --------------------------------------------------------------------------- lockstep driver


@dataclass
class Job:
    """One sample's search: its id, its steps and BIS order, and what the validator needs (`sample`)."""

    key: str
    steps: list[str]
    order: list[int]
    sample: Any
    has_reference: bool = True
    requests: int = 0  # validator requests (paths scored + generations) this sample made
    rounds: int = 0  # validator calls this sample took part in
    extra: dict = field(default_factory=dict)


@dataclass
class LockstepStats:
    rounds: int = 0
    samples: int = 0


def run_lockstep(
    jobs: Iterable[Job],
    cfg: AStarConfig,
    costs: Callable[[list[tuple[Any, list[str], Path]]], list[tuple[float, float]]],
    check: Callable[[list[tuple[Any, list[str], Path]]], list[bool]],
    on_done: Callable[[Job, SearchResult], None],
    *,
    width: int = 64,
    batch_candidates: bool = True,
) -> LockstepStats:
    """Advance up to `width` searches together; every round makes one `costs` call for all their pending
    candidates and one `check` call for all their pending validations (continuous batching: a finished
    search is replaced by the next job at once, and handed to `on_done` at once).

    ``width=1, batch_candidates=False`` is the seed's schedule: one sample at a time and one validator call
    per candidate path (the baseline `bench/compress.py` compares against).
    """
    stats = LockstepStats()
    pending: Iterator[Job] = iter(jobs)
    active: list[tuple[Job, Generator[Request, Any, SearchResult], Request]] = []

    def start(job: Job) -> None:
        gen = astar_search(len(job.steps), job.order, cfg, job.has_reference)
        try:
            active.append((job, gen, next(gen)))
        except StopIteration as stop:
            finish(job, stop.value)

    def finish(job: Job, result: SearchResult) -> None:
        stats.samples += 1
        job.requests = result.scored + result.checks
        on_done(job, result)

    def refill() -> None:
        while len(active) < width:
            job = next(pending, None)
            if job is None:
                return
            start(job)

    refill()
    while active:
        stats.rounds += 1
        cost_items = [
            (k, (job.sample, job.steps, p))
            for k, (job, _, req) in enumerate(active)
            if isinstance(req, CostRequest)
            for p in req.paths
        ]
        check_items = [
            (k, (job.sample, job.steps, req.path))
            for k, (job, _, req) in enumerate(active)
            if isinstance(req, CheckRequest)
        ]
        cost_values: list[tuple[float, float]] = []
        if batch_candidates:
            cost_values = costs([x for _, x in cost_items]) if cost_items else []
            verdicts = check([x for _, x in check_items]) if check_items else []
        else:
            for _, x in cost_items:
                cost_values += costs([x])
            verdicts = [check([x])[0] for _, x in check_items]
        answers: dict[int, Any] = {}
        for (k, _), value in zip(cost_items, cost_values, strict=True):
            answers.setdefault(k, []).append(value)
        for (k, _), value in zip(check_items, verdicts, strict=True):
            answers[k] = value
        still: list[tuple[Job, Generator[Request, Any, SearchResult], Request]] = []
        for k, (job, gen, _) in enumerate(active):
            job.rounds += 1
            try:
                still.append((job, gen, gen.send(answers[k])))
            except StopIteration as stop:
                finish(job, stop.value)
        active[:] = still
        refill()
    return stats
