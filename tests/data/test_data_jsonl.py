"""JSONL reading and writing: line-numbered errors, skip mode, torn last lines, atomic and durable writes."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from thinklab.data.jsonl import append_jsonl, read_jsonl, write_jsonl
from thinklab.errors import DataError

ROWS = [{"id": 1, "text": "héllo \u2028 line sep"}, {"id": 2, "nested": {"a": [1, 2]}}]


def test_write_then_read_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "out.jsonl"
    assert write_jsonl(path, ROWS) == 2
    rows = read_jsonl(path)
    assert rows == ROWS and rows.line_numbers == [1, 2] and rows.n_bad == 0
    assert [p.name for p in path.parent.iterdir()] == ["out.jsonl"]  # no temp file left behind


def test_write_replaces_and_a_bad_record_leaves_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    write_jsonl(path, ROWS)
    with pytest.raises(TypeError):
        write_jsonl(path, [{"ok": 1}, {"bad": object()}])
    assert read_jsonl(path) == ROWS
    write_jsonl(path, [{"new": True}])
    assert read_jsonl(path) == [{"new": True}]


def test_malformed_line_names_file_line_and_excerpt(tmp_path: Path) -> None:
    path = tmp_path / "data.jsonl"
    path.write_text('{"a": 1}\n\n{"a": 2,, oops}\n{"a": 3}\n')
    with pytest.raises(DataError, match=r"data\.jsonl:3: invalid JSON .*oops") as info:
        read_jsonl(path)
    assert "\n" not in str(info.value)


def test_non_object_values_are_errors(tmp_path: Path) -> None:
    path = tmp_path / "data.jsonl"
    path.write_text('{"a": 1}\n[1, 2]\n')
    with pytest.raises(DataError, match=r"data\.jsonl:2: expected a JSON object, got list"):
        read_jsonl(path)


def test_skip_mode_counts_bad_lines_and_keeps_good_ones(tmp_path: Path) -> None:
    path = tmp_path / "data.jsonl"
    path.write_bytes(b'{"a": 1}\nnot json\n\n"str"\n{"a": 2}\n\xff\xfe\n{"a": 3}\n')
    rows = read_jsonl(path, on_error="skip")
    assert rows == [{"a": 1}, {"a": 2}, {"a": 3}]
    assert rows.line_numbers == [1, 5, 7]
    assert rows.bad_lines == [2, 4, 6] and rows.n_bad == 3
    assert "not valid UTF-8" in rows.errors[2]


def test_truncated_last_line_is_dropped_only_when_allowed(tmp_path: Path) -> None:
    path = tmp_path / "samples.jsonl"
    path.write_text('{"id": 1}\n{"id": 2}\n{"id": 3, "text": "half writ')
    with pytest.raises(DataError, match=":3:"):
        read_jsonl(path)
    rows = read_jsonl(path, allow_partial_last_line=True)
    assert rows == [{"id": 1}, {"id": 2}] and rows.partial_last_line and rows.n_bad == 0


def test_bad_line_in_the_middle_is_not_forgiven_as_partial(tmp_path: Path) -> None:
    path = tmp_path / "samples.jsonl"
    path.write_text('{"id": 1}\n{"id": 2, "tex\n{"id": 3}\n')
    with pytest.raises(DataError, match=":2:"):
        read_jsonl(path, allow_partial_last_line=True)


def test_last_line_without_newline_is_kept_when_valid(tmp_path: Path) -> None:
    path = tmp_path / "hand.jsonl"
    path.write_text('{"id": 1}\n{"id": 2}')
    rows = read_jsonl(path, allow_partial_last_line=True)
    assert rows == [{"id": 1}, {"id": 2}] and not rows.partial_last_line


def test_append_after_a_torn_write_cuts_the_torn_line(tmp_path: Path) -> None:
    path = tmp_path / "samples.jsonl"
    assert append_jsonl(path, [{"id": 1}, {"id": 2}]) == 2
    with open(path, "a") as f:  # what a SIGKILL mid-write leaves behind
        f.write('{"id": 3, "resp')
    append_jsonl(path, [{"id": 3}])
    assert read_jsonl(path) == [{"id": 1}, {"id": 2}, {"id": 3}]


def test_append_after_a_valid_unterminated_line_keeps_it(tmp_path: Path) -> None:
    path = tmp_path / "hand.jsonl"
    path.write_text('{"id": 1}')
    append_jsonl(path, [{"id": 2}])
    assert path.read_text() == '{"id": 1}\n{"id": 2}\n'


def test_append_writes_one_line_per_record(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    append_jsonl(path, ROWS)
    append_jsonl(path, [])
    append_jsonl(path, ROWS[:1])
    lines = path.read_text(encoding="utf-8").split("\n")
    assert lines[-1] == "" and [json.loads(x) for x in lines[:-1]] == [*ROWS, ROWS[0]]


def test_missing_file_and_bad_mode(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such file"):
        read_jsonl(tmp_path / "nope.jsonl")
    with pytest.raises(ValueError, match="on_error"):
        read_jsonl(tmp_path / "nope.jsonl", on_error="ignore")  # type: ignore[arg-type]


_WRITER = """
import sys
from thinklab.data.jsonl import append_jsonl
path, i = sys.argv[1], 0
while True:
    append_jsonl(path, [{"id": i + k, "text": "x" * 2000} for k in range(10)])
    i += 10
