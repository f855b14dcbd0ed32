"""AutoThink's reward, term by term, against values worked out by hand from methods.md §2."""

import math

import pytest

from thinklab.autothink.rewards import (
    AutoThinkReward,
    CorrectnessLengthReward,
    autothink_rewards,
    batch_balance,
    consecutive_group_ids,
    length_shaping,
    sample_score,
)
from thinklab.errors import ThinklabError

# The tiny model's chat prompt with AutoThink's ellipsis prefill.
P = "<|user|>\nCompute 2 + 3 from left to right.\n<|assistant|>\n<think>\n...\n"
THINK_RIGHT = P + "Okay, let me restate the problem.\n\nStep 1: 2 + 3 = 5.\n</think>\n\n\\boxed{5}"
THINK_WRONG = P + "Okay, let me restate the problem.\n\nStep 1: 2 + 3 = 6.\n</think>\n\n\\boxed{6}"
NO_THINK_RIGHT = P + "</think>\n\n\\boxed{5}"
NO_THINK_WRONG = P + "</think>\n\n\\boxed{6}"


# ------------------------------------------------------------------------------------ per sample


@pytest.mark.parametrize(
    ("text", "correct", "reward", "think"),
    [
        (THINK_RIGHT, True, 1.0, True),
        (THINK_WRONG, False, 0.0, True),
        (NO_THINK_RIGHT, True, 2.0, False),
        (NO_THINK_WRONG, False, -1.0, False),
    ],
)
def test_base_rewards(text, correct, reward, think):
    s = sample_score(text, correct)
    assert (s.reward, s.think, s.correct, s.format_ok, s.degenerate) == (reward, think, correct, True, False)


def test_mode_detection_runs_on_prompt_plus_response():
    # The response alone starting with </think>\n\n is no-think (rule 2); with the ellipsis prompt in front
    # the "<think>\n...\n</think>\n\n" substring rule fires on the same sample.
    assert sample_score("</think>\n\n\\boxed{5}", True).think is False
    assert sample_score(NO_THINK_RIGHT, True).think is False
    # A response that writes "..." itself inside a thought is still thinking.
    assert sample_score(P + "Okay ... fine.\n</think>\n\n\\boxed{5}", True).think is True


def test_format_errors_score_zero_in_both_modes():
    never_closed = sample_score(P + "Okay, let me restate the problem. Step 1: 2 + 3 = 5.", True)
    assert (never_closed.reward, never_closed.correct, never_closed.format_ok, never_closed.think) == (
        0.0,
        False,
        False,
        True,
    )
    no_box = sample_score(P + "</think>\n\nThe answer is 5.", True)
    assert (no_box.reward, no_box.correct, no_box.format_ok, no_box.think) == (0.0, False, False, False)


def test_solution_is_text_after_first_close_tag():
    # The boxed answer inside the thinking does not count: only the text after </think> is the solution.
    s = sample_score(P + "I guess \\boxed{5}\n</think>\n\nno box here", True)
    assert (s.reward, s.format_ok) == (0.0, False)


def test_degeneration_penalty_only_replaces_negative_rewards():
    loop = " ".join(["and"] * 12)
    bad_no_think = sample_score(P + f"</think>\n\n{loop} \\boxed{{6}}", False)
    assert (bad_no_think.reward, bad_no_think.degenerate) == (-2.0, True)
    long_word = sample_score(P + "</think>\n\n" + "x" * 120 + " \\boxed{6}", False)
    assert long_word.reward == -2.0
    # 9 repeats is below the threshold of 10; a 119-character word is below 120.
    assert sample_score(P + "</think>\n\n" + " ".join(["and"] * 9) + " \\boxed{6}", False).reward == -1.0
    assert sample_score(P + "</think>\n\n" + "x" * 119 + " \\boxed{6}", False).reward == -1.0
    # A looping *thinking* answer that is wrong scores 0 (not < 0), so it is not penalised — as in the authors' code.
    looping_thought = sample_score(P + f"{loop}\n</think>\n\n\\boxed{{6}}", False)
    assert (looping_thought.reward, looping_thought.degenerate) == (0.0, False)
    # A correct no-think answer is never penalised.
    assert sample_score(P + f"</think>\n\n{loop} \\boxed{{5}}", True).reward == 2.0


# ----------------------------------------------------------------------------------- length terms


def test_length_shaping_correct_and_wrong_subgroups():
    # One group: three correct (lengths 10, 20, 30) and one wrong (alone: no term), alpha = beta = 0.5.
    # Correct: mean 20, unbiased std sqrt((100 + 0 + 100) / 2) = 10, z = -1, 0, 1;
    # terms exp(-0.5 z) - 1 = e^0.5 - 1 = 0.6487212707, 0, e^-0.5 - 1 = -0.3934693403.
    out = length_shaping([1, 1, 1, 0], [True, True, True, False], [10, 20, 30, 40], [0, 0, 0, 0], 0.5, 0.5)
    assert out == pytest.approx([1.6487212707, 1.0, 0.6065306597, 0.0], abs=1e-9)


