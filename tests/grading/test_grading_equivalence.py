"""Equivalence rules beyond plain Math-Verify, false-positive guards, voting groups and `grade`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from thinklab.grading import (
    REASONS,
    answers_equivalent,
    compare,
    grade,
    group_equivalent,
    is_equivalent,
)

EQUAL = [
    (r"\frac12", "0.5"),
    ("1,000", "1000"),
    ("1 000", "1000"),
    ("1,000,000", "10^6"),
    (r"11,\!111", "11111"),
    (r"90^\circ", "90"),
    (r"10\text{ cm}^2", "10"),
    ("64 square feet", "64"),
    ("10weeks", "10"),
    (r"\text{(B)}", "B"),
    ("(b)", r"\text{(B)}"),
    (r"\text{Evelyn}", "evelyn"),
    (r"\text{No solution}", "no solution"),
    ("[1,2)", "[1, 2)"),
    (r"(-\infty, 3]", r"\left(-\infty,3\right]"),
    (r"\{1,2\}", r"\{2,1\}"),
    ("3, 1, 2", "1, 2, 3"),
    ("(1,2)", r"\left( 1, 2 \right)"),
    ("x=3", "3"),
    ("3", "x=3"),
    (r"\dfrac{1}{3}", r"\frac13"),
    (r"1 \pm \sqrt{2}", r"1+\sqrt2, 1-\sqrt2"),
    (r"\pm 2021", r"\{-2021, 2021\}"),
    (r"50\%", "0.5"),
    (r"50\%", "50"),
    (r"40\pi", "125.664"),
    (r"\frac{\sqrt3}{2}", "0.8660254"),
    ("x^2+2x+1", "(x+1)^2"),
    (r"2\frac58", "2.625"),
    ("1 1/2", "1.5"),
    ("1+2i", "i(2-i)"),
    (r"e^{i\pi}", "-1"),
    (r"0.1\overline{6}", r"\frac16"),
    ("1000,99", "1000.99"),
    (r"\$5.00", "5"),
    ("20:34", r"08:34 \text{P.M.}"),
    (r"x \in [-2,7]", r"-2 \le x \le 7"),
    (r"\begin{pmatrix}1\\2\end{pmatrix}", "(1,2)"),
    (r"\frac13, \sqrt3, \pi", "1/3, 1.732, 3.1416"),
    (r"\sin(90^\circ - x)", r"\cos x"),
    ("2x+4y-3=0", r"y=-\frac{1}{2}x+\frac{3}{4}"),
]

NOT_EQUAL = [
    ("(1,2)", "(2,1)"),
    ("[1,2)", "(1,2)"),
    ("0.28", "28"),  # no percent sign: no x100 rescue (Math-Verify rejects this on purpose too)
    (r"28\%", "0.028"),
    ("5", "5.001"),
    ("12000023", "12000024"),  # integers are exact: no relative tolerance
    (r"\frac{1}{2004!}", r"\frac{1}{2006!}"),  # Math-Verify alone says equal (tiny values chopped to 0)
    ("2^{999999}", "3^{600000}"),  # both overflow a float; compared in arbitrary precision
    ("2^{100}", "2^{100}+1"),  # exact values compare exactly, not to a relative tolerance
    (r"10^{10^{6}}", r"10^{10^{6}}+1"),
    ("a+3z=0", "0"),
    ("7 = 11a+c", "11a+c"),
    ("odd", r"\text{oddd}"),
    ("x", "y"),
    (r"\pm 2", "2"),
    (r"\infty", r"-\infty"),
    ("x+2t", "x+2"),  # Math-Verify's unit list would strip the "t"
    ("2t", "2"),
    ("10m", "10"),  # a single letter may be a variable
    ("32349", "32, 349"),
    (r"\{1,2\}", r"\{1,2,3\}"),
    ("x>3", "x<3"),
    (r"x \geq 3", "x>3"),
    (r"\sqrt{2}", "1.41"),
    ("1/3", "0.33"),
    ("A", "B"),
    ("5x", "5"),
    ("-3", "3"),
    ("(0,1)", "[0,1]"),
    ("12:00", "1:00"),
    (r"1 - \frac{1}{\mathrm{e}}", r"1 + \frac{1}{\mathrm{e}}"),
]


@pytest.mark.parametrize(("gold", "pred"), EQUAL)
def test_equal(gold: str, pred: str) -> None:
    assert is_equivalent(gold, pred), compare(gold, pred)


@pytest.mark.parametrize(("gold", "pred"), NOT_EQUAL)
def test_not_equal(gold: str, pred: str) -> None:
    assert not is_equivalent(gold, pred), compare(gold, pred)


def test_whole_responses_are_accepted_on_either_side() -> None:
    response = "<think>maybe 3</think>\n\nAdding up, the total is $\\boxed{\\dfrac{7}{2}}$."
    assert is_equivalent("3.5", response)
    assert is_equivalent(r"\frac72", "Thus the answer is 7/2.")
    assert not is_equivalent("3", "<think>so 3")
    assert compare("3", "<think>so 3") == (False, "unclosed_thinking")


@pytest.mark.parametrize("bad", [None, "", "   "])
def test_missing_answers_are_never_equal(bad: Any) -> None:
    assert compare("1", bad) == (False, "no_answer")
    assert compare(bad, "1") == (False, "no_answer")


def test_nothing_is_evaluated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Input text never reaches sympy's ``parse_expr`` (which ``eval``s), except digit strings.

    sympy itself turns a numeric literal into a number with ``Number("0.25")`` -> ``parse_expr`` (inside
    latex2sympy, on tokens its lexer already limited to digits); that is the only use allowed here.
    Math-Verify's own ``parse_expr`` call for operator expressions must never be reached.
    """
    import math_verify.parser
    import sympy.parsing.sympy_parser as sympy_parser

    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("operator expression reached math_verify's parse_expr")

    seen: list[str] = []
    original = sympy_parser.parse_expr

    def spy(text: str, *args: Any, **kwargs: Any) -> Any:
        seen.append(text)
        return original(text, *args, **kwargs)

    monkeypatch.setattr(math_verify.parser, "parse_expr", forbidden)
    monkeypatch.setattr(sympy_parser, "parse_expr", spy)
    marker = tmp_path / "pwned"
    payloads = [
        f"__import__('os').system('touch {marker}')",
        f"The answer is __import__('os').system('touch {marker}')",
        "(1/2) * (1/2)",  # an operator expression: Math-Verify would hand this to parse_expr
        "The probability is (1/2) * (1/2)",
        "Lambda(x, x)(1)",
        "\\boxed{().__class__.__bases__[0].__subclasses__()}",
    ]
    for payload in payloads:
        for policy in ("strict", "harness"):
            compare("0.25", payload, policy=policy)
            compare(payload, "0.25", policy=policy)
    assert is_equivalent("0.25", "(1/2) * (1/2)")
    assert is_equivalent("0.25", "The answer is (1/2) * (1/2)")
    assert not marker.exists()
    assert all(re.fullmatch(r"[\d.\s]*", text) for text in seen), [t for t in seen if not t.strip().isdigit()]


