"""The arith task: deterministic, disjoint splits, learnable steps, two trace styles."""

import random

import pytest

from thinklab.grading import extract_answer
from thinklab.tasks import arith
from thinklab.tasks.registry import TaskError, get_task


def test_generation_is_deterministic_and_levels_are_even():
    a = arith.generate(80, "test", 7)
    b = arith.generate(80, "test", 7)
    assert [p.key for p in a] == [p.key for p in b]
    assert {p.level for p in a} == set(range(1, arith.MAX_LEVEL + 1))
    assert len({p.key for p in a}) == 80


def test_train_and_test_are_disjoint_by_content_in_any_wording():
    test = arith.generate(800, "test", arith.DEFAULT_TEST_SEED)
    train = arith.generate(20000, "train", 0, distinct=False)
    assert not {p.key for p in test} & {p.key for p in train}
    # the split depends only on the content, not the surface form
    p = test[0]
    other = arith.ArithProblem(p.start, p.ops, "words" if p.form == "expr" else "expr")
    assert other.split == "test" and other.text() != p.text()


def test_every_step_stays_small_and_ops_do_not_repeat():
    for p in arith.generate(500, "train", 3, distinct=False):
        assert all(0 <= v <= arith.MAX_VALUE for v in p.values)
        assert len(set(p.ops)) == len(p.ops)
        assert all(1 <= b <= 9 for _, b in p.ops)


def test_surface_forms():
    p = arith.ArithProblem(7, (("add", 5), ("mul", 3), ("sub", 4)), "expr")
    assert p.text() == "Compute 7 + 5 * 3 - 4 from left to right."
    assert p.answer == 32
    w = arith.ArithProblem(7, (("add", 5), ("mul", 3), ("sub", 4)), "words")
    assert w.text() == "Start with 7. Add 5, then multiply by 3, then subtract 4. What is the result?"


@pytest.mark.parametrize("style", ["verbose", "concise"])
def test_traces_end_with_the_boxed_answer(style):
    for p in arith.generate(50, "test", 1):
        completion = arith.render_completion(p, style, random.Random(0))
        assert completion.endswith(f"</think>\n\n\\boxed{{{p.answer}}}")
        assert extract_answer("<think>\n" + completion) == str(p.answer)


def test_verbose_is_redundant_and_concise_is_not():
    p = arith.ArithProblem(7, (("add", 5), ("mul", 3), ("sub", 4), ("add", 9)), "expr")
    verbose = arith.render_thought(p, "verbose", random.Random(1)).split("\n\n")
    essential = [s for s in verbose if not arith.redundant_step(s)]
    assert len(essential) == p.level + 1  # one line per step and the conclusion
    assert len(verbose) > len(essential)
    assert (
        verbose[0]
        == "Okay, let me restate the problem: start with 7, then + 5, then * 3, then - 4, then + 9."
    )
    concise = arith.render_thought(p, "concise").split("\n\n")
    assert concise == ["7 + 5 = 12", "12 * 3 = 36", "36 - 4 = 32", "32 + 9 = 41"]


def test_task_registry_variants():
    assert len(get_task("arith").problems()) == arith.DEFAULT_TEST_SIZE
    hard = get_task("arith:hard").problems(limit=30)
    assert {p.metadata["level"] for p in hard} == {6, 7, 8}
    assert {p.metadata["level"] for p in get_task("arith:L2").problems(limit=10)} == {2}
    with pytest.raises(TaskError, match="unknown arith variant"):
        get_task("arith:bogus")
    with pytest.raises(TaskError, match="unknown arith variant"):
        get_task("arith:L11")


def test_beyond_levels_are_held_out_longer_chains():
    """arith:beyond (levels 9-10) extrapolates past training: held-out bucket, 10-op problems valid."""
    beyond = get_task("arith:beyond").problems()
    assert len(beyond) == arith.DEFAULT_TEST_SIZE
    assert {p.metadata["level"] for p in beyond} == set(arith.BEYOND_LEVELS)
    assert all(p.id.startswith("arith-test-") for p in beyond)
    assert {p.metadata["level"] for p in get_task("arith:L10").problems(limit=5)} == {10}
    assert max(arith.BEYOND_LEVELS) > arith.MAX_LEVEL