def test_length_shaping_wrong_answers_longer_is_better():
    # Two wrong answers, lengths 10 and 30: mean 20, std sqrt(200) = 14.1421356, z = -/+0.7071067812;
    # terms 1 - exp(-0.5 z): 1 - e^0.3535533906 = -0.4241190195 and 1 - e^-0.3535533906 = 0.2978114987.
    out = length_shaping([0.0, 0.0], [False, False], [10, 30], ["q", "q"], 0.5, 0.5)
    assert out == pytest.approx([-0.4241190195, 0.2978114987], abs=1e-9)


def test_length_shaping_all_right_group():
    # Stage 3's alpha = 0.05, lengths 8, 12, 16, 20: mean 14, std sqrt(80 / 3) = 5.1639777949,
    # z = -1.1618950039, -0.3872983346, 0.3872983346, 1.1618950039; term = exp(-0.05 z) - 1.
    out = length_shaping([1.0] * 4, [True] * 4, [8, 12, 16, 20], [7] * 4, 0.05, 0.05)
    terms = [0.0598154087, 0.0195536329, -0.0191786212, -0.0564394593]
    assert out == pytest.approx([1.0 + t for t in terms], abs=1e-9)


def test_length_shaping_all_wrong_group():
    # Same lengths, all wrong, beta = 0.05: term = 1 - exp(-0.05 z), the mirror image of the above.
    out = length_shaping([0.0] * 4, [False] * 4, [8, 12, 16, 20], [7] * 4, 0.05, 0.05)
    assert out == pytest.approx([-0.0598154087, -0.0195536329, 0.0191786212, 0.0564394593], abs=1e-9)


def test_length_shaping_equal_lengths_and_singletons_and_groups():
    # Equal lengths: std 0 is clamped to 1e-6, z = 0, no change.
    assert length_shaping([1, 1], [True, True], [5, 5], [0, 0], 0.5, 0.5) == [1.0, 1.0]
    # alpha = beta = 0 (stages 1 and 2): exp(0) - 1 = 0.
    assert length_shaping([1, 1, 0, 0], [True, True, False, False], [1, 9, 2, 8], [0] * 4, 0, 0) == [
        1,
        1,
        0,
        0,
    ]
    # Groups are separate: each pair below is a group of one correct answer, so nothing changes.
    assert length_shaping([1, 1], [True, True], [10, 30], ["a", "b"], 0.5, 0.5) == [1.0, 1.0]


# ---------------------------------------------------------------------------------- batch balance


def test_batch_balance_too_much_thinking():
    # 3 of 4 think: rate 0.75 > gamma 0.5, lambda = 2 * 0.25 = 0.5. Think-right 1 -> 0.5 * 1 + 0.5 * 0;
    # think-wrong 0 -> 0.5 * 0 + 0.5 * -1. The no-think sample (rate 0.25) is untouched.
    out = batch_balance([1.0, 1.0, 0.0, 2.0], [True, True, False, True], [True, True, True, False], 0.5)
    assert out == pytest.approx([0.5, 0.5, -0.5, 2.0])


def test_batch_balance_too_little_thinking():
    # 3 of 4 skip thinking: no-think rate 0.75, lambda 0.5; no-think right 2 -> 0.5 * 2 + 0.5 * 1 = 1.5,
    # no-think wrong -1 -> 0.5 * -1 + 0.5 * -2 = -1.5.
    out = batch_balance([1.0, 2.0, 2.0, -1.0], [True, True, True, False], [True, False, False, False], 0.5)
    assert out == pytest.approx([1.0, 1.5, 1.5, -1.5])


def test_batch_balance_clip_threshold_and_slope():
    # All thinking with gamma 0.4: lambda = 2 * 0.6 = 1.2, clipped to 1: rewards become the targets.
    assert batch_balance([1.0, 0.0], [True, False], [True, True], 0.4) == pytest.approx([0.0, -1.0])
    # Exactly at the threshold nothing moves (the rule is rate > gamma).
    assert batch_balance([1.0, 2.0], [True, True], [True, False], 0.5) == [1.0, 2.0]
    # gamma 1.0 (stages 2 and 3) never fires.
    assert batch_balance([1.0, 1.0], [True, True], [True, True], 1.0) == [1.0, 1.0]
    # slope 1: lambda = 0.25 for rate 0.75, gamma 0.5: 0.75 * 1 + 0.25 * 0.
    assert batch_balance([1.0, 1.0, 1.0, 2.0], [True] * 4, [True, True, True, False], 0.5, slope=1.0)[
        0
    ] == pytest.approx(0.75)


# ------------------------------------------------------------------------------------ whole reward


