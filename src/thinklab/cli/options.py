"""Parsing shared by the commands' comma-separated integer options (--budgets, --levels, ...)."""

from __future__ import annotations

from thinklab.errors import ThinklabError


def int_list(
    spec: str,
    option: str,
    example: str,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    allow_empty: bool = False,
) -> tuple[int, ...]:
    """`"1,2,4"` -> `(1, 2, 4)`; a one-line ThinklabError naming `option` on anything else.

    An empty item (`64,,128`, a trailing comma) is an error, not skipped: it is most often a value
    lost in editing, and a sweep that silently runs one budget fewer than asked looks complete."""
    parts = spec.split(",")
    if spec.strip() and any(not x.strip() for x in parts):
        raise ThinklabError(
            f"malformed {option} {spec!r}: empty item; expected comma-separated integers like {example}"
        )
    try:
        values = tuple(int(x) for x in parts if x.strip())
    except ValueError:
        raise ThinklabError(
            f"malformed {option} {spec!r}: expected comma-separated integers like {example}"
        ) from None
    if not values and not allow_empty:
        raise ThinklabError(f"malformed {option} {spec!r}: give at least one value, e.g. {example}")
    if (minimum is not None and any(v < minimum for v in values)) or (
        maximum is not None and any(v > maximum for v in values)
    ):
        bounds = f"{minimum}..{maximum}" if maximum is not None else f">= {minimum}"
        raise ThinklabError(f"malformed {option} {spec!r}: values must be {bounds}")
    return values
