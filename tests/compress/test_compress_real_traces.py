"""The pipeline on real DeepSeek-R1-Distill traces (shared/traces), with the tiny model as scorer and
validator: what it keeps means nothing, but the format must survive and the output parse back."""

from __future__ import annotations

import pytest

from thinklab.compress import CompressConfig, run_compress
from thinklab.compress.steps import StepSplitter
from thinklab.data import read_jsonl, read_traces, write_jsonl


@pytest.mark.slow
def test_real_r1_traces_survive_compression(r1_traces, tmp_path):
    rows = read_jsonl(r1_traces)
    # the two traces with the fewest paragraphs keep the test short; all 40 run the same code
    rows.sort(key=lambda r: r["thinking"].count("\n\n"))
    subset = tmp_path / "r1.jsonl"
    write_jsonl(subset, rows[:2])
    out = tmp_path / "out.jsonl"
    summary = run_compress(
        CompressConfig(
            data=str(subset),
            out=str(out),
            min_steps=1,
            max_steps=3,
            scorer_max_length=256,  # truncation (the default is the tiny model's 1024 positions)
            validator_sampling="temperature=0,max_tokens=4",
            validator_max_context=512,
        )
    )
    assert summary["compressed"] == 2 and summary["complete"]
    originals = read_traces(subset)
    parsed = read_traces(out)
    splitter = StepSplitter()
    for orig, new, row in zip(originals, parsed, read_jsonl(out), strict=True):
        assert new.id == orig.id
        assert new.trace.fmt == orig.trace.fmt == "r1" and new.trace.finished
        assert new.trace.problem == orig.trace.problem
        assert new.trace.solution == orig.trace.solution  # the final solution is untouched
        steps = splitter.split(orig.trace.thought)
        if row["kept_steps"] is not None:
            assert splitter.split(new.trace.thought) == [steps[i] for i in row["kept_steps"]]
        else:
            assert new.trace.thought == orig.trace.thought
        response = row["messages"][-1]["content"]
        assert response.startswith("<think>\n") and response.count("</think>") == 1
    assert summary["this_run"]["validator"]["clipped"] > 0  # R1 traces exceed the tiny validator's window
