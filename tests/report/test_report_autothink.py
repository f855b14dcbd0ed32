"""`thinklab report autothink` on real eval runs, and `thinklab autothink mix`."""

import json

from cli_runner import run_cli

from thinklab.data import read_jsonl


def test_stage_table_targets_and_plot(eval_runs, tmp_path):
    std, nothink = eval_runs["standard"], eval_runs["no-think"]
    png, js = tmp_path / "a.png", tmp_path / "a.json"
    res = run_cli(
        "report", "autothink", std, nothink, "--names", "think,direct", "--baseline", std,
        "--json-out", js, "--out", png,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    md = png.with_suffix(".md").read_text()
    assert png.stat().st_size > 5000
    s = json.loads((std / "summary.json").read_text())["budgets"]["160"]
    assert f"| think | standard | {100 * s['accuracy']:.1f}% | {s['mean_tokens']:.1f} | 100.0% |" in md
    assert "| direct | no-think |" in md and "| baseline | standard |" in md
    payload = json.loads(js.read_text())
    assert [r["name"] for r in payload["reports"]] == ["think", "direct"]
    cut = (
        1
        - json.loads((nothink / "summary.json").read_text())["budgets"]["160"]["mean_tokens"]
        / s["mean_tokens"]
    )
    assert payload["targets"]["token_cut"]["value"] == cut
    assert f"- token_cut: {100 * cut:.1f}%" in md
    res = run_cli("report", "autothink", std, "--budget", "99", "--out", tmp_path / "b.png")
    assert res.returncode == 2 and "budget 99 not in the summary" in res.stderr


def test_mix_writes_the_mixture(tmp_path):
    out = tmp_path / "mix.jsonl"
    res = run_cli("autothink", "mix", "--out", out, "--n", "10", "--direct-n", "4", "--direct-levels", "1,2")
    assert res.returncode == 0, res.stderr
    assert f"wrote 14 examples to {out}" in res.stdout and len(list(read_jsonl(out))) == 14
    res = run_cli("autothink", "mix", "--out", out, "--direct-levels", "0,2")
    assert res.returncode == 2 and "--direct-levels" in res.stderr
    res = run_cli("autothink", "mix", "--out", out, "--answer-style", "long")
    assert res.returncode == 2 and "--answer-style" in res.stderr
