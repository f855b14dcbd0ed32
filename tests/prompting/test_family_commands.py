"""Every thinklab command end to end on random-weight models of the real families (R1-Distill's current
template, Qwen3 hybrid, s1.1), in-process through the CLI, on two problems with tiny budgets.

Random weights say nothing about accuracy, so what is checked is what a real family brings: each command
exits 0 and writes its outputs, prompts and trained responses carry the family's thinking markers exactly
once (s1's `<|im_start|>think`, never `<think>`), no thinking exceeds its budget, and trained model dirs
load back and are still recognised as their family. Commands that need correct samples (pairs, dpo, sft)
read hand-written responses instead. (`eval` is covered in test_family_eval.py.)
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from thinklab.cli.main import app
from thinklab.prompting.modes import FORMATS, build_prompt, format_for

FAMILIES = ["r1", "qwen3", "s1"]
BUDGET = 12  # tokens: every generation cap and thinking budget below
SAMPLING = "temperature=1.0"  # no top-p: sorting a 152k vocabulary every step is most of the sampling time
PROBLEMS = [
    {"id": "a", "problem": "What is 1+1?", "answer": "2"},
    {"id": "b", "problem": "What is 2+3?", "answer": "5"},
]


def _cli(*args: object) -> str:
    result = CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, (
        f"thinklab {' '.join(map(str, args))} exited {result.exit_code}:\n{result.output}"
    )
    return result.output


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _markers_once(family: str, text: str) -> None:
    """The family's open marker appears exactly once; s1 text never holds R1's `<think>`."""
    fmt = FORMATS[family]
    assert text.count(fmt.open) == 1, f"{family}: {fmt.open!r} x{text.count(fmt.open)} in {text!r}"
    if family == "s1":
        assert "<think>" not in text and "</think>" not in text, text


def _tokenizer(model_dir: Path):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(model_dir)


def _assert_trained_dir(family: str, out: Path) -> None:
    """A trained dir loads with `from_pretrained` and is still recognised as its family."""
    from transformers import AutoModelForCausalLM

    AutoModelForCausalLM.from_pretrained(out)
    assert format_for(out, _tokenizer(out)).name == family


def _response(family: str, thinking: str, answer: str) -> str:
    """A full assistant turn in the family's format (open marker, thinking, close, boxed answer)."""
    fmt = FORMATS[family]
    after = "\n" if family == "s1" else "\n\n"  # s1: `<|im_start|>answer\n`, as its training data
    return f"{fmt.standard}{thinking}\n{fmt.close}{after}\\boxed{{{answer}}}"


@pytest.fixture
def work(tmp_path_factory) -> Path:
    """A fresh folder whose path does not name the family (pytest's `tmp_path` holds the test id, e.g.
    `test_star_s1_0`, which s1's name-based recognition would read)."""
    return tmp_path_factory.mktemp("work")


@pytest.fixture(scope="module")
def task_file(tmp_path_factory) -> str:
    return f"jsonl:{_write_jsonl(tmp_path_factory.mktemp('task') / 'two.jsonl', PROBLEMS)}"


# ----------------------------------------------------------------------------- rollouts → value → search


@pytest.mark.slow
@pytest.mark.parametrize("family", FAMILIES)
def test_rollouts_value_search(family, family_model, task_file, work):
    model = family_model(family)
    rollouts = work / "rollouts.jsonl"
    _cli(
        "rollouts", "--model", model, "--task", task_file, "--out", rollouts, "--n-rollins", 1,
        "--cuts", "0.5", "--n-rollouts", 2, "--max-tokens", BUDGET, "--sampling", SAMPLING,
    )  # fmt: skip
    rows = _jsonl(rollouts)
    assert len(rows) == 2 and {r["id"] for r in rows} == {"a", "b"}
    for r in rows:
        _markers_once(family, r["prompt"])
        assert r["prompt"].endswith(FORMATS[family].standard) and r["prefill"] == FORMATS[family].standard
        assert all(r["roll_in_tokens"] + t <= BUDGET for t in r["roll_out_tokens"])

    value = work / "value"
    _cli(
        "train", "value", "--data", rollouts, "--model", model, "--out", value, "--max-steps", 1,
        "--batch-size", 2, "--max-length", 64,
    )  # fmt: skip
    from thinklab.search.value_model import ValueFunction

    fn = ValueFunction.load(str(value), device="cpu")
    assert fn.thinking.name == family

    out = work / "search"
    _cli(
        "search", "--model", model, "--task", task_file, "--strategies", "bon,beam",
        "--value-model", value, "--budgets", 2, "--max-tokens", BUDGET, "--block-size", 6,
        "--budget-mode", "force-answer", "--answer-tokens", 4, "--sampling", SAMPLING, "--out", out,
    )  # fmt: skip
    runs = sorted(p.parent for p in out.rglob("samples.jsonl"))
    assert len(runs) == 2
    for run in runs:
        summary = json.loads((run / "summary.json").read_text())
        samples = _jsonl(run / "samples.jsonl")
        assert len(samples) == 2, run
        for s in samples:
            _markers_once(family, s["prompt"])
            assert s["prompt"].endswith(FORMATS[family].standard)
            width = max(1, len(s["candidates"]))
            assert s["thinking_tokens"] <= BUDGET * width, (run.name, s)
            if family == "s1":
                assert "<think>" not in s["response"] and "</think>" not in s["response"]
        assert summary["budgets"], summary


