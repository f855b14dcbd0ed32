"""thinklab.search.report (`thinklab report search`): the within-problem ranking AUC (what best-of-N
needs from a value model), paired differences, the AUC ceiling table."""

import json

import pytest

from thinklab.errors import ThinklabError
from thinklab.search import report


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


def _run(tmp_path, name, strategy, records):
    run = tmp_path / "strategies" / name
    run.mkdir(parents=True)
    (run / "summary.json").write_text(json.dumps({"strategy": strategy, "budgets": {}}))
    (run / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))


def test_paired_differences_by_hand(tmp_path):
    def rec(pid, ok, budget=2):
        return {"id": pid, "budget": budget, "correct": ok}

    # majority right on a, b; wrong on c, d
    _run(tmp_path, "m", "majority", [rec("a", 1), rec("b", 1), rec("c", 0), rec("d", 0)])
    # weighted: fixes c, breaks b -> differences 0, -1, +1, 0: mean 0, s.d. sqrt(2/3)
    _run(tmp_path, "w", "weighted", [rec("a", 1), rec("b", 0), rec("c", 1), rec("d", 0)])
    # single: two samples per problem, averaged: a 1, b 0.5, c 0.5, d 0 -> diffs 0, -.5, +.5, 0
    singles = [
        rec(p, ok) for p, oks in {"a": (1, 1), "b": (1, 0), "c": (0, 1), "d": (0, 0)}.items() for ok in oks
    ]
    _run(tmp_path, "s", "single", singles)
    table = report.paired_table(tmp_path)
    sd = (2 / 3) ** 0.5
    assert f"| weighted | 2 | 4 | +0.0 | {100 * sd / 2:.1f} | 1 / 1 |" in table
    assert f"| single | 2 | 4 | +0.0 | {100 * (0.5 / 3) ** 0.5 / 2:.1f} | 1 / 1 |" in table
    assert not any(line.startswith("| majority") for line in table)


def test_paired_differences_pool_output_dirs_pairing_within_each(tmp_path):
    def rec(pid, ok, budget=3):
        return {"id": pid, "budget": budget, "correct": ok}

    one, two, three = tmp_path / "one", tmp_path / "two", tmp_path / "three"
    # one: weighted fixes a (+1); two: weighted breaks p (-1), equal on q (0). The ids differ, so a
    # mix-up across dirs would find no shared problems or pair a with p.
    _run(one, "m", "majority", [rec("a", 0)])
    _run(one, "w", "weighted", [rec("a", 1)])
    _run(two, "m", "majority", [rec("p", 1), rec("q", 1)])
    _run(two, "w", "weighted", [rec("p", 0), rec("q", 1)])
    _run(three, "w", "weighted", [rec("x", 1)])  # no majority run here: adds nothing
    table = report.paired_table([one, two, three])
    assert f"| weighted | 3 | 3 | +0.0 | {100 * (1 / 3) ** 0.5:.1f} | 1 / 1 |" in table  # d = 1, -1, 0
    with pytest.raises(ThinklabError, match="no such output dir"):
        report.markdown_report([one, tmp_path / "missing"], pool=True)


def test_ceiling_table_reads_the_many_rollout_file(tmp_path):
    (tmp_path / "rollouts").mkdir()
    row = {"prompt": "q", "roll_in": "r", "cut": 0.5}
    rows = [
        {**row, "roll_outs": ["x", "y"], "labels": [1, 1]},
        {**row, "roll_outs": ["x", "y"], "labels": [1, 0]},
    ]
    (tmp_path / "rollouts" / "ceiling.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (tmp_path / "value_auc_ceiling.json").write_text(json.dumps({"by_cut": {"0.50": {"auc": 0.7}}}))
    # plug-in 0.625 / 0.75 and leave-one-out 1/3 (tests/search/test_search_value.py works them out)
    assert "| 0.50 | 2 | 4 | 75.0% | 1 / 0 | 0.833 | 0.333 | 0.700 |" in report.ceiling_table(tmp_path)
    assert report.ceiling_table(tmp_path / "none") == []


def test_a_malformed_samples_line_is_named_not_a_traceback(tmp_path):
    _run(tmp_path, "m", "majority", [{"id": "a", "budget": 2, "correct": 1}])
    _run(tmp_path, "w", "weighted", [{"id": "a", "budget": 2, "correct": 1}])
    samples = tmp_path / "strategies" / "w" / "samples.jsonl"
    samples.write_text(samples.read_text() + '{"id": "b", "budget": 2,\n')
    with pytest.raises(ThinklabError, match="samples.jsonl:2: invalid JSON"):
        report.markdown_report([tmp_path])
