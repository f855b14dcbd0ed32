"""The STaR verifier, metrics, config and merge rule, on hand-written inputs and real files."""

import json
from pathlib import Path

import pytest

from thinklab.data.jsonl import read_jsonl, write_jsonl
from thinklab.data.writers import read_examples
from thinklab.errors import ThinklabError
from thinklab.star import (
    StarConfig,
    StarRun,
    config_from_dict,
    equations_hold,
    generation_stats,
    heldout_metrics,
    load_config,
    reasoning_lines,
    verify,
)
from thinklab.star.generate import chunk_seed, run_chunks
from thinklab.star.loop import round_dir
from thinklab.star.tiny import render_star_response, seed_examples
from thinklab.tasks import arith
from thinklab.tasks.registry import get_task

ROOT = Path(__file__).resolve().parents[2]


def recipe_config(name: str, sets: list[str] | None = None, **overrides):
    """The `star` step of recipes/NAME as a StarConfig (`overrides` replace top-level keys, `sets` any
    key), as `thinklab recipe` builds it."""
    import copy

    from thinklab.cli.main import app
    from thinklab.cli.recipe import load_recipe
    from thinklab.config import apply_sets

    _, steps = load_recipe(ROOT / "recipes" / name, app)
    values = copy.deepcopy(next(s for s in steps if s.command == "star").options)
    values.update(overrides)
    apply_sets(values, sets or [])
    return config_from_dict(values, name)


GOOD = "<think>\nOkay, let me restate the problem: start with 7, then + 5, then * 3.\n\n7 + 5 = 12\n\n12 * 3 = 36\n</think>\n\nFinal: 36"


def test_verifier_accepts_a_correct_formatted_response():
    v = verify(GOOD, "36", max_steps=9, check_equations=True)
    assert (v.ok, v.correct, v.final_correct, v.format_ok, v.steps, v.equations_ok) == (
        True,
        True,
        True,
        True,
        3,
        True,
    )


@pytest.mark.parametrize(
    ("text", "gold", "why"),
    [
        (GOOD, "35", "wrong answer"),
        (GOOD.replace("Final: 36", "\\boxed{36}"), "36", "no Final line"),
        (GOOD + "\nThat is all.", "36", "Final not last"),
        ("<think>\n7 + 5 = 12\n</think>\n\nFinal: 12", "12", "one reasoning line (tags are not steps)"),
        (GOOD.replace("Final: 36", "Final: <single-line final answer>"), "36", "placeholder"),
        ("<think>\n7 + 5 = 12\n\n12 * 3 = 36\n\nFinal: 36", "36", "thinking never closed"),
        (GOOD.replace("12 * 3 = 36", "12 * 3 = 35"), "36", "false arithmetic with the right answer"),
    ],
)
def test_verifier_rejects(text, gold, why):
    assert not verify(text, gold, max_steps=9, check_equations=True).ok, why


def test_step_bound_counts_reasoning_lines():
    nine = "\n".join(f"{i} + 1 = {i + 1}" for i in range(9)) + "\nFinal: 9"
    assert verify(nine, "9", max_steps=9).ok
    v = verify(nine, "9", max_steps=8)
    assert not v.ok and v.format_reason == "too_many_steps" and v.steps == 9
    assert reasoning_lines("<think>\na\n</think>\n\nFinal: 1") == "a\n\nFinal: 1"


def test_equations_by_hand():
    assert equations_hold("Step 1: 46 - 7 = 39.")
    assert not equations_hold("Step 1: 46 - 7 = 38.")
    assert equations_hold("7 / 2 = 3.5 and 1.5 * 2 = 3")
    assert not equations_hold("1 / 0 = 0")
    assert equations_hold("2 + 3 * 4 = 14")  # part of a longer expression: not checked
    assert equations_hold("3 * 4 = 10 + 2")
    assert equations_hold("x + 2 = 5")  # not plain numbers


def test_tiny_star_traces_pass_the_preset_verifier_at_every_level():
    for p in arith.generate(40, "train", 1):
        v = verify(render_star_response(p), str(p.answer), max_steps=9, min_steps=2, check_equations=True)
        assert v.ok and v.steps == p.level + 1, (p.key, v)


def test_seed_examples_hint_fraction_and_exclusion():
    pool = {p.key for p in arith.generate(50, "train", 7)}
    exs = seed_examples(
        60,
        seed=7,
        prompt_template="{problem}",
        rationalize_template="{problem}\nHint '{answer}'.",
        hint_fraction=0.5,
        exclude=pool,
    )
    hinted = [e for e in exs if "\nHint '" in e.problem]
    assert 15 <= len(hinted) <= 45
    for e in hinted:  # the hint is the gold answer, and the response ends with it
        assert e.response.endswith(f"Final: {e.problem.split(chr(39))[1]}")
    texts = {e.problem.split("\n")[0] for e in exs}
    assert not texts & {p.text() for p in arith.generate(50, "train", 7)}