# ----------------------------------------------------------------------------- pairs → dpo


@pytest.mark.slow
@pytest.mark.parametrize("family", FAMILIES)
def test_pairs_then_dpo(family, family_model, work):
    """Hand-written long and short responses stored as `thinklab eval` writes them (prompt with the
    prefill, response after it): the pair's chosen/rejected are whole assistant turns in the family's
    format, and DPO on them trains a model that is still of its family."""
    model = family_model(family)
    tok = _tokenizer(model)
    fmt = FORMATS[family]

    def sample(p: dict, thinking: str, tokens: int) -> dict:
        prompt = build_prompt(tok, p["problem"], fmt=fmt)
        full = _response(family, thinking, p["answer"])
        assert full.startswith(fmt.standard)
        return {
            "id": p["id"], "problem": p["problem"], "gold": p["answer"], "prompt": prompt,
            "response": full[len(fmt.standard):], "tokens": tokens,
        }  # fmt: skip

    long = _write_jsonl(
        work / "long.jsonl",
        [sample(p, "Okay, so I add the numbers.\n\nLet me check it again.\n", 20) for p in PROBLEMS],
    )
    short = _write_jsonl(work / "short.jsonl", [sample(p, "Adding.\n", 6) for p in PROBLEMS])
    pairs = work / "pairs.jsonl"
    _cli("pairs", "thinkpo", "--long", long, "--short", short, "--out", pairs, "--size", 2)
    rows = _jsonl(pairs)
    assert len(rows) == 2
    for r in rows:
        for side in ("chosen", "rejected"):
            (turn,) = r[side]
            assert turn["role"] == "assistant"
            _markers_once(family, turn["content"])
            assert turn["content"].startswith(fmt.standard), turn["content"]
        assert "Let me check" in r["chosen"][0]["content"]

    out = work / "dpo"
    _cli(
        "train", "dpo", "--data", pairs, "--model", model, "--out", out, "--max-steps", 1,
        "--batch-size", 2, "--max-length", 96,
    )  # fmt: skip
    _assert_trained_dir(family, out)


# ----------------------------------------------------------------------------- sft


def _sft_data(path: Path) -> Path:
    """R1-style SFT rows: the response starts inside the thinking (R1's template puts `<think>\\n` in
    the prompt, so R1 distill data reads `Okay, so…`)."""
    return _write_jsonl(
        path,
        [
            {
                "messages": [
                    {"role": "user", "content": p["problem"]},
                    {"role": "assistant", "content": f"Okay, so…\n</think>\n\n\\boxed{{{p['answer']}}}"},
                ]
            }
            for p in PROBLEMS
        ],
    )


@pytest.mark.parametrize("family", ["r1", "qwen3", "s1"])
def test_sft_rows_carry_the_family_markers(family, family_model, work):
    """What `train sft` / `train dpo` train on: the prompt ends with the family's open marker and the
    completion closes with its close marker, each once."""
    from thinklab.train.sft import build_rows

    model = family_model(family)
    tok = _tokenizer(model)
    fmt = format_for(model, tok)
    assert fmt.name == family
    for row in build_rows(str(_sft_data(work / "sft.jsonl")), tok, fmt):
        assert row["prompt"].endswith(fmt.standard), row["prompt"]
        _markers_once(family, row["prompt"] + row["completion"])
        assert row["completion"].count(fmt.close) == 1, row["completion"]


@pytest.mark.slow
@pytest.mark.parametrize("family", FAMILIES)
def test_train_sft(family, family_model, work):
    """SFT on R1-style rows trains a model that loads and is still of its family."""
    model = family_model(family)
    data = _sft_data(work / "sft.jsonl")
    out = work / "sft"
    _cli(
        "train", "sft", "--data", data, "--model", model, "--out", out, "--max-steps", 1,
        "--batch-size", 2, "--max-length", 96,
    )  # fmt: skip
    _assert_trained_dir(family, out)


