"""One call from a model response to a verdict with its reason: extraction + equivalence."""

from __future__ import annotations

from dataclasses import dataclass

from thinklab.grading.equivalence import DEFAULT_TIMEOUT_S, compare
from thinklab.grading.extract import check_policy, find_answer, split_thinking

__all__ = ["REASONS", "GradeResult", "grade"]

# Every reason `grade` can give; evaluation reports count them, so a rise in "timeout" or "no_answer" is
# visible instead of hiding inside the accuracy.
REASONS = ("equivalent", "not_equivalent", "no_answer", "unclosed_thinking", "timeout", "refused")


@dataclass(frozen=True)
class GradeResult:
    """The extracted answer (None when there was none), whether it is correct, why, and which extraction
    step found the answer (`find_answer`; None when nothing was found)."""

    pred: str | None
    correct: bool
    reason: str
    step: str | None = None


def grade(
    gold: str,
    response: str,
    *,
    last_number: bool = False,
    timeout: float = DEFAULT_TIMEOUT_S,
    policy: str = "strict",
    truncated: bool = False,
    close: str | None = None,
) -> GradeResult:
    """Grade a full model response against a gold answer.

    The answer is extracted with `find_answer` (thinking stripped first; ``policy`` is ``"strict"`` or
    ``"harness"``; ``last_number`` enables the GSM8K fallback; ``truncated`` marks output cut off by the
    token budget, which no fallback may credit; ``close`` is the family's end-of-thinking marker) and
    compared with `compare`. A response whose thinking never closed is wrong with reason
    ``"unclosed_thinking"``: it was cut off before answering. `is_equivalent` on the whole response takes
    the same path, so the two never disagree.
    """
    check_policy(policy)
    if split_thinking(response or "", close).answer is None:
        return GradeResult(None, False, "unclosed_thinking")
    found = find_answer(
        response or "", policy=policy, last_number=last_number, truncated=truncated, close=close
    )
    if found is None:
        return GradeResult(None, False, "no_answer")
    correct, reason = compare(gold, found.answer, timeout=timeout, policy=policy)
    return GradeResult(found.answer, correct, reason, found.step)
