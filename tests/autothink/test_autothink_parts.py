"""Stage presets and TRL batch layout, data builders, the verl adapters and the per-stage report."""

import json

import pytest
from transformers import AutoTokenizer

from thinklab.autothink.data import (
    AUTOTHINK_USER_TEMPLATE,
    direct_answer_examples,
    grpo_rows,
    mixture_examples,
    write_mixture,
)
from thinklab.autothink.grpo import batch_layout
from thinklab.autothink.report import check_targets, load_summary, markdown, mode_accuracy, stage_report
from thinklab.autothink.stages import stage_preset
from thinklab.autothink.verl import compute_score, compute_score_batch
from thinklab.data.writers import read_examples
from thinklab.errors import ThinklabError
from thinklab.models import resolve_model_path
from thinklab.prompting.modes import R1, TINY

# ---------------------------------------------------------------------------------------- stages


def test_full_presets_are_the_authors_settings():
    s1, s2, s3 = (stage_preset(k, "full") for k in (1, 2, 3))
    assert (s1.alpha, s1.beta, s1.gamma, s1.prompts_per_rollout, s1.max_completion_length) == (
        0,
        0,
        0.5,
        128,
        8192,
    )
    assert (s2.alpha, s2.beta, s2.gamma, s2.prompts_per_rollout, s2.max_completion_length) == (
        0,
        0,
        1.0,
        64,
        16384,
    )
    assert (s3.alpha, s3.beta, s3.gamma, s3.prompts_per_rollout, s3.max_completion_length) == (
        0.05,
        0.05,
        1.0,
        64,
        24576,
    )
    for s in (s1, s2, s3):
        assert (s.num_generations, s.temperature, s.learning_rate, s.prompts_per_update, s.epochs) == (
            8,
            0.6,
            1e-6,
            64,
            2.0,
        )


def test_cpu_presets_keep_the_reward_coefficients():
    for k in (1, 2, 3):
        cpu, full = stage_preset(k, "cpu"), stage_preset(k, "full")
        assert (cpu.alpha, cpu.beta, cpu.gamma, cpu.temperature) == (
            full.alpha,
            full.beta,
            full.gamma,
            full.temperature,
        )
        assert cpu.max_steps > 0


def test_preset_overrides_and_errors():
    assert stage_preset(2, "cpu", gamma=0.7, alpha=None).gamma == 0.7
    with pytest.raises(ThinklabError, match="stages 1, 2 and 3"):
        stage_preset(4)
    with pytest.raises(ThinklabError, match="unknown AutoThink preset"):
        stage_preset(1, "huge")


def test_batch_layout_in_trl_terms():
    # Stage 1 at full scale on 4 nodes x 8 GPUs with 8 completions per GPU per micro-step:
    # 64 prompts x 8 = 512 completions per update = 8 x 32 x 2 accumulation steps; the rollout batch is
    # 128 prompts = two updates, so steps_per_generation = 4 (8 x 32 x 4 = 1024 = 128 x 8).
    layout = batch_layout(stage_preset(1, "full"), world_size=32, per_device=8)
    assert (
        layout.per_device_train_batch_size,
        layout.gradient_accumulation_steps,
        layout.steps_per_generation,
    ) == (
        8,
        2,
        4,
    )
    # Stage 2: 64 prompts per rollout = one update.
    assert batch_layout(stage_preset(2, "full"), world_size=16, per_device=8).steps_per_generation == 4
    # CPU: one process holds the whole update (4 prompts x 8 = 32 completions).
    cpu = batch_layout(stage_preset(1, "cpu"))
    assert (cpu.per_device_train_batch_size, cpu.gradient_accumulation_steps, cpu.steps_per_generation) == (
        32,
        1,
        1,
    )
    with pytest.raises(ThinklabError, match="do not split"):
        batch_layout(stage_preset(1, "cpu"), world_size=3)
    with pytest.raises(ThinklabError, match="multiple of prompts_per_update"):
        batch_layout(stage_preset(1, "cpu", prompts_per_rollout=6))


# ------------------------------------------------------------------------------------------ data


