"""The two records every part of thinklab passes around: a `Problem` to solve and a `Trace` that solves it.

They are plain dataclasses (not pydantic) so that methods can build them cheaply in tight loops and
serialise them with `to_dict`/`from_dict` into the JSONL files that methods hand each other.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One benchmark or training item. `answer` is the gold answer as a string (never empty)."""

    id: str
    problem: str
    answer: str
    source: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, row: dict[str, Any], source: str = "") -> Problem:
        """Build from a JSON row of `{id, problem, answer, ...}`; unknown keys go to `metadata`."""
        known = {"id", "problem", "answer", "source", "metadata"}
        metadata = dict(row.get("metadata") or {})
        metadata.update({k: v for k, v in row.items() if k not in known})
        return cls(
            id=str(row["id"]),
            problem=str(row["problem"]),
            answer=str(row["answer"]),
            source=str(row.get("source") or source),
            metadata=metadata,
        )
