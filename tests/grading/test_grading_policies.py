"""Issue 26: extraction policies and the answer forms real models write.

One group of tests per class of the issue; each group has cases that the grader before the issue got
wrong (the module docstrings of `extract` and `equivalence` say what each rule does). Cases are written
here, not copied from any project's test suite.
"""

from __future__ import annotations

import pytest

from thinklab.grading import (
    POLICIES,
    PolicyError,
    compare,
    extract_answer,
    extract_last_number,
    find_answer,
    grade,
    is_equivalent,
    thinking_closed,
)

# --- class 1: a policy that reads unboxed prose like the published harnesses, and never more ----------


def test_policies_are_strict_and_harness() -> None:
    assert POLICIES == ("strict", "harness")


def test_strict_refuses_prose_that_harness_reads() -> None:
    response = (
        "<think>12 marbles, surely.</think>\n\nShe gave away 8 of her 20 marbles. So she has 12 marbles left."
    )
    assert grade("12", response).reason == "no_answer"
    result = grade("12", response, policy="harness")
    assert (result.pred, result.correct, result.step) == ("12", True, "last_value")


def test_harness_never_reads_unclosed_thinking() -> None:
    cut = "<think>The train covers 60 km in the first hour, so after 2 hours it has covered 120"
    for policy in POLICIES:
        assert grade("120", cut, policy=policy).reason == "unclosed_thinking"
        assert not is_equivalent("120", cut, policy=policy)


def test_harness_never_credits_output_cut_off_by_the_budget() -> None:
    cut = "</think>\n\nFirst we add the two costs: 15 + 27 = 42, and then we multiply by"
    assert grade("42", cut, policy="harness").correct  # complete output would be read like this...
    assert grade("42", cut, policy="harness", truncated=True).reason == "no_answer"  # ...cut output never
    assert grade("42", cut + " \\boxed{42}", policy="harness", truncated=True).correct  # a box still counts


def test_harness_reads_minervas_closing_sentence_before_an_earlier_box() -> None:
    response = (
        "The first deposit earns $\\boxed{255}$ dollars. Total: 10,455.\n"
        "Final Answer: The final answer is $10,455$. I hope it is correct."
    )
    assert grade("10455", response, policy="harness").correct
    assert not grade("10455", response).correct  # strict: the last box is the answer


@pytest.mark.parametrize(
    ("response", "answer"),
    [
        ("Therefore $x \\geq 5$ is the solution.", "x \\geq 5"),  # Math-Verify: the last math span
        ("We set $a = 3$, which gives 12 in total.", "12"),  # Qwen harness: a later number wins
        ("Solving, P(A) = 2/3 in the end.", "2/3"),  # a plain fraction is one value
    ],
)
def test_harness_last_value(response: str, answer: str) -> None:
    found = find_answer(response, policy="harness")
    assert found is not None and (found.answer, found.step) == (answer, "last_value")
    assert find_answer(response) is None  # strict


def test_unknown_policy_is_a_one_line_error() -> None:
    for call in (
        lambda: grade("1", "\\boxed{1}", policy="lenient"),
        lambda: compare("1", "1", policy="lenient"),
        lambda: extract_answer("\\boxed{1}", policy="lenient"),
    ):
        with pytest.raises(PolicyError) as info:
            call()
        assert str(info.value) == "unknown extraction policy 'lenient'; choose one of strict, harness"


def test_thinking_close_marker_is_a_parameter() -> None:
    s1 = "<|im_start|>think\nlet me add\n<|im_start|>answer\nThe answer is 7."
    assert thinking_closed(s1, close="<|im_start|>answer")
    assert not thinking_closed("<|im_start|>think\nlet me add", close="<|im_start|>answer")
    assert thinking_closed("plain answer, no thinking")
    assert not thinking_closed("<think>still going")
    assert thinking_closed("reasoning [END] 7", close="[END]")  # a family's own marker, prefilled opener
    assert find_answer("thinking 5 [END] so \\boxed{7}", close="[END]").answer == "7"


# --- class 2: GSM8K's last number -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("So 15 people chose the 3rd option.", "15"),
        ("In total 36 cookies were baked on the 2nd day.", "36"),
        ("Hence 48 students voted, most of them for option 2.", "48"),
        ("The team scored 21 points in its 5^{\\text{th}} game.", "21"),
        ("Step 3 gives a total of 1,250 dollars.\n#### 1250", "1250"),
        ("He is 5 feet tall", "5"),
    ],
)
def test_gsm8k_last_number_skips_ordinals_and_labels(text: str, number: str) -> None:
    assert extract_last_number(text) == number
    assert grade(number, "</think>" + text, last_number=True).correct


