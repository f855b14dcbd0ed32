"""Inputs and outputs of compression: traces in, SFT rows with per-sample statistics out.

Input: any trace file `thinklab.data.read_traces` reads (R1 / Sky / s1 tags; `{problem, response}`,
`{problem, thinking, final_solution}`, sharegpt or messages rows), e.g. /work/shared/traces/. A system
prompt in a chat row is kept and written back out.

Output: one SFT row per trace, in `messages` or `sharegpt` format (what `thinklab train sft` and
LLaMA-Factory read), whose assistant turn is the trace re-rendered *in its own tag format* with the
compressed thought, plus the seed's statistics (`rate` = compressed / original thought tokens,
`search_steps`) and thinklab's (`status`, kept step indices, token counts, validator requests).

`thinklab tiny data --out-format traces --n 1000 --out traces.jsonl` writes verbose arith training traces
in the tiny model's format (the input of the tiny-model experiment, recipes/tiny/compress.yaml), as does
`write_arith_traces` here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from thinklab.data.jsonl import read_jsonl, write_jsonl
from thinklab.data.traces import Trace, render_response, trace_from_row
from thinklab.data.writers import Example, split_chat, to_messages, to_sharegpt
from thinklab.errors import DataError, ThinklabError
from thinklab.tasks import arith

OUT_FORMATS = ("messages", "sharegpt")


@dataclass
class TraceItem:
    """One input trace with a unique key (its id; `#k` appended to repeats) and its system prompt."""

    key: str
    trace: Trace
    answer: str | None
    system: str | None
    line: int


def load_items(
    path: str | os.PathLike[str], fmt: str | None = None, limit: int | None = None
) -> list[TraceItem]:
    """Read traces (see `thinklab.data.read_traces`) keeping each row's system prompt."""
    rows = read_jsonl(path)
    items: list[TraceItem] = []
    seen: dict[str, int] = {}
    for row, lineno in zip(rows, rows.line_numbers, strict=True):
        try:
            trace, _ = trace_from_row(row, fmt)
            system = row.get("system")
            chat = row.get("messages", row.get("conversations"))
            if chat is not None:
                system, _, _ = split_chat(chat, system)
        except (ValueError, TypeError) as exc:
            raise DataError(f"{rows.path}:{lineno}: {exc}") from None
        base = str(row["id"]) if row.get("id") is not None else str(lineno - 1)
        seen[base] = seen.get(base, 0) + 1
        key = base if seen[base] == 1 else f"{base}#{seen[base] - 1}"
        answer = row.get("answer")
        items.append(TraceItem(key, trace, None if answer is None else str(answer), system, lineno))
        if limit is not None and len(items) >= limit:
            break
    return items


def output_row(
    item: TraceItem, thought: str | None, out_format: str, stats: dict[str, Any]
) -> dict[str, Any]:
    """The SFT row of a (compressed) trace in the input's tag format, with its statistics."""
    if out_format not in OUT_FORMATS:
        raise ThinklabError(f"unknown output format {out_format!r}; choose one of {', '.join(OUT_FORMATS)}")
    trace = item.trace if thought is None else item.trace.with_thought(thought)
    example = Example(item.trace.problem, render_response(trace), item.system)
    row = to_messages(example) if out_format == "messages" else to_sharegpt(example)
    return {"id": item.key, **row, **stats}


def write_arith_traces(
    path: str | os.PathLike[str], n: int, seed: int = 0, style: str = arith.SHIPPED_STYLE
) -> int:
    """`n` arith *train*-split traces in the tiny model's format: `{id, problem, response, answer, level}`
    with `response = "<think>\\n" + render_completion(p, style)`."""
    return write_jsonl(path, arith.train_traces(n, seed, style))
