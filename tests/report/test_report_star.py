"""`thinklab report star` on round reports written the way the STaR loop writes them."""

import json

from cli_runner import run_cli

from thinklab.star.loop import heldout_metrics, round_dir


def _rows(n, correct, steps):
    return [
        {"correct": i < correct, "ok": i < correct - 1, "format_ok": True, "steps": steps, "finish_reason": "stop",
         "forced_answer": i == 0, "tokens": 40 + i}
        for i in range(n)
    ]  # fmt: skip


def test_round_table_and_curve(tmp_path):
    for r, (correct, added) in enumerate([(2, None), (3, 5), (4, 7)]):
        report = {"round": r, "model": f"m{r}", "heldout": heldout_metrics(_rows(5, correct, 3 + r))}
        if added is not None:
            report |= {"examples_added": added, "examples_total": 5 + added}
        d = round_dir(tmp_path, r)
        d.mkdir(parents=True)
        (d / "report.json").write_text(json.dumps(report))
    res = run_cli("report", "star", tmp_path)
    assert res.returncode == 0, res.stderr
    md = (tmp_path / "report.md").read_text()
    assert "| 0 | 0.400 | 0.200 | 1.000 | 3.00 | 20.0 | 42.0 | - | - |" in md
    assert "| 2 | 0.800 | 0.600 | 1.000 | 5.00 | 20.0 | 42.0 | 7 | 12 |" in md
    assert (tmp_path / "curve.png").stat().st_size > 5000 and f"plot: {tmp_path / 'curve.png'}" in res.stdout
    res = run_cli("report", "star", tmp_path, "--out", tmp_path / "elsewhere" / "c.png")
    assert res.returncode == 0 and "| 1 | 0.600 |" in (tmp_path / "elsewhere" / "c.md").read_text()
    res = run_cli("report", "star", tmp_path / "rounds")
    assert res.returncode == 2 and "not a STaR run dir" in res.stderr
