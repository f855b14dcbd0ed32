"""Answer extraction: thinking stripped first, then boxed, Final:, "the answer is", last number."""

from __future__ import annotations

import pytest

from thinklab.grading import (
    extract_answer,
    extract_boxed,
    extract_last_number,
    split_thinking,
    strip_thinking,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (r"so \boxed{\frac{1}{2}}.", r"\frac{1}{2}"),
        (r"\boxed{\{1, 2\}}", r"\{1, 2\}"),
        (r"\boxed{\left(\frac{a}{b}, \sqrt{2}\right)}", r"\left(\frac{a}{b}, \sqrt{2}\right)"),
        (r"first \boxed{1} then \boxed{2}", "2"),
        (r"\boxed 5.", "5"),
        (r"\fbox{7}", "7"),
        (r"complete \boxed{3} then truncated \boxed{\frac{1}{", "3"),  # an unclosed box is skipped
        (r"\boxed{}", None),
        ("no box here", None),
        (r"\boxedx", None),
    ],
)
def test_extract_boxed(text: str, expected: str | None) -> None:
    assert extract_boxed(text) == expected


def test_unclosed_thinking_has_no_answer() -> None:
    assert extract_answer(r"<think>maybe \boxed{5}, the answer is 5") is None
    assert extract_answer(r"<|begin_of_thought|> \boxed{5}") is None
    assert extract_answer("<|im_start|>think\nFinal: 5") is None
    assert split_thinking("<think>abc").status == "unclosed"
    assert strip_thinking("<think>abc") is None


def test_only_text_after_thinking_counts() -> None:
    response = "<think>is it \\boxed{4}? The answer is 4.</think>\n\nSo \\boxed{5}."
    assert extract_answer(response) == "5"
    # Thinking that closed with no answer after it: nothing, not the number from the thinking.
    assert extract_answer("<think>the answer is 4</think>\n\n", last_number=True) is None


def test_prefilled_think_tag() -> None:
    # The prompt ended with "<think>", so the response holds only the closing tag.
    split = split_thinking("so 2+2=4.\n</think>\n\nThe answer is 4.")
    assert split.status == "closed" and split.thinking.strip() == "so 2+2=4."
    assert extract_answer("hmm 3? </think> The answer is 4.") == "4"


def test_other_reasoning_formats() -> None:
    sky = "<|begin_of_thought|>\n\nthink 3\n\n<|end_of_thought|>\n\n<|begin_of_solution|>\n\n\\boxed{9}\n\n<|end_of_solution|>"
    assert extract_answer(sky) == "9"
    s1 = "<|im_start|>think\nwait, 3\n<|im_start|>answer\nFinal Answer: 12"
    assert extract_answer(s1) == "12"


def test_last_closing_tag_counts() -> None:
    # Budget forcing can produce two closing tags; the answer follows the last one.
    assert extract_answer("<think>a</think> Wait, \\boxed{1} <think>b</think> \\boxed{2}") == "2"
    # Reopened and never closed again: no answer.
    assert extract_answer("<think>a</think> \\boxed{1} <think>b, so \\boxed{2}") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1) add\n2) multiply\nFinal: 42", "42"),
        ("Final: 1\nthen more\nFinal answer: $x = 3$", "x = 3"),
        ("**Final Answer:** 7", "7"),
        ("FINAL = -2.5", "-2.5"),
    ],
)
def test_final_line(text: str, expected: str) -> None:
    assert extract_answer(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("So the answer is 12.", "12"),
        ("The answer is $\\frac{1}{2}$.", "\\frac{1}{2}"),
        ("Final Answer: The final answer is $28\\%$. I hope it is correct.", "28\\%"),
        ("the final answer is 0.5. Next we check.", "0.5"),
    ],
)
def test_answer_is_phrase(text: str, expected: str) -> None:
    assert extract_answer(text) == expected


def test_boxed_beats_final_line_and_phrase() -> None:
    assert extract_answer("The answer is 3.\nFinal: 4\n\\boxed{5}") == "5"
    assert extract_answer("The answer is 3.\nFinal: 4") == "4"


def test_last_number_only_when_asked() -> None:
    text = "She has 1,234 apples and sells -5.5 kg, leaving 1,000,000 in total"
    assert extract_answer(text) is None
    assert extract_answer(text, last_number=True) == "1000000"
    assert extract_last_number("debt of -1,234.5 dollars") == "-1234.5"
    assert extract_last_number("pairs 3,4") == "4"
    assert extract_last_number("about .5 of it") == ".5"
    assert extract_last_number("no digits") is None


def test_empty_responses() -> None:
    assert extract_answer("") is None
    assert extract_answer("   ") is None
    assert extract_answer("<think>x</think>   ") is None
