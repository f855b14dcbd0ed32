"""The before/after table keeps every run when one label names several (one phase, two tasks)."""

import json

from thinklab.thinkpo.compare import compare_table, main


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


def test_repeated_labels_keep_every_run(tmp_path, capsys):
    a = _run(tmp_path, "a", "arith", 0.5, [1, 2])
    b = _run(tmp_path, "b", "arith:hard", 0.25, [6])
    table = compare_table([("before", a), ("before", b)])
    assert "| before | arith | 768 |" in table and "| before | arith:hard | 768 |" in table
    assert "| before (arith:hard, 768) | - | - | 0.250 |" in table
    assert compare_table({"before": a}).count("| before |") == 1
    main([f"before={a}", f"before={b}"])
    assert capsys.readouterr().out.count("| before | arith") == 2