def test_mixture_examples_formats_and_fraction(tmp_path):
    examples = mixture_examples(400, no_think_fraction=0.5, seed=3)
    no_think = [e for e in examples if e.response.startswith("<think>\n...\n</think>\n\n\\boxed{")]
    think = [e for e in examples if e.response.startswith("<think>\n...\nOkay, let me restate")]
    assert len(no_think) + len(think) == 400
    assert 150 < len(no_think) < 250
    assert all(e.response.rstrip("}").split("\\boxed{")[-1].lstrip("-").isdigit() for e in examples)
    assert all("\n</think>\n\n\\boxed{" in e.response for e in think)
    assert mixture_examples(10, 0.0, seed=1)[0].response.startswith("<think>\n...\nOkay")
    path = tmp_path / "mix.jsonl"
    assert write_mixture(path, 20, 1.0) == 20
    rows = read_examples(path)
    assert rows[0].response.startswith("<think>\n...\n</think>")
    with pytest.raises(ValueError):
        mixture_examples(5, 1.5)


def test_direct_answer_practice_sits_under_the_no_think_prefill(tmp_path):
    from thinklab.tasks.arith import apply_op

    examples = direct_answer_examples(30, levels=(1,), seed=2)
    assert all(e.response.startswith("<think>\n</think>\n\n\\boxed{") for e in examples)
    # Level 1 only, and the boxed number is the problem's answer: "Compute a op b" / "Start with a. Op b."
    for e in examples:
        words = e.problem.lower().replace(".", " ").split()
        nums = [int(w) for w in words if w.isdigit()]
        assert len(nums) == 2
        op = (
            "mul"
            if ("*" in words or "multiply" in words)
            else "sub"
            if ("-" in words or "subtract" in words)
            else "add"
        )
        assert e.response.endswith(f"\\boxed{{{apply_op(nums[0], op, nums[1])}}}")
    path = tmp_path / "mix.jsonl"
    assert write_mixture(path, 10, 0.5, seed=1, direct_n=20, direct_levels=(1, 2)) == 30
    rows = read_examples(path)
    assert sum(r.response.startswith("<think>\n</think>") for r in rows) == 20
    assert sum(r.response.startswith("<think>\n...\n") for r in rows) == 10


def test_concise_no_think_answers_are_short_worked_solutions_graded_as_no_think(tmp_path):
    from thinklab.grading import detect_thinking, extract_answer
    from thinklab.tasks import arith

    examples = mixture_examples(200, no_think_fraction=0.5, seed=4, answer_style="concise")
    no_think = [e for e in examples if e.response.startswith("<think>\n...\n</think>\n\n")]
    assert 60 < len(no_think) < 140
    problems = {p.text(): p for p in arith.generate(200, "train", 4, distinct=False)}
    for e in no_think:
        p = problems[e.problem]
        lines = e.response.split("</think>\n\n", 1)[1].split("\n\n")
        # one "a op b = c" line per operation, then the box: the concise trace, in the answer section
        assert lines[:-1] == arith.render_thought(p, "concise").split("\n\n")
        assert lines[-1] == f"\\boxed{{{p.answer}}}"
        assert extract_answer(e.response) == str(p.answer)
        assert detect_thinking(e.response) is False  # AutoThink's mode rule: this answer did not think
    practice = direct_answer_examples(10, levels=(2,), seed=1, answer_style="concise")
    assert all(
        e.response.startswith("<think>\n</think>\n\n") and e.response.count(" = ") == 2 for e in practice
    )
    assert write_mixture(tmp_path / "m.jsonl", 10, 1.0, answer_style="concise") == 10
    with pytest.raises(ValueError, match="answer_style"):
        mixture_examples(5, 1.0, answer_style="verbose")


def test_paired_answers_compute_two_operations_per_line_without_the_intermediate_value():
    from thinklab.autothink.data import direct_answer
    from thinklab.tasks import arith

    p = arith.ArithProblem(7, (("add", 5), ("mul", 3), ("sub", 4)), "expr")
    assert direct_answer(p, "paired") == "7 + 5 * 3 = 36\n\n36 - 4 = 32\n\n\\boxed{32}"
    for p in arith.generate(50, "train", 3):
        lines = direct_answer(p, "paired").split("\n\n")
        assert len(lines) == (p.level + 1) // 2 + 1 and lines[-1] == f"\\boxed{{{p.answer}}}"
        assert lines[-2].endswith(f"= {p.answer}")
        assert arith.worked_lines(p, 1) == arith.render_thought(p, "concise").split("\n\n")


