"""`thinklab report compress` on real `thinklab compress` / `compress-baseline` outputs and eval runs."""

import json

import pytest
from cli_runner import run_cli

from thinklab.compress import CompressConfig, run_compress, run_drop_baseline
from thinklab.compress.data import write_arith_traces


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    d = tmp_path_factory.mktemp("compress")
    write_arith_traces(d / "traces.jsonl", 4, seed=3)
    cfg = CompressConfig(
        data=str(d / "traces.jsonl"), out=str(d / "astar.jsonl"), min_steps=2, max_steps=4,
        validator_sampling="temperature=0,max_tokens=16", width=4,
    )  # fmt: skip
    run_compress(cfg)
    run_drop_baseline(str(d / "traces.jsonl"), str(d / "astar.jsonl"), str(d / "random.jsonl"), "random")
    return d / "astar.jsonl", d / "random.jsonl"


def test_output_and_eval_tables_and_plot(outputs, eval_runs, tmp_path):
    astar, rand = outputs
    std, nothink = eval_runs["standard"], eval_runs["no-think"]
    png = tmp_path / "c.png"
    res = run_cli(
        "report", "compress", astar, rand, "--runs", f"{std},{nothink}", "--names", "full,short", "--out", png
    )
    assert res.returncode == 0, res.stderr
    md = png.with_suffix(".md").read_text()
    assert png.stat().st_size > 5000
    a = json.loads(astar.with_name("astar.jsonl.summary.json").read_text())
    status = ", ".join(f"{k} {v}" for k, v in sorted(a["status"].items()))
    assert (
        f"| astar.jsonl | A*-Thought | 4 | 4 | {a['token_rate']:.3f} | {a['mean_rate']:.3f} | "
        f"{a['mean_search_steps']:.2f} | {status} |" in md
    )
    r = json.loads(rand.with_name("random.jsonl.summary.json").read_text())
    assert (
        f"| random.jsonl | baseline-random | 4 | 4 | {r['token_rate']:.3f} | {r['mean_rate']:.3f} | - |" in md
    )
    full = json.loads((std / "summary.json").read_text())["budgets"]["160"]
    short = json.loads((nothink / "summary.json").read_text())["budgets"]["160"]
    assert f"| full | tiny | 160 | 4 | {100 * full['accuracy']:.1f} |" in md
    change = f"{100 * (short['mean_tokens'] / full['mean_tokens'] - 1):+.1f}%"
    assert (
        f"| {short['mean_tokens']:.1f} | {change} | {100 * (short['accuracy'] - full['accuracy']):+.1f} |"
        in md
    )
    assert "### Compressed traces" in res.stdout and "| random.jsonl | baseline-random |" in res.stdout


def test_an_output_without_its_summary_is_a_one_line_error(outputs, tmp_path):
    lone = tmp_path / "lone.jsonl"
    lone.write_text(outputs[0].read_text())
    res = run_cli("report", "compress", lone)
    assert res.returncode == 2 and "lone.jsonl.summary.json" in res.stderr
    res = run_cli("report", "compress", outputs[0], "--runs", "a,b", "--names", "one")
    assert res.returncode == 2
