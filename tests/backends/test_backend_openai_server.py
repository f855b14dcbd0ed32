"""The OpenAI-compatible backend against a real server process on loopback: `transformers serve`
serving the shipped tiny model, compared with the in-process HF backend on the same prompts, plus a
tiny-model copy whose tokenizer adds BOS (as R1's does under Transformers 4.x) and a random-weight
Qwen3 hybrid model built from `shared/models` (the server loads each model named in a request)."""

import json
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
from thinklab.backends.base import BackendError
from thinklab.backends.forcing import BudgetConfig, generate_budgeted
from thinklab.models import resolve_model_path
from thinklab.prompting.modes import ChatPrompt, prompt_for
from thinklab.tasks import arith

REPO_ROOT = Path(__file__).resolve().parents[2]
# End to end over HTTP: a real `transformers serve` process (~50 s to start and load on 2 cores). The
# backend's protocol handling is tested without a server in test_backend_openai_protocol.py.
pytestmark = pytest.mark.slow


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
        [  # no pinned model: the server loads whichever model a request names (tiny and the fixtures)
            str(exe),
            "serve",
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
        # the thinking budget is what was thought; the forced close is charged to the answer
        forced = remote.count_tokens(remote.thinking.forced_close)
        assert r.thinking_tokens == 24 and r.answer_tokens <= 12 + forced


def _usage_spy(backend) -> list[dict]:
    """Records the `usage` of every response the backend receives from the real server."""
    seen: list[dict] = []
    post = backend._post

    def spy(path: str, body: dict) -> dict:
        data = post(path, body)
        seen.append(data.get("usage") or {})
        return data

    backend._post = spy
    return seen


@pytest.fixture(scope="module")
def bos_model(tmp_path_factory) -> str:
    """The tiny model with a tokenizer that adds `<|begin|>` to any text and a chat template that
    writes it too: a rendered prompt starts with BOS, and a server tokenizing it adds a second."""
    out = tmp_path_factory.mktemp("bos-tiny")
    src = Path(resolve_model_path("tiny"))
    for f in src.iterdir():
        if f.is_file():
            shutil.copy(f, out / f.name)
    tok = json.loads((out / "tokenizer.json").read_text())
    bos_id = next(t["id"] for t in tok["added_tokens"] if t["content"] == "<|begin|>")
    tok["post_processor"]["single"] = [{"SpecialToken": {"id": "<|begin|>", "type_id": 0}}] + tok[
        "post_processor"
    ]["single"]
    tok["post_processor"]["special_tokens"] = {
        "<|begin|>": {"id": "<|begin|>", "ids": [bos_id], "tokens": ["<|begin|>"]}
    }
    (out / "tokenizer.json").write_text(json.dumps(tok))
    template = out / "chat_template.jinja"
    template.write_text("{{ bos_token }}" + template.read_text())
    return str(out)


def test_completions_send_no_second_bos(server, bos_model):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(bos_model)
    assert tok("a")["input_ids"][0] == tok.bos_token_id  # the fixture's point: the tokenizer adds BOS
    remote = load_backend("openai", bos_model, base_url=server)
    prompt = prompt_for(remote, arith.generate(1, "test", 3)[0].text())
    assert prompt.startswith("<|begin|>")
    seen = _usage_spy(remote)
    out = remote.generate([prompt], SamplingParams(max_tokens=4))
    assert out[0][0].tokens >= 1
    # the server tokenized exactly the prompt's own ids: one BOS, the template's
    assert seen[-1]["prompt_tokens"] == len(tok(prompt, add_special_tokens=False)["input_ids"])


def test_chat_prefill_refused_by_server_is_one_line_error(server):
    """`transformers serve` does not continue a final assistant message: a prefilled chat prompt stops
    with one line that names the way out (endpoint=completions), not the server's raw 422."""
    remote = load_backend("openai", "tiny", base_url=server, endpoint="chat", max_retries=0)
    prompt = prompt_for(remote, arith.generate(1, "test", 4)[0].text(), mode="no-think")
    assert isinstance(prompt, ChatPrompt) and prompt.prefill
    with pytest.raises(BackendError) as err:
        remote.generate([prompt], SamplingParams(max_tokens=4))
    message = str(err.value)
    assert "endpoint=completions" in message and "\n" not in message


def test_chat_without_prefill_works_over_http(server):
    remote = load_backend("openai", "tiny", base_url=server, endpoint="chat")
    prompt = prompt_for(remote, arith.generate(1, "test", 5)[0].text())
    assert isinstance(prompt, ChatPrompt) and not prompt.prefill
    out = remote.generate([prompt], SamplingParams(max_tokens=30))
    assert out[0][0].tokens > 0 and out[0][0].text


@pytest.fixture(scope="module")
def qwen3_model(tmp_path_factory) -> str:
    """A random-weight Qwen3 hybrid model from the shared fixture (real tokenizer and chat template)."""
    env = os.environ.get("THINKLAB_SHARED_DIR")
    fixture = (Path(env) if env else REPO_ROOT.parent / "shared") / "models" / "qwen3-hybrid"
    if not fixture.is_dir():
        pytest.skip(f"model fixtures not found at {fixture} (set THINKLAB_SHARED_DIR to the shared/ folder)")
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(0)
    out = tmp_path_factory.mktemp("qwen3-hybrid")
    model = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(fixture), dtype=torch.bfloat16)
    model.save_pretrained(out)
    AutoTokenizer.from_pretrained(fixture).save_pretrained(out)
    shutil.copy(fixture / "generation_config.json", out / "generation_config.json")
    return str(out)


def test_chat_sends_template_args_for_qwen3_no_think(server, qwen3_model):
    """Qwen3's no-think is the template's own `enable_thinking=False` block: the request carries it as
    `chat_template_kwargs`, so the server renders the same prompt as the local template does."""
    from transformers import AutoTokenizer

    remote = load_backend("openai", qwen3_model, base_url=server, endpoint="chat")
    assert remote.thinking.name == "qwen3"
    user = arith.generate(1, "test", 6)[0].text()
    prompt = prompt_for(remote, user, mode="no-think")
    assert dict(prompt.template_args) == {"enable_thinking": False} and not prompt.prefill
    seen = _usage_spy(remote)
    remote.generate([prompt], SamplingParams(max_tokens=2))
    tok = AutoTokenizer.from_pretrained(qwen3_model)
    want = tok.apply_chat_template(
        [{"role": "user", "content": user}], add_generation_prompt=True, enable_thinking=False, tokenize=False
    )
    assert want.endswith("<think>\n\n</think>\n\n")
    assert seen[-1]["prompt_tokens"] == len(tok(want, add_special_tokens=False)["input_ids"])
