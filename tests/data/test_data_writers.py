"""Training-data writers: exact row shapes, and every writer's output read back by the readers."""

from __future__ import annotations

from pathlib import Path

import pytest

from thinklab.data.jsonl import read_jsonl, write_jsonl
from thinklab.data.traces import Trace, read_traces, render_response
from thinklab.data.writers import (
    Example,
    Pair,
    read_examples,
    read_pairs,
    to_alpaca,
    to_dpo,
    to_messages,
    to_sharegpt,
    write_examples,
    write_pairs,
)
from thinklab.errors import DataError

EXAMPLES = [
    Example("What is 2+2?", "<think>\nadd\n</think>\n\n4"),
    Example("What is 3+3?", "6", system="Be brief."),
]


def test_row_shapes() -> None:
    ex = EXAMPLES[1]
    assert to_messages(ex) == {
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "What is 3+3?"},
            {"role": "assistant", "content": "6"},
        ]
    }
    assert to_sharegpt(ex) == {
        "system": "Be brief.",
        "conversations": [{"from": "user", "value": "What is 3+3?"}, {"from": "assistant", "value": "6"}],
    }
    assert to_alpaca(EXAMPLES[0]) == {
        "instruction": "What is 2+2?",
        "input": "",
        "output": EXAMPLES[0].response,
    }
    assert to_dpo(Pair("p", "c", "r")) == {"prompt": "p", "chosen": "c", "rejected": "r"}
    assert to_dpo(Pair("p", "c", "r", "sys"), conversational=True) == {
        "prompt": [{"role": "system", "content": "sys"}, {"role": "user", "content": "p"}],
        "chosen": [{"role": "assistant", "content": "c"}],
        "rejected": [{"role": "assistant", "content": "r"}],
    }


@pytest.mark.parametrize("fmt", ["messages", "sharegpt", "alpaca"])
def test_sft_formats_round_trip(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"{fmt}.jsonl"
    assert write_examples(path, EXAMPLES, fmt) == 2
    assert read_examples(path) == EXAMPLES


def test_alpaca_instruction_round_trips_and_chat_prepends_it(tmp_path: Path) -> None:
    ex = Example("7 * 6", "Final: 42", instruction="Solve with concise steps.")
    path = tmp_path / "a.jsonl"
    write_examples(path, [ex], "alpaca")
    assert read_jsonl(path)[0] == {
        "instruction": "Solve with concise steps.",
        "input": "7 * 6",
        "output": "Final: 42",
    }
    assert read_examples(path) == [ex]
    assert to_messages(ex)["messages"][0]["content"] == "Solve with concise steps.\n\n7 * 6"


@pytest.mark.parametrize("conversational", [False, True])
def test_dpo_pairs_round_trip(tmp_path: Path, conversational: bool) -> None:
    pairs = [Pair("q1", "<think>\nlong\n</think>\n\n1", "1"), Pair("q2", "good", "bad")]
    if conversational:
        pairs.append(Pair("q3", "good", "bad", system="sys"))
    path = tmp_path / "dpo.jsonl"
    write_pairs(path, pairs, conversational=conversational)
    assert read_pairs(path) == pairs


def test_plain_dpo_rejects_a_system_prompt() -> None:
    with pytest.raises(ValueError, match="conversational"):
        to_dpo(Pair("p", "c", "r", system="s"))


def test_pairs_in_other_tools_shapes(tmp_path: Path) -> None:
    implicit = {  # TRL's implicit prompt; ThinkPO's release ([2] is the assistant)
        "chosen": [
            {"role": "system", "content": "s"},
            {"role": "user", "content": "q"},
            {"role": "assistant", "content": "c"},
        ],
        "rejected": [
            {"role": "system", "content": "s"},
            {"role": "user", "content": "q"},
            {"role": "assistant", "content": "r"},
        ],
    }
    llama_factory = {
        "conversations": [{"from": "human", "value": "q"}],
        "chosen": {"from": "gpt", "value": "c"},
        "rejected": {"from": "gpt", "value": "r"},
    }
    path = tmp_path / "p.jsonl"
    write_jsonl(path, [implicit, llama_factory])
    assert read_pairs(path) == [Pair("q", "c", "r", "s"), Pair("q", "c", "r")]


def test_reader_errors_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    write_jsonl(path, [to_messages(EXAMPLES[0]), {"messages": [{"role": "user", "content": "q"}]}])
    with pytest.raises(DataError, match=r"x\.jsonl:2: .*assistant"):
        read_examples(path)
    write_jsonl(path, [{"prompt": "p", "chosen": "c"}])
    with pytest.raises(DataError, match=r"x\.jsonl:1: .*rejected"):
        read_pairs(path)


def test_a_star_thought_output_reads_back_as_traces(tmp_path: Path) -> None:
    """The compression pipeline writes sharegpt rows with Sky tags; read_traces must recover them."""
    trace = Trace("What is 2+2?", "step one\n\nstep two", "$\\boxed{4}$", "sky")
    path = tmp_path / "compressed.jsonl"
    write_examples(path, [Example(trace.problem, render_response(trace), system="Sky-T1 prompt")], "sharegpt")
    (record,) = read_traces(path)
    assert record.trace == trace and record.id == "0"
