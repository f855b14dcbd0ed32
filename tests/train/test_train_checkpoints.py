"""Issue 25 item 3: a training run killed while saving leaves no half-written model dir, a rerun
resumes from its last complete checkpoint, and a model dir without weights says so when loaded.

The kill is simulated in-process: the tokenizer's `save_pretrained` raises `KeyboardInterrupt`, so
the run stops in the middle of writing its output (after the weights, before the tokenizer), the
moment that left `config.json` without a tokenizer before. What is on disk at that point is what a
SIGKILL would leave; no subprocess start (~10 s each) is needed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from transformers import PreTrainedTokenizerBase, Trainer

from thinklab.errors import ThinklabError
from thinklab.models import begin, last_checkpoint, resolve_model_path, staging_dir
from thinklab.tasks import arith

# ---------------------------------------------------------------------------------------- the helper


def test_output_appears_only_on_commit_and_replaces_the_old_model(tmp_path):
    out = tmp_path / "model"
    run = begin(out, {"lr": 1}, save_steps=0)
    assert run.staging == tmp_path / ".model.partial" and run.staging.is_dir() and not out.exists()
    assert run.save_args() == {"save_strategy": "no"} and run.resume_from() is None
    (run.staging / "config.json").write_text("{}")
    (run.trainer_dir / "checkpoint-1").mkdir(parents=True)
    assert run.commit() == out
    assert sorted(p.name for p in out.iterdir()) == ["config.json"]  # no trainer dir, no settings
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]
    again = begin(out, {"lr": 2})
    (again.staging / "config.json").write_text('{"v": 2}')
    again.commit()
    assert (out / "config.json").read_text() == '{"v": 2}'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_resume_needs_a_complete_checkpoint_and_the_same_settings(tmp_path):
    out = tmp_path / "m"
    run = begin(out, {"lr": 1, "max_steps": 2, "save_steps": 1}, save_steps=1)
    assert run.save_args() == {"save_strategy": "steps", "save_steps": 1}
    for step, complete in [(1, True), (2, True), (10, False)]:  # checkpoint-10 was cut off mid-save
        ckpt = run.trainer_dir / f"checkpoint-{step}"
        ckpt.mkdir(parents=True)
        if complete:
            (ckpt / "trainer_state.json").write_text("{}")
    assert last_checkpoint(run.trainer_dir) == run.trainer_dir / "checkpoint-2"
    # a longer run, other save/log steps: resumes
    rerun = begin(out, {"lr": 1, "max_steps": 8, "save_steps": 4}, save_steps=4)
    assert rerun.resume_from() == str(run.trainer_dir / "checkpoint-2")
    # other settings: refused, the checkpoints kept
    with pytest.raises(ThinklabError, match="holds checkpoints of an interrupted run with other settings"):
        begin(out, {"lr": 3})
    assert last_checkpoint(run.trainer_dir) is not None


def test_a_staging_dir_without_checkpoints_starts_afresh(tmp_path):
    run = begin(tmp_path / "m", {"lr": 1})
    (run.staging / "model.safetensors").write_text("half")
    run = begin(tmp_path / "m", {"lr": 2})  # nothing to resume: other settings are fine
    assert not (run.staging / "model.safetensors").exists()


def test_out_that_is_a_file_or_a_foreign_folder_is_refused(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(ThinklabError, match="is a file"):
        begin(tmp_path / "file", {})
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "todo.txt").write_text("keep")
    with pytest.raises(ThinklabError, match="is not a model dir"):
        begin(tmp_path / "notes", {})
    assert (tmp_path / "notes" / "todo.txt").read_text() == "keep"
    assert not staging_dir(tmp_path / "notes").exists()


# ------------------------------------------------------------------------------ a dir with no weights


def test_a_model_dir_without_weights_is_named_as_such(tmp_path, monkeypatch, capsys):
    import sys

    from thinklab.backends import load_backend
    from thinklab.cli.main import main

    half = tmp_path / "sft"
    half.mkdir()
    shutil.copy(Path(resolve_model_path("tiny")) / "config.json", half / "config.json")
    with pytest.raises(ThinklabError, match=rf"no weights in {half}; an interrupted training run\?"):
        load_backend("hf", str(half))
    monkeypatch.setattr(sys, "argv", ["thinklab", "eval", "--model", str(half), "--out", str(tmp_path / "r")])
    with pytest.raises(SystemExit) as exit_info:
        main()
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and "Traceback" not in err
    assert err.strip() == f"error: no weights in {half}; an interrupted training run? (train it again)"
    assert not (tmp_path / "r").exists()


# ------------------------------------------------------------------------- each trainer, killed saving


def _sft(tmp_path: Path, out: Path, **kw):
    from thinklab.data.writers import Example, write_examples
    from thinklab.train.sft import SFTRunConfig, run_sft

    data = tmp_path / "sft.jsonl"
    problems = arith.generate(8, "train", 3, levels=(2,))
    write_examples(
        data, [Example(p.text(), "<think>\n" + arith.render_completion(p, "concise")) for p in problems]
    )
    cfg = dict(data=str(data), out=str(out), max_steps=2, batch_size=4, bf16=False, logging_steps=1)
    return run_sft(SFTRunConfig(**{**cfg, **kw}))


def _dpo(tmp_path: Path, out: Path, **kw):
    from thinklab.data.writers import Pair, write_pairs
    from thinklab.thinkpo.dpo import DPORunConfig, run_dpo

    data = tmp_path / "pairs.jsonl"
    problems = arith.generate(4, "train", 3, levels=(2,))
    pairs = [
        Pair(
            p.text(),
            "<think>\n" + arith.render_completion(p, "verbose"),
            "<think>\n" + arith.render_completion(p, "concise"),
        )
        for p in problems
    ]
    write_pairs(data, pairs, conversational=True)
    cfg = dict(data=str(data), out=str(out), max_steps=1, batch_size=2, learning_rate=1e-4, bf16=False)
    return run_dpo(DPORunConfig(**{**cfg, **kw}))


def _value(tmp_path: Path, out: Path, **kw):
    from thinklab.search.train_value import ValueTrainConfig, run_train_value

    data = tmp_path / "rollouts.jsonl"
    rows = [
        {
            "id": f"p{i}",
            "prompt": "<|user|>\nCompute 3 + 4 from left to right.\n<|assistant|>\n<think>\n",
            "roll_in": "Step 1: 3 + 4 = 7.\n\n",
            "roll_outs": ["So the answer is 7.\n</think>\n\n\\boxed{7}"],
            "labels": [i % 2],
            "cut": 0.5,
        }
        for i in range(4)
    ]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    cfg = dict(data=str(data), out=str(out), max_steps=1, batch_size=4)
    return run_train_value(ValueTrainConfig(**{**cfg, **kw}))


def _grpo(tmp_path: Path, out: Path, **kw):
    from thinklab.autothink.grpo import GRPORunConfig, run_grpo

    cfg = dict(
        out=str(out),
        reward="correct-length",
        max_steps=1,
        prompts_per_rollout=2,
        prompts_per_update=2,
        num_generations=2,
        max_tokens=8,
        max_prompts=4,
    )
    return run_grpo(GRPORunConfig(**{**cfg, **kw}))


def _tiny(tmp_path: Path, out: Path, **kw):
    from thinklab.tiny.train import TinyTrainConfig, train_tiny

    small = {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1, "num_attention_heads": 2}
    cfg = dict(out=str(out), steps=2, batch_size=4, examples=8, warmup_steps=0, bf16=False)
    return train_tiny(
        TinyTrainConfig(**{**cfg, "model_overrides": {**small, "num_key_value_heads": 2}, **kw})
    )


TRAINERS = {"sft": _sft, "dpo": _dpo, "value": _value, "grpo": _grpo, "tiny": _tiny}


@pytest.mark.parametrize("name", sorted(TRAINERS))
def test_killed_while_saving_leaves_no_model_dir_and_a_rerun_completes(name, tmp_path, monkeypatch):
    out = tmp_path / "model"
    original = PreTrainedTokenizerBase.save_pretrained

    def killed(self, *args, **kwargs):
        raise KeyboardInterrupt  # the kill, between the weights and the tokenizer

    monkeypatch.setattr(PreTrainedTokenizerBase, "save_pretrained", killed)
    with pytest.raises(KeyboardInterrupt):
        TRAINERS[name](tmp_path, out)
    assert not out.exists()  # before: config.json + weights, no tokenizer, looking finished
    assert any(staging_dir(out).glob("*.safetensors"))  # it was indeed saving when killed
    monkeypatch.setattr(PreTrainedTokenizerBase, "save_pretrained", original)
    assert TRAINERS[name](tmp_path, out) == out
    assert (out / "tokenizer.json").is_file() and (out / "config.json").is_file()
    assert not (out / "trainer").exists() and not staging_dir(out).exists()
    if name == "value":
        from thinklab.search.value_model import ValueFunction

        ValueFunction.load(out, device="cpu")
    else:
        import torch
        from safetensors.torch import load_file

        from thinklab.backends import load_backend

        # the rerun's weights are whole: every tensor in the dir is what the loaded model holds
        state = load_backend("hf", str(out)).model.state_dict()
        on_disk = {k: v for f in out.glob("*.safetensors") for k, v in load_file(str(f)).items()}
        assert on_disk and all(torch.equal(state[k], v) for k, v in on_disk.items()), sorted(on_disk)


def test_sft_killed_after_a_checkpoint_resumes_from_it(tmp_path, monkeypatch):
    """`save_steps`: the rerun continues at the last complete checkpoint instead of step 0."""
    out = tmp_path / "model"
    save = Trainer._save_checkpoint
    saved: list[int] = []

    def save_then_die(self, *args, **kwargs):
        save(self, *args, **kwargs)
        saved.append(self.state.global_step)
        if self.state.global_step == 2:
            raise KeyboardInterrupt  # killed right after checkpoint-2 was written

    monkeypatch.setattr(Trainer, "_save_checkpoint", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        _sft(tmp_path, out, max_steps=3, save_steps=1)
    assert saved == [1, 2] and not out.exists()
    monkeypatch.setattr(Trainer, "_save_checkpoint", save)
    train = Trainer.train
    calls: list[dict] = []

    def spy(self, *args, **kwargs):
        calls.append(kwargs)
        result = train(self, *args, **kwargs)
        calls[-1]["steps"] = result.global_step
        return result

    monkeypatch.setattr(Trainer, "train", spy)
    assert _sft(tmp_path, out, max_steps=3, save_steps=1) == out
    (call,) = calls
    assert call["resume_from_checkpoint"].endswith("checkpoint-2") and call["steps"] == 3
    marker = json.loads((out / "thinklab.json").read_text())
    assert len(marker["history"][-1]["sft"]["losses"]) == 3  # steps 1-2 from the checkpoint, 3 new
    assert not staging_dir(out).exists() and not (out / "trainer").exists()


def test_grpo_log_keeps_only_the_steps_up_to_the_resumed_checkpoint(tmp_path):
    from thinklab.autothink.grpo import _trim_log

    log = tmp_path / "grpo_log.jsonl"
    log.write_text(
        "".join(json.dumps({"step": s, "loss": 0.1}) + "\n" for s in (1, 2, 3)) + '{"step": 4, "lo'
    )
    _trim_log(log, 2)  # resumed at checkpoint-2: steps 3 and the torn 4 are logged again by the rerun
    assert [json.loads(x)["step"] for x in log.read_text().splitlines()] == [1, 2]
    _trim_log(log, 0)  # a fresh start keeps nothing of an earlier attempt
    assert log.read_text() == ""