def test_autothink_rewards_combines_all_terms():
    # Group A: two correct thinking answers of 100 and 200 tokens (alpha 0.05): z = -/+0.7071067812,
    # terms e^0.0353553391 - 1 = 0.0359877703 and e^-0.0353553391 - 1 = -0.0347376401.
    # Group B: one right and one wrong no-think answer (single per subgroup: no length term): 2 and -1.
    texts = [THINK_RIGHT, THINK_RIGHT, NO_THINK_RIGHT, NO_THINK_WRONG]
    correct = [True, True, True, False]
    lengths = [100, 200, 5, 9]
    groups = ["A", "A", "B", "B"]
    # gamma 0.5: both rates are exactly 0.5, no balance.
    out = autothink_rewards(texts, correct, lengths, groups, 0.05, 0.05, 0.5)
    assert out == pytest.approx([1.0359877703, 0.9652623599, 2.0, -1.0], abs=1e-9)
    # gamma 0.25: both rates 0.5 exceed it, lambda 0.5 for each mode:
    # A -> 0.5 * r + 0.5 * 0; B -> 0.5 * 2 + 0.5 * 1 = 1.5 and 0.5 * -1 + 0.5 * -2 = -1.5.
    out = autothink_rewards(texts, correct, lengths, groups, 0.05, 0.05, 0.25)
    assert out == pytest.approx([0.5179938852, 0.4826311799, 1.5, -1.5], abs=1e-9)


def test_autothink_rewards_format_error_counts_as_wrong_in_groups():
    # The unclosed answer is passed as "correct" but has no solution: it joins the wrong subgroup, so the
    # single right answer gets no length term and the two "wrong" ones (lengths 10, 30) get beta terms.
    texts = [THINK_RIGHT, THINK_WRONG, P + "Okay, still thinking"]
    out = autothink_rewards(texts, [True, False, True], [50, 10, 30], [0, 0, 0], 0.5, 0.5, 1.0)
    assert out == pytest.approx([1.0, -0.4241190195, 0.2978114987], abs=1e-9)


def test_autothink_rewards_length_mismatch_is_an_error():
    with pytest.raises(ValueError, match="one value per sample"):
        autothink_rewards([THINK_RIGHT], [True, False], [1], [0], 0, 0, 1)


# ------------------------------------------------------------------------------ TRL reward classes


def test_group_ids_follow_trl_order():
    assert consecutive_group_ids(["a", "a", "b", "b"], 2) == [0, 0, 1, 1]
    assert consecutive_group_ids(["a", "a", "b", "b", "b"], None) == [0, 0, 1, 1, 1]
    with pytest.raises(ThinklabError, match="do not share one prompt"):
        consecutive_group_ids(["a", "b", "a", "b"], 2)
    with pytest.raises(ThinklabError, match="does not split"):
        consecutive_group_ids(["a", "a", "a"], 2)


def test_autothink_reward_as_trl_reward_function():
    # What GRPOTrainer passes: prompts (repeated num_generations times), completions, completion_ids and
    # every dataset column; here two prompts x two completions, stage 3 coefficients, no balance.
    p2 = "<|user|>\nCompute 4 - 1 from left to right.\n<|assistant|>\n<think>\n...\n"
    prompts = [P, P, p2, p2]
    completions = [
        THINK_RIGHT[len(P) :],
        NO_THINK_RIGHT[len(P) :],
        "</think>\n\n\\boxed{3}",
        "</think>\n\n\\boxed{4}",
    ]
    ids = [[0] * 30, [0] * 10, [0] * 7, [0] * 7]
    logged = {}
    fn = AutoThinkReward(alpha=0.05, beta=0.05, gamma=1.0, num_generations=2)
    out = fn(
        prompts=prompts,
        completions=completions,
        completion_ids=ids,
        answer=["5", "5", "3", "3"],
        level=[1, 1, 3, 3],
        trainer_state=None,
        log_metric=lambda k, v: logged.__setitem__(k, v),
    )
    # Group 1: both right, lengths 30 and 10: z = +/-0.7071067812 -> 1 + (e^-0.0353553391 - 1) and
    # 2 + (e^0.0353553391 - 1). Group 2: right (2) and wrong (-1), no length terms.
    assert out == pytest.approx([0.9652623599, 2.0359877703, 2.0, -1.0], abs=1e-9)
    assert logged["autothink/think_rate"] == 0.25
    assert logged["autothink/accuracy"] == 0.75
    assert logged["autothink/no_think_accuracy"] == pytest.approx(2 / 3)
    assert (logged["autothink/think_rate_L1"], logged["autothink/think_rate_L3"]) == (0.5, 0.0)
    assert fn.__name__ == "autothink"


def test_reward_needs_answer_column():
    fn = AutoThinkReward(num_generations=1)
    with pytest.raises(ThinklabError, match="'answer' column"):
        fn(prompts=[P], completions=["</think>\n\n\\boxed{5}"], completion_ids=[[1]], solution=["5"])


def test_correctness_length_reward():
    fn = CorrectnessLengthReward(length_penalty=0.2, max_tokens=100)
    out = fn(
        prompts=[P, P, P],
        completions=["</think>\n\n\\boxed{5}", "</think>\n\n\\boxed{6}", "x </think>\n\n\\boxed{5}"],
        completion_ids=[[0] * 10, [0] * 50, [0] * 300],
        answer=["5", "5", "5"],
    )
    # 1 - 0.2 * 10/100; 0 - 0.2 * 50/100; 1 - 0.2 * min(300, 100)/100.
    assert out == pytest.approx([0.98, -0.1, 0.8])
    assert math.isclose(fn(prompts=[P], completions=["no"], completion_ids=[[0]], answer=["5"])[0], -0.002)