def test_heldout_metrics_by_hand():
    def row(correct, ok, fmt, steps, finish="stop", forced=False, tokens=10, level=1):
        return {
            "correct": correct,
            "ok": ok,
            "format_ok": fmt,
            "steps": steps,
            "finish_reason": finish,
            "forced_answer": forced,
            "tokens": tokens,
            "level": level,
        }

    rows = [
        row(True, True, True, 3),
        row(True, False, False, 5, tokens=30, level=2),
        row(False, False, True, 4, finish="length", tokens=50, level=2),
        row(False, False, False, 0, forced=True),
    ]
    m = heldout_metrics(rows)
    assert m["accuracy"] == 0.5 and m["verified"] == 0.25 and m["format_pass"] == 0.5
    assert m["avg_steps"] == 3.0  # (3 + 5 + 4 + 0) / 4
    assert m["timeout_pct"] == 50.0  # one length stop, one forced close
    assert m["mean_tokens"] == 25.0
    assert m["by_level"] == {
        "1": {"n": 2, "accuracy": 0.5, "verified": 0.5},
        "2": {"n": 2, "accuracy": 0.5, "verified": 0.0},
    }


def test_generation_stats_by_hand():
    a = lambda c, ok: {"correct": c, "ok": ok}  # noqa: E731
    rows = [
        {"kind": "first", "attempts": [a(True, True)]},
        {"kind": "retry", "attempts": [a(True, False), a(True, True)]},
        {"kind": "rationalized", "attempts": [a(False, False), a(True, True)]},
        {"kind": None, "attempts": [a(False, False)]},
    ]
    s = generation_stats(rows)
    assert (s["first"], s["retry"], s["rationalized"], s["failed"]) == (1, 1, 1, 1)
    assert s["first_try_accuracy"] == 0.5 and s["first_try_verified"] == 0.25


def test_shipped_recipes_load():
    cfg = recipe_config("tiny/star.yaml")
    assert cfg.rounds == 3 and cfg.max_steps == 20 and cfg.init.arith_examples > 0
    assert cfg.eval_generation.temperature == 0.0
    for name in ("r1-distill-qwen-1.5b", "r1-distill-qwen-7b", "qwen2.5-1.5b-instruct"):
        assert recipe_config(f"{name}/star.yaml").backend == "vllm"


def test_config_errors_are_one_line(tmp_path):
    with pytest.raises(ThinklabError, match=r"unknown option roundz"):
        config_from_dict({"roundz": 3})
    with pytest.raises(ThinklabError, match=r"config: unknown option train.lr"):
        config_from_dict({"train": {"lr": 1}})
    with pytest.raises(ThinklabError, match="must contain {answer}"):
        config_from_dict({"rationalize_template": "{problem}"})
    bad = tmp_path / "bad.yaml"
    bad.write_text("rounds: [1\n")
    with pytest.raises(ThinklabError, match="invalid YAML"):
        load_config(bad)
    assert recipe_config("tiny/star.yaml", rounds=5).rounds == 5  # CLI overrides


def _gen_row(pid, kind, response, gold="36"):
    return {
        "id": pid,
        "problem": "p",
        "gold": gold,
        "attempts": [],
        "kind": kind,
        "user": f"u{pid}",
        "response": response,
    }


def test_merge_keeps_first_verified_example_per_problem(tmp_path):
    cfg = config_from_dict(
        {"out": str(tmp_path / "run"), "max_steps": 9, "check_equations": True, "system_prompt": None}
    )
    run = StarRun(cfg)
    bad = GOOD.replace("12 * 3 = 36", "12 * 3 = 35")
    write_jsonl(
        round_dir(run.dir, 1) / "generate.jsonl",
        [_gen_row("a", "first", GOOD), _gen_row("b", None, None), _gen_row("c", "rationalized", bad)],
    )
    run._merge(1)
    write_jsonl(
        round_dir(run.dir, 2) / "generate.jsonl",
        [_gen_row("a", "retry", GOOD.replace("Okay", "Hmm")), _gen_row("b", "rationalized", GOOD)],
    )
    run._merge(2)
    merged = list(read_jsonl(round_dir(run.dir, 2) / "merged.jsonl"))
    assert [(m["id"], m["round"], m["kind"]) for m in merged] == [("a", 1, "first"), ("b", 2, "rationalized")]
    assert merged[0]["response"] == GOOD  # round 1's example won over round 2's
    exs = read_examples(round_dir(run.dir, 2) / "train.jsonl")
    assert [(e.problem, e.response) for e in exs] == [("ua", GOOD), ("ub", GOOD)]  # trained without any hint
    state = json.loads((run.dir / "state.json").read_text())
    assert state["completed"] == ["r1:merge", "r2:merge"]
    assert state["info"]["r1:merge"] == {"added": 1, "total": 1} and state["info"]["r2:merge"] == {
        "added": 1,
        "total": 2,
    }