# --- class 3: forms real models write -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("gold", "answer"),
    [
        # Unicode math symbols in place of LaTeX
        ("\\frac{\\pi}{2}", "π/2"),
        ("2\\sqrt{3}", "2√3"),
        ("\\sqrt{x+1}", "√(x+1)"),
        ("6", "2×3"),
        ("6", "2·3"),
        ("[1,3]", "1 ≤ x ≤ 3"),
        ("x \\ge 2", "x ≥ 2"),
        ("45^\\circ", "45°"),
        ("-5", "−5"),
        # E-notation as programs print floats
        ("1000", "1e3"),
        ("4.5\\times 10^{33}", "4.5e33"),
        ("0.00012", "1.2E-4"),
        # a unit word after a symbolic or degree value
        ("30^\\circ", "30^\\circ degrees"),
        ("2\\pi", "2\\pi radians"),
        ("\\pi", "\\pi cm"),
        # ordinals with \text
        ("5", "5^{\\text{th}}"),
        ("21", "21\\textsuperscript{st}"),
        # number words
        ("3", "three"),
        ("21", "twenty-one"),
        ("105", "one hundred and five"),
    ],
)
def test_answer_forms(gold: str, answer: str) -> None:
    assert is_equivalent(gold, answer), (gold, answer)
    assert grade(gold, f"</think>\n\nThe result is $\\boxed{{{answer}}}$.").correct, (gold, answer)


@pytest.mark.parametrize(
    ("gold", "answer"),
    [
        ("1001", "1e3"),
        ("\\frac{\\pi}{3}", "π/2"),
        ("2\\sqrt{2}", "2√3"),
        ("4", "three"),
        ("6", "5^{\\text{th}}"),
        ("2e", "2e3"),
        ("x \\le 2", "x ≥ 2"),
    ],
)
def test_answer_forms_stay_strict(gold: str, answer: str) -> None:
    assert not is_equivalent(gold, answer), (gold, answer)


@pytest.mark.parametrize(
    ("response", "answer", "step"),
    [
        ("The answer is therefore 12.", "12", "answer_is"),
        ("So the final answer is, thus, $\\frac{3}{4}$.", "\\frac{3}{4}", "answer_is"),
        ("The answer is simply $x^2 + 1$.", "x^2 + 1", "answer_is"),
        ("Expanding gives the polynomial.\n\nAnswer: x^2 + 2x + 1", "x^2 + 2x + 1", "final_line"),
        ("Work shown above.\n**Answer:** $\\frac{7}{2}$", "\\frac{7}{2}", "final_line"),
        ("Combining the two cases we get\n\\[\n\\frac{3}{4}\n\\]", "\\frac{3}{4}", "display_math"),
        ("Therefore the probability is\n$$p = \\frac{1}{6}.$$", "p = \\frac{1}{6}.", "display_math"),
        ("Collecting terms, the area is\n$18\\sqrt{2}$", "18\\sqrt{2}", "display_math"),
        ("Final Answer: The largest $n$ is 34.", "34", "final_line"),
    ],
)
def test_answer_statements(response: str, answer: str, step: str) -> None:
    found = find_answer("<think>working</think>\n" + response)
    assert found is not None and (found.answer, found.step) == (answer, step)


def test_display_math_must_end_the_response() -> None:
    # A displayed equation followed by more prose is a step, not the answer.
    assert find_answer("We have\n\\[ x = 3 \\]\nand we still need to check the other root.") is None


def test_boxes_joined_only_by_connectors_form_one_answer() -> None:
    response = "So\n\\[ \\boxed{-2} \\quad \\text{and} \\quad \\boxed{1} \\]"
    assert find_answer(response).answer == "-2, 1"
    assert grade("1, -2", response).correct
    # Boxes separated by words are separate statements: the last one counts.
    assert find_answer("First \\boxed{3}, then after simplifying we get \\boxed{5}").answer == "5"


# --- class 4: one grading path ------------------------------------------------------------------------

RESPONSES = [
    ("12", "So she has 12 marbles left."),
    ("12", "</think>So she has 12 marbles left."),
    ("12", "<think>maybe 12</think>\nThe answer is 12."),
    ("\\frac12", "We get $x = \\frac{1}{2}$ after dividing both sides."),
    ("\\frac12", "Thus \\boxed{0.5}."),
    ("5", "Therefore $x = 5$ is the solution we wanted."),
    ("7", "<think>3+4</think>\n\n7"),
    ("7", "<think>3+4 is 7"),
    ("10455", "Box: $\\boxed{255}$. Final Answer: The final answer is $10,455$. I hope it is correct."),
]


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize(("gold", "response"), RESPONSES)
def test_is_equivalent_on_a_response_agrees_with_grade(gold: str, response: str, policy: str) -> None:
    assert is_equivalent(gold, response, policy=policy) == grade(gold, response, policy=policy).correct


def test_whole_response_does_not_credit_unboxed_prose_under_strict() -> None:
    assert not is_equivalent("12", "So she has 12 marbles left.")
    assert compare("12", "So she has 12 marbles left.") == (False, "no_answer")
    assert is_equivalent("12", "So she has 12 marbles left.", policy="harness")
