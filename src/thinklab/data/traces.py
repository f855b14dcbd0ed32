"""Reasoning traces: a thinking section plus a solution, in the three tag formats the methods use.

| fmt     | rendered                                                                                   |
|---------|--------------------------------------------------------------------------------------------|
| `r1`    | `<think>\\n{thought}\\n</think>\\n\\n{solution}` (DeepSeek-R1, Qwen3, the R1 distills)        |
| `sky`   | `<|begin_of_thought|>\\n\\n{thought}\\n\\n<|end_of_thought|>\\n\\n<|begin_of_solution|>\\n\\n`  |
|         | `{solution}\\n\\n<|end_of_solution|>` (Sky-T1, Bespoke-Stratos, A*-Thought's output)        |
| `s1`    | `<|im_start|>think\\n{thought}\\n<|im_start|>answer\\n{solution}` (s1 / s1.1 training format) |
| `plain` | `{solution}` (no thinking section)                                                         |

What is normalised, so that `parse_response(render_response(t), t.fmt) == t` for every trace (and
without `fmt`, by auto-detection, for every trace that has a thought):
- `thought` and `solution` are stored without surrounding whitespace (`str.strip()`); the separators
  around them belong to the format and are re-added by `render_response`. Inner text is never touched.
- `thought=None` means the response has no thinking section; `thought=""` means an empty one
  (`<think>\\n\\n</think>`, what Qwen3's no-think mode emits). A trace without thought renders as its
  bare solution (Sky keeps its solution tags), so it round-trips with an explicit `fmt` only.
- An unfinished thought (budget ran out before the closing tag) renders without a closing tag and
  parses back as `closed=False` with an empty solution.
- An s1 solution loses one trailing `<|im_end|>`. A Sky solution is the text between
  `<|begin_of_solution|>` and the last `<|end_of_solution|>` (either may be missing: a truncated
  solution is kept); text outside those tags after the thought is dropped.
- Everything before the closing tag is thinking (one leading opening tag is removed), because a
  prompt that prefilled `<think>` makes the model start inside the thinking section.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from typing import Any

from thinklab.data.jsonl import OnError, read_jsonl
from thinklab.errors import DataError

FORMATS: tuple[str, ...] = ("r1", "sky", "s1", "plain")


@dataclass(frozen=True)
class Tags:
    """The markers of one format; `sol_open`/`sol_close` are empty where the format has none."""

    think_open: str
    think_close: str
    sol_open: str = ""
    sol_close: str = ""


TAGS: dict[str, Tags] = {
    "r1": Tags("<think>", "</think>"),
    "sky": Tags("<|begin_of_thought|>", "<|end_of_thought|>", "<|begin_of_solution|>", "<|end_of_solution|>"),
    "s1": Tags("<|im_start|>think", "<|im_start|>answer"),
}
_S1_END = "<|im_end|>"


@dataclass(frozen=True)
class Trace:
    """One model response split into its thinking section and its solution.

    `closed=False` marks a thinking section that never ended (the budget ran out mid-thought): the
    whole text is `thought` and `solution` is empty. Fields are stripped on construction (see module doc).
    """

    problem: str
    thought: str | None
    solution: str
    fmt: str = "r1"
    closed: bool = True

    def __post_init__(self) -> None:
        if self.fmt not in FORMATS:
            raise ValueError(f"unknown trace format {self.fmt!r}; expected one of {', '.join(FORMATS)}")
        if self.fmt == "plain" and self.thought is not None:
            raise ValueError("a 'plain' trace has no thinking section; use fmt r1, sky or s1")
        if not self.closed and (self.thought is None or self.solution.strip()):
            raise ValueError("an unfinished trace (closed=False) has a thought and no solution")
        object.__setattr__(self, "solution", self.solution.strip())
        if self.thought is not None:
            object.__setattr__(self, "thought", self.thought.strip())

    @property
    def finished(self) -> bool:
        """True when the thinking section (if any) was closed, i.e. the model reached its solution."""
        return self.closed

    @property
    def has_thought(self) -> bool:
        return self.thought is not None

    def with_thought(self, thought: str | None) -> Trace:
        """The same trace with another thinking section (e.g. a compressed one)."""
        return replace(self, thought=thought)

    def to_dict(self) -> dict[str, Any]:
        return {
            "problem": self.problem,
            "thought": self.thought,
            "solution": self.solution,
            "fmt": self.fmt,
            "closed": self.closed,
        }

    @classmethod
    def from_dict(cls, row: dict[str, Any]) -> Trace:
        """Inverse of `to_dict`, for methods that pass traces to each other as JSONL."""
        return cls(
            row.get("problem", ""),
            row["thought"],
            row["solution"],
            row.get("fmt", "r1"),
            row.get("closed", True),
        )


def detect_format(text: str) -> str:
    """Guess the format from the markers present; Sky's are checked first, then s1's, then R1's.

    Returns "plain" when no marker is present. The order matters only for a text that contains another
    format's markers inside its reasoning, which is rare; pass `fmt` explicitly when you know it.
    """
    sky = TAGS["sky"]
    if any(tag in text for tag in (sky.think_open, sky.think_close, sky.sol_open)):
        return "sky"
    if TAGS["s1"].think_open in text or TAGS["s1"].think_close in text:
        return "s1"
    if "<think>" in text or "</think>" in text:
        return "r1"
    return "plain"


def parse_response(text: str, fmt: str | None = None, *, problem: str = "", prefilled: bool = False) -> Trace:
    """Split a response into thought and solution.

    `fmt=None` auto-detects (`detect_format`). `prefilled=True` says the prompt already ended with the
    opening tag, so a response with no closing tag is an *unfinished* thought rather than a bare
    answer; with no markers at all and no `fmt`, a prefilled response is taken as R1.
    """
    if fmt is None:
        fmt = detect_format(text)
        if fmt == "plain" and prefilled:
            fmt = "r1"
    if fmt not in FORMATS:
        raise ValueError(f"unknown trace format {fmt!r}; expected one of {', '.join(FORMATS)}")
    if fmt == "plain":
        return Trace(problem, None, text, "plain")
    tags = TAGS[fmt]
    close = text.find(tags.think_close)
    if close < 0:
        body = text.lstrip()
        if body.startswith(tags.think_open):
            return Trace(problem, body[len(tags.think_open) :], "", fmt, closed=False)
        if prefilled:
            return Trace(problem, text, "", fmt, closed=False)
        return Trace(problem, None, _solution(text, tags, fmt), fmt)
    thought = text[:close].lstrip()
    thought = thought.removeprefix(tags.think_open)
    return Trace(problem, thought, _solution(text[close + len(tags.think_close) :], tags, fmt), fmt)


def _solution(rest: str, tags: Tags, fmt: str) -> str:
    """The solution part after the thinking section, without the format's solution markers."""
    if tags.sol_open:
        start = rest.find(tags.sol_open)
        if start >= 0:
            rest = rest[start + len(tags.sol_open) :]
        end = rest.rfind(tags.sol_close)
        if end >= 0:
            rest = rest[:end]
    if fmt == "s1":
        rest = rest.rstrip()
        rest = rest.removesuffix(_S1_END)
    return rest