"""


def test_sigkilled_writer_loses_at_most_the_batch_in_flight(tmp_path: Path) -> None:
    """A real process appending batches is SIGKILLed; the file must read back as a clean prefix."""
    path = tmp_path / "samples.jsonl"
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(path)])
    try:
        deadline = time.monotonic() + 30
        while (not path.exists() or path.stat().st_size < 200_000) and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        proc.kill()  # SIGKILL, this test's own child only
        proc.wait()
    rows = read_jsonl(path, allow_partial_last_line=True)
    assert len(rows) >= 10 and [r["id"] for r in rows] == list(range(len(rows)))
    append_jsonl(path, [{"id": len(rows)}])
    assert [r["id"] for r in read_jsonl(path)] == list(range(len(rows) + 1))


def test_an_oversized_line_is_an_error_naming_file_and_line(tmp_path: Path, monkeypatch) -> None:
    # Issue 25: a 50 MB problem line once became a prompt that asked for a ~100 GB KV cache.
    path = tmp_path / "big.jsonl"
    big = json.dumps({"id": "b", "problem": "x" * 5000, "answer": "1"})
    path.write_text(json.dumps(ROWS[0]) + "\n" + big + "\n" + json.dumps(ROWS[1]) + "\n")
    with pytest.raises(DataError, match=r"big\.jsonl:2: line longer than 1000 bytes"):
        read_jsonl(path, max_line_bytes=1000)
    with pytest.raises(DataError, match=r":2: line longer than"):  # skip mode does not hide it either
        read_jsonl(path, on_error="skip", max_line_bytes=1000)
    monkeypatch.setenv("THINKLAB_MAX_LINE_BYTES", "1000")
    with pytest.raises(DataError, match=r":2: line longer than 1000 bytes"):
        read_jsonl(path)
    monkeypatch.setenv("THINKLAB_MAX_LINE_BYTES", "100000")
    assert [r["id"] for r in read_jsonl(path)] == [1, "b", 2]
    # the default limit: a line of 17 MiB (no newline needed to trip it) fails without parsing
    monkeypatch.delenv("THINKLAB_MAX_LINE_BYTES")
    path.write_bytes(b'{"problem": "' + b"y" * (17 * 2**20))
    with pytest.raises(DataError, match=r":1: line longer than 16777216 bytes"):
        read_jsonl(path)


def test_lines_at_the_limit_still_read(tmp_path: Path) -> None:
    path = tmp_path / "edge.jsonl"
    line = json.dumps({"t": "z" * 80}) + "\n"
    path.write_text(line * 3)
    assert len(read_jsonl(path, max_line_bytes=len(line.encode()))) == 3
