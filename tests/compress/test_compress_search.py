"""The A* search, step by step against hand-traced runs, and the lockstep driver."""

from __future__ import annotations

import pytest

from thinklab.compress.search import (
    AStarConfig,
    CheckRequest,
    CostRequest,
    Job,
    astar_search,
    run_lockstep,
    span,
)
from thinklab.errors import ThinklabError


def drive(n, order, cfg, cost, valid, has_reference=True):
    """Run one search with cost(path) -> f and valid(path) -> bool; return (result, transcript)."""
    gen = astar_search(n, order, cfg, has_reference)
    transcript = []
    try:
        req = next(gen)
        while True:
            if isinstance(req, CostRequest):
                transcript.append(("cost", [sorted(p) for p in req.paths]))
                req = gen.send([(0.0, cost(p)) for p in req.paths])
            else:
                assert isinstance(req, CheckRequest)
                transcript.append(("check", sorted(req.path)))
                req = gen.send(valid(req.path))
    except StopIteration as stop:
        return stop.value, transcript


def test_span_is_clipped():
    assert span(0, 5) == {0, 1}
    assert span(4, 5) == {3, 4}
    assert span(0, 1) == {0}
    assert span(2, 5) == {1, 2, 3}


def test_hand_traced_search_with_pruning():
    # n=10, BIS order [5, 2, 8, 0, 9, 1, 3, 4, 6, 7], f = number of kept steps, min 3 steps, W=2.
    # root {4,5,6}; i=1: {1..6} vs {4..9} tie -> m=2; prune right (3 in Q, 3,4 kept) -> i=2.
    # i=3: check {1..6} fails; {1..9} (9) vs {0..6} (7) -> m=0; prune right (1 in Q) -> i=4.
    # i=5: check {0..6} passes -> search_steps 5.
    order = [5, 2, 8, 0, 9, 1, 3, 4, 6, 7]
    result, transcript = drive(
        10, order, AStarConfig(min_steps=3, max_steps=20, expand=2), len, lambda p: p == frozenset(range(7))
    )
    assert transcript == [
        ("cost", [[1, 2, 3, 4, 5, 6], [4, 5, 6, 7, 8, 9]]),
        ("check", [1, 2, 3, 4, 5, 6]),
        ("cost", [[1, 2, 3, 4, 5, 6, 7, 8, 9], [0, 1, 2, 3, 4, 5, 6]]),
        ("check", [0, 1, 2, 3, 4, 5, 6]),
    ]
    assert result.kept == (0, 1, 2, 3, 4, 5, 6)
    assert result.search_steps == 5 and result.status == "valid"
    assert result.scored == 4 and result.checks == 2


def test_no_validation_before_min_steps():
    result, transcript = drive(30, list(range(30)), AStarConfig(5, 20, 2), len, lambda p: True)
    kinds = [k for k, _ in transcript]
    assert kinds[:4] == ["cost"] * 4 and kinds[4] == "check"
    assert result.search_steps == 5 and result.status == "valid"


def test_max_steps_falls_back_to_full_thought():
    # Centres 10 apart never touch, so nothing is pruned: checks at i = 2, 3, 4, 5, give up at i = 6.
    order = list(range(0, 60, 10)) + [i for i in range(60) if i % 10]
    result, transcript = drive(60, order, AStarConfig(2, 6, 2), len, lambda p: False)
    assert result.kept is None and result.status == "max_steps" and result.search_steps == 6
    assert [k for k, _ in transcript] == ["cost"] + ["check", "cost"] * 4


def test_exhausted_queue_falls_back_with_max_steps_count():
    # 3 steps, top step 1: the root already holds every step; Q = [0, 2] is used up without a valid check.
    result, _ = drive(3, [1, 0, 2], AStarConfig(1, 20, 2), len, lambda p: False)
    assert result.kept is None and result.status == "exhausted" and result.search_steps == 20


def test_single_step_trace_never_asks_the_validator():
    result, transcript = drive(1, [0], AStarConfig(), len, lambda p: True)
    assert transcript == [] and result.kept is None


