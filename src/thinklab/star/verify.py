"""The STaR verifier: a response is kept only if its answer is right *and* its format is right.

QT-R1 split this in two scripts and so kept outputs that passed only one of them: the generator kept a
rationalised output it never re-checked, and the format verifier never looked at the answer. Here one
function decides, and every example that reaches training passed it.

- Answer: the value of the final `Final:` line must equal the gold answer (thinklab's equivalence);
  `grade()` is also recorded, so held-out accuracy can be reported with and without the format rule.
- Format (`thinklab.grading.check_final_format`): the last non-empty line is `Final: <value>`, with
  `min_steps`..`max_steps` reasoning lines before it. Lines that are only a thinking tag (`<think>`,
  `</think>`) are markup, not reasoning steps, so they are not counted; a thinking block that was opened
  and never closed fails (the response was cut off).
- Equations (optional, `check_equations`): every `a op b = c` with plain numbers in the reasoning must
  hold. A rationalisation prompt gives the model the answer; this stops a response that writes wrong
  arithmetic and then copies the hinted answer from being trained on. Off by default for real models
  (their traces round numbers), on in the tiny preset.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from fractions import Fraction

from thinklab.grading import check_final_format, grade, is_equivalent, split_thinking

_TAG_LINE = re.compile(r"^\s*</?think>\s*$")
_FINAL = re.compile(r"^\s*Final:\s*(.*?)\s*$")
_NUM = r"\d+(?:\.\d+)?"
# `a op b = c`, not inside a longer expression (no operator or word right before `a`, none after `c`).
_EQUATION = re.compile(
    rf"(?<![-+*/×÷^\w.])(?<![-+*/×÷^]\s)({_NUM})\s*([-+*/×÷])\s*({_NUM})\s*=\s*(-?{_NUM})(?![\w]|\.\d|\s*[-+*/×÷^(])"
)


@dataclass(frozen=True)
class Verdict:
    """Everything the loop records about one response."""

    ok: bool  # kept for training: final answer right, format right, equations hold
    correct: bool  # grade(): the extracted answer (any format) equals gold
    final_correct: bool  # the `Final:` value equals gold
    pred: str | None
    format_ok: bool
    format_reason: str
    steps: int
    equations_ok: bool

    def to_dict(self) -> dict:
        return asdict(self)


def reasoning_lines(text: str) -> str:
    """The response without lines that are only a thinking tag (markup, not steps)."""
    return "\n".join(line for line in text.splitlines() if not _TAG_LINE.match(line))


def equations_hold(text: str) -> bool:
    """True when every simple `a op b = c` in `text` is arithmetically true (exact rationals; no eval)."""
    for m in _EQUATION.finditer(text):
        a, op, b, c = Fraction(m.group(1)), m.group(2), Fraction(m.group(3)), Fraction(m.group(4))
        if op in "/÷":
            if b == 0:
                return False
            value = a / b
        elif op == "+":
            value = a + b
        elif op == "-":
            value = a - b
        else:
            value = a * b
        if value != c:
            return False
    return True


def verify(
    response: str,
    gold: str,
    *,
    max_steps: int = 8,
    min_steps: int = 2,
    check_equations: bool = False,
) -> Verdict:
    """Verify one full assistant response (thinking prefill included) against the gold answer."""
    graded = grade(gold, response)
    unclosed = split_thinking(response).status == "unclosed"
    fmt = check_final_format(reasoning_lines(response), max_steps=max_steps, min_steps=min_steps)
    format_ok, reason = fmt.passed, fmt.reason
    if unclosed:
        format_ok, reason = False, "unclosed_thinking"
    final_correct = False
    if format_ok:
        last = [line for line in response.splitlines() if line.strip()][-1]
        m = _FINAL.match(last)
        final_correct = bool(m and is_equivalent(gold, m.group(1)))
    eq_ok = equations_hold(response) if check_equations else True
    return Verdict(
        ok=format_ok and final_correct and eq_ok,
        correct=graded.correct,
        final_correct=final_correct,
        pred=graded.pred,
        format_ok=format_ok,
        format_reason=reason,
        steps=fmt.steps,
        equations_ok=eq_ok,
    )