def test_grpo_rows_carry_prompt_answer_and_level():
    tok = AutoTokenizer.from_pretrained(resolve_model_path("tiny"))
    rows = grpo_rows(tok, TINY, "arith:train", "ellipsis", limit=16)
    assert len(rows) == 16
    assert all(r["prompt"].endswith("<|assistant|>\n<think>\n...\n") for r in rows)
    assert sorted({r["level"] for r in rows}) == list(range(1, 9))
    assert all(r["answer"].lstrip("-").isdigit() for r in rows)
    r1 = grpo_rows(tok, R1, "arith:L2", "ellipsis", AUTOTHINK_USER_TEMPLATE, limit=1)[0]
    assert "Let's think step by step and output the final answer within \\boxed{}." in r1["prompt"]


# ------------------------------------------------------------------------------------------ verl


def test_verl_compute_score_on_responses():
    # verl decodes the response only: with the ellipsis prompt a no-think response starts with </think>.
    assert compute_score("arith", "</think>\n\n\\boxed{5}", "5") == {
        "score": 2.0,
        "correct": True,
        "think": False,
    }
    assert compute_score("arith", "</think>\n\n\\boxed{4}", ["5", "6"])["score"] == -1.0
    assert compute_score("arith", "Hmm.\n</think>\n\n\\boxed{6}", ["5", "6"]) == {
        "score": 1.0,
        "correct": True,
        "think": True,
    }
    assert compute_score("arith", "Hmm, still going", "5")["score"] == 0.0


def test_verl_batch_reward_groups_by_extra_info_index():
    # Two prompts x two responses, interleaved as verl would never do, to show that `index` decides groups.
    sols = [
        "a b c d </think>\n\n\\boxed{5}",
        "</think>\n\n\\boxed{7}",
        "a b </think>\n\n\\boxed{5}",
        "</think>\n\n\\boxed{8}",
    ]
    golds = ["5", "7", "5", "7"]
    infos = [{"index": 0}, {"index": 1}, {"index": 0}, {"index": 1}]
    # alpha 0.5, no balance: group 0 = two right thinking answers of 6 and 4 words: mean 5, std sqrt(2),
    # z = +/-0.7071067812 -> 1 + (e^-0.3535533906 - 1) = 0.7021885013 and 1 + (e^0.3535533906 - 1) = 1.4241190195.
    out = compute_score_batch(["arith"] * 4, sols, golds, infos, alpha=0.5, beta=0.5, gamma=1.0)
    assert out == pytest.approx([0.7021885013, 2.0, 1.4241190195, -1.0], abs=1e-9)
    # stage=1 takes the full preset: gamma 0.5 with think rate exactly 0.5 -> no balance, alpha 0 -> no terms.
    assert compute_score_batch(["arith"] * 4, sols, golds, infos, stage=1) == [1.0, 2.0, 1.0, -1.0]
    # Without ids the groups are blocks of num_generations: now responses 0 and 1 (6 and 2 words, both
    # right) form a group: mean 4, std sqrt(8), z = +/-0.7071067812 -> 1 + (e^-0.3535533906 - 1) and
    # 2 + (e^0.3535533906 - 1); responses 2 and 3 are one right and one wrong (no terms).
    blocks = compute_score_batch(["arith"] * 4, sols, golds, None, alpha=0.5, gamma=1.0, num_generations=2)
    assert blocks == pytest.approx([0.7021885013, 2.4241190195, 1.0, -1.0], abs=1e-9)


# ---------------------------------------------------------------------------------------- report


def _summary(levels: dict[int, tuple[float, float, float]], mode: str = "ellipsis") -> dict:
    """An eval summary in `thinklab eval`'s shape: level -> (accuracy, mean tokens, think rate), 10 problems each."""
    by_level = {
        str(lv): {"problems": 10, "accuracy": a, "mean_tokens": t, "think_rate": r}
        for lv, (a, t, r) in levels.items()
    }
    n = 10 * len(levels)
    total = {
        k: sum(v[i] for v in levels.values()) * 10 / n
        for i, k in enumerate(("accuracy", "mean_tokens", "think_rate"))
    }
    return {
        "model": "m",
        "config": {"prompt_mode": mode},
        "budgets": {"512": {"problems": n, **total, "by_level": by_level}},
    }


