"""Format checks used as rewards and filters: QT-R1's ``Final:`` format, AutoThink's think/no-think
detection, and AutoThink's degeneration detector.

These are rules copied from the methods' code (see shared/specs/methods.md), kept exact where the method
depends on them and documented where thinklab extends them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "FormatResult",
    "check_final_format",
    "detect_thinking",
    "has_final_line",
    "is_degenerate",
]

# QT-R1's verifier: (?mi)^\s*final\s*:\s*(.+?)\s*$ on the last non-empty line (case-insensitive).
_FINAL_LINE_RE = re.compile(r"^\s*final\s*:\s*(.*?)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class FormatResult:
    """Outcome of `check_final_format`.

    ``steps`` counts the non-empty lines before the ``Final:`` line (QT-R1's reasoning steps). ``reason`` is
    ``"ok"``, ``"empty"``, ``"no_final_line"``, ``"placeholder_value"``, ``"too_few_steps"`` or
    ``"too_many_steps"``.
    """

    passed: bool
    steps: int
    reason: str


def _final_value(line: str) -> str | None:
    """The value of a ``Final: <value>`` line, or None when the line is not one."""
    m = _FINAL_LINE_RE.match(line)
    return m.group(1) if m else None


def _is_placeholder(value: str) -> bool:
    # QT-R1's prompt shows "Final: <single-line final answer>"; a model that copies the template verbatim
    # must not pass. Any angle bracket counts, as in the original check (so "Final: x < 3" fails too).
    return not value or "<" in value or ">" in value or "single-line" in value.lower()


def has_final_line(text: str) -> bool:
    """QT-R1's verifier (``verify_star_integrity_relaxed.py``): the last non-empty line is
    ``Final: <value>`` with a real (non-template) value, and at least two non-empty lines come before it.

    `check_final_format` adds the upper bound on the number of steps and says which rule failed.
    """
    return check_final_format(text, max_steps=10**9).passed


def check_final_format(text: str, max_steps: int = 8, min_steps: int = 2) -> FormatResult:
    """QT-R1's output-format rule: reasoning lines then a last line ``Final: <value>``.

    Passes when the last non-empty line is a ``Final:`` line with a non-placeholder value and the number of
    non-empty lines before it is between ``min_steps`` (2) and ``max_steps`` (8, the "≤8 steps" the QT-R1
    prompt asks for).
    """
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return FormatResult(False, 0, "empty")
    steps = len(lines) - 1
    value = _final_value(lines[-1])
    if value is None:
        return FormatResult(False, len(lines), "no_final_line")
    if _is_placeholder(value):
        return FormatResult(False, steps, "placeholder_value")
    if steps < min_steps:
        return FormatResult(False, steps, "too_few_steps")
    if steps > max_steps:
        return FormatResult(False, steps, "too_many_steps")
    return FormatResult(True, steps, "ok")


_EMPTY_THINK_RE = re.compile(r"<think>\s*</think>")


def detect_thinking(text: str) -> bool:
    """AutoThink's mode detection: False when the text is a no-think response, True otherwise.

    AutoThink (``deepscaler/rewards/math_reward.py``) decides ``think=False`` iff
    ``"<think>\\n...\\n</think>\\n\\n" in text`` (its ellipsis prompt closed at once) or
    ``text.startswith("</think>\\n\\n")`` (scoring the response alone). thinklab also treats a think block
    closed with only whitespace inside (``<think>\\n</think>``) as no-think: it carries no reasoning either.
    Text with no tags at all counts as thinking, as in AutoThink, whose input always contains the
    ``<think>`` of the prompt.
    """
    if "<think>\n...\n</think>\n\n" in text or text.startswith("</think>\n\n"):
        return False
    return _EMPTY_THINK_RE.search(text) is None


def is_degenerate(
    text: str, *, max_ngram: int = 30, min_repeats: int = 10, max_token_chars: int = 120
) -> bool:
    """AutoThink's degeneration detector: a long repetition loop or a garbage token.

    True when some n-gram of ``n <= max_ngram`` whitespace-separated words repeats ``min_repeats`` (10)
    times in a row, or when one whitespace-separated token is at least ``max_token_chars`` (120) long.
    AutoThink turns a wrong answer's reward into -2 when this fires, to punish loops harder than errors.
    """
    words = text.split()
    if any(len(word) >= max_token_chars for word in words):
        return True
    for n in range(1, max_ngram + 1):
        needed = (min_repeats - 1) * n  # words[j] == words[j + n] for this many consecutive j
        if len(words) < needed + n:
            break
        run = 0
        for j in range(len(words) - n):
            if words[j] == words[j + n]:
                run += 1
                if run >= needed:
                    return True
            else:
                run = 0
    return False