def test_answers_equivalent_is_symmetric() -> None:
    assert answers_equivalent("x = 2", "2") and answers_equivalent("2", "x = 2")
    assert answers_equivalent(r"\frac{1}{2}", "0.5") and answers_equivalent("0.5", r"\frac{1}{2}")
    assert not answers_equivalent("2", "3")


def test_group_equivalent() -> None:
    answers = ["1/2", "0.5", "2", None, r"\frac{1}{2}", "x=2", "", r"\text{two}"]
    assert group_equivalent(answers) == [[0, 1, 4], [2, 5], [7]]
    assert group_equivalent([]) == []


def test_grade_reasons() -> None:
    assert grade("4", "<think>2+2</think> \\boxed{4}") == grade("4", "\\boxed{4}")
    result = grade("4", "<think>2+2</think> \\boxed{4}")
    assert (result.pred, result.correct, result.reason) == ("4", True, "equivalent")
    assert grade("4", "\\boxed{5}").reason == "not_equivalent"
    assert grade("4", "<think>2+2=4").reason == "unclosed_thinking"
    assert grade("4", "I am not sure.").reason == "no_answer"
    assert grade("4", "I have 4 apples").reason == "no_answer"
    gsm = grade("1234", "so she pays 1,234 dollars", last_number=True)
    assert gsm.correct and gsm.pred == "1234"
    assert {grade("1", x).reason for x in ("\\boxed{1}", "\\boxed{2}", "", "<think>")} <= set(REASONS)
