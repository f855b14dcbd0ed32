"""The OpenAI-compatible backend against a real server process on loopback: `transformers serve`
serving the shipped tiny model, compared with the in-process HF backend on the same prompts."""

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from thinklab.backends import SamplingParams, load_backend
from thinklab.backends.forcing import BudgetConfig, generate_budgeted
from thinklab.prompting.modes import prompt_for
from thinklab.tasks import arith
from thinklab.tiny.model import resolve_model_path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    exe = Path(sys.executable).parent / "transformers"
    if not exe.exists() or shutil.which("uvicorn", path=str(exe.parent)) is None:
        pytest.skip("transformers serve needs the serving extra (pip install 'thinklab[serve]')")
    port = _free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(
        [
            str(exe),
            "serve",
            resolve_model_path("tiny"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--device",
            "cpu",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while time.time() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"server exited: {proc.stderr.read().decode()[-2000:]}")
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("server did not become ready in 120 s")
    yield f"{base}/v1"
    proc.terminate()
    proc.wait(timeout=30)


def test_completions_match_hf_backend_and_report_usage(server):
    remote = load_backend("openai", "tiny", base_url=server, concurrency=4)
    local = load_backend("hf", "tiny")
    problems = arith.generate(6, "test", 11, levels=(1, 2, 3))
    prompts = [prompt_for(local, p.text()) for p in problems]
    assert prompts == [prompt_for(remote, p.text()) for p in problems]
    params = SamplingParams(max_tokens=200)
    got = remote.generate(prompts, params)
    want = local.generate(prompts, params)
    same = sum(g[0].text == w[0].text for g, w in zip(got, want, strict=True))
    assert same >= 5, [(g[0].text[-60:], w[0].text[-60:]) for g, w in zip(got, want, strict=True)]
    for g, w in zip(got, want, strict=True):
        assert g[0].finish_reason == w[0].finish_reason == "stop"
        assert abs(g[0].tokens - w[0].tokens) <= 1  # server usage vs local count (EOS accounting)
        assert "</think>" in g[0].text
    # a budget cut reports "length" and the server's token count
    cut = remote.generate(prompts[:2], SamplingParams(max_tokens=8))
    assert all(c[0].finish_reason == "length" and c[0].tokens == 8 for c in cut)


def test_force_answer_over_http(server):
    remote = load_backend("openai", "tiny", base_url=server, concurrency=4)
    problems = arith.generate(3, "test", 12, levels=(6,))
    prompts = [prompt_for(remote, p.text()) for p in problems]
    out = generate_budgeted(
        remote, prompts, SamplingParams(), 24, BudgetConfig(mode="force-answer", answer_tokens=12)
    )
    for row in out:
        r = row[0]
        assert r.forced_answer and "</think>" in r.text
        assert r.thinking_tokens >= 24 and r.answer_tokens <= 12 + 1
