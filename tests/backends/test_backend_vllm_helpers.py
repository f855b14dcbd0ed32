"""The vLLM backend without vLLM (it cannot be installed on CPU CI): its pure helpers, and the backend
class driven through a stand-in `vllm` module that records what the engine is given. The real engine
runs in `scripts/gpu_check.sh`."""

import os
import sys
import types

import pytest
from family_models import family_fixture_dir

from thinklab.backends import SamplingParams
from thinklab.backends.base import BackendError, end_token_ids
from thinklab.backends.vllm import (
    convert,
    encode_prompt,
    gpu_groups,
    plan_max_model_len,
    sampling_kwargs,
    shard,
    unshard,
)
from thinklab.prompting.modes import build_prompt, format_for


def test_plan_max_model_len():
    assert plan_max_model_len(300, 131072) == 1024  # not the model's 131072-token context
    assert plan_max_model_len(9000, 131072) == 18432  # twice the first call, rounded up to 1024
    assert plan_max_model_len(9000, 16384) == 16384  # never past the model's context
    assert plan_max_model_len(300, None) == 1024
    assert plan_max_model_len(300, 131072, given=4096) == 4096  # the user's value wins
    with pytest.raises(BackendError, match="more than the model's context"):
        plan_max_model_len(20000, 16384)


def test_r1_prompt_ids_hold_one_bos():
    """R1's template writes `<｜begin▁of▁sentence｜>`; the ids sent to vLLM hold it once, whether or
    not the tokenizer adds BOS by itself (it does under Transformers 4.x)."""
    from transformers import AutoTokenizer

    path = family_fixture_dir("r1")
    tok = AutoTokenizer.from_pretrained(path)
    prompt = build_prompt(tok, "What is 2+2?", fmt=format_for(path, tok))
    assert prompt.startswith(tok.bos_token)
    ids = encode_prompt(tok, prompt)
    assert ids.count(tok.bos_token_id) == 1 and ids[0] == tok.bos_token_id
    assert tok.decode(ids, skip_special_tokens=False) == prompt

    class AddsBos:  # a tokenizer that adds BOS to any text (Llama-style post-processor)
        bos_token, bos_token_id = tok.bos_token, tok.bos_token_id

        def __call__(self, text, add_special_tokens=True):
            ids = tok(text, add_special_tokens=False)["input_ids"]
            return {"input_ids": ([self.bos_token_id] if add_special_tokens else []) + ids}

    assert encode_prompt(AddsBos(), prompt) == ids
    assert encode_prompt(AddsBos(), "no template")[0] == tok.bos_token_id  # a bare text still gets one


def test_sampling_keeps_s1_markers_and_stops_at_every_end_token():
    from transformers import AutoTokenizer

    path = family_fixture_dir("s1")
    tok = AutoTokenizer.from_pretrained(path)
    ends = end_token_ids(str(path), tok)
    assert {tok.convert_tokens_to_ids("<|im_end|>"), tok.convert_tokens_to_ids("<|endoftext|>")} <= ends
    kw = sampling_kwargs(
        SamplingParams(temperature=0.6, top_p=0.95, max_tokens=64, stop=("x",), seed=3), ends, 2
    )
    assert kw["skip_special_tokens"] is False and kw["spaces_between_special_tokens"] is False
    assert set(kw["stop_token_ids"]) == ends
    assert kw["top_k"] == -1 and kw["seed"] == 5 and kw["stop"] == ["x"] and kw["max_tokens"] == 64
    # s1's markers are special tokens: vLLM's default (skip them) would delete them from the text
    marker = tok("<|im_start|>answer", add_special_tokens=False)["input_ids"][0]
    assert marker in tok.all_special_ids


def _out(text, ids, finish="stop", stop_reason=None):
    return types.SimpleNamespace(text=text, token_ids=ids, finish_reason=finish, stop_reason=stop_reason)


def test_convert_returns_token_ids():
    outputs = [
        types.SimpleNamespace(outputs=[_out("a</think>", (1, 2, 3), "stop", "</think>")]),
        types.SimpleNamespace(outputs=[_out("b", [4], "length"), _out("c", [5, 6], "stop", 151645)]),
    ]
    rows = convert(outputs)
    assert (
        rows[0][0].token_ids == [1, 2, 3] and rows[0][0].tokens == 3 and rows[0][0].stop_reason == "</think>"
    )
    assert rows[1][0].finish_reason == "length"
    assert rows[1][1].stop_reason is None  # a stop token id (not a stop string) is an end of sequence


def test_shard_unshard_and_gpu_groups():
    items = list(range(7))
    parts = shard(items, 3)
    assert parts == [[0, 3, 6], [1, 4], [2, 5]]
    assert unshard(parts, 7) == items
    assert gpu_groups(2, 2) == ["0,1", "2,3"] and gpu_groups(3, 1) == ["0", "1", "2"]
    assert gpu_groups(2, 2, "4,5,6,7") == ["4,5", "6,7"]  # the GPUs this process was given
    with pytest.raises(BackendError, match="needs 4 GPUs"):
        gpu_groups(2, 2, "0,1")


