"""Issue 25: bad or odd input to `thinklab eval` gives one line and a non-zero exit, and loses nothing.

The CLI runs in-process through `thinklab.cli.main.main` (the real error handler), not a subprocess:
a subprocess start costs ~10 s here."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from thinklab.cli.main import main


def cli(monkeypatch, capsys, *args: str) -> tuple[int, str]:
    """Run `thinklab ARGS` in-process; returns (exit code, stderr)."""
    monkeypatch.setattr(sys, "argv", ["thinklab", *args])
    with pytest.raises(SystemExit) as exit_info:
        main()
    return int(exit_info.value.code or 0), capsys.readouterr().err


def one_error_line(code: int, err: str, needle: str) -> str:
    assert code != 0, err
    assert "Traceback" not in err
    lines = [x for x in err.strip().splitlines() if x.startswith("error:")]
    assert len(lines) == 1 and needle in lines[0], err
    return lines[0]


@pytest.mark.parametrize("spec", ["64,,128", "64,128,", ",64"])
def test_budgets_with_an_empty_item_are_refused(monkeypatch, capsys, tmp_path, spec):
    code, err = cli(monkeypatch, capsys, "eval", "--budgets", spec, "--out", str(tmp_path))
    one_error_line(code, err, "empty item")
    assert not any(tmp_path.iterdir())


EVAL = ["eval", "--model", "tiny", "--task", "arith", "--limit", "2", "--budgets", "8", "--chunk-size", "2"]


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    """One tiny eval run (2 problems, budget 8): the run dir the damage tests start from."""
    from thinklab.eval.runner import EvalConfig, run_eval

    out = tmp_path_factory.mktemp("runs")
    return run_eval(
        EvalConfig(model="tiny", task="arith", limit=2, budgets=(8,), chunk_size=2, out=str(out))
    ).run_dir


def _copy_run(run_dir: Path, tmp_path: Path) -> Path:
    out = tmp_path / "runs"
    shutil.copytree(run_dir, out / run_dir.name)
    return out


def test_empty_task_file_is_an_error_and_writes_nothing(monkeypatch, capsys, tmp_path):
    data = tmp_path / "empty.jsonl"
    data.write_text("\n")
    code, err = cli(monkeypatch, capsys, "eval", "--task", f"jsonl:{data}", "--out", str(tmp_path / "runs"))
    one_error_line(code, err, "holds no problems")
    assert not (tmp_path / "runs").exists()


def test_limit_zero_is_an_error(monkeypatch, capsys, tmp_path):
    code, err = cli(monkeypatch, capsys, "eval", "--limit", "0", "--out", str(tmp_path / "runs"))
    one_error_line(code, err, "holds no problems (--limit 0)")


def test_corrupt_run_config_is_one_line_and_keeps_the_samples(monkeypatch, capsys, tmp_path, finished_run):
    out = _copy_run(finished_run, tmp_path)
    run_dir = out / finished_run.name
    (run_dir / "config.json").write_text('{"identity": {"model": "ti')
    samples = (run_dir / "samples.jsonl").read_text()
    code, err = cli(monkeypatch, capsys, *EVAL, "--out", str(out))
    line = one_error_line(code, err, "config.json is not valid JSON")
    assert "--overwrite" in line
    assert (run_dir / "samples.jsonl").read_text() == samples
    code, err = cli(monkeypatch, capsys, "score", str(run_dir))
    one_error_line(code, err, "config.json is not valid JSON")


def test_out_pointing_at_a_file_is_one_line(monkeypatch, capsys, tmp_path):
    target = tmp_path / "not-a-folder"
    target.write_text("keep me\n")
    code, err = cli(monkeypatch, capsys, *EVAL, "--out", str(target))
    one_error_line(code, err, "is a file")
    code, err = cli(monkeypatch, capsys, *EVAL, "--out", str(target / "below"))
    one_error_line(code, err, "is a file")
    assert target.read_text() == "keep me\n"


def test_failed_model_load_leaves_no_run_dir(monkeypatch, capsys, tmp_path):
    bad = tmp_path / "model"
    bad.mkdir()
    (bad / "config.json").write_text('{"model_type": "nonsense-arch"}')
    (bad / "model.safetensors").write_bytes(b"\0" * 16)  # weights present, so the load itself fails
    code, err = cli(monkeypatch, capsys, *EVAL, "--model", str(bad), "--out", str(tmp_path / "runs"))
    one_error_line(code, err, "cannot load model")
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_resume_with_everything_on_disk_still_reports_parameters(monkeypatch, tmp_path, finished_run):
    """A run killed after its last chunk but before its summary: the rerun loads no model, and must
    still fill num_parameters / acu_params (they were null)."""
    import json

    from thinklab.eval import runner
    from thinklab.eval.runner import EvalConfig, run_eval

    out = _copy_run(finished_run, tmp_path)
    (out / finished_run.name / "summary.json").unlink()

    def no_load(*_a, **_k):
        raise AssertionError("the model must not load when every sample is on disk")

    monkeypatch.setattr(runner, "load_backend_from_args", no_load)
    result = run_eval(
        EvalConfig(model="tiny", task="arith", limit=2, budgets=(8,), chunk_size=2, out=str(out))
    )
    assert result.run_dir == out / finished_run.name
    summary = json.loads((result.run_dir / "summary.json").read_text())
    assert summary["num_parameters"] == 3533824  # the shipped tiny model (embeddings tied: counted once)
    # CoT-Valve's ACU from the samples on disk: 100 x accuracy / (params in billions x mean tokens)
    records = [json.loads(x) for x in (result.run_dir / "samples.jsonl").read_text().splitlines()]
    acc = sum(r["correct"] for r in records) / len(records)  # 1 sample a problem: avg@1 = the mean
    tokens = sum(r["tokens"] for r in records) / len(records)
    assert len(records) == 2 and tokens > 0
    assert summary["budgets"]["8"]["acu_params"] == pytest.approx(100 * acc / (3533824 / 1e9 * tokens))


def test_prompts_too_long_for_the_context_are_counted_and_shown(monkeypatch, capsys, tmp_path):
    """A prompt longer than the context, or than context minus the budget, gets its own finish
    reason, scores wrong, is counted in summary.json and shown under the table (was: `length`, scored
    silently)."""
    import json

    data = tmp_path / "probs.jsonl"
    rows = [
        {"id": "ok", "problem": "Compute 3 + 4 from left to right.", "answer": "7"},
        {"id": "near", "problem": "Compute 3 + 4 from left to right. " + "7" * 960, "answer": "7"},
        {"id": "huge", "problem": "Compute 3 + 4 from left to right. " + "7" * 3000, "answer": "7"},
    ]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    args = ["eval", "--task", f"jsonl:{data}", "--budgets", "16,128", "--out", str(tmp_path / "runs")]
    code, _ = cli(monkeypatch, capsys, *args)
    assert code == 0
    (run_dir,) = (tmp_path / "runs").iterdir()
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["budgets"]["16"]["prompt_too_long"] == 1  # only "huge": "near" + 16 fits
    assert summary["budgets"]["128"]["prompt_too_long"] == 2
    assert summary["budgets"]["128"]["samples"] == 3  # still in the denominator
    samples = [json.loads(x) for x in (run_dir / "samples.jsonl").read_text().splitlines()]
    too_long = {(s["budget"], s["id"]) for s in samples if s["finish_reason"] == "prompt_too_long"}
    assert too_long == {(16, "huge"), (128, "near"), (128, "huge")}
    assert all(
        not s["correct"] and s["tokens"] == 0 for s in samples if s["finish_reason"] == "prompt_too_long"
    )
    from rich.console import Console

    from thinklab.eval.report import print_summary

    console = Console(record=True, width=200)
    print_summary(summary, console)
    text = console.export_text()
    assert "too long" in text and "budget 128: 2 of 3 samples not generated" in text


def test_disk_full_is_one_line_and_the_rerun_resumes(monkeypatch, capsys, tmp_path):
    import errno
    import json

    from thinklab.eval import rundir

    append = rundir.append_samples
    calls: list[int] = []

    def full_after_one_chunk(run_dir, records):
        calls.append(len(records))
        if len(calls) > 1:
            raise OSError(errno.ENOSPC, "No space left on device", str(run_dir / "samples.jsonl"))
        append(run_dir, records)

    args = ["eval", "--limit", "4", "--budgets", "8", "--chunk-size", "2", "--out", str(tmp_path)]
    monkeypatch.setattr(rundir, "append_samples", full_after_one_chunk)
    code, err = cli(monkeypatch, capsys, *args)
    one_error_line(code, err, "no space left on the device writing")
    (samples,) = tmp_path.glob("*/samples.jsonl")
    assert len(samples.read_text().splitlines()) == 2  # the chunk written before stays
    monkeypatch.setattr(rundir, "append_samples", append)
    code, _ = cli(monkeypatch, capsys, *args)
    assert code == 0
    keys = [json.loads(x)["key"] for x in samples.read_text().splitlines()]
    assert len(keys) == len(set(keys)) == 4