def render_response(trace: Trace, *, prefilled: bool = False) -> str:
    """The response text of a trace in its format; `prefilled=True` leaves out the opening tag.

    Use `prefilled=True` to build the continuation of a prompt that already ends with the opening tag.
    A trace without thought renders as its bare solution (Sky: still inside the solution tags), so
    parse it back with an explicit `fmt`.
    """
    if trace.fmt == "plain":
        return trace.solution
    tags = TAGS[trace.fmt]
    sep = "\n\n" if trace.fmt == "sky" else "\n"  # between a tag and the text it wraps
    solution = trace.solution
    if trace.fmt == "sky":
        solution = f"{tags.sol_open}\n\n{solution}\n\n{tags.sol_close}"
    if trace.thought is None:
        return solution
    opening = "" if prefilled else tags.think_open + sep
    if not trace.closed:
        return f"{opening}{trace.thought}"
    after_close = "\n" if trace.fmt == "s1" else "\n\n"
    return f"{opening}{trace.thought}{sep}{tags.think_close}{after_close}{solution}"


def split_steps(thought: str, sep: str | re.Pattern[str] = "\n\n") -> list[str]:
    """Split a thought into steps as A*-Thought does: split on `sep`, strip, drop empty steps.

    `sep` is a plain string or a compiled regex (e.g. `re.compile(r"\\n\\s*\\n")`). Unlike A*-Thought's
    `if s`, whitespace-only pieces are dropped too, so a step is never empty.
    """
    pieces = sep.split(thought) if isinstance(sep, re.Pattern) else thought.split(sep)
    return [s.strip() for s in pieces if s.strip()]


