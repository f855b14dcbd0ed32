"""Run the `thinklab` CLI in-process, through the same code path as the installed entry point.

`run_cli("eval", "--task", "nope")` sets `sys.argv`, sends stdout and stderr to buffers and calls
`thinklab.cli.main.main()` (the `thinklab` script's entry point: user errors become one `error: ...` line on
stderr and exit code 2), then returns a `subprocess.CompletedProcess` like `subprocess.run(...,
capture_output=True, text=True)` would. An exception main() lets through becomes a traceback on stderr and
exit code 1, as in a real process, so `"Traceback" not in r.stderr` can fail here too.

A subprocess start costs ~10 s of imports on 2 cores; this costs nothing after the first import. Tests that
kill or interrupt a run, check what the real process prints (library warnings bound to the real stderr at
import), or depend on import-time state keep using a subprocess.

A plain module (not conftest.py): tests import it as `from cli_runner import run_cli` (tests/ is on sys.path).
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import traceback
from collections.abc import Iterator, Mapping


@contextlib.contextmanager
def _environ(env: Mapping[str, str | None] | None) -> Iterator[None]:
    """Apply `env` (a value of None removes the variable) and restore os.environ afterwards."""
    saved = {k: os.environ.get(k) for k in env or {}}
    try:
        for k, v in (env or {}).items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextlib.contextmanager
def _torch_threads() -> Iterator[None]:
    """A command's `threads=1` (torch.set_num_threads) must not outlive it: a subprocess's would not."""
    torch = sys.modules.get("torch")
    before = torch.get_num_threads() if torch is not None else None
    try:
        yield
    finally:
        torch = sys.modules.get("torch")
        if torch is not None and before is not None and torch.get_num_threads() != before:
            torch.set_num_threads(before)


def run_cli(
    *args: object, env: Mapping[str, str | None] | None = None, cwd: str | os.PathLike | None = None
) -> subprocess.CompletedProcess:
    """`thinklab ARGS` in this process: returncode, stdout and stderr as a CompletedProcess."""
    from thinklab.cli.main import main

    argv = ["thinklab", *(str(a) for a in args)]
    out, err = io.StringIO(), io.StringIO()
    saved_argv, saved_cwd = sys.argv, os.getcwd()
    code: object = 0
    try:
        with _environ(env), _torch_threads(), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            sys.argv = argv
            if cwd is not None:
                os.chdir(cwd)
            try:
                main()
            except SystemExit as exc:
                code = exc.code
            except Exception:  # what the real process would die of: a traceback and exit code 1
                traceback.print_exc(file=err)
                code = 1
    finally:
        sys.argv = saved_argv
        os.chdir(saved_cwd)
    if code is None:
        rc = 0
    elif isinstance(code, int):
        rc = code
    else:  # sys.exit("message") prints the message and exits 1
        err.write(f"{code}\n")
        rc = 1
    return subprocess.CompletedProcess(argv, rc, out.getvalue(), err.getvalue())