def test_a_run_dir_is_not_reused_silently(tmp_path):
    cfg = config_from_dict({"out": str(tmp_path / "run")})
    StarRun(cfg)
    with pytest.raises(ThinklabError, match="--resume"):
        StarRun(cfg)
    StarRun(cfg, resume=True)
    other = config_from_dict({"out": str(tmp_path / "run"), "seed": 1})
    with pytest.raises(ThinklabError, match="other settings"):
        StarRun(other, resume=True)
    more_rounds = config_from_dict({"out": str(tmp_path / "run"), "rounds": 9})
    StarRun(more_rounds, resume=True)  # extending a run is allowed


def test_run_chunks_skips_complete_chunks_and_redoes_partial_ones(tmp_path):
    from thinklab.data.problem import Problem

    probs = [Problem(id=f"p{i}", problem="q", answer="1") for i in range(5)]
    path = tmp_path / "rows.jsonl"
    write_jsonl(
        path, [{"id": "p0", "v": 0}, {"id": "p1", "v": 1}, {"id": "p2", "v": 2}]
    )  # chunk 0 and half of 1
    calls = []

    def work(chunk, k):
        calls.append((k, [p.id for p in chunk]))
        return [{"id": p.id, "v": chunk_seed(k, p.id)} for p in chunk]

    rows = run_chunks(path, probs, 2, work)
    assert calls == [(1, ["p2", "p3"]), (2, ["p4"])]
    assert [r["id"] for r in rows] == ["p0", "p1", "p2", "p3", "p4"]
    assert rows[2]["v"] == 2  # a row already on disk is never rewritten
    assert [r["id"] for r in read_jsonl(path)] == ["p0", "p1", "p2", "p3", "p4"]


def test_set_overrides_nested_keys():
    cfg = recipe_config(
        "tiny/star.yaml",
        sets=["problems_per_round=32", "train.epochs=2", "init.train.max_steps=3", "system_prompt=null"],
    )
    assert (cfg.problems_per_round, cfg.train.epochs, cfg.init.train.max_steps, cfg.system_prompt) == (
        32,
        2,
        3,
        None,
    )
    with pytest.raises(ThinklabError, match="malformed --set"):
        recipe_config("tiny/star.yaml", sets=["epochs"])
    with pytest.raises(ThinklabError, match=r"unknown option train.epochz"):
        recipe_config("tiny/star.yaml", sets=["train.epochz=2"])


def test_cli_reports_bad_configs_as_user_errors(tmp_path):
    from typer.testing import CliRunner

    from thinklab.cli.main import app

    res = CliRunner().invoke(app, ["star", "--config", str(tmp_path / "missing.yaml")])
    assert isinstance(res.exception, ThinklabError) and "no such config file" in str(res.exception)
    res = CliRunner().invoke(app, ["report", "star", str(tmp_path)])
    assert isinstance(res.exception, ThinklabError) and "not a STaR run dir" in str(res.exception)
    res = CliRunner().invoke(app, ["star"])  # no options: the help (the defaults alone are no useful run)
    assert "--resume" in res.output and not (tmp_path / "runs").exists()


def test_numbers_written_the_short_way_are_numbers():
    cfg = config_from_dict({"train": {"learning_rate": "2e-4", "epochs": 2}, "rounds": "4"})
    assert cfg.train.learning_rate == 2e-4 and cfg.train.epochs == 2.0 and cfg.rounds == 4
    with pytest.raises(ThinklabError, match="train.learning_rate: expected a float"):
        config_from_dict({"train": {"learning_rate": "fast"}})


def test_verbose_star_style_is_the_models_own_thought_with_a_final_line():
    p = arith.generate(1, "train", 2, levels=(6,))[0]
    text = render_star_response(p, "verbose")
    assert text == f"<think>\n{arith.render_thought(p, arith.SHIPPED_STYLE)}\n</think>\n\nFinal: {p.answer}"
    v = verify(text, str(p.answer), max_steps=30, check_equations=True)
    assert v.ok and v.steps > p.level + 1  # checks and summaries are extra reasoning lines
    with pytest.raises(ValueError):
        render_star_response(p, "terse")