def test_every_arith_list_loads_and_lists_with_level_1_draw_100_per_level():
    assert len(get_task("arith").problems()) == 800
    easy = get_task("arith:easy").problems()
    assert len(easy) == 300 and {p.metadata["level"] for p in easy} == {1, 2, 3}
    assert len(get_task("arith:L1").problems()) == 100
    assert len(get_task("arith:L2").problems()) == arith.DEFAULT_TEST_SIZE
    assert len({p.metadata["key"] for p in easy}) == 300  # distinct


def test_sft_rows_mix_traces_and_direct_answers_under_the_no_think_prefill():
    from transformers import AutoTokenizer

    from thinklab.models import TINY_CHECKPOINT_DIR
    from thinklab.tiny.train import build_sft_rows

    tok = AutoTokenizer.from_pretrained(TINY_CHECKPOINT_DIR)
    rows = build_sft_rows(tok, 200, "verbose", (4, 5), seed=0, direct_fraction=0.25, direct_levels=(1, 2))
    direct = [r for r in rows if r["prompt"].endswith("<think>\n</think>\n\n")]
    thinking = [r for r in rows if r["prompt"].endswith("<think>\n") and r not in direct]
    assert len(direct) == 50 and len(thinking) == 150
    assert all(r["completion"].startswith("\\boxed{") and r["completion"].endswith("}") for r in direct)
    assert all(r["completion"].startswith("Okay, let me restate") for r in thinking)
    # direct rows are train problems of the direct levels, answered with the problem's answer
    problems = {p.text(): p for p in arith.generate(50, "train", 1, (1, 2), distinct=False)}
    for r in direct:
        text = r["prompt"].split("<|user|>\n")[1].split("\n")[0]
        assert r["completion"] == f"\\boxed{{{problems[text].answer}}}"
    assert min(rows.index(r) for r in direct) < 150  # shuffled in, not appended


def test_verbose_rules_places_redundant_lines_by_visible_rules():
    p = arith.ArithProblem(36, (("sub", 1), ("add", 6), ("mul", 2), ("sub", 3)), "expr")
    lines = arith.render_thought(p, "verbose-rules").split("\n\n")
    assert lines == [
        "Okay, let me restate the problem: start with 36, then - 1, then + 6, then * 2, then - 3.",
        "Step 1: 36 - 1 = 35.",  # tens digit unchanged: no line
        "Step 2: 35 + 6 = 41.",
        "Wait, let me recompute 35 + 6. It is 41. Correct.",  # 3x -> 4x
        "Step 3: 41 * 2 = 82.",
        "Let me double check: 41 * 2 = 82. Yes.",  # every multiplication
        "So far the values are 35, 41, 82.",  # every third step
        "Step 4: 82 - 3 = 79.",
        "Wait, let me recompute 82 - 3. It is 79. Correct.",
        "So the answer is 79.",
    ]
    # deterministic: the rng does not matter, and the computation lines are the verbose style's
    assert arith.render_thought(p, "verbose-rules", random.Random(5)) == "\n\n".join(lines)
    essential = [s for s in lines if not arith.redundant_step(s)]
    assert essential == [
        s for s in arith.render_thought(p, "verbose").split("\n\n") if not arith.redundant_step(s)
    ]


def test_steps_style_is_the_shipped_style_without_its_redundant_lines():
    """`steps` is the upper bound of compressing a shipped-style trace (docs/compress.md): the restatement,
    one `Step` line per operation and the answer line, nothing else, in the shipped trace's order."""
    p = arith.ArithProblem(36, (("sub", 1), ("add", 6), ("mul", 2), ("sub", 3)), "expr")
    shipped = arith.render_thought(p, arith.SHIPPED_STYLE).split("\n\n")
    steps = arith.render_thought(p, "steps").split("\n\n")
    assert steps == [shipped[0]] + [s for s in shipped[1:] if not arith.redundant_step(s)]
    assert len(steps) == p.level + 2 and steps[-1] == "So the answer is 79."
    assert "steps" in arith.TRACE_STYLES
    completion = arith.render_completion(p, "steps")
    assert completion.endswith("</think>\n\n\\boxed{79}")
