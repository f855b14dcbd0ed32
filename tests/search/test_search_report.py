"""bench/search_report.py's within-problem ranking AUC (what best-of-N needs from a value model)."""

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("search_report", ROOT / "bench" / "search_report.py")
report = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(report)


def _row(gold, cands, budget=4):
    return {
        "gold": gold,
        "budget": budget,
        "candidates": [{"answer": a, "value": v, "tokens": t} for a, v, t in cands],
    }


def test_within_problem_auc_ignores_between_problem_differences():
    # Problem A is easy (all values high), B hard (all low). Pooled, right answers (mostly A's) outrank
    # wrong ones; within each problem the value ranks the wrong candidate first: AUC 0.
    rows = [
        _row("1", [("1", 0.90, 10), ("2", 0.95, 9)]),
        _row("5", [("5", 0.10, 10), ("6", 0.20, 11)]),
    ]
    assert report.within_problem_auc(rows, "value") == (0.0, 2)
    assert report.within_problem_auc(rows, "tokens") == (0.5, 2)  # one win, one loss by length
    # a tie counts one half; problems with one class add no pairs
    rows = [_row("1", [("1", 0.5, 1), ("2", 0.5, 1)]), _row("3", [("3", 0.1, 1), ("3", 0.2, 1)])]
    assert report.within_problem_auc(rows, "value") == (0.5, 1)
    assert report.within_problem_auc([_row("3", [("3", 0.1, 1)])], "value") == (None, 0)


def test_ranking_table_reads_the_latest_bon_run(tmp_path):
    run = tmp_path / "strategies" / "tiny_arith-L8-bon_abc"
    run.mkdir(parents=True)
    (run / "summary.json").write_text(json.dumps({"strategy": "bon", "budgets": {}}))
    rows = [_row("1", [("1", 0.9, 30), ("2", 0.1, 20)], budget=2), _row("1", [("1", 0.9, 30)], budget=2)]
    (run / "samples.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    table = report.ranking_table(tmp_path)
    assert "| 2 | 1 | 1 | 1.000 | 1.000 |" in table