@pytest.fixture
def fake_vllm(monkeypatch):
    """A stand-in `vllm` module: `LLM` records its construction and the prompts it is given."""
    record = {"built": [], "prompts": [], "params": []}

    class LLM:
        def __init__(self, model, **kwargs):
            record["built"].append(kwargs)

        def generate(self, prompts, params, use_tqdm=False):
            record["prompts"].append(prompts)
            record["params"].append(params)
            n = params["n"]
            return [
                types.SimpleNamespace(outputs=[_out("ok", [7, 8], "stop") for _ in range(n)]) for _ in prompts
            ]

    module = types.SimpleNamespace(LLM=LLM, SamplingParams=lambda **kw: kw)
    monkeypatch.setitem(sys.modules, "vllm", module)
    return record


def test_engine_built_once_with_a_planned_context(fake_vllm):
    from thinklab.backends.vllm import VLLMBackend

    backend = VLLMBackend("tiny")
    assert fake_vllm["built"] == []  # nothing built before the first call
    prompts = [build_prompt(backend.tokenizer, "1+1?", fmt=backend.thinking), "short"]
    out = backend.generate(prompts, SamplingParams(max_tokens=100, n=2))
    assert [len(r) for r in out] == [2, 2] and out[0][0].token_ids == [7, 8]
    backend.generate(prompts[:1], SamplingParams(max_tokens=50))
    assert len(fake_vllm["built"]) == 1  # the engine is reused by later calls
    longest = max(len(encode_prompt(backend.tokenizer, p)) for p in prompts)
    assert fake_vllm["built"][0]["max_model_len"] == plan_max_model_len(longest + 100, backend.model_max)
    assert backend.context_length == fake_vllm["built"][0]["max_model_len"]
    # prompts go as token ids, encoded as the HF backend encodes them
    assert fake_vllm["prompts"][0] == [
        {"prompt_token_ids": encode_prompt(backend.tokenizer, p)} for p in prompts
    ]
    assert fake_vllm["params"][0]["stop_token_ids"] == sorted(backend.end_ids)
    # a later call that does not fit the engine's context: one line that names the setting
    with pytest.raises(BackendError, match="max_model_len=") as err:
        backend.generate(prompts[:1], SamplingParams(max_tokens=5000))
    assert "\n" not in str(err.value)


def test_given_max_model_len_is_used(fake_vllm):
    from thinklab.backends.vllm import VLLMBackend

    backend = VLLMBackend("tiny", max_model_len=512)
    assert backend.context_length == 512  # known before the first call: forcing checks prompts against it
    backend.generate(["hello"], SamplingParams(max_tokens=10))
    assert fake_vllm["built"][0]["max_model_len"] == 512


FAKE_VLLM = """
import os
from types import SimpleNamespace


class LLM:
    def __init__(self, model, **kwargs):
        with open(os.environ["FAKE_VLLM_LOG"], "a") as f:
            f.write(f"built {os.environ.get('CUDA_VISIBLE_DEVICES')} {kwargs['max_model_len']}\\n")

    def generate(self, prompts, params, use_tqdm=False):
        out = []
        for p in prompts:
            ids = p["prompt_token_ids"]
            text = ",".join(map(str, ids))
            one = SimpleNamespace(text=text, token_ids=[1, 2], finish_reason="stop", stop_reason=None)
            out.append(SimpleNamespace(outputs=[one] * params["n"]))
        return out


def SamplingParams(**kwargs):
    return kwargs
"""


def test_data_parallel_engines_start_once_per_run(tmp_path, monkeypatch):
    """Two data-parallel workers (real spawned processes, a stand-in `vllm` package on their path):
    each builds its engine once, on its own GPU group, and answers every later call; results come
    back in the order of the prompts."""
    pkg = tmp_path / "fake" / "vllm"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text(FAKE_VLLM)
    log = tmp_path / "engines.log"
    monkeypatch.setenv("FAKE_VLLM_LOG", str(log))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(pkg.parent), os.environ.get("PYTHONPATH", "")]))
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.syspath_prepend(str(pkg.parent))
    monkeypatch.delitem(sys.modules, "vllm", raising=False)
    # The stand-in must not outlive the test: later tests (TRL's GRPO import asks whether vLLM is
    # installed, and cannot parse a stand-in's missing version) must see the real environment.
    monkeypatch.setitem(sys.modules, "vllm", None)
    monkeypatch.delitem(sys.modules, "vllm")  # recorded absent, so undo removes what the test imports
    from thinklab.backends.vllm import VLLMBackend

    backend = VLLMBackend("tiny", data_parallel_size=2)
    try:
        prompts = [f"<|user|>\nproblem {i}\n<|assistant|>\n<think>\n" for i in range(5)]
        for _ in range(3):
            out = backend.generate(prompts, SamplingParams(max_tokens=16, n=2))
            want = [",".join(map(str, encode_prompt(backend.tokenizer, p))) for p in prompts]
            assert [row[0].text for row in out] == want and all(len(row) == 2 for row in out)
        built = log.read_text().splitlines()
        assert sorted(line.split()[1] for line in built) == ["0", "1"]  # one engine per GPU, built once
        assert len(built) == 2
    finally:
        backend.close()
    assert backend.workers == []
