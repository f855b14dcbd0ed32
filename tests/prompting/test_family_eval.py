"""`thinklab eval` end to end on random-weight models of the real families (R1 current template, Qwen3
hybrid, s1.1): what users' tokenizers, templates and generation configs bring, not accuracy."""

from __future__ import annotations

import json

import pytest

from thinklab.eval.runner import EvalConfig, run_eval

PROBLEMS = [
    {"id": "a", "problem": "What is 1+1?", "answer": "2"},
    {"id": "b", "problem": "What is 2+3?", "answer": "5"},
]


@pytest.fixture(scope="module")
def task_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("task") / "two.jsonl"
    path.write_text("".join(json.dumps(p) + "\n" for p in PROBLEMS))
    return f"jsonl:{path}"


def _eval(model, task, tmp_path, **kw):
    cfg = EvalConfig(model=str(model), task=task, budgets=(12,), out=str(tmp_path), **kw)
    return run_eval(cfg)


@pytest.mark.parametrize("family", ["r1", "qwen3", "s1"])
def test_no_think_reports_no_thinking(family, family_model, task_file, tmp_path):
    """The no-think prefill closes the block inside the prompt: nothing generated is thinking."""
    result = _eval(
        family_model(family), task_file, tmp_path, prompt_mode="no-think", sampling="temperature=0"
    )
    entry = result.summary["budgets"]["12"]
    assert entry["think_rate"] == 0.0 and entry["mean_thinking_tokens"] == 0.0
    assert all(r["thinking_tokens"] == 0 and r["answer_tokens"] == r["tokens"] for r in result.records)
    assert result.summary["thinking_format"]["name"] == family


def test_standard_mode_counts_everything_unclosed_as_thinking(family_model, task_file, tmp_path):
    result = _eval(family_model("qwen3"), task_file, tmp_path, sampling="temperature=0")
    for r in result.records:  # random weights never close the block in 12 tokens
        assert r["finish_reason"] == "length" and r["thinking_tokens"] == r["tokens"] == 12


def test_sampling_defaults_come_from_generation_config(family_model, task_file, tmp_path):
    result = _eval(family_model("r1"), task_file, tmp_path)
    assert result.summary["sampling"] == "temperature=0.6,top_p=0.95"
    assert result.summary["sampling_source"] == "generation_config.json"
    qwen3 = _eval(family_model("qwen3"), task_file, tmp_path)
    assert qwen3.summary["sampling"] == "temperature=0.6,top_p=0.95,top_k=20"
    tiny = _eval("tiny", "arith", tmp_path, limit=2)
    assert tiny.summary["sampling"] == "greedy" and tiny.summary["sampling_source"] == "greedy default"


def test_s1_forcing_closes_with_its_answer_marker(family_model, task_file, tmp_path):
    result = _eval(
        family_model("s1"),
        task_file,
        tmp_path,
        budget_mode="force-answer",
        answer_tokens=4,
        sampling="temperature=0",
    )
    for r in result.records:
        assert r["prompt"].endswith("<|im_start|>assistant\n<|im_start|>think\n")
        assert r["forced_answer"] and "\n<|im_start|>answer\nFinal Answer:" in r["response"]
        assert "</think>" not in r["response"]
        assert r["thinking_tokens"] == 12 and r["answer_tokens"] > 4  # the forced close is the answer's


def test_prompt_template_by_name(family_model, task_file, tmp_path):
    result = _eval(family_model("r1"), task_file, tmp_path, prompt_template="vgs", sampling="temperature=0")
    assert all(
        "Please think step-by-step and put your final answer within" in r["prompt"] for r in result.records
    )
    assert all(r["prompt"].count("<think>") == 1 for r in result.records)


def test_a_tokenizer_only_folder_is_enough_for_a_remote_model():
    """`--backend openai` with a local folder holding only the tokenizer and configs (the weights live on
    the server): the run's sampling defaults, format and fingerprint are read without asking for weights."""
    from family_models import family_fixture_dir

    from thinklab.eval.rundir import model_fingerprint
    from thinklab.eval.runner import model_sampling_defaults, model_thinking_format

    folder = str(family_fixture_dir("qwen3"))
    assert model_sampling_defaults(folder) == "temperature=0.6,top_p=0.95,top_k=20"
    assert model_thinking_format(folder, None).name == "qwen3"
    assert len(model_fingerprint(folder)) == 12
