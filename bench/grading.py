"""Grader throughput and agreement, measured in one run.

    python bench/grading.py                 # verifications/s over MATH-500 gold vs reference solution
    python bench/grading.py --workers 4     # pool size for the parallel rows (default 2)
    python bench/grading.py --agreement     # per-project agreement with shared/grader/answer_equivalence.jsonl
                                            # (harness extraction policy, then strict)

Throughput rows (each pair is ``is_equivalent(answer, solution)`` where ``solution`` is the whole reference
solution, so the grader must also find the boxed answer):

* ``default``: the normal path. Most MATH-500 pairs are settled by the pure-Python fast path
  (identical after normalisation), which is what an evaluation sees for correct answers.
* ``symbolic``: the fast path skipped, so every pair goes through Math-Verify extraction, latex2sympy
  parsing and ``verify``: the cost of a wrong or differently written answer. Always one cold pass: parse
  caches are cleared for every chunk, and the thread rows' grading workers have not seen these pairs.

Each is timed in one process (the main thread), in a process pool of ``--workers`` processes (each runs
the main-thread path), and in a thread pool of ``--workers`` threads (each call is sent to a grading
worker process, because signal-based deadlines only work on the main thread). Pools are started and
warmed up before timing; the start-up time is reported separately.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import importlib.util
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def shared_dir() -> Path:
    env = os.environ.get("THINKLAB_SHARED_DIR")
    path = Path(env) if env else REPO.parent / "shared"
    if not path.is_dir():
        sys.exit(f"shared/ not found at {path}; set THINKLAB_SHARED_DIR")
    return path


def load_pairs() -> list[tuple[str, str]]:
    rows = [
        json.loads(x) for x in (shared_dir() / "benchmarks/math500/test.jsonl").read_text().splitlines() if x
    ]
    return [(row["answer"], row["solution"]) for row in rows]


def _clear_caches() -> None:
    from thinklab.grading import equivalence

    equivalence._parse_side_cached.cache_clear()


def verify_chunk(args: tuple[Sequence[tuple[str, str]], str]) -> int:
    """Grade a chunk of pairs; returns how many were equal. Top-level so process pools can pickle it."""
    pairs, mode = args
    from thinklab.grading import equivalence, is_equivalent

    if mode == "default":
        return sum(is_equivalent(gold, pred) for gold, pred in pairs)
    _clear_caches()  # symbolic: measure parsing, not cache hits
    if equivalence.signals_usable():
        return sum(equivalence._equivalent_local(gold, pred, 5.0, fast=False)[0] for gold, pred in pairs)
    # Off the main thread: the worker process runs the symbolic path (fast path skipped there too).
    from thinklab.grading.timeouts import run_in_worker

    total = 0
    for gold, pred in pairs:
        payload = {"op": "equiv", "gold": gold, "pred": pred, "timeout": 5.0, "fast": False}
        reply = run_in_worker(payload, 5.0)
        total += bool(reply and reply["equal"])
    return total


def _warm(_: Any) -> int:
    from thinklab.grading import is_equivalent

    is_equivalent("x^2-1", "(x-1)(x+1)")
    return os.getpid()


def chunks(pairs: list[tuple[str, str]], n: int) -> list[list[tuple[str, str]]]:
    size = max(1, len(pairs) // n)
    return [pairs[i : i + size] for i in range(0, len(pairs), size)]


def timed(fn: Callable[[], int]) -> tuple[float, int]:
    start = time.perf_counter()
    equal = fn()
    return time.perf_counter() - start, equal


def bench(workers: int, passes: int) -> None:
    from thinklab.grading import is_equivalent, shutdown_workers
    from thinklab.grading.timeouts import run_in_worker

    pairs = load_pairs()
    print(
        f"MATH-500: {len(pairs)} gold/solution pairs ({passes} pass(es) on the default path, 1 on the symbolic);"
        f" {os.cpu_count()} CPUs; workers={workers}; load average {os.getloadavg()[0]:.1f}"
    )
    is_equivalent("x^2-1", "(x-1)(x+1)")  # import sympy and Math-Verify before timing

    start = time.perf_counter()
    process_pool = concurrent.futures.ProcessPoolExecutor(max_workers=workers)
    list(process_pool.map(_warm, range(workers * 2)))
    process_start = time.perf_counter() - start
    thread_pool = concurrent.futures.ThreadPoolExecutor(max_workers=workers)
    start = time.perf_counter()
    list(
        thread_pool.map(
            lambda _: run_in_worker({"op": "equiv", "gold": "1", "pred": "x", "timeout": 5}, 5),
            range(workers),
        )
    )
    thread_start = time.perf_counter() - start

    rows = []
    cpu: dict[str, tuple[int, float]] = {}  # the 1-process rows in CPU seconds: steadier on a busy machine
    for mode in ("default", "symbolic"):
        mode_passes = passes if mode == "default" else 1
        n = len(pairs) * mode_passes
        work = [(chunk, mode) for _ in range(mode_passes) for chunk in chunks(pairs, workers * 8)]

        def single(work: list[Any] = work) -> int:
            _clear_caches()
            return sum(verify_chunk(item) for item in work)

        def processes(work: list[Any] = work) -> int:
            return sum(process_pool.map(verify_chunk, work))

        def threads(work: list[Any] = work) -> int:
            # Symbolic: each call goes to a grading worker process (fast path skipped there too).
            return sum(thread_pool.map(verify_chunk, work))

        cpu_start = time.process_time()
        base_s, base_eq = timed(single)
        cpu[mode] = (n, time.process_time() - cpu_start)
        for label, fn in (
            ("1 process", None),
            (f"{workers} processes", processes),
            (f"{workers} threads", threads),
        ):
            seconds, equal = (base_s, base_eq) if fn is None else timed(fn)
            rows.append((mode, label, n, seconds, n / seconds, base_s / seconds, equal))

    process_pool.shutdown()
    thread_pool.shutdown()
    shutdown_workers()
    print(
        f"pool start-up (not in the timings): processes {process_start:.1f} s, thread workers {thread_start:.1f} s\n"
    )
    print("| path | runner | pairs | seconds | verifications/s | vs 1 process | equal |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for mode, label, count, seconds, rate, ratio, equal in rows:
        print(f"| {mode} | {label} | {count} | {seconds:.2f} | {rate:.0f} | {ratio:.2f}x | {equal}/{count} |")
    print(
        "\n1 process in CPU time (other processes' load does not count): "
        + ", ".join(f"{mode} {n / max(sec, 1e-9):.0f} verifications/s" for mode, (n, sec) in cpu.items())
    )


def math_verify_alone(cases: list[dict[str, Any]]) -> dict[str, tuple[int, int]]:
    """Agreement of plain Math-Verify 0.9.0 (``verify(parse(gold), parse(pred))``, default settings) on the
    included rows, per project: the baseline thinklab's extra rules are measured against. (Its default
    ``parse`` hands operator expressions to sympy's ``parse_expr``; acceptable here, on this fixed file.)"""
    import logging

    from math_verify import parse, verify

    logging.getLogger("math_verify").setLevel(logging.ERROR)
    module = _test_module()
    out: dict[str, list[int]] = {}
    for case in cases:
        if case["id"] in module.EXCLUDED:
            continue
        gold, pred = case["gold"], case["pred"]
        got = gold is not None and pred is not None and verify(parse(gold), parse(pred))
        stats = out.setdefault(case["source_repo"], [0, 0])
        stats[0] += bool(got) == bool(case["expected_equal"])
        stats[1] += 1
    return {k: (v[0], v[1]) for k, v in out.items()}


