"""The Ray backend against a real local Ray cluster (no mocks): same outputs as the plain HF backend,
a replica killed mid-run loses and duplicates nothing, a driver killed mid-eval resumes to the same
summary, an unreachable cluster is one line.

Ray is imported unguarded: it is in the default extras (scripts/setup.sh), so a missing Ray fails
here instead of skipping quietly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest
import ray

from thinklab.backends import BackendError, SamplingParams, load_backend
from thinklab.eval.runner import EvalConfig, run_eval
from thinklab.prompting.modes import prompt_for
from thinklab.tasks.registry import get_task

EVAL = dict(model="tiny", task="arith", limit=16, budgets=(32, 64), chunk_size=4, seed=3)


@pytest.fixture(scope="module")
def cluster():
    """One local cluster for the module: a CPU for each of the 2 replicas, and one to spare."""
    ray.init(num_cpus=3, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def hf():
    return load_backend("hf", "tiny", threads=1)


@pytest.fixture(scope="module")
def prompts(hf):
    task = get_task("arith")
    return [prompt_for(hf, task.render(p)) for p in task.problems(None, limit=12)]


@pytest.fixture(scope="module")
def replicas2(cluster):
    backend = load_backend("ray", "tiny", replicas=2)
    yield backend
    backend.close()


def _texts(rows):
    return [[(c.text, c.tokens, c.finish_reason, c.stop_reason) for c in row] for row in rows]


@pytest.mark.slow  # a local Ray cluster (~20 s to start on 2 cores)
def test_greedy_and_scores_equal_plain_hf(hf, prompts, replicas2):
    params = SamplingParams(max_tokens=40, n=2, stop=("</think>",))
    ref = hf.generate(prompts, params)
    assert _texts(replicas2.generate(prompts, params)) == _texts(ref)
    conts = [row[0].text for row in ref]
    got, want = replicas2.score(prompts, conts), hf.score(prompts, conts)
    assert [len(r) for r in got] == [len(r) for r in want]
    assert sum(got, []) == pytest.approx(sum(want, []), abs=1e-5)
    # What callers read from the backend comes from the replicas' inner HF backend.
    assert replicas2.num_parameters == hf.num_parameters
    assert replicas2.count_tokens(prompts[0]) == hf.count_tokens(prompts[0])
    assert type(replicas2.tokenizer) is type(hf.tokenizer)
    assert replicas2.generate([], params) == []


@pytest.mark.slow  # a local Ray cluster (~20 s to start on 2 cores)
def test_sampling_is_independent_of_placement_and_equals_hf_with_one_shard(hf, prompts, replicas2):
    params = SamplingParams(max_tokens=24, temperature=1.0, n=2, seed=11)
    first = _texts(replicas2.generate(prompts, params))
    replicas2.actors.reverse()  # every shard now runs on the other replica
    try:
        assert _texts(replicas2.generate(prompts, params)) == first
    finally:
        replicas2.actors.reverse()
    # One shard per call (as with replicas=1): the inner backend gets the caller's params unchanged,
    # so the draws equal plain HF's.
    with _shard_size(replicas2, len(prompts)):
        assert _texts(replicas2.generate(prompts, params)) == _texts(hf.generate(prompts, params))


@contextmanager
def _shard_size(backend, size: int | None):
    """Change the shard layout of a loaded backend (loading another pool costs ~20 s on 2 cores)."""
    saved = backend.config
    backend.config = replace(saved, shard_size=size)
    try:
        yield backend
    finally:
        backend.config = saved


@pytest.mark.slow  # a local Ray cluster (~20 s to start on 2 cores)
def test_replica_killed_mid_eval_loses_and_duplicates_nothing(tmp_path, hf, replicas2):
    ref = run_eval(EvalConfig(**EVAL, out=str(tmp_path / "hf")), backend=hf)
    victim = replicas2.pids()[0]  # asked now: a busy replica answers only after its shard
    killed: list[int] = []

    def kill_one(done: int, total: int) -> None:
        # Called with every replica busy (see RayBackend._run): the shard on replica 0 dies with it.
        if not killed and done == 2:
            os.kill(victim, signal.SIGKILL)
            killed.append(victim)

    replicas2.on_shard = kill_one
    try:
        with _shard_size(replicas2, 1):
            res = run_eval(EvalConfig(**EVAL, out=str(tmp_path / "ray")), backend=replicas2)
    finally:
        replicas2.on_shard = None
    assert killed and replicas2.pids()[0] != victim  # the replica died and Ray restarted it
    lines = [json.loads(x) for x in (res.run_dir / "samples.jsonl").read_text().splitlines()]
    keys = [r["key"] for r in lines]
    assert len(keys) == len(set(keys)) == 16 * 2
    assert {r["key"]: r["response"] for r in lines} == {r["key"]: r["response"] for r in ref.records}
    assert res.summary["budgets"] == ref.summary["budgets"]


def _cli(out: Path, *backend: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "thinklab",
        "eval",
        "--model",
        "tiny",
        "--task",
        "arith",
        "--limit",
        "16",
        "--budgets",
        "32,64",
        "--chunk-size",
        "2",
        "--seed",
        "3",
        "--out",
        str(out),
        *backend,
    ]


@pytest.mark.slow
def test_driver_killed_then_rerun_resumes_to_the_same_summary(tmp_path, hf):
    ref = run_eval(EvalConfig(**{**EVAL, "chunk_size": 2}, out=str(tmp_path / "hf")), backend=hf)
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}  # a local cluster of its own
    env["OMP_NUM_THREADS"] = "1"
    cmd = _cli(tmp_path / "ray", "--backend", "ray", "--backend-args", "replicas=2")
    # Its own session, so that whatever the driver leaves behind can be found and cleaned up.
    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, start_new_session=True
    )
    samples = None
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None:
        found = list((tmp_path / "ray").glob("*/samples.jsonl"))
        if found and len(found[0].read_text().splitlines()) >= 4:
            samples = found[0]
            break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    # The replicas (and the local cluster's GCS and raylet) die with the driver; Ray's dashboard and
    # runtime-env agents linger until their GCS reconnect times out (~30-60 s): cleaned up here.
    deadline = time.time() + 20
    while time.time() < deadline and any(c.startswith("ray::_Replica") for c in _session(proc.pid).values()):
        time.sleep(0.5)
    left = _session(proc.pid)
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert samples is not None, proc.stderr.read().decode()[-2000:]
    before = samples.read_text().splitlines()
    assert 4 <= len(before) < 32, "the kill should land midway"
    assert not [c for c in left.values() if c.startswith("ray::_Replica")], "replicas outlived the driver"

    again = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert again.returncode == 0, again.stderr[-2000:]
    after = [json.loads(x) for x in samples.read_text().splitlines()]
    keys = [r["key"] for r in after]
    assert len(keys) == len(set(keys)) == 32
    assert [json.loads(x) for x in before] == after[: len(before)]
    assert {r["key"]: r["response"] for r in after} == {r["key"]: r["response"] for r in ref.records}
    summary = json.loads((samples.parent / "summary.json").read_text())
    assert summary["budgets"] == ref.summary["budgets"]


def _session(sid: int) -> dict[int, str]:
    """Live (not zombie) processes in the session the killed driver led, with their command lines."""
    found = {}
    for entry in Path("/proc").iterdir():
        try:
            live = entry.name.isdigit() and os.getsid(int(entry.name)) == sid
            if live and (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
                found[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError):
            continue
    return found


@pytest.mark.slow  # a local Ray cluster (~20 s to start on 2 cores)
def test_a_replica_that_cannot_load_is_one_line(cluster):
    with pytest.raises(BackendError, match=r"could not load 'tiny': .*bad argument for the hf backend"):
        load_backend("ray", "tiny", batch_sise=4)  # a typo reaches the inner backend inside the replica


def test_unreachable_cluster_is_one_line(tmp_path):
    started = time.time()
    with pytest.raises(BackendError, match="cannot reach the Ray cluster at 127.0.0.1:1"):
        load_backend("ray", "tiny", address="127.0.0.1:1", connect_timeout=3)
    assert time.time() - started < 10
    out = subprocess.run(
        _cli(tmp_path, "--backend", "ray", "--backend-args", "address=127.0.0.1:1,connect_timeout=3"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 2
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert "cannot reach the Ray cluster" in out.stderr
