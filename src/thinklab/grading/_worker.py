"""Entry point of a grading worker process (``python -m thinklab.grading._worker``).

Reads one JSON request per line on stdin, writes one JSON reply per line on stdout. It runs the
comparison on its own main thread, so the ``setitimer`` deadline works here and most timeouts end with a
clean ``{"reason": "timeout"}`` reply; the parent kills the worker only when even that does not arrive
(a computation stuck in C code). The worker exits when its stdin closes, i.e. when the parent goes away.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time


def main() -> None:
    # Keep the protocol channel private: anything a library prints goes to stderr, never into a reply.
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb", buffering=0)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())

    from thinklab.grading.equivalence import _equivalent_local  # heavy import (sympy), after the fd swap
    from thinklab.grading.mathverify_compat import math_verify_api

    math_verify_api()  # Math-Verify imported before "ready", so no request's time limit pays for the import

    out.write(b'{"ready": true}\n')
    for raw in sys.stdin.buffer:
        if not raw.strip():
            continue
        request = json.loads(raw)
        op = request.get("op")
        if op == "equiv":
            equal, reason = _equivalent_local(
                request["gold"],
                request["pred"],
                float(request["timeout"]),
                guard=request.get("guard", True),
                fast=request.get("fast", True),
                policy=request.get("policy", "strict"),
            )
            reply = {"equal": equal, "reason": reason}
        elif op == "_stall":
            # Test hook: behave like a computation stuck in C code (no signal can interrupt it), so tests
            # can check that the parent kills and replaces a worker that never answers.
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
            time.sleep(float(request.get("seconds", 60)))
            reply = {"equal": False, "reason": "stalled"}
        else:
            reply = {"error": f"unknown op {op!r}"}
        out.write(json.dumps(reply).encode() + b"\n")


if __name__ == "__main__":
    main()