def _test_module() -> Any:
    """The test that enforces the agreement, loaded by path: one exclusion list, one table format."""
    path = REPO / "tests" / "grading" / "test_grading_shared.py"
    spec = importlib.util.spec_from_file_location("test_grading_shared", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def agreement() -> None:
    """Per-project agreement table (thinklab), then plain Math-Verify on the same rows, then disagreements."""
    module = _test_module()
    cases = module.load_cases(shared_dir())
    start = time.perf_counter()
    result = module.agreement_table(cases)
    seconds = time.perf_counter() - start
    print(f"extraction policy: {module.AGREEMENT_POLICY} (the labels come from graders that read prose)")
    print(module.format_table(result))
    print(f"\n{len(cases)} rows graded in {seconds:.1f} s (one process, including sympy's first-use costs)")
    strict = module.agreement_table(cases, policy="strict")
    print("\nThe same rows under the strict policy (unboxed prose has no answer, by design):")
    print(module.format_table(strict))
    baseline = math_verify_alone(cases)
    print("\nMath-Verify 0.9.0 alone, same included rows:")
    print("| project | agree (included) |\n|---|---:|")
    for name, (agree, total) in sorted(baseline.items(), key=lambda kv: -kv[1][1]):
        print(f"| {name} | {agree}/{total} ({100 * agree / total:.1f}%) |")
    agree = sum(a for a, _ in baseline.values())
    total = sum(t for _, t in baseline.values())
    print(f"| **total** | {agree}/{total} ({100 * agree / total:.1f}%) |")
    print("\nDisagreements:")
    for d in result["disagreements"]:
        tag = "counted " if d["included"] else "excluded"
        print(f"  [{tag}] {d['id']}: expected {d['expected_equal']}, got {d['got']} ({d['reason']})")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workers", type=int, default=2, help="pool size for the parallel rows (default 2)")
    parser.add_argument(
        "--passes", type=int, default=5, help="passes over the 500 pairs on the default path (default 5)"
    )
    parser.add_argument("--agreement", action="store_true", help="print the agreement table instead")
    args = parser.parse_args()
    if args.agreement:
        agreement()
    else:
        bench(args.workers, args.passes)


if __name__ == "__main__":
    main()
