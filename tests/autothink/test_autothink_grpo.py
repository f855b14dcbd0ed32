"""`thinklab train grpo` end to end on the real tiny model and TRL's real GRPOTrainer (a few steps)."""

import json

import pytest
from cli_runner import run_cli


def thinklab(*args):
    """`thinklab ARGS` in-process (the entry point's code path, without a ~10 s process start)."""
    return run_cli(*args, env={"HF_HUB_OFFLINE": "1"})


def assert_one_line_error(res, needle):
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr
    lines = [x for x in res.stderr.strip().splitlines() if x.startswith("error:")]
    assert len(lines) == 1 and needle in lines[0], res.stderr


def test_bad_arguments_are_one_line_errors(tmp_path):
    # The other argument checks are unit-tested on `stage_preset`.
    assert_one_line_error(
        thinklab("train", "grpo", "--reward", "vibes", "--out", str(tmp_path)), "unknown --reward"
    )
    assert not (tmp_path / "grpo_log.jsonl").exists()


@pytest.mark.slow
def test_autothink_stage_runs_with_trl(tmp_path):
    # 2 prompts per rollout, 1 per update: TRL generates 2 x 4 completions once, takes two optimizer steps
    # (steps_per_generation = 2); AutoThinkReward checks on every call that its groups are the
    # num_generations consecutive completions of one prompt, so a different TRL ordering would fail here.
    out = tmp_path / "stage1"
    res = thinklab(
        "train", "grpo", "--reward", "autothink", "--stage", "1", "--out", str(out),
        "--max-steps", "2", "--prompts-per-rollout", "2", "--prompts-per-update", "1",
        "--num-generations", "4", "--max-tokens", "48", "--max-prompts", "16",
    )  # fmt: skip
    assert res.returncode == 0, res.stderr[-3000:]
    assert (out / "model.safetensors").is_file() and (out / "tokenizer.json").is_file()
    assert not (out / "trainer").exists()
    marker = json.loads((out / "thinklab.json").read_text())
    assert marker["prompt_modes"] == "tiny"  # the tiny model's prompt family is carried over
    run = marker["history"][-1]["grpo"]
    assert run["preset_values"]["gamma"] == 0.5 and run["layout"]["steps_per_generation"] == 2
    assert run["prompt_mode"] == "ellipsis"
    logs = [json.loads(line) for line in (out / "grpo_log.jsonl").read_text().splitlines()]
    # Two optimizer steps logged; the reward metrics come with the step that generated (the first).
    assert [e["step"] for e in logs if "loss" in e] == [1, 2]
    gen = [e for e in logs if "autothink/think_rate" in e]
    assert len(gen) == 1
    # The rates are counts over this one batch: 8 completions overall, 4 or 8 per level (2 prompts x 4),
    # and with equal groups the overall think rate is the mean of the per-level ones.
    rate = gen[0]["autothink/think_rate"]
    by_level = [v for k, v in gen[0].items() if k.startswith("autothink/think_rate_L")]
    assert (rate * 8).is_integer() and by_level and all((v * 4).is_integer() for v in by_level), gen[0]
    assert rate == sum(by_level) / len(by_level), gen[0]
    assert ("autothink/no_think_accuracy" in gen[0]) == (rate < 1.0), gen[0]
    assert gen[0]["completions/max_length"] <= 48

    # The saved policy loads and trains on as stage 2 with the plain reward too (stage chaining).
    res = thinklab(
        "train", "grpo", "--model", str(out), "--reward", "correct-length", "--out", str(tmp_path / "plain"),
        "--max-steps", "1", "--prompts-per-rollout", "1", "--prompts-per-update", "1",
        "--num-generations", "2", "--max-tokens", "32", "--max-prompts", "4",
    )  # fmt: skip
    assert res.returncode == 0, res.stderr[-3000:]
    plain = json.loads((tmp_path / "plain" / "thinklab.json").read_text())["history"][-1]["grpo"]
    assert plain["reward"] == "correct-length" and plain["prompt_mode"] == "standard"
