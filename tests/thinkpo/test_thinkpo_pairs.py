"""ThinkPO pair building on real files and the real grader: who is chosen, what is filtered, which gap
bucket is kept, and that the output is what `train dpo` (and TRL) reads."""

import json

import pytest
from typer.testing import CliRunner

from thinklab.cli.main import app
from thinklab.data.jsonl import write_jsonl
from thinklab.data.writers import read_pairs
from thinklab.errors import DataError, ThinklabError
from thinklab.tasks import arith
from thinklab.thinkpo.pairs import (
    PairsConfig,
    Response,
    ThinkPOPair,
    build_pairs,
    grade_all,
    load_responses,
    make_pairs,
    measure,
    select_by_gap,
)


def _resp(key, text, length, correct=True, gold="5"):
    return Response(key=key, problem=f"problem {key}", gold=gold, text=text, length=length, correct=correct)


def test_chosen_is_longest_correct_long_rejected_is_shortest_correct_short():
    long = [
        _resp("a", "long-a-1", 90),
        _resp("a", "long-a-2", 120),
        _resp("a", "long-a-wrong", 300, correct=False),  # longest but wrong: never chosen
        _resp("b", "long-b", 50),
        _resp("c", "long-c-wrong", 80, correct=False),  # no correct long response: no pair
    ]
    short = [
        _resp("a", "short-a-1", 30),
        _resp("a", "short-a-2", 20),
        _resp("a", "short-a-wrong", 5, correct=False),
        _resp("b", "short-b", 70),  # longer than the long one: dropped by the gap filter
        _resp("c", "short-c", 10),
        _resp("d", "short-d", 10),  # no long side at all
    ]
    pairs = make_pairs(long, short)
    assert [(p.key, p.chosen.text, p.rejected.text, p.gap) for p in pairs] == [
        ("a", "long-a-2", "short-a-2", 100)
    ]


def test_gap_and_ratio_filters():
    long = [_resp("a", "x", 40), _resp("b", "y", 100)]
    short = [_resp("a", "u", 30), _resp("b", "v", 30)]
    assert [p.key for p in make_pairs(long, short, min_gap=11)] == ["b"]  # gaps 10 and 70
    assert [p.key for p in make_pairs(long, short, min_gap=1, min_ratio=2.0)] == ["b"]  # 40/30 < 2 <= 100/30
    assert [p.key for p in make_pairs(long, short, min_gap=10)] == ["a", "b"]


def test_single_source_pairs_longest_with_shortest_correct_sample():
    samples = [
        _resp("a", "s1", 10),
        _resp("a", "s2", 25),
        _resp("a", "s3", 40, correct=False),
        _resp("b", "only", 9),
    ]
    pairs = make_pairs(samples)
    assert [(p.key, p.chosen.text, p.rejected.text) for p in pairs] == [("a", "s2", "s1")]  # b has one sample


def _pairs_with_gaps(gaps):
    return [
        ThinkPOPair(f"p{i}", "q", "1", _resp(f"p{i}", "c", 100 + g), _resp(f"p{i}", "r", 100))
        for i, g in enumerate(gaps)
    ]


def test_gap_buckets_by_hand():
    pairs = _pairs_with_gaps([5, 1, 9, 3, 7, 2, 8, 4, 6])  # 9 pairs, gaps 1..9
    gaps = lambda ps: [p.gap for p in ps]  # noqa: E731
    assert gaps(select_by_gap(pairs, "short")) == [1, 2, 3]  # default size: a third
    assert gaps(select_by_gap(pairs, "middle")) == [4, 5, 6]
    assert gaps(select_by_gap(pairs, "long")) == [7, 8, 9]
    assert gaps(select_by_gap(pairs, "short", 2)) == [1, 2]
    assert gaps(select_by_gap(pairs, "middle", 3)) == [4, 5, 6]  # start (9 - 3) // 2 = 3
    assert gaps(select_by_gap(pairs, "middle", 4)) == [3, 4, 5, 6]  # start (9 - 4) // 2 = 2
    assert gaps(select_by_gap(pairs, "long", 100)) == list(range(1, 10))
    assert gaps(select_by_gap(pairs, "all")) == [5, 1, 9, 3, 7, 2, 8, 4, 6]  # problem order
    with pytest.raises(ThinklabError):
        select_by_gap(pairs, "huge")


def test_measure_uses_one_unit_for_everything():
    rs = [_resp("a", "one two three", 0), _resp("b", "one", 0)]
    rs[0].tokens = 7
    assert measure(rs) == "words"  # b has no recorded count: fall back to words for both
    assert [r.length for r in rs] == [3, 1]
    rs[1].tokens = 2
    assert measure(rs) == "tokens (recorded)"
    assert [r.length for r in rs] == [7, 2]
    assert measure(rs, count=len) == "tokens"
    assert [r.length for r in rs] == [13, 3]


def test_grading_uses_the_thinklab_grader():
    rs = [
        _resp("a", "<think>\n2 + 3 = 5\n</think>\n\n\\boxed{5}", 0, correct=None),
        _resp("b", "<think>\n2 + 3 = 5\n</think>\n\n\\boxed{6}", 0, correct=None),
        _resp("c", "<think>\nthe answer is \\boxed{5} but I keep thinking", 0, correct=None),  # never closed
    ]
    grade_all(rs)
    assert [r.correct for r in rs] == [True, False, False]


