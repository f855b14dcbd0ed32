"""Pathological inputs return False within the timeout: on the main thread, in threads, in process pools.

Two kinds of pathological input:
* ``10^{10^{10}}``-style values, refused by the guards before sympy would compute them inside C code
  (where no timeout can interrupt);
* a product of 3000 factors, which passes the guards and keeps sympy busy in Python for ~20 s: this is
  what the deadline itself must stop.
"""

from __future__ import annotations

import concurrent.futures
import signal
import threading
import time

import pytest

from thinklab.grading import compare, is_equivalent
from thinklab.grading.timeouts import WORKER_GRACE_S, run_in_worker

TIMEOUT = 1.0
SLACK = 1.5  # scheduling noise on a loaded 2-core machine (a model may be training alongside)
SLOW = (r"\prod_{k=1}^{3000} (x+k)", r"\prod_{k=1}^{3000} (x-k)")
HUGE = [
    ("5", r"10^{10^{10}}"),
    ("5", r"9^{9^{9^{9}}}"),
    ("5", "1000000!"),
    ("5", r"2^{10^{9}} - 2^{10^{9}} + 5"),
]


def timed(gold: str, pred: str, timeout: float = TIMEOUT) -> tuple[tuple[bool, str], float]:
    start = time.monotonic()
    result = compare(gold, pred, timeout=timeout)
    return result, time.monotonic() - start


def in_process_worker(pair: tuple[str, str]) -> tuple[tuple[bool, str], float]:
    """Runs inside a ProcessPoolExecutor worker (its main thread: the signal deadline applies)."""
    return timed(*pair)


@pytest.mark.parametrize(("gold", "pred"), HUGE)
def test_huge_values_are_refused_quickly(gold: str, pred: str) -> None:
    (equal, reason), elapsed = timed(gold, pred)
    assert (equal, reason) == (False, "refused")
    assert elapsed < TIMEOUT + SLACK


def test_slow_comparison_times_out_on_main_thread() -> None:
    (equal, reason), elapsed = timed(*SLOW)
    assert (equal, reason) == (False, "timeout")
    assert elapsed < TIMEOUT + SLACK
    # The deadline leaves no alarm or handler behind.
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, None)
    assert is_equivalent("x^2-1", "(x-1)(x+1)")  # and the grader still works


def test_pathological_inputs_in_a_thread() -> None:
    results: dict[str, object] = {}

    def work() -> None:
        # Math-Verify's own timeouts would raise ValueError here (signal.alarm off the main thread).
        results["warm"] = is_equivalent("x^2+1", "1+x^2")  # starts the worker process (not timed)
        results["slow"] = timed(*SLOW)
        results["huge"] = timed(*HUGE[0])
        results["after"] = timed(r"\frac12", "0.5")

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(timeout=120)
    assert not thread.is_alive()
    assert results["warm"] is True
    for key, expected in (("slow", "timeout"), ("huge", "refused")):
        (equal, reason), elapsed = results[key]  # type: ignore[misc]
        assert (equal, reason) == (False, expected)
        assert elapsed < TIMEOUT + WORKER_GRACE_S + SLACK
    assert results["after"][0] == (True, "equivalent")  # type: ignore[index]


def test_stuck_worker_is_killed_and_replaced() -> None:
    """A worker stuck where signals cannot reach (simulated) is killed after timeout + grace."""
    results: dict[str, object] = {}

    def work() -> None:
        is_equivalent("1", "1.0")
        start = time.monotonic()
        results["stall"] = run_in_worker({"op": "_stall", "seconds": 60}, TIMEOUT)
        results["elapsed"] = time.monotonic() - start
        results["after"] = compare("x+x", "2x")

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(timeout=120)
    assert results["stall"] is None
    assert results["elapsed"] < TIMEOUT + WORKER_GRACE_S + SLACK  # type: ignore[operator]
    assert results["after"] == (True, "equivalent")


def test_pathological_inputs_in_process_pool() -> None:
    pairs = [SLOW, HUGE[0], ("3", "3.0")]
    with concurrent.futures.ProcessPoolExecutor(max_workers=2) as pool:
        outcomes = list(pool.map(in_process_worker, pairs))
    (slow, slow_s), (huge, huge_s), (easy, _) = outcomes
    assert slow == (False, "timeout") and slow_s < TIMEOUT + SLACK
    assert huge == (False, "refused") and huge_s < TIMEOUT + SLACK
    assert easy == (True, "equivalent")


def test_thread_pool_of_graders() -> None:
    """Many threads grading at once: every call answers, none raises, results are right."""
    pairs = [(str(i), f"{i}.0") for i in range(6)] + [(str(i), str(i + 1)) for i in range(6)] + [SLOW]
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda p: compare(*p, timeout=TIMEOUT), pairs))
    assert [r[0] for r in results] == [True] * 6 + [False] * 6 + [False]
    assert results[-1][1] == "timeout"
