"""Real run dirs for the `thinklab report` tests, written once per session by the commands themselves on
the tiny model (a few problems, small budgets: seconds on 2 cores)."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_runner import run_cli


def _run_dir(result) -> Path:
    assert result.returncode == 0, result.stderr[-2000:]
    line = [x for x in result.stdout.splitlines() if x.startswith("run dir: ")][-1]
    return Path(line.removeprefix("run dir: ").strip())


@pytest.fixture(scope="session")
def eval_runs(tmp_path_factory) -> dict[str, Path]:
    """Two `thinklab eval` run dirs of the tiny model on arith: the standard prompt (it thinks) and the
    no-think prefill (it does not), at budgets 32 and 160."""
    out = tmp_path_factory.mktemp("eval")
    runs = {}
    for mode in ("standard", "no-think"):
        res = run_cli("eval", "--limit", "4", "--budgets", "32,160", "--prompt-mode", mode, "--out", out)
        runs[mode] = _run_dir(res)
    return runs