def _arith_rows(style, n=6):
    return [
        {
            "id": f"x{i}",
            "problem": p.text(),
            "response": "<think>\n" + arith.render_completion(p, style),
            "answer": str(p.answer),
        }
        for i, p in enumerate(arith.generate(n, "train", 5, levels=(2, 3, 4)))
    ]


def test_eval_samples_get_their_thinking_prefill_back_and_problems_by_id(tmp_path):
    from thinklab.tasks.registry import get_task

    problems = get_task("arith:train").problems(limit=2)
    rows = [  # the shape `thinklab eval` writes: templated prompt, response after the prefill, no problem text
        {
            "id": p.id,
            "prompt": f"<|user|>\n{p.problem}\n<|assistant|>\n<think>\n",
            "response": "5 + 1 = 6\n</think>\n\n\\boxed{6}",
            "gold": p.answer,
            "tokens": 12,
        }
        for p in problems
    ]
    path = tmp_path / "samples.jsonl"
    write_jsonl(path, rows)
    with pytest.raises(DataError, match=r"samples.jsonl:1: no problem text"):
        load_responses(path)
    r0, r1 = load_responses(path, task="arith:train")
    assert r0.text == "<think>\n5 + 1 = 6\n</think>\n\n\\boxed{6}" and r0.tokens == 12
    assert (r0.key, r0.problem, r1.problem) == (problems[0].id, problems[0].problem, problems[1].problem)
    assert load_responses(tmp_path, task="arith:train")[0].text == r0.text  # a run dir works too


def test_missing_gold_is_a_clear_error_with_file_and_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    write_jsonl(path, [{"problem": "p", "response": "r", "answer": "1"}, {"problem": "p", "response": "r"}])
    with pytest.raises(DataError, match=r"bad.jsonl:2: no gold answer"):
        load_responses(path)


def test_build_pairs_end_to_end_verbose_vs_concise(tmp_path):
    long, short = tmp_path / "long.jsonl", tmp_path / "short.jsonl"
    write_jsonl(long, _arith_rows("verbose"))
    concise = _arith_rows("concise")
    concise[0]["response"] = concise[0]["response"].replace("\\boxed{", "\\boxed{1")  # a wrong short answer
    write_jsonl(short, concise)
    out = tmp_path / "pairs.jsonl"
    result = build_pairs(PairsConfig(out=str(out), long=str(long), short=str(short), tokenizer="tiny"))
    assert result.stats["written"] == 5 and result.stats["length_unit"] == "tokens"
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == ["x1", "x2", "x3", "x4", "x5"]
    assert all(r["chosen_length"] > r["rejected_length"] and r["gap"] > 0 for r in rows)
    assert rows[0]["prompt"][0]["role"] == "user" and rows[0]["chosen"][0]["role"] == "assistant"
    pairs = read_pairs(out)
    assert all(p.chosen.startswith("<think>\nOkay, let me restate") for p in pairs)
    assert all(p.rejected.startswith("<think>\n") and "Step" not in p.rejected for p in pairs)
    stats = json.loads((tmp_path / "pairs.stats.json").read_text())
    assert stats["short"]["correct"] == pytest.approx(5 / 6, abs=1e-4)
    # plain strings for TRL's standard format, and a system prompt cannot go there
    build_pairs(PairsConfig(out=str(out), long=str(long), short=str(short), out_format="plain"))
    assert isinstance(json.loads(out.read_text().splitlines()[0])["prompt"], str)
    with pytest.raises(ThinklabError, match="system prompt"):
        build_pairs(PairsConfig(out=str(out), long=str(long), short=str(short), out_format="plain", system_prompt="s"))


def test_cli_writes_pairs_and_reports(tmp_path):
    long, short = tmp_path / "long.jsonl", tmp_path / "short.jsonl"
    write_jsonl(long, _arith_rows("verbose"))
    write_jsonl(short, _arith_rows("concise"))
    out = tmp_path / "p.jsonl"
    res = CliRunner().invoke(
        app,
        [
            "pairs",
            "thinkpo",
            "--long",
            str(long),
            "--short",
            str(short),
            "--out",
            str(out),
            "--select",
            "long",
            "--size",
            "2",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "wrote 2 pairs" in res.output
    gaps = [json.loads(x)["gap"] for x in out.read_text().splitlines()]
    every = tmp_path / "all.jsonl"
    res = CliRunner().invoke(
        app, ["pairs", "thinkpo", "--long", str(long), "--short", str(short), "--out", str(every)]
    )
    assert res.exit_code == 0, res.output
    all_gaps = sorted(json.loads(x)["gap"] for x in every.read_text().splitlines())
    assert len(all_gaps) == 6 and gaps == all_gaps[-2:]  # the two largest gaps, ascending
    res = CliRunner().invoke(app, ["pairs", "thinkpo", "--out", str(out)])
    assert res.exit_code != 0 and "exactly one of --long" in str(res.exception)
