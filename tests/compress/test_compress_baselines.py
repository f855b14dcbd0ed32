"""Step-dropping baselines (hand-computed) and the prompt-only baselines' exact strings."""

from __future__ import annotations

import pytest
from cli_runner import run_cli

from thinklab.compress.baselines import SYSTEM_PROMPTS, drop_steps, ends_order, keep_to_target, system_prompt
from thinklab.errors import ThinklabError


def test_keep_to_target_by_hand():
    sizes = [10, 4, 6, 3]
    assert keep_to_target(sizes, 12, [0, 1, 2, 3]) == [0, 1]  # 10 -> 14 lands 2 away, as close as 10
    assert keep_to_target(sizes, 11, [0, 1, 2, 3]) == [0]  # 14 would be 3 away, 10 is 1 away: stop
    assert keep_to_target(sizes, 12, [0, 2, 1, 3], skip=True) == [0, 1]  # 16 is too far: skip to 4
    assert keep_to_target(sizes, 12, [0, 2, 1, 3]) == [0]  # without skipping the walk stops at 6
    assert keep_to_target(sizes, 100, [3, 2, 1, 0]) == [0, 1, 2, 3]
    assert keep_to_target(sizes, 0, [0, 1]) == []


def test_ends_order():
    assert ends_order(5) == [0, 4, 1, 3, 2]
    assert ends_order(4) == [0, 3, 1, 2]
    assert ends_order(1) == [0]


def test_drop_steps_is_seeded_and_keeps_order():
    steps = [f"step {i} " + "x" * (i % 4) for i in range(12)]
    a = drop_steps(steps, 30, "random", len, seed=1)
    assert a == drop_steps(steps, 30, "random", len, seed=1) and a == sorted(a)
    assert a != drop_steps(steps, 30, "random", len, seed=2)
    assert abs(sum(len(steps[i]) for i in a) - 30) <= 5
    assert drop_steps(steps, 30, "ends", len)[:2] == [0, 1] and 11 in drop_steps(steps, 30, "ends", len)
    with pytest.raises(ThinklabError):
        drop_steps(steps, 30, "middle", len)


def test_prompt_baselines_are_the_forks_strings():
    sky = SYSTEM_PROMPTS["sky-t1"]
    assert sky.startswith(
        "Your role as an assistant involves thoroughly exploring questions through a systematic long"
    )
    assert "{thought with steps separated with '\n\n'} <|end_of_thought|> Each step" in sky
    assert sky.endswith("Now, try to solve the following question through the above guidelines:")
    assert system_prompt("cod").endswith(
        "above guidelines. Think step by step, but only keep a minimum draft for each thinking step, with 5 words at most."
    )
    assert system_prompt("shortcut").endswith(
        "guidelines. Rapidly evaluate and use the most effective reasoning shortcut to answer the question."
    )
    assert system_prompt("skip-steps").endswith("guidelines. Let's skip as much as possible.")
    with pytest.raises(ThinklabError):
        system_prompt("none")


def test_prompts_cli_prints_a_prompt_for_eval():
    res = run_cli("compress-prompts", "cod")
    assert res.returncode == 0, res.stderr
    assert res.stdout.rstrip("\n") == SYSTEM_PROMPTS["cod"]
