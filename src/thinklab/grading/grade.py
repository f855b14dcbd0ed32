"""One call from a model response to a verdict with its reason: extraction + equivalence."""

from __future__ import annotations

from dataclasses import dataclass

from thinklab.grading.equivalence import DEFAULT_TIMEOUT_S, compare
from thinklab.grading.extract import extract_answer, split_thinking

__all__ = ["REASONS", "GradeResult", "grade"]

# Every reason `grade` can give; evaluation reports count them, so a rise in "timeout" or "no_answer" is
# visible instead of hiding inside the accuracy.
REASONS = ("equivalent", "not_equivalent", "no_answer", "unclosed_thinking", "timeout", "refused")


@dataclass(frozen=True)
class GradeResult:
    """The extracted answer (None when there was none), whether it is correct, and why."""

    pred: str | None
    correct: bool
    reason: str


def grade(
    gold: str, response: str, *, last_number: bool = False, timeout: float = DEFAULT_TIMEOUT_S
) -> GradeResult:
    """Grade a full model response against a gold answer.

    The answer is extracted with `extract_answer` (thinking stripped first; ``last_number`` enables the
    GSM8K fallback) and compared with `compare`. A response whose thinking never closed is wrong with reason
    ``"unclosed_thinking"``: it was cut off before answering.
    """
    if split_thinking(response or "").answer is None:
        return GradeResult(None, False, "unclosed_thinking")
    pred = extract_answer(response or "", last_number=last_number)
    if pred is None:
        return GradeResult(None, False, "no_answer")
    correct, reason = compare(gold, pred, timeout=timeout)
    return GradeResult(pred, correct, reason)