# ----------------------------------------------------------------------------- grpo


@pytest.mark.slow
@pytest.mark.parametrize("family", FAMILIES)
def test_train_grpo(family, family_model, task_file, work):
    model = family_model(family)
    out = work / "grpo"
    _cli(
        "train", "grpo", "--model", model, "--out", out, "--task", task_file, "--max-steps", 1,
        "--num-generations", 2, "--prompts-per-rollout", 2, "--prompts-per-update", 2,
        "--per-device-batch-size", 4, "--max-tokens", BUDGET,
    )  # fmt: skip
    _assert_trained_dir(family, out)
    log = _jsonl(out / "grpo_log.jsonl")
    assert log and all(e.get("completions/max_length", 0) <= BUDGET for e in log), log


# ----------------------------------------------------------------------------- compress


@pytest.mark.slow
@pytest.mark.parametrize("family", FAMILIES)
def test_compress(family, family_model, work):
    """Two short traces in the family's format, compressed with the family model as scorer and
    validator: every output row is a whole assistant turn in the same format."""
    model = family_model(family)
    steps = ["We need 1+1.", "One plus one is two.", "Check: 2-1=1.", "So the answer is 2."]
    traces = _write_jsonl(
        work / "traces.jsonl",
        [
            {"id": p["id"], "problem": p["problem"], "answer": p["answer"],
             "response": _response(family, "\n\n".join(steps), p["answer"])}
            for p in PROBLEMS
        ],
    )  # fmt: skip
    tag = "s1" if family == "s1" else "r1"
    out = work / "compressed.jsonl"
    _cli(
        "compress", "--data", traces, "--out", out, "--scorer", model, "--scorer-device", "cpu",
        "--validator", model, "--validator-format", tag, "--validator-sampling",
        f"temperature=0,max_tokens={BUDGET}", "--min-steps", 1, "--max-steps", 2, "--expand", 1,
    )  # fmt: skip
    rows = _jsonl(out)
    assert [r["id"] for r in rows] == ["a", "b"]
    for r in rows:
        assistant = r["messages"][-1]
        assert assistant["role"] == "assistant"
        _markers_once(family, assistant["content"])
        assert assistant["content"].startswith(FORMATS[family].open)
        gold = {p["id"]: p["answer"] for p in PROBLEMS}[r["id"]]
        assert assistant["content"].endswith(f"\\boxed{{{gold}}}"), assistant["content"]


# ----------------------------------------------------------------------------- star


@pytest.mark.slow
@pytest.mark.parametrize("family", FAMILIES)
def test_star(family, family_model, work):
    """One STaR round from recipes/tiny/star.yaml's star step shrunk by --set: evaluate the base, generate, merge, train
    (nothing is verified on random weights, so training is skipped: `train sft` is tested above),
    evaluate. No warm start: it is the same SFT as `train sft`."""
    model = family_model(family)
    from thinklab.cli.recipe import load_recipe

    _, steps = load_recipe(Path(__file__).resolve().parents[2] / "recipes" / "tiny" / "star.yaml", app)
    config = work / "star.yaml"  # the recipe's star step as the command's --config
    config.write_text(json.dumps(next(s for s in steps if s.command == "star").options))
    out = work / "star"
    _cli(
        "star", "--config", config, "--out", out, "--base-model", model, "--rounds", 1,
        "--set", "problems_per_round=2", "--set", "eval_limit=2", "--set", "tries=1",
        "--set", f"generation.max_tokens={BUDGET}", "--set", f"eval_generation.max_tokens={BUDGET}",
        "--set", "init=null", "--set", "train.max_steps=1", "--set", "train.batch_size=2",
    )  # fmt: skip
    state = json.loads((out / "state.json").read_text())
    assert state["models"]["1"] == state["models"]["0"] == str(model)  # nothing verified: no training
    generated = _jsonl(out / "rounds" / "r01" / "generate.jsonl")
    assert len(generated) == 2
    for row in generated:
        for a in row["attempts"]:
            assert a["tokens"] <= BUDGET
            if family == "s1":
                assert "<think>" not in a["text"]
    for r in (0, 1):
        evaluated = _jsonl(out / "rounds" / f"r{r:02d}" / "eval.jsonl")
        assert len(evaluated) == 2 and all(e["tokens"] <= BUDGET for e in evaluated)
        assert (out / "rounds" / f"r{r:02d}" / "report.json").is_file()