def test_stage_report_and_targets(tmp_path):
    policy = _summary(
        {
            1: (1.0, 8, 0.0),
            2: (0.9, 8, 0.0),
            3: (0.9, 50, 0.5),
            6: (0.8, 200, 1.0),
            7: (0.7, 250, 1.0),
            8: (0.6, 300, 0.9),
        }
    )
    base = _summary(
        {
            1: (1.0, 60, 1),
            2: (1.0, 90, 1),
            3: (0.9, 120, 1),
            6: (0.8, 240, 1),
            7: (0.7, 300, 1),
            8: (0.6, 340, 1),
        },
        "standard",
    )
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "summary.json").write_text(json.dumps(policy))
    rep = stage_report(load_summary(tmp_path / "run"), name="stage3")
    # Easy third = levels 1-3: think rate (0 + 0 + 0.5) / 3; hard third = (1 + 1 + 0.9) / 3.
    assert rep["easy"]["think_rate"] == pytest.approx(1 / 6)
    assert rep["hard"]["think_rate"] == pytest.approx(2.9 / 3)
    assert rep["budget"] == 512 and rep["prompt_mode"] == "ellipsis"
    b = stage_report(base, name="baseline")
    checks = check_targets(rep, b)
    # Tokens: 816 / 6 = 136 vs 1150 / 6 = 191.67 -> cut 1 - 816 / 1150 = 0.2904 (< 30%: fails).
    assert checks["token_cut"]["value"] == pytest.approx(1 - 816 / 1150)
    assert checks["token_cut"]["pass"] is False
    # Accuracy: 4.9 / 6 vs 5.0 / 6 -> drop 1.67 points (passes).
    assert checks["accuracy_drop"]["value"] == pytest.approx(0.1 / 6)
    assert (
        checks["accuracy_drop"]["pass"]
        and checks["easy_think_rate"]["pass"]
        and checks["hard_think_rate"]["pass"]
    )
    table = markdown([b, rep], b)
    assert "| stage3 | ellipsis |" in table and "token_cut: 29.0% (FAIL)" in table


def test_mode_accuracy_from_samples(tmp_path):
    run = tmp_path / "out" / "tiny_arith_x"
    run.mkdir(parents=True)
    rows = [
        # level 1: two direct answers (one right), one thought (right); a budget-64 row that is ignored
        {"budget": 512, "level": 1, "think": False, "correct": True},
        {"budget": 512, "level": 1, "think": False, "correct": False},
        {"budget": 512, "level": 1, "think": True, "correct": True},
        {"budget": 64, "level": 1, "think": True, "correct": False},
        {"budget": 512, "level": 8, "think": True, "correct": False},
    ]
    (run / "samples.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    acc = mode_accuracy(tmp_path / "out")  # an --out folder holding one run dir; largest budget by default
    assert acc == {
        "1": {"no_think": {"n": 2, "accuracy": 0.5}, "think": {"n": 1, "accuracy": 1.0}},
        "8": {"think": {"n": 1, "accuracy": 0.0}},
    }
    assert mode_accuracy(run, 64) == {"1": {"think": {"n": 1, "accuracy": 0.0}}}
    assert mode_accuracy(tmp_path / "missing") == {}
    rep = stage_report(_summary({1: (0.67, 10, 0.33), 8: (0.0, 200, 1.0)}), name="s") | {"by_mode": acc}
    table = markdown([rep])
    assert "| s | 100% (1) / 50% (2) | 0% (1) / - |" in table


def test_report_errors(tmp_path):
    with pytest.raises(ThinklabError, match="no eval summary"):
        load_summary(tmp_path)
    (tmp_path / "summary.json").write_text("{not json")
    with pytest.raises(ThinklabError, match="not valid JSON"):
        load_summary(tmp_path)
    with pytest.raises(ThinklabError, match="budget 64 not in"):
        stage_report(_summary({1: (1, 1, 1)}), budget=64)
