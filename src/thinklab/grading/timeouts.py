"""Time limits for grading that work on any thread and in worker processes.

Math-Verify bounds its own work with ``signal.alarm``, which only works on the main thread of the main
interpreter (elsewhere it raises ``ValueError``) and only takes whole seconds. thinklab calls Math-Verify
with its timeouts off and bounds the time itself:

* **Main thread** (a script, a ``ProcessPoolExecutor`` worker): a ``setitimer`` deadline raises
  :class:`GradingTimeout` inside the computation. Cheap (no process hop) and sub-second.
* **Any other thread** (a thread pool, an async server's executor): the comparison runs in a small
  persistent worker *process* (``python -m thinklab.grading._worker``). The caller waits on the reply with a
  deadline; a worker that misses it is killed and a fresh one is started on the next call. Killing is the
  only thing that stops a computation stuck inside C code (a huge integer power), which no signal can
  interrupt; cheap input guards (``equivalence._check_guards``) keep such inputs from being attempted at all.

Workers are plain subprocesses, not ``multiprocessing`` children, so they also work inside daemonic pool
workers (which may not have children) and do not depend on the start method or on ``__main__`` being
importable.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["GradingTimeout", "deadline", "run_in_worker", "shutdown_workers", "signals_usable"]

logger = logging.getLogger(__name__)

# How long a fresh worker may take to import sympy + Math-Verify before it is declared broken. Generous:
# on a loaded 2-core machine the imports alone take a few seconds.
WORKER_START_TIMEOUT_S = 90.0
# Extra time granted after the caller's timeout for the worker's own alarm to fire and answer cleanly,
# before the worker is killed.
WORKER_GRACE_S = 0.5
# Idle workers kept for reuse; more concurrent callers than this still work, their extra workers exit.
MAX_IDLE_WORKERS = 4


class GradingTimeout(BaseException):
    """Raised inside a computation when its deadline passes.

    A ``BaseException`` on purpose: Math-Verify and sympy wrap much of their work in ``except Exception``,
    which would swallow an ordinary exception and let the computation carry on past its deadline.
    """


def signals_usable() -> bool:
    """Whether a ``SIGALRM`` deadline can be used here without disturbing anyone else's timer."""
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        return False
    try:
        if signal.getitimer(signal.ITIMER_REAL) != (0.0, 0.0):
            return False  # someone else's timer is running: do not steal it
        handler = signal.getsignal(signal.SIGALRM)
    except (ValueError, OSError):
        return False
    return handler in (signal.SIG_DFL, signal.SIG_IGN, None, _raise_timeout)


def _raise_timeout(signum: int, frame: Any) -> None:
    raise GradingTimeout()


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Raise :class:`GradingTimeout` in the body after ``seconds`` (main thread only; see `signals_usable`).

    Callers must catch ``GradingTimeout`` *outside* the ``with`` block: the alarm can fire while the block is
    being left.
    """
    previous = signal.signal(signal.SIGALRM, _raise_timeout)
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 1e-3))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class WorkerError(RuntimeError):
    """A grading worker could not be started or died without answering."""


class _Worker:
    """One grading subprocess speaking JSON lines on stdin/stdout."""

    def __init__(self) -> None:
        env = dict(os.environ)
        # Make the worker import this very copy of thinklab even when it is not installed (a source tree on
        # sys.path, a test run from a checkout).
        package_root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH", "")) if p)
        env.setdefault("OMP_NUM_THREADS", "1")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "thinklab.grading._worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            close_fds=True,
        )
        self._buffer = b""
        self.ready = False

    def _read_line(self, timeout: float) -> bytes | None:
        """One reply line, or None when nothing complete arrived within ``timeout`` or the worker died."""
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        end = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            remaining = end - time.monotonic()
            if remaining <= 0:
                return None
            readable, _, _ = select.select([fd], [], [], remaining)
            if not readable:
                return None
            chunk = os.read(fd, 65536)
            if not chunk:  # EOF: the worker exited
                return None
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line

    def wait_ready(self) -> None:
        line = self._read_line(WORKER_START_TIMEOUT_S)
        if line is None or json.loads(line).get("ready") is not True:
            self.kill()
            raise WorkerError("grading worker did not start")
        self.ready = True

    def request(self, payload: dict[str, Any], timeout: float) -> dict[str, Any] | None:
        """Send one request; the reply, or None when it did not come in time (the worker is then dead)."""
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps(payload).encode() + b"\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            self.kill()
            return None
        line = self._read_line(timeout)
        if line is None:
            self.kill()
            return None
        return json.loads(line)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        with contextlib.suppress(Exception):
            self.proc.wait(timeout=5)
        for stream in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(Exception):
                stream.close()  # type: ignore[union-attr]

    def close(self) -> None:
        """Ask the worker to exit by closing its stdin; kill it if it does not."""
        with contextlib.suppress(Exception):
            self.proc.stdin.close()  # type: ignore[union-attr]
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=2)
        self.kill()


class _WorkerPool:
    """Workers shared by all threads of this process: each call borrows an idle one or starts a new one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: list[_Worker] = []
        self._pid = os.getpid()

    def _check_fork(self) -> None:
        # After a fork the child must not talk to the parent's workers (their pipes are shared).
        if os.getpid() != self._pid:
            self._idle = []
            self._lock = threading.Lock()
            self._pid = os.getpid()

    def acquire(self) -> _Worker:
        self._check_fork()
        with self._lock:
            while self._idle:
                worker = self._idle.pop()
                if worker.alive():
                    return worker
                worker.kill()
        worker = _Worker()
        worker.wait_ready()
        return worker

    def release(self, worker: _Worker) -> None:
        if not worker.alive():
            worker.kill()
            return
        with self._lock:
            if os.getpid() == self._pid and len(self._idle) < MAX_IDLE_WORKERS:
                self._idle.append(worker)
                return
        worker.close()

    def shutdown(self) -> None:
        self._check_fork()  # a forked child must not kill its parent's workers
        with self._lock:
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.close()


_POOL = _WorkerPool()
atexit.register(_POOL.shutdown)


def shutdown_workers() -> None:
    """Stop the idle grading workers now (they are also stopped at interpreter exit)."""
    _POOL.shutdown()


def run_in_worker(payload: dict[str, Any], timeout: float) -> dict[str, Any] | None:
    """Run one request in a grading worker; None when it timed out (the worker is killed and replaced).

    Raises :class:`WorkerError` when no worker can be started at all (no ``sys.executable``, sandboxed
    process creation).
    """
    worker = _POOL.acquire()
    reply = worker.request(payload, timeout + WORKER_GRACE_S)
    if reply is None:
        logger.debug("grading worker %s missed its deadline; killed", worker.proc.pid)
        return None
    _POOL.release(worker)
    return reply
