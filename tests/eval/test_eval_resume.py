"""Kill an eval with SIGKILL midway, run the same command again: nothing is generated twice or lost,
and the result equals an uninterrupted run with the same seed.

Only the killed run is a process of its own; the reference and the rerun go through the entry point
in-process (tests/cli_runner.py). All three run torch on one thread (`threads=1`), as the killed process
does, so the reference's sampled tokens are comparable with what the killed run wrote."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cli_runner import run_cli

ARGS = [
    "--model",
    "tiny",
    "--task",
    "arith",
    "--limit",
    "40",
    "--budgets",
    "48,96",
    "--chunk-size",
    "8",
    "--sampling",
    "temperature=0.8,top_p=0.95",
    "--seed",
    "3",
    "--backend-args",
    "threads=1",
]


def _cmd(out: Path) -> list[str]:
    return [sys.executable, "-m", "thinklab", "eval", *ARGS, "--out", str(out)]


def _lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]


def _run_dir(out: Path) -> Path:
    (d,) = [p for p in out.iterdir() if p.is_dir()]
    return d


@pytest.mark.slow
def test_sigkill_then_resume_matches_uninterrupted(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    ref = run_cli("eval", *ARGS, "--out", tmp_path / "ref")
    assert ref.returncode == 0, ref.stderr[-2000:]
    ref_dir = _run_dir(tmp_path / "ref")

    out = tmp_path / "killed"
    proc = subprocess.Popen(_cmd(out), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    deadline = time.time() + 300
    samples = None
    while time.time() < deadline:
        found = list(out.glob("*/samples.jsonl")) if out.exists() else []
        if found and len(found[0].read_text().splitlines()) >= 16:
            samples = found[0]
            break
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert samples is not None, "the run never wrote samples"
    before = _lines(samples)
    assert 16 <= len(before) < 80, "kill should land midway"

    again = run_cli("eval", *ARGS, "--out", out)
    assert again.returncode == 0, again.stderr[-2000:]
    after = _lines(samples)
    keys = [r["key"] for r in after]
    assert len(keys) == len(set(keys)) == 80  # 40 problems x 2 budgets, none twice
    assert after[: len(before)] == before  # nothing already written was lost or rewritten
    ref_samples = {r["key"]: r for r in _lines(ref_dir / "samples.jsonl")}
    assert {k: r["response"] for k, r in ref_samples.items()} == {r["key"]: r["response"] for r in after}
    s_ref = json.loads((ref_dir / "summary.json").read_text())["budgets"]
    s_new = json.loads((_run_dir(out) / "summary.json").read_text())["budgets"]
    assert s_ref == s_new
    assert (_run_dir(out) / "accuracy_vs_tokens.png").stat().st_size > 1000