def test_no_reference_returns_unvalidated_path():
    result, transcript = drive(20, list(range(20)), AStarConfig(2, 20, 2), len, lambda p: False, False)
    assert result.status == "unvalidated" and result.search_steps == 2
    assert all(k == "cost" for k, _ in transcript)


def test_equal_candidate_paths_are_scored_once():
    # 3 steps, top step 1: the root is {0, 1, 2}; both candidates (centres 0 and 2) are that same path.
    _, transcript = drive(3, [1, 0, 2], AStarConfig(5, 20, 2), len, lambda p: True)
    assert transcript[0] == ("cost", [[0, 1, 2]])


def test_config_errors():
    with pytest.raises(ThinklabError):
        AStarConfig(min_steps=6, max_steps=5)
    with pytest.raises(ThinklabError):
        AStarConfig(expand=0)
    with pytest.raises(ThinklabError):
        AStarConfig(span=-1)
    with pytest.raises(ThinklabError):
        AStarConfig(min_kept=1.5)


def test_span_radius():
    assert span(3, 10, 0) == {3}
    assert span(3, 10, 2) == {1, 2, 3, 4, 5}
    assert span(0, 10, 2) == {0, 1, 2}


def test_span_zero_adds_one_step_per_search_step():
    # span 0: root {5}; each search step adds the cheaper of the next two queue entries (f = -max index).
    order = [5, 2, 8, 0, 9, 1, 3, 4, 6, 7]
    result, transcript = drive(10, order, AStarConfig(3, 20, 2, span=0), lambda p: -max(p), lambda p: True)
    assert transcript == [
        ("cost", [[2, 5], [5, 8]]),
        ("cost", [[2, 5, 8], [0, 5, 8]]),
        ("check", [2, 5, 8]),
    ]
    assert result.kept == (2, 5, 8) and result.search_steps == 3


def test_min_kept_defers_validation_until_the_path_is_large_enough():
    # 10 steps, span 0, min_kept 0.5: no check before the path holds 5 steps, whatever min_steps says.
    order = list(range(10))
    result, transcript = drive(10, order, AStarConfig(1, 20, 2, span=0, min_kept=0.5), len, lambda p: True)
    checks = [p for k, p in transcript if k == "check"]
    assert checks == [[0, 1, 2, 3, 4]]
    assert result.kept == (0, 1, 2, 3, 4) and result.status == "valid"


def _jobs(n_jobs):
    return [
        Job(f"s{k}", [f"step {i}" for i in range(12 + k)], list(range(12 + k))[::-1], k)
        for k in range(n_jobs)
    ]


@pytest.mark.parametrize("width,batched", [(1, False), (3, True), (64, True)])
def test_lockstep_gives_the_same_results_with_fewer_calls(width, batched):
    calls = {"cost": 0, "check": 0}

    def costs(items):
        calls["cost"] += 1
        return [(0.0, float(len(p) + sample * 0.1)) for sample, _, p in items]

    def check(items):
        calls["check"] += 1
        return [len(p) >= 9 for _, _, p in items]

    done = {}
    stats = run_lockstep(
        _jobs(5),
        AStarConfig(3, 20, 2),
        costs,
        check,
        lambda j, r: done.setdefault(j.key, (r, j.requests)),
        width=width,
        batch_candidates=batched,
    )
    assert sorted(done) == [f"s{k}" for k in range(5)] and stats.samples == 5
    for k in range(5):  # each search alone, driven by hand, gives the same result
        alone, _ = drive(12 + k, list(range(12 + k))[::-1], AStarConfig(3, 20, 2), len, lambda p: len(p) >= 9)
        result, requests = done[f"s{k}"]
        assert (result.kept, result.search_steps, result.status) == (
            alone.kept,
            alone.search_steps,
            alone.status,
        )
        assert requests == alone.scored + alone.checks
    total_requests = sum(r for _, r in done.values())
    if not batched:
        assert calls["cost"] + calls["check"] == total_requests
    else:
        assert calls["cost"] + calls["check"] <= 2 * stats.rounds < total_requests