def test_rambling_style_adds_only_true_familiar_lines_never_repeated_within_a_step():
    from thinklab.star.tiny import RAMBLE_LINES

    problems = arith.generate(40, "train", 3, levels=(4,))
    extra = []
    for p in problems:
        verbose, rambling = render_star_response(p, "verbose"), render_star_response(p, "rambling")
        assert rambling == render_star_response(p, "rambling")  # deterministic per problem
        v_lines, r_lines = verbose.split("\n\n"), rambling.split("\n\n")
        # walking both in order, every rambling line is the next verbose line or an added one
        j, added = 0, []
        for line in r_lines:
            if j < len(v_lines) and line == v_lines[j]:
                j += 1
            else:
                added.append(line)
        assert j == len(v_lines)
        starts = tuple(form.split("{")[0] for form in RAMBLE_LINES)
        assert all(line.startswith(starts) for line in added)
        # within a step (its Step line up to the next one), no line type appears twice
        blocks, block = [], []
        for line in r_lines[1:]:
            if line.startswith(("Step ", "So the answer")):
                blocks.append(block)
                block = []
            block.append(line)
        for b in blocks:
            kinds = [k for line in b for k in starts if line.startswith(k)]
            assert len(kinds) == len(set(kinds)), b
        assert verify(rambling, str(p.answer), max_steps=99, check_equations=True).ok
        extra.append(len(r_lines) - len(v_lines))
    # Binomial(2, 1/2) per step, less the types the step already has: under one a step, spread out
    mean = sum(extra) / len(extra) / 4
    assert 0.5 < mean < 1.0
    assert len(set(extra)) > 3


def test_kill_hook_is_off_unless_its_stage_is_named(monkeypatch):
    from thinklab.star.generate import KILL_ENV, kill_point

    monkeypatch.delenv(KILL_ENV, raising=False)
    assert kill_point("r2:generate") is None
    monkeypatch.setenv(KILL_ENV, "r2:generate:3")
    assert kill_point("r2:generate") == 3
    assert kill_point("r1:generate") is None and kill_point("r2:eval") is None


class _ScriptedStarEngine:
    """A chat engine whose answers are fixed by (problem, try): problem i's plain try j is verified iff
    j == i % 4 (so i % 4 == 3 never passes in 3 tries), its hinted try iff i == 3."""

    name = model_id = "scripted"
    tokenizer = None
    chat = True

    def __init__(self, problems):
        self.index = {p.problem: (i, p.answer) for i, p in enumerate(problems)}
        self.calls = []
        self.tried = {}  # plain samples drawn so far per problem: the try index of the next one

    def generate(self, prompts, params):
        from thinklab.backends.base import Completion

        self.calls.append((len(prompts), params.n))
        out = []
        for prompt in prompts:
            user = dict(prompt.messages)["user"]
            hint = "correct final answer" in user
            i, gold = self.index[user.split("\n")[0]]
            row = []
            for _ in range(params.n):
                j = 0 if hint else self.tried.get(i, 0)
                self.tried[i] = j + (not hint)
                good = (i == 3) if hint else (j == i % 4)
                text = f"Let me add.\nThen check {j}.\n</think>\nFinal: {gold if good else 'x'}"
                row.append(Completion(text, 12, "stop"))
            out.append(row)
        return out

    def count_tokens(self, text):
        return len(text.split())


@pytest.mark.parametrize("parallel", [True, False])
def test_tries_keep_the_first_verified_attempt(parallel):
    """Parallel tries sample every try in one call and keep the first verified one in try order;
    sequential tries stop at it. Either way the kept response is the first verified attempt."""
    from thinklab.star.generate import solve_chunk

    problems = get_task("arith:train").load(None, "train")[:8]
    cfg = StarConfig(
        base_model="x",
        tries=3,
        rationalize_tries=1,
        parallel_tries=parallel,
        prompt_template="{problem}",
        rationalize_template="{problem}\nThe correct final answer is '{answer}'.",
    )
    cfg.generation.temperature = 1.0
    engine = _ScriptedStarEngine(problems)
    rows = solve_chunk(engine, cfg, problems, 1, 0)
    # one call per phase in parallel (plain, hint); one per try otherwise, over a shrinking batch
    expected_calls = [(8, 3), (2, 1)] if parallel else [(8, 1), (6, 1), (4, 1), (2, 1)]
    assert engine.calls == expected_calls
    for i, r in enumerate(rows):
        plain = [a for a in r["attempts"] if not a["hint"]]
        hinted = [a for a in r["attempts"] if a["hint"]]
        assert [a["try"] for a in plain] == list(range(len(plain)))
        if i % 4 < 3:  # verified at try i % 4: first verified kept
            assert len(plain) == (3 if parallel else i % 4 + 1)
            assert r["kind"] == ("first" if i % 4 == 0 else "retry")
            assert r["response"].endswith(plain[i % 4]["text"]) and plain[i % 4]["ok"]
            assert hinted == []
        else:
            assert len(plain) == 3 and not any(a["ok"] for a in plain)
            assert len(hinted) == 1
            assert r["kind"] == ("rationalized" if i == 3 else None)
