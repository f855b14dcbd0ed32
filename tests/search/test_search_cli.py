"""`thinklab rollouts` -> `thinklab train value` -> `thinklab search`, end to end on the tiny model,
plus resume, nesting of budgets and the one-line errors."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from cli_runner import run_cli


def _cli(*args: str) -> subprocess.CompletedProcess:
    """`thinklab ARGS` in-process (the entry point's code path, without a ~10 s process start)."""
    return run_cli(*args)


def _lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]


@pytest.mark.parametrize("cmd", [["search"], ["rollouts"], ["value-eval"], ["train", "value"]])
def test_help(cmd):
    r = _cli(*cmd, "--help")
    assert r.returncode == 0, r.stderr
    assert "Usage" in r.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["--strategies", "nope"], "unknown strategy 'nope'"),
        (["--strategies", "weighted"], "needs --value-model"),
        (["--strategies", "dvts", "--value-model", "x", "--budgets", "4,6"], "multiples of --tree-blocks 4"),
        (
            ["--strategies", "beam", "--value-model", "x", "--budgets", "2,3"],
            "multiples of --beam-width 2, got [3]",
        ),
        (["--budgets", "1,x"], "budgets: expected an int, got 'x'"),
        (["--strategies", "majority", "--sampling", "temperature=0"], "need sampling"),
    ],
)
def test_user_errors_are_one_line(args, message, tmp_path):
    r = _cli("search", "--out", str(tmp_path), *args)
    assert r.returncode == 2
    assert message in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


@pytest.fixture(scope="module")
def tiny():
    from thinklab.backends import load_backend

    return load_backend("hf", "tiny", threads=1)


def _cfg(tmp_path, **kw):
    from thinklab.search.runner import SearchConfig

    base = dict(task="arith:hard", limit=4, chunk_size=2, max_tokens=160, out=str(tmp_path / "runs"), seed=5)
    return SearchConfig(**{**base, **kw})


