"""Issue 26: the extraction policy of `eval` / `score`: recorded in summary.json, `score --extraction`
re-grades a run under the other policy, and the "changed verdict" count only counts samples that had one.

Run dirs are written by hand (config.json + samples.jsonl, as `thinklab eval` writes them), so no model
is loaded."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path

import pytest

from thinklab.cli.main import main
from thinklab.data.jsonl import write_jsonl
from thinklab.eval.report import rescore
from thinklab.eval.runner import EvalConfig
from thinklab.tasks.registry import get_task

RESPONSES = [
    ("p0", "4", "<think>2+2</think>\n\nSo the total is \\boxed{4}.", "stop"),  # boxed: both policies
    ("p1", "12", "<think>20-8</think>\n\nShe has 12 marbles left.", "stop"),  # prose: harness only
    ("p2", "9", "<think>3*3</think>\n\nWe multiply 3 by 3 and get", "length"),  # cut off: neither
    ("p3", "7", "<think>3+4 is 7 but let me check", "length"),  # unclosed: neither
]


def make_run(tmp_path: Path, graded: bool = True) -> Path:
    problems = tmp_path / "problems.jsonl"
    write_jsonl(problems, [{"id": pid, "problem": "q", "answer": gold} for pid, gold, _, _ in RESPONSES])
    cfg = EvalConfig(model="tiny", task=f"jsonl:{problems}", budgets=(64,))
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "config.json").write_text(json.dumps({"identity": cfg.identity(), "config": asdict(cfg)}))
    records = []
    for pid, gold, response, finish in RESPONSES:
        record = {
            "key": f"64/{pid}/0",
            "id": pid,
            "sample": 0,
            "budget": 64,
            "response": response,
            "gold": gold,
            "tokens": 10,
            "thinking_tokens": 5,
            "answer_tokens": 5,
            "finish_reason": finish,
        }
        if graded:
            record.update(pred=None, correct=False, think=True, format_ok=False)
        records.append(record)
    write_jsonl(run_dir / "samples.jsonl", records)
    return run_dir


def verdicts(run_dir: Path) -> dict[str, bool]:
    lines = (run_dir / "samples.jsonl").read_text().splitlines()
    return {r["id"]: r["correct"] for r in map(json.loads, lines)}


def test_score_regrades_under_either_policy_and_records_it(tmp_path: Path) -> None:
    run_dir = make_run(tmp_path)
    summary = rescore(run_dir)
    assert summary["extraction"] == "strict"
    assert json.loads((run_dir / "summary.json").read_text())["extraction"] == "strict"
    assert verdicts(run_dir) == {"p0": True, "p1": False, "p2": False, "p3": False}
    assert (summary["rescored_changed"], summary["rescored_graded"], summary["rescored_new"]) == (1, 4, 0)

    summary = rescore(run_dir, "harness")
    assert summary["extraction"] == "harness" and summary["config"]["extraction"] == "harness"
    assert verdicts(run_dir) == {"p0": True, "p1": True, "p2": False, "p3": False}
    assert summary["rescored_changed"] == 1
    assert summary["budgets"]["64"]["accuracy"] == 0.5
    # Without --extraction, score keeps the policy the run was last graded with.
    assert rescore(run_dir)["extraction"] == "harness"
    assert rescore(run_dir, "strict")["rescored_changed"] == 1


def test_samples_without_a_verdict_are_not_counted_as_changed(tmp_path: Path) -> None:
    run_dir = make_run(tmp_path, graded=False)
    summary = rescore(run_dir)
    assert (summary["rescored_changed"], summary["rescored_new"], summary["rescored_graded"]) == (0, 4, 0)


def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["thinklab", *args])
    with pytest.raises(SystemExit) as exit_info:
        main()
    captured = capsys.readouterr()
    return int(exit_info.value.code or 0), captured.out + captured.err


def test_score_cli_reports_the_policy_and_the_counts(tmp_path, monkeypatch, capsys) -> None:
    run_dir = make_run(tmp_path, graded=False)
    code, out = cli(monkeypatch, capsys, "score", str(run_dir), "--extraction", "harness")
    assert code == 0, out
    assert "re-graded under harness; 0 of 0 previously graded samples changed verdict" in out
    assert "4 graded for the first time" in out


def test_unknown_policy_is_one_error_line(tmp_path, monkeypatch, capsys) -> None:
    run_dir = make_run(tmp_path)
    for args in (
        ["score", str(run_dir), "--extraction", "lenient"],
        ["eval", "--task", "math500", "--extraction", "x"],
    ):
        code, err = cli(monkeypatch, capsys, *args)
        lines = [x for x in err.strip().splitlines() if x.startswith("error:")]
        assert code != 0 and "Traceback" not in err and len(lines) == 1, err
        assert "unknown extraction policy" in lines[0] and "strict, harness" in lines[0]


def test_policy_is_per_task() -> None:
    assert get_task("math500").metadata["extraction"] == "strict"
    extract, _ = get_task("gsm8k").graders("harness")
    assert extract("</think>So 15 people chose the 3rd option.") == "15"
    assert extract("</think>So 15 people chose the 3rd option.", truncated=True) is None
    with pytest.raises(Exception, match="own answer extractor"):
        get_task("arith").graders("harness")


def test_explicit_policy_names_its_own_run_dir() -> None:
    default, harness = EvalConfig(task="math500"), EvalConfig(task="math500", extraction="harness")
    assert "extraction" not in default.identity()  # run dirs made before the option keep their names
    assert harness.identity()["extraction"] == "harness"
