"""`thinklab report eval`: each run's summary table (printed and as markdown) and the overlaid plot."""

import json
import re

from cli_runner import run_cli


def test_tables_and_plot_of_two_runs(eval_runs, tmp_path):
    std, nothink = eval_runs["standard"], eval_runs["no-think"]
    png = tmp_path / "plots" / "cmp.png"
    res = run_cli("report", "eval", std, nothink, "--labels", "think,direct", "--out", png)
    assert res.returncode == 0, res.stderr
    md = (tmp_path / "plots" / "cmp.md").read_text()
    assert png.is_file() and png.stat().st_size > 5000
    assert f"table: {png.with_suffix('.md')}" in res.stdout and f"plot: {png}" in res.stdout
    assert md.count("| budget | acc % |") == 2 and str(std) in md and str(nothink) in md
    for run in (std, nothink):
        for budget, m in json.loads((run / "summary.json").read_text())["budgets"].items():
            row = (
                f"| {budget} | {100 * m['accuracy']:.1f} | {100 * m['accuracy_stderr']:.1f} | "
                f"{m['mean_tokens']:.1f} | {m['mean_thinking_tokens']:.1f} | {100 * m['truncation_rate']:.1f} | "
                f"{100 * m['think_rate']:.1f} | {100 * m['format_pass']:.1f} | {m['acu']:.3f} |"
            )
            assert row in md  # the numbers of this run's summary.json, not another's
            assert re.search(rf"│\s+{budget} │\s+{100 * m['accuracy']:.1f} │", res.stdout)  # the Rich table
    # the two runs differ where they should: the no-think prefill never thinks, the standard prompt does
    think = [
        json.loads((r / "summary.json").read_text())["budgets"]["160"]["think_rate"] for r in (std, nothink)
    ]
    assert think[0] > 0 and think[1] == 0


def test_a_dir_without_summary_is_a_one_line_error(tmp_path):
    res = run_cli("report", "eval", tmp_path, "--out", tmp_path / "x.png")
    assert res.returncode == 2 and "has no summary.json" in res.stderr and "Traceback" not in res.stderr
    assert not (tmp_path / "x.png").exists()
