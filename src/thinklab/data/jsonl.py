"""JSONL files as every thinklab stage reads and writes them.

Three guarantees the rest of the package builds on:

- A bad line is reported by file and 1-based line number (`DataError`), or, with `on_error="skip"`,
  dropped and *recorded* (`rows.bad_lines`) so the caller can say how many it lost.
- `append_jsonl` fsyncs each batch, so a killed run loses at most the batch in flight; the only damage
  a kill can leave is a half-written LAST line, which `read_jsonl(..., allow_partial_last_line=True)`
  drops with a flag (resume logic relies on this) and the next `append_jsonl` cuts off.
- `write_jsonl` replaces a file atomically, so a reader never sees a half-written result file.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

from thinklab.errors import DataError

OnError = Literal["raise", "skip"]
_EXCERPT = 80
# Longest line read: far above any real record (a 32k-token trace is ~150 KB; a rollout row with 16
# roll-outs ~2 MB) yet low enough that one runaway line cannot take the machine's memory, nor become a
# prompt that asks a backend for a ~100 GB cache. `max_line_bytes=` or THINKLAB_MAX_LINE_BYTES raise it.
MAX_LINE_BYTES = 16 * 2**20


def _max_line_bytes(limit: int | None) -> int:
    if limit is not None:
        return limit
    env = os.environ.get("THINKLAB_MAX_LINE_BYTES")
    return int(env) if env and env.isdigit() else MAX_LINE_BYTES


def _lines(f: Any, limit: int, path: Path) -> Iterable[tuple[int, bytes]]:
    """(1-based number, raw line) pairs; a line longer than `limit` bytes is a DataError, found
    after reading at most `limit + 1` bytes of it (never the whole line into memory)."""
    lineno = 0
    while True:
        raw = f.readline(limit + 1)
        if not raw:
            return
        lineno += 1
        if len(raw) > limit:
            raise DataError(
                f"{path}:{lineno}: line longer than {limit} bytes (the limit; raise it with "
                "THINKLAB_MAX_LINE_BYTES if the line is meant to be this long)"
            )
        yield lineno, raw


class JsonlRows(list[dict[str, Any]]):
    """The rows of a JSONL file (a plain list of dicts) plus what the reader had to drop.

    `line_numbers[i]` is the 1-based line of `self[i]`; `bad_lines` are the lines skipped with
    `on_error="skip"` (with `errors` the matching messages); `partial_last_line` is True when a
    truncated final line was dropped under `allow_partial_last_line=True`.
    """

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self.line_numbers: list[int] = []
        self.bad_lines: list[int] = []
        self.errors: list[str] = []
        self.partial_last_line = False

    @property
    def n_bad(self) -> int:
        return len(self.bad_lines)


def _excerpt(text: str) -> str:
    text = text.strip()
    return text if len(text) <= _EXCERPT else text[:_EXCERPT] + "..."


def _parse_line(raw: bytes, lineno: int, path: Path) -> dict[str, Any]:
    """Decode one line; raise DataError naming file and line when it is not a JSON object."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}:{lineno}: not valid UTF-8 ({exc.reason})") from None
    if lineno == 1:
        text = text.removeprefix("\ufeff")  # a BOM from editors on Windows is not an error
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}:{lineno}: invalid JSON ({exc.msg}): {_excerpt(text)!r}") from None
    if not isinstance(value, dict):
        raise DataError(
            f"{path}:{lineno}: expected a JSON object, got {type(value).__name__}: {_excerpt(text)!r}"
        )
    return value


def read_jsonl(
    path: str | os.PathLike[str],
    on_error: OnError = "raise",
    *,
    allow_partial_last_line: bool = False,
    max_line_bytes: int | None = None,
) -> JsonlRows:
    """Read a JSONL file of objects; blank lines are ignored.

    A line over `max_line_bytes` (default `MAX_LINE_BYTES`) is an error naming file and line, whatever
    `on_error` says: skipping it would hide that the file is not what the user meant to feed in.

    A partial last line is a final line with no trailing newline that does not parse: what a process
    killed mid-write leaves. It is only forgiven when `allow_partial_last_line=True` (resume logic); in
    a dataset it is a real error and treated like any other bad line.
    """
    if on_error not in ("raise", "skip"):
        raise ValueError(f"on_error must be 'raise' or 'skip', not {on_error!r}")
    path = Path(path)
    rows = JsonlRows(path)
    limit = _max_line_bytes(max_line_bytes)
    try:
        with open(path, "rb") as f:
            for lineno, raw in _lines(f, limit, path):  # streamed: trace files can be gigabytes
                if not raw.strip():
                    continue
                try:
                    rows.append(_parse_line(raw, lineno, path))
                except DataError as exc:
                    # Only the final line can lack its newline: that is the mark of a torn write.
                    if allow_partial_last_line and not raw.endswith(b"\n"):
                        rows.partial_last_line = True
                        continue
                    if on_error == "raise":
                        raise
                    rows.bad_lines.append(lineno)
                    rows.errors.append(str(exc))
                    continue
                rows.line_numbers.append(lineno)
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a directory, expected a .jsonl file") from None
    return rows


def _dumps(records: Iterable[Mapping[str, Any]]) -> str:
    """Serialise every record before touching the file, so a bad record writes nothing."""
    out = []
    for record in records:
        if not isinstance(record, Mapping):
            raise TypeError(f"JSONL records must be mappings, got {type(record).__name__}")
        out.append(json.dumps(dict(record), ensure_ascii=False) + "\n")
    return "".join(out)


def _cut_partial_tail(path: Path) -> None:
    """If the file ends in an unterminated line, terminate it (valid JSON) or cut it off (a torn write).

    Without this, the first record appended after a kill would be glued onto the torn line and corrupt
    a line in the middle of the file, where no reader forgives it.
    """
    size = path.stat().st_size
    if size == 0:
        return
    with open(path, "rb+") as f:
        start = size
        tail = b""
        while start > 0:
            step = min(65536, start)
            start -= step
            f.seek(start)
            tail = f.read(step) + tail
            if tail.endswith(b"\n"):
                return
            cut = tail.rfind(b"\n")
            if cut >= 0:
                start, tail = start + cut + 1, tail[cut + 1 :]
                break
        try:
            ok = isinstance(json.loads(tail.decode("utf-8")), dict)
        except (UnicodeDecodeError, json.JSONDecodeError):
            ok = False
        if ok:
            f.seek(size)
            f.write(b"\n")
        else:
            f.truncate(start)
        f.flush()
        os.fsync(f.fileno())


def append_jsonl(path: str | os.PathLike[str], records: Iterable[Mapping[str, Any]]) -> int:
    """Append one batch of records and fsync it; returns how many were written.

    Call it once per finished batch: after it returns the batch survives a SIGKILL or power loss.
    """
    path = Path(path)
    text = _dumps(records)
    if not text:
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        _cut_partial_tail(path)
    with open(path, "a", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    return text.count("\n")


def write_jsonl(path: str | os.PathLike[str], records: Iterable[Mapping[str, Any]]) -> int:
    """Write all records to `path`, replacing it atomically (temp file in the same folder + os.replace)."""
    path = Path(path)
    text = _dumps(records)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return text.count("\n")
