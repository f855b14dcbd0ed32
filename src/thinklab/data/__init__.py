"""The data layer: problems, reasoning traces and their tag formats, JSONL I/O, training-data formats.

Everything here is plain Python (no model, no torch), so every other part of thinklab can import it.
"""

from thinklab.data.jsonl import JsonlRows, append_jsonl, read_jsonl, write_jsonl
from thinklab.data.problem import Problem
from thinklab.data.traces import (
    FORMATS,
    Trace,
    TraceRecord,
    detect_format,
    join_steps,
    parse_response,
    read_traces,
    render_response,
    split_steps,
)
from thinklab.data.writers import Example, Pair, read_examples, read_pairs, write_examples, write_pairs

__all__ = [
    "FORMATS",
    "Example",
    "JsonlRows",
    "Pair",
    "Problem",
    "Trace",
    "TraceRecord",
    "append_jsonl",
    "detect_format",
    "join_steps",
    "parse_response",
    "read_examples",
    "read_jsonl",
    "read_pairs",
    "read_traces",
    "render_response",
    "split_steps",
    "write_examples",
    "write_jsonl",
    "write_pairs",
]
