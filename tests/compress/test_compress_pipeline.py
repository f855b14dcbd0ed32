"""`thinklab compress` end to end on arith traces with the real tiny model: output format, resume,
batching, baselines, SFT on the output, the CLI."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from cli_runner import run_cli

from thinklab.backends import load_backend
from thinklab.compress import CompressConfig, run_compress, run_drop_baseline
from thinklab.compress.bis import BISScorer, ScorerConfig
from thinklab.compress.data import write_arith_traces
from thinklab.compress.steps import StepSplitter, unescape
from thinklab.data import read_examples, read_jsonl, read_traces
from thinklab.errors import ThinklabError

GREEDY = "temperature=0,max_tokens=16"


@pytest.fixture(scope="module")
def backend():
    return load_backend("hf", "tiny")


@pytest.fixture(scope="module")
def scorer():
    return BISScorer(ScorerConfig(model="tiny", device="cpu"))


@pytest.fixture(scope="module")
def traces(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("arith") / "traces.jsonl"
    write_arith_traces(path, 10, seed=3)
    return path


def _cfg(traces: Path, out: Path, **kw) -> CompressConfig:
    base = dict(data=str(traces), out=str(out), min_steps=2, max_steps=8, validator_sampling=GREEDY, width=4)
    base.update(kw)
    return CompressConfig(**base)


@pytest.fixture(scope="module")
def compressed(traces, backend, scorer, tmp_path_factory):
    out = tmp_path_factory.mktemp("out") / "compressed.jsonl"
    summary = run_compress(_cfg(traces, out), backend=backend, scorer=scorer)
    return out, summary


def test_output_rows_are_valid_traces_in_the_input_format(traces, compressed):
    out, summary = compressed
    originals = {r.id: r for r in read_traces(traces)}
    rows = read_jsonl(out)
    assert [r["id"] for r in rows] == list(originals)  # one row per trace, in input order
    parsed = read_traces(out)
    splitter = StepSplitter()
    for row, rec in zip(rows, parsed, strict=True):
        orig = originals[row["id"]].trace
        assert rec.trace.fmt == "r1" and rec.trace.finished
        assert rec.trace.solution == orig.solution  # the answer part is untouched
        assert row["messages"][-1]["content"].startswith("<think>\n")
        steps, kept = splitter.split(orig.thought), splitter.split(rec.trace.thought)
        if row["kept_steps"] is None:
            assert rec.trace.thought == orig.thought
        else:
            assert kept == [steps[i] for i in row["kept_steps"]]  # a subsequence, in order
        assert row["total_steps"] == len(steps)
        assert row["rate"] == pytest.approx(row["compressed_tokens"] / row["original_tokens"], abs=1e-4)
        assert row["status"] in ("valid", "unvalidated", "max_steps", "exhausted")
        assert row["search_steps"] >= 1
        if row["status"] == "valid":  # min_steps 2: step 1 scored at least one path, then the check passed
            assert row["validator_requests"] >= 2, row
    assert summary["compressed"] == 10 and summary["complete"]
    assert summary["status"] == Counter(r["status"] for r in rows)
    assert summary["mean_validator_requests"] == round(sum(r["validator_requests"] for r in rows) / 10, 3)
    run = summary["this_run"]
    assert run["validator_calls"] == run["validator"]["score_calls"] + run["validator"]["generate_calls"]
    assert run["validator_calls"] < sum(r["validator_requests"] for r in rows)  # batched across samples
    assert json.loads(Path(f"{out}.summary.json").read_text())["compressed"] == 10


def test_interrupted_run_resumes_without_redoing_work(traces, compressed, backend, scorer, tmp_path):
    out, _ = compressed
    full = out.read_text()
    lines = full.splitlines()
    part = tmp_path / "compressed.jsonl"
    # killed after 6 traces, mid-write of the 7th
    part.write_text("\n".join(lines[:6]) + "\n" + lines[6][:40])
    cache = Path(f"{out}.bis.jsonl")
    cache_before = cache.read_text()
    summary = run_compress(_cfg(traces, part, cache=str(cache)), backend=backend, scorer=scorer)
    assert summary["this_run"]["compressed"] == 4
    assert cache.read_text() == cache_before  # BIS scores came from the cache
    assert part.read_text() == full  # the same file an uninterrupted run wrote
    again = run_compress(_cfg(traces, part, cache=str(cache)), backend=backend, scorer=scorer)
    assert again["this_run"]["compressed"] == 0 and again["this_run"]["validator_calls"] == 0
    run_compress(_cfg(traces, part, cache=str(cache), limit=3), backend=backend, scorer=scorer)
    assert part.read_text() == full  # a smaller --limit later never drops finished rows
    # other search settings would mix two configurations in one file: refused, the file untouched
    with pytest.raises(ThinklabError, match="was made with other settings"):
        run_compress(_cfg(traces, part, cache=str(cache), beta=0.3), backend=backend, scorer=scorer)
    assert part.read_text() == full


def test_one_at_a_time_validation_gives_the_same_output_with_more_calls(
    traces, compressed, backend, scorer, tmp_path
):
    out, summary = compressed
    seq = tmp_path / "seq.jsonl"
    s = run_compress(
        _cfg(traces, seq, width=1, batch_candidates=False, cache=f"{out}.bis.jsonl"),
        backend=backend,
        scorer=scorer,
    )
    drop = ("id",)
    a = [{k: v for k, v in r.items() if k not in drop} for r in read_jsonl(out)]
    b = [{k: v for k, v in r.items() if k not in drop} for r in read_jsonl(seq)]
    assert a == b
    assert s["this_run"]["validator_calls"] == sum(r["validator_requests"] for r in read_jsonl(seq))
    assert s["this_run"]["validator_calls"] > summary["this_run"]["validator_calls"]


def test_drop_baselines_match_the_kept_tokens(traces, compressed, tmp_path):
    out, _ = compressed
    astar = {r["id"]: r for r in read_jsonl(out)}
    for method in ("random", "ends"):
        path = tmp_path / f"{method}.jsonl"
        summary = run_drop_baseline(str(traces), str(out), str(path), method, seed=1)
        rows = read_jsonl(path)
        assert summary["compressed"] == len(rows) == len(astar)
        for row, rec in zip(rows, read_traces(path), strict=True):
            steps = StepSplitter().split(rec.trace.thought)
            target = astar[row["id"]]["compressed_tokens"]
            longest = max(len(s) for s in steps) + 4  # chars >= tokens
            assert abs(row["compressed_tokens"] - target) <= longest / 2 + 2  # within half a step
            if method == "ends":
                kept = row["kept_steps"]
                assert kept[0] == 0 and (kept[-1] == row["total_steps"] - 1 or len(kept) == 1)
        assert summary["token_rate"] == pytest.approx(summary["target_token_rate"], abs=0.08)
    r1 = run_drop_baseline(str(traces), str(out), str(tmp_path / "r1.jsonl"), "random", seed=1)
    r2 = run_drop_baseline(str(traces), str(out), str(tmp_path / "r2.jsonl"), "random", seed=2)
    assert (tmp_path / "r1.jsonl").read_text() == (tmp_path / "random.jsonl").read_text()
    assert r1["compressed"] == r2["compressed"]


def test_sharegpt_output_and_regex_steps(traces, backend, scorer, tmp_path):
    out = tmp_path / "sg.jsonl"
    run_compress(
        _cfg(traces, out, out_format="sharegpt", step_regex=r"\n\s*\n", limit=3),
        backend=backend,
        scorer=scorer,
    )
    rows = read_jsonl(out)
    assert len(rows) == 3 and all(r["conversations"][1]["from"] == "assistant" for r in rows)
    assert len(read_examples(out)) == 3


def test_bad_settings_are_one_line_errors(traces, tmp_path):
    with pytest.raises(ThinklabError, match="attn-norm"):
        run_compress(_cfg(traces, tmp_path / "x.jsonl", attn_norm="mean"))
    with pytest.raises(ThinklabError, match="min-steps"):
        run_compress(_cfg(traces, tmp_path / "x.jsonl", min_steps=9, max_steps=3))
    assert unescape("\\n\\n") == "\n\n" and unescape("\\\\n") == "\\n"
    proc = run_cli("compress", "--data", tmp_path / "missing.jsonl")
    assert proc.returncode == 2 and proc.stderr.strip().count("\n") == 0 and "no such file" in proc.stderr


def test_sft_trains_on_the_compressed_output(compressed, tmp_path):
    from thinklab.train.sft import SFTRunConfig, run_sft

    out, _ = compressed
    model_dir = run_sft(
        SFTRunConfig(data=str(out), out=str(tmp_path / "sft"), max_steps=2, batch_size=4, bf16=False)
    )
    tuned = load_backend("hf", str(model_dir))
    assert tuned.thinking.standard == "<think>\n"  # still a tiny-family model (thinklab.json carried)
    from thinklab.train.sft import build_rows

    rows = build_rows(str(out), tuned.tokenizer, tuned.thinking)
    # eval's standard prompt (the prefill in it), the compressed trace after it
    assert rows[0]["prompt"].endswith("<|assistant|>\n<think>\n") and "</think>" in rows[0]["completion"]
    assert not rows[0]["completion"].startswith("<think>")


def test_span_zero_min_kept_keeps_at_least_the_fraction(traces, backend, scorer, tmp_path):
    out = tmp_path / "half.jsonl"
    summary = run_compress(
        _cfg(traces, out, span=0, min_kept=0.5, min_steps=1, max_steps=20), backend=backend, scorer=scorer
    )
    assert summary["config"]["span"] == 0 and summary["config"]["min_kept"] == 0.5
    for row in read_jsonl(out):
        if row["kept_steps"] is not None:
            assert 2 * len(row["kept_steps"]) >= row["total_steps"]
