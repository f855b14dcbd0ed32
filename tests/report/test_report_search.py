"""`thinklab report search` on a real `thinklab search` output (tiny model, 4 problems, widths 1 and 2)."""

import json

import pytest
from cli_runner import run_cli


@pytest.fixture(scope="module")
def search_out(tmp_path_factory):
    """An experiment dir as recipes/tiny/search.yaml lays it out: `thinklab search` runs in strategies/."""
    out = tmp_path_factory.mktemp("search")
    res = run_cli(
        "search", "--strategies", "single,majority", "--budgets", "1,2", "--limit", "4",
        "--max-tokens", "160", "--out", out / "strategies",
    )  # fmt: skip
    assert res.returncode == 0, res.stderr[-2000:]
    return out


def _summaries(out):
    return {
        (s := json.loads(p.read_text()))["strategy"]: s for p in (out / "strategies").glob("*/summary.json")
    }


def test_strategy_table_paired_table_and_plot(search_out):
    res = run_cli("report", "search", search_out)
    assert res.returncode == 0, res.stderr
    md = (search_out / "search_report.md").read_text()
    assert (search_out / "search_report.png").stat().st_size > 5000
    assert "### Strategies at equal budgets" in md and "### Paired differences against majority" in md
    for strategy, s in _summaries(search_out).items():
        for width, m in s["budgets"].items():
            cells = f"| {strategy} | {width} | {100 * m['accuracy']:.1f} ± {100 * m['accuracy_stderr']:.1f} | {m['mean_tokens']:.0f} |"
            assert cells in md and cells in res.stdout
    # single against majority on the same 4 problems at each width
    assert "| single | 1 | 4 |" in md and "| single | 2 | 4 |" in md
    assert not any(line.startswith("| majority | 1 | 4 |") for line in md.split("### Paired")[1].splitlines())


def test_a_search_out_dir_itself_and_pooled_dirs(search_out, tmp_path):
    png = tmp_path / "s.png"
    res = run_cli("report", "search", search_out / "strategies", "--out", png)
    assert res.returncode == 0 and png.is_file() and "| majority | 2 |" in png.with_suffix(".md").read_text()
    res = run_cli("report", "search", search_out, search_out, "--pool", "--out", tmp_path / "p.png")
    assert res.returncode == 0, res.stderr
    assert (
        "pooled over the output dirs" in res.stdout and "| single | 2 | 8 |" in res.stdout
    )  # 4 problems, twice
    assert (tmp_path / "p.png").is_file()
    res = run_cli("report", "search", tmp_path / "missing")
    assert res.returncode == 2 and "no such output dir" in res.stderr
