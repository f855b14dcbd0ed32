"""`thinklab report thinkpo` on real eval runs: the before / after table (and per level) and the plot."""

import json

from cli_runner import run_cli


def test_before_after_table_and_plot(eval_runs, tmp_path):
    std, nothink = eval_runs["standard"], eval_runs["no-think"]
    png = tmp_path / "t.png"
    res = run_cli("report", "thinkpo", f"before={nothink}", f"after={std}", "--out", png)
    assert res.returncode == 0, res.stderr
    md = png.with_suffix(".md").read_text()
    assert png.stat().st_size > 5000 and md.strip() in res.stdout
    for label, run in (("before", nothink), ("after", std)):
        b = json.loads((run / "summary.json").read_text())["budgets"]["160"]
        assert (
            f"| {label} | arith | 160 | 4 | {b['accuracy']:.3f} | {b['accuracy_stderr']:.3f} | "
            f"{b['mean_tokens']:.1f} | {b['mean_thinking_tokens']:.1f} |" in md
        )
        assert f"| {label} (arith, 160) |" in md  # accuracy by level
    res = run_cli("report", "thinkpo", str(std))
    assert res.returncode == 2 and "expected LABEL=RUN_DIR" in res.stderr
