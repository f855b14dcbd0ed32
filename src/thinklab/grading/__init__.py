"""Answer grading: extraction, mathematical equivalence, format checks. Pure functions, no model.

Typical use::

    from thinklab.grading import grade, is_equivalent, group_equivalent

    grade("\\frac12", response).correct      # extract the answer from a response, then compare
    is_equivalent("1,000", "1000")           # compare two answers (or responses)
    group_equivalent(["1/2", "0.5", "2"])    # [[0, 1], [2]]: equivalence classes for voting

Everything here is safe to call from threads and worker processes (time limits do not rely on
``signal.alarm`` off the main thread) and never evaluates its input as Python code.
"""

from thinklab.grading.equivalence import (
    DEFAULT_TIMEOUT_S,
    REL_TOL,
    answers_equivalent,
    compare,
    group_equivalent,
    is_equivalent,
)
from thinklab.grading.extract import (
    POLICIES,
    THINK_TAGS,
    Extraction,
    PolicyError,
    ThinkSplit,
    check_policy,
    extract_answer,
    extract_boxed,
    extract_last_number,
    find_answer,
    split_thinking,
    strip_thinking,
    thinking_closed,
)
from thinklab.grading.format import (
    FormatResult,
    check_final_format,
    detect_thinking,
    has_final_line,
    is_degenerate,
)
from thinklab.grading.grade import REASONS, GradeResult, grade
from thinklab.grading.timeouts import shutdown_workers

__all__ = [
    "DEFAULT_TIMEOUT_S",
    "POLICIES",
    "REASONS",
    "REL_TOL",
    "THINK_TAGS",
    "Extraction",
    "FormatResult",
    "GradeResult",
    "PolicyError",
    "ThinkSplit",
    "answers_equivalent",
    "check_final_format",
    "check_policy",
    "compare",
    "detect_thinking",
    "extract_answer",
    "extract_boxed",
    "extract_last_number",
    "find_answer",
    "grade",
    "group_equivalent",
    "has_final_line",
    "is_degenerate",
    "is_equivalent",
    "shutdown_workers",
    "split_thinking",
    "strip_thinking",
    "thinking_closed",
]
