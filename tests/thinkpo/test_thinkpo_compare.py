"""The before/after table keeps every run when one label names several (one phase, two tasks)."""

import json

from thinklab.thinkpo.compare import compare_table


def _run(tmp_path, name, task, acc, levels):
    d = tmp_path / name
    d.mkdir()
    budget = {
        "problems": 10,
        "accuracy": acc,
        "accuracy_stderr": 0.1,
        "mean_tokens": 50.0,
        "mean_thinking_tokens": 40.0,
        "by_level": {str(lv): {"accuracy": acc} for lv in levels},
    }
    (d / "summary.json").write_text(json.dumps({"task": task, "budgets": {"768": budget}}))
    return d


def test_repeated_labels_keep_every_run(tmp_path):
    a = _run(tmp_path, "a", "arith", 0.5, [1, 2])
    b = _run(tmp_path, "b", "arith:hard", 0.25, [6])
    table = compare_table([("before", a), ("before", b)])
    assert "| before | arith | 768 |" in table and "| before | arith:hard | 768 |" in table
    assert "| before (arith:hard, 768) | - | - | 0.250 |" in table
    assert compare_table({"before": a}).count("| before |") == 1
    # the command (`thinklab report thinkpo`) prints the same table and writes it beside its plot
    from typer.testing import CliRunner

    from thinklab.cli.main import app

    res = CliRunner().invoke(
        app, ["report", "thinkpo", f"before={a}", f"before={b}", "--out", str(tmp_path / "t.png")]
    )
    assert res.exit_code == 0, res.output
    assert res.output.count("| before | arith") == 2
    assert (tmp_path / "t.md").read_text().count("| before | arith") == 2 and (tmp_path / "t.png").is_file()