@pytest.mark.slow
def test_budgets_are_nested_and_resume_regenerates_identically(tiny, tmp_path):
    from thinklab.search.runner import run_search

    small = run_search(_cfg(tmp_path, strategies=("single", "majority"), budgets=(2,)), backend=tiny)
    maj_dir = small.runs[1].run_dir
    first = {r["key"]: r for r in _lines(maj_dir / "samples.jsonl")}
    # Widening the sweep reuses the same run dir and keeps the first samples: the budget-4 vote sees
    # the budget-2 samples plus two more.
    wide = run_search(_cfg(tmp_path, strategies=("single", "majority"), budgets=(2, 4)), backend=tiny)
    assert wide.runs[1].run_dir == maj_dir
    rows = {r["key"]: r for r in _lines(maj_dir / "samples.jsonl")}
    assert all(rows[k] == v for k, v in first.items())
    for key, r in first.items():
        r4 = rows[key.replace("2/", "4/", 1)]
        assert r4["candidates"][:2] == r["candidates"]
        assert r4["tokens"] == r["tokens"] + sum(c["tokens"] for c in r4["candidates"][2:])
    # single at budget N is N records per problem, one sample each: avg@N
    single = _lines(wide.runs[0].run_dir / "samples.jsonl")
    assert sorted({r["sample"] for r in single if r["budget"] == 4}) == [0, 1, 2, 3]
    # the summary is eval's, with the search's compute added
    summary = json.loads((maj_dir / "summary.json").read_text())
    for field in ("accuracy", "mean_tokens", "mean_blocks", "mean_value_tokens", "accuracy_tie_split"):
        assert field in summary["budgets"]["4"]
    assert summary["budgets"]["4"]["mean_tokens"] > summary["budgets"]["2"]["mean_tokens"]
    assert (maj_dir / "accuracy_vs_tokens.png").is_file() and wide.plot is not None and wide.plot.is_file()

    # Lose the last chunk's records (as a kill would): the rerun regenerates them identically.
    path = maj_dir / "samples.jsonl"
    kept = path.read_text().splitlines(keepends=True)
    path.write_text("".join(kept[:-3]) + kept[-3][: len(kept[-3]) // 2])  # plus a torn line
    again = run_search(_cfg(tmp_path, strategies=("single", "majority"), budgets=(2, 4)), backend=tiny)
    assert {r["key"]: r for r in again.runs[1].records} == rows


@pytest.mark.slow
def test_rollouts_train_value_search_end_to_end(tmp_path):
    ro = tmp_path / "ro.jsonl"
    r = _cli(
        "rollouts",
        "--out",
        str(ro),
        "--task",
        "arith:train",
        "--levels",
        "3,4",
        "--limit",
        "4",
        "--n-rollins",
        "1",
        "--cuts",
        "0.3,0.6",
        "--n-rollouts",
        "2",
        "--max-tokens",
        "160",
    )
    assert r.returncode == 0, r.stderr[-2000:]
    rows = _lines(ro)
    assert len(rows) == 4 * 1 * 2 and all(len(x["labels"]) == 2 for x in rows)
    assert all(x["level"] in (3, 4) and x["id"].startswith("arith-train") for x in rows)
    # resuming a finished file generates nothing; other settings are refused
    assert (
        _cli(
            "rollouts",
            "--out",
            str(ro),
            "--task",
            "arith:train",
            "--levels",
            "3,4",
            "--limit",
            "4",
            "--n-rollins",
            "1",
            "--cuts",
            "0.3,0.6",
            "--n-rollouts",
            "2",
            "--max-tokens",
            "160",
        ).returncode
        == 0
    )
    assert len(_lines(ro)) == len(rows)
    clash = _cli("rollouts", "--out", str(ro), "--task", "arith:train", "--n-rollouts", "3")
    assert clash.returncode == 2 and "other settings" in clash.stderr

    vm = tmp_path / "vm"
    r = _cli(
        "train",
        "value",
        "--data",
        str(ro),
        "--out",
        str(vm),
        "--max-steps",
        "3",
        "--batch-size",
        "4",
        "--eval-data",
        str(ro),
    )
    assert r.returncode == 0, r.stderr[-2000:]
    assert (vm / "value_head.safetensors").is_file()
    # Rounded like its s.e. (was 16 digits): "n/a" only where a cut holds one class.
    assert re.search(r"held-out AUC: all (\d\.\d{3}|n/a), mid-trace (\d\.\d{3}|n/a)", r.stdout), r.stdout

    out = tmp_path / "runs"
    r = _cli(
        "search",
        "--strategies",
        "weighted,beam,dvts",
        "--value-model",
        str(vm),
        "--task",
        "arith:L4",
        "--limit",
        "2",
        "--budgets",
        "4",
        "--max-tokens",
        "160",
        "--block-size",
        "32",
        "--tree-blocks",
        "2",
        "--out",
        str(out),
    )
    assert r.returncode == 0, r.stderr[-2000:]
    for strategy in ("weighted", "beam", "dvts"):
        (run_dir,) = out.glob(f"tiny_arith-L4-{strategy}_*")
        recs = _lines(run_dir / "samples.jsonl")
        assert len(recs) == 2
        for rec in recs:
            assert rec["tokens"] > 0 and rec["value_tokens"] > 0
            if strategy == "beam":
                assert len(rec["candidates"]) == 4 // 2  # kept beams
            if strategy == "dvts":
                assert len(rec["candidates"]) == (4 // 2) * (2 // 2)  # trees x kept beams per tree
    assert "strategies at equal budgets" in r.stdout


def test_greedy_rollins_are_the_policys_greedy_trace(tmp_path):
    from thinklab.backends import SamplingParams, load_backend
    from thinklab.errors import ThinklabError
    from thinklab.prompting.modes import prompt_for
    from thinklab.search.rollouts import RolloutConfig, build_rollouts
    from thinklab.tasks.registry import get_task

    backend = load_backend("hf", "tiny")
    cfg = RolloutConfig(
        task="arith:L4",
        out=str(tmp_path / "g.jsonl"),
        limit=3,
        n_rollins=1,
        cuts=(0.5,),
        n_rollouts=2,
        max_tokens=200,
        rollin_sampling="temperature=0",
    )
    rows = _lines(build_rollouts(cfg, backend=backend))
    task = get_task("arith:L4")
    greedy = backend.generate(
        [prompt_for(backend, task.render(p)) for p in task.problems(None)[:3]], SamplingParams(max_tokens=200)
    )
    for row, g in zip(rows, greedy, strict=True):
        assert g[0].text.startswith(row["roll_in"]) and len(row["roll_in"]) < len(g[0].text)
        assert len(row["labels"]) == 2
    # the roll-in setting is part of the file's identity; greedy with several roll-ins is refused
    with pytest.raises(ThinklabError, match="other settings"):
        build_rollouts(RolloutConfig(**{**cfg.__dict__, "rollin_sampling": ""}), backend=backend)
    with pytest.raises(ThinklabError, match="--n-rollins 1"):
        build_rollouts(RolloutConfig(**{**cfg.__dict__, "n_rollins": 2, "out": str(tmp_path / "h.jsonl")}))
