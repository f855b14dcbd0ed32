"""QT-R1's Final: format, AutoThink's think detection and degeneration detector."""

from __future__ import annotations

import pytest

from thinklab.grading import FormatResult, check_final_format, detect_thinking, has_final_line, is_degenerate


def test_final_format_passes() -> None:
    text = "1) 3 + 4 = 7\n\n2) 7 * 2 = 14\nFinal: 14\n\n"
    assert check_final_format(text) == FormatResult(True, 2, "ok")
    assert has_final_line(text)


@pytest.mark.parametrize(
    ("text", "reason", "steps"),
    [
        ("", "empty", 0),
        ("1) a\n2) b\nThe answer is 3", "no_final_line", 3),
        ("1) a\n2) b\nFinal: 3\nthanks", "no_final_line", 4),
        ("1) a\n2) b\nFinal: <single-line final answer>", "placeholder_value", 2),
        ("1) a\n2) b\nFinal: single-line answer", "placeholder_value", 2),
        ("1) a\n2) b\nFinal: x > 2", "placeholder_value", 2),  # QT-R1 rejects any angle bracket
        ("1) a\n2) b\nFinal:", "placeholder_value", 2),
        ("1) a\nFinal: 3", "too_few_steps", 1),
        ("\n".join(f"{i}) step" for i in range(1, 10)) + "\nFinal: 3", "too_many_steps", 9),
    ],
)
def test_final_format_failures(text: str, reason: str, steps: int) -> None:
    result = check_final_format(text)
    assert not result.passed
    assert (result.reason, result.steps) == (reason, steps)


def test_max_steps_is_configurable() -> None:
    text = "\n".join(f"{i}) step" for i in range(1, 10)) + "\nFinal: 3"
    assert check_final_format(text, max_steps=9).passed
    assert has_final_line(text)  # no upper bound on steps in the verifier itself
    assert has_final_line("a\nb\nfinal: 3")  # case-insensitive, like QT-R1's (?mi) regex
    assert not has_final_line("a\nFinal: 3")  # fewer than two lines before it
    assert not has_final_line("a\nb\nFinal: <answer>")
    assert not has_final_line("   \n")


@pytest.mark.parametrize(
    ("text", "thinking"),
    [
        ("<｜Assistant｜><think>\n...\n</think>\n\nThe answer is 4.", False),  # AutoThink's ellipsis prompt
        ("</think>\n\nThe answer is 4.", False),  # response only, thinking skipped
        ("<think>\n</think>\n\n4", False),  # closed at once
        ("<think>\n\n  \n</think>4", False),
        ("<think>\nLet me compute 2+2.\n</think>\n\n4", True),
        ("<think>\n...\nWait, 2+2 is 4.\n</think>\n\n4", True),  # the ellipsis then real thinking
        ("plain answer, no tags", True),
    ],
)
def test_detect_thinking(text: str, thinking: bool) -> None:
    assert detect_thinking(text) is thinking


def test_degeneration() -> None:
    assert is_degenerate("Wait, " * 10)
    assert not is_degenerate("Wait, " * 9)
    loop = "so we add the two numbers again and check"  # 9 words
    assert is_degenerate("Start. " + " ".join([loop] * 10) + " end")
    assert not is_degenerate("Start. " + " ".join([loop] * 9) + " end")
    long_phrase = " ".join(f"w{i}" for i in range(30))
    assert is_degenerate(" ".join([long_phrase] * 10))
    assert not is_degenerate(" ".join([" ".join(f"w{i}" for i in range(31))] * 10), max_ngram=30)
    assert is_degenerate("x" * 120)
    assert not is_degenerate("x" * 119 + " normal text")
    assert not is_degenerate("A normal solution: 2 + 2 = 4, so the answer is 4.")
    assert not is_degenerate("")
