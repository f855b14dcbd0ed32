"""Trace formats: exact renderings, parse(render(t)) round-trips, edge cases, and the 40 real R1 traces."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from thinklab.data.jsonl import write_jsonl
from thinklab.data.traces import (
    Trace,
    detect_format,
    join_steps,
    parse_response,
    read_traces,
    render_response,
    split_steps,
)
from thinklab.data.writers import Example, to_messages, to_sharegpt
from thinklab.errors import DataError

THOUGHT = "First step.\n\nSecond step, with $x^2$.\n\nSo the answer is 4."
SOLUTION = "The answer is $\\boxed{4}$."


def test_exact_renderings_match_the_methods_formats() -> None:
    sky = render_response(Trace("q", THOUGHT, SOLUTION, "sky"))
    assert sky == (
        f"<|begin_of_thought|>\n\n{THOUGHT}\n\n<|end_of_thought|>\n\n"
        f"<|begin_of_solution|>\n\n{SOLUTION}\n\n<|end_of_solution|>"
    )
    s1 = render_response(Trace("q", THOUGHT, SOLUTION, "s1"))
    assert s1 == "<|im_start|>think\n" + THOUGHT + "\n<|im_start|>answer\n" + SOLUTION
    assert (
        render_response(Trace("q", THOUGHT, SOLUTION, "r1")) == f"<think>\n{THOUGHT}\n</think>\n\n{SOLUTION}"
    )
    assert render_response(Trace("q", None, SOLUTION, "plain")) == SOLUTION


@pytest.mark.parametrize("fmt", ["r1", "sky", "s1"])
@pytest.mark.parametrize("thought", [THOUGHT, "", None])
def test_round_trip_with_explicit_format(fmt: str, thought: str | None) -> None:
    trace = Trace("q", thought, SOLUTION, fmt)
    assert parse_response(render_response(trace), fmt, problem="q") == trace


@pytest.mark.parametrize("fmt", ["r1", "sky", "s1"])
def test_round_trip_autodetects_format(fmt: str) -> None:
    trace = Trace("q", THOUGHT, SOLUTION, fmt)
    assert parse_response(render_response(trace), problem="q") == trace
    assert detect_format(render_response(trace)) == fmt


@pytest.mark.parametrize("fmt", ["r1", "sky", "s1"])
def test_unfinished_thought_round_trips(fmt: str) -> None:
    trace = Trace("q", "Let me think about", "", fmt, closed=False)
    text = render_response(trace)
    assert parse_response(text, problem="q") == trace
    assert not parse_response(text).finished
    # The continuation of a prompt that prefilled the opening tag: no tags at all.
    cont = render_response(trace, prefilled=True)
    assert cont == "Let me think about"
    assert parse_response(cont, fmt, problem="q", prefilled=True) == trace


def test_prefilled_r1_response_without_opening_tag() -> None:
    trace = parse_response("  I think x=2.\n</think>\n\nSo $\\boxed{2}$.  ")
    assert (trace.fmt, trace.thought, trace.solution, trace.closed) == (
        "r1",
        "I think x=2.",
        "So $\\boxed{2}$.",
        True,
    )


def test_no_tags_is_plain_unless_prefilled() -> None:
    assert parse_response("just 4") == Trace("", None, "just 4", "plain")
    assert parse_response("still thinking", prefilled=True) == Trace(
        "", "still thinking", "", "r1", closed=False
    )


def test_s1_solution_drops_im_end_and_keeps_forced_answer_text() -> None:
    text = "<|im_start|>think\nhmm\n<|im_start|>answer\nFinal Answer: 7<|im_end|>\n"
    trace = parse_response(text)
    assert (trace.fmt, trace.thought, trace.solution) == ("s1", "hmm", "Final Answer: 7")


def test_sky_solution_without_end_tag_is_kept() -> None:
    text = "<|begin_of_thought|>\n\nt\n\n<|end_of_thought|>\n\n<|begin_of_solution|>\n\npartial sol"
    assert parse_response(text) == Trace("", "t", "partial sol", "sky")


def test_empty_think_block_differs_from_no_think_block() -> None:
    assert parse_response("<think>\n\n</think>\n\n42").thought == ""
    assert parse_response("42", "r1").thought is None


def test_dict_round_trip() -> None:
    for trace in (Trace("q", THOUGHT, SOLUTION, "sky"), Trace("q", "t", "", "s1", closed=False)):
        assert Trace.from_dict(json.loads(json.dumps(trace.to_dict()))) == trace


def test_invalid_traces_are_rejected() -> None:
    with pytest.raises(ValueError, match="unknown trace format"):
        Trace("q", "t", "s", "xml")
    with pytest.raises(ValueError, match="plain"):
        Trace("q", "t", "s", "plain")
    with pytest.raises(ValueError, match="unfinished"):
        Trace("q", "t", "s", "r1", closed=False)


def test_split_and_join_steps() -> None:
    assert split_steps("a\n\n\n\n  b \n\n \n\nc") == ["a", "b", "c"]
    assert split_steps("a\n \nb", re.compile(r"\n\s*\n")) == ["a", "b"]
    assert split_steps("x\ny", "\n") == ["x", "y"]
    steps = split_steps(THOUGHT)
    assert join_steps(steps) == THOUGHT
    assert join_steps([steps[0], steps[2]], "\n") == "First step.\nSo the answer is 4."


def test_all_real_r1_traces_parse(traces_file: Path) -> None:
    rows = [json.loads(line) for line in traces_file.read_text().splitlines() if line.strip()]
    records = read_traces(traces_file)
    assert len(records) == len(rows) == 40
    for record, row in zip(records, rows, strict=True):
        trace = record.trace
        assert trace.fmt == "r1" and trace.finished
        assert trace.thought == row["thinking"].strip()
        assert trace.solution == row["final_solution"].strip()
        assert trace.problem == row["problem"]
        assert record.id == row["id"] and record.answer == row["answer"]
        assert record.metadata["is_correct"] == row["is_correct"] and "response" not in record.metadata
        assert len(split_steps(trace.thought)) > 3
        for fmt in ("r1", "sky", "s1"):
            converted = Trace(trace.problem, trace.thought, trace.solution, fmt)
            assert parse_response(render_response(converted), problem=trace.problem) == converted


def test_read_traces_accepts_every_row_shape(tmp_path: Path) -> None:
    sky = Trace("What is 2+2?", THOUGHT, SOLUTION, "sky")
    r1 = Trace("What is 2+2?", THOUGHT, SOLUTION, "r1")
    rows = [
        {"id": "a", "prompt": "What is 2+2?", "response": render_response(r1), "answer": "4"},
        {"problem": "What is 2+2?", "thinking": THOUGHT, "final_solution": SOLUTION, "model": "m"},
        {**to_sharegpt(Example("What is 2+2?", render_response(sky), system="Sky-T1 system")), "rate": 0.5},
        to_messages(Example("What is 2+2?", render_response(r1))),
    ]
    path = tmp_path / "traces.jsonl"
    write_jsonl(path, rows)
    records = read_traces(path)
    assert [r.trace for r in records] == [r1, r1, sky, r1]
    assert [r.id for r in records] == ["a", "1", "2", "3"]
    assert records[0].answer == "4" and records[1].answer is None
    assert records[1].metadata == {"model": "m"}
    assert records[2].metadata == {"rate": 0.5}


def test_read_traces_names_the_line_of_an_unusable_row(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"problem": "p", "response": "r"}\n\n{"problem": "p"}\n')
    with pytest.raises(DataError, match=r"bad\.jsonl:3: unrecognised row"):
        read_traces(path)