def join_steps(steps: list[str], sep: str = "\n\n") -> str:
    """Rebuild a thought from (a subset of) its steps, in the order given."""
    return sep.join(steps)


# --- trace files ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TraceRecord:
    """A trace read from a file, with its id, the gold answer (if the row has one) and the other fields."""

    id: str
    trace: Trace
    answer: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


def _prompt_prefills(prompt: Any) -> bool:
    """Whether a raw prompt string ends inside a thinking section (e.g. `... <think>\\n`)."""
    if not isinstance(prompt, str):
        return False
    end = prompt.rstrip()
    return any(end.endswith(tags.think_open) for tags in TAGS.values())


def trace_from_row(row: dict[str, Any], fmt: str | None = None) -> tuple[Trace, set[str]]:
    """Build the Trace of one row and say which keys it consumed (the rest is metadata).

    Shapes: `{problem|question|prompt, response}` (the response is parsed, so a prefilled `<think>` at
    the end of `prompt` is honoured); `{problem, thinking, final_solution|solution}` when there is no
    response; sharegpt `{system?, conversations}`; `{messages}`.
    """
    from thinklab.data.writers import example_from_row

    problem_key = next((k for k in ("problem", "question", "prompt") if row.get(k) is not None), None)
    sol_key = next((k for k in ("final_solution", "solution") if k in row), None)
    pre_split = {"thinking", sol_key} if "thinking" in row and sol_key else set()
    if pre_split and "response" not in row:
        thinking = row["thinking"]
        trace = Trace(
            str(row[problem_key]) if problem_key else "",
            None if thinking is None else str(thinking),
            str(row[sol_key] or ""),
            fmt or str(row.get("fmt") or "r1"),
        )
        return trace, pre_split | {"fmt"} | ({problem_key} if problem_key else set())
    example = example_from_row(row)
    prefilled = "response" in row and _prompt_prefills(row.get("prompt"))
    trace = parse_response(example.response, fmt, problem=example.problem, prefilled=prefilled)
    # A row that has the response *and* its pre-split parts keeps neither copy in metadata.
    used = {"response", "messages", "conversations", "system", *pre_split}
    return trace, used | ({problem_key} if "response" in row else set())


def read_traces(
    path: str | os.PathLike[str], fmt: str | None = None, on_error: OnError = "raise"
) -> list[TraceRecord]:
    """Read reasoning traces from a JSONL file of any supported row shape (see `trace_from_row`).

    `fmt=None` auto-detects each response's format. A row without an `id` gets its 0-based line index.
    With `on_error="skip"` malformed lines are skipped (see `read_jsonl`); unusable rows still raise.
    """
    rows = read_jsonl(path, on_error)
    records = []
    for row, lineno in zip(rows, rows.line_numbers, strict=True):
        try:
            trace, used = trace_from_row(row, fmt)
        except (ValueError, TypeError) as exc:
            raise DataError(f"{rows.path}:{lineno}: {exc}") from None
        answer = row.get("answer")
        metadata = {k: v for k, v in row.items() if k not in used | {"id", "answer"}}
        records.append(
            TraceRecord(
                id=str(row["id"]) if row.get("id") is not None else str(lineno - 1),
                trace=trace,
                answer=None if answer is None else str(answer),
                metadata=metadata,
            )
        )
    return records
