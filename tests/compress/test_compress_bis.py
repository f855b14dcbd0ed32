"""BIS: the formula by hand, the measurements against an independent scorer, truncation, cache, workers."""

from __future__ import annotations

import json
import math

import pytest

from thinklab.compress.bis import (
    Q_SUFFIX,
    BISJob,
    BISScorer,
    ScorerConfig,
    SideScore,
    StepScores,
    bis_formula,
    cache_key,
    load_cache,
    score_jobs,
)
from thinklab.errors import ThinklabError

STEPS = [
    "Okay, let me restate the problem: start with 7, then + 5, then * 3.",
    "Step 1: 7 + 5 = 12.",
    "Let me double check: 7 + 5 = 12. Yes.",
    "Step 2: 12 * 3 = 36.",
    "So the answer is 36.",
]
QUESTION = "Compute 7 + 5 * 3 from left to right."
SOLUTION = "\\boxed{36}"


@pytest.fixture(scope="module")
def scorer() -> BISScorer:
    return BISScorer(ScorerConfig(model="tiny", device="cpu"))


def test_formula_by_hand():
    # ((1-a)*aq + a*as) / ((1-a)*nq + a*ns) with a=0.25: (0.225 + 0.025) / (0.75 + 0.75) = 1/6
    assert bis_formula(0.3, 0.1, 1.0, 3.0, 0.25) == pytest.approx(1 / 6)
    assert bis_formula(0.2, 0.4, 2.0, 4.0, 0.5) == pytest.approx(0.1)
    assert bis_formula(1.0, 0.0, 2.0, 0.0, 0.0) == pytest.approx(0.5)  # alpha 0: question side only


def test_normalisations_by_hand():
    side = SideScore(attn_sum=6.0, step_tokens=3, suffix_tokens=2, nll=1.0)
    assert side.attn(4, "code") == pytest.approx(2.0)  # ÷|t| only (released code)
    assert side.attn(4, "paper") == pytest.approx(0.25)  # ÷(H·|y|·|t|) (paper Eq. 2)
    with pytest.raises(ThinklabError):
        side.attn(4, "other")


def test_order_is_descending_and_stable():
    mk = lambda a: SideScore(a, 1, 1, 1.0)  # noqa: E731
    scores = StepScores(1, [mk(0.5), mk(0.9), mk(0.5), mk(0.1)], [mk(0.5), mk(0.9), mk(0.5), mk(0.1)])
    assert scores.order(0.5) == [1, 0, 2, 3]
    assert StepScores.from_json(json.loads(json.dumps(scores.to_json()))) == scores


def test_nll_matches_the_backends_independent_scoring(scorer):
    """The eager-attention NLL equals -mean(log p) from the HF backend's (sdpa) scoring of the same tokens."""
    from thinklab.backends import load_backend

    backend = load_backend("hf", "tiny")
    for step in STEPS[:3]:
        (measured,) = scorer.measure([(step, QUESTION + Q_SUFFIX)])
        logprobs = backend.score([step], [QUESTION + Q_SUFFIX])[0]
        assert measured.suffix_tokens == len(logprobs)
        assert measured.nll == pytest.approx(-sum(logprobs) / len(logprobs), rel=1e-4)
        # attention rows sum to 1 per head and query: the part on the step is a share of H·|y|
        assert 0 < measured.attn_sum < scorer.heads * measured.suffix_tokens


def test_batching_does_not_change_scores(scorer):
    pairs = [(s, SOLUTION + " We can get this solution in the given thought step.") for s in STEPS]
    together = scorer.measure(pairs)
    for pair, score in zip(pairs, together, strict=True):
        (alone,) = scorer.measure([pair])
        assert alone.nll == pytest.approx(score.nll, rel=1e-4, abs=1e-5)
        assert alone.attn_sum == pytest.approx(score.attn_sum, rel=1e-4, abs=1e-5)
        assert (alone.step_tokens, alone.suffix_tokens) == (score.step_tokens, score.suffix_tokens)


def test_scores_rank_the_answer_step_high_for_the_solution(scorer):
    (scores,) = scorer.score([(STEPS, QUESTION, SOLUTION)])
    assert len(scores.q) == len(scores.s) == len(STEPS)
    # NLL of "\boxed{36}..." is lower after a step that contains 36 than after the restatement
    assert scores.s[4].nll < scores.s[0].nll
    assert all(math.isfinite(v) for v in scores.bis(0.5))


def test_long_inputs_are_truncated_to_the_window():
    small = BISScorer(ScorerConfig(model="tiny", device="cpu", max_length=48))
    assert small.max_length == 48
    full = BISScorer(ScorerConfig(model="tiny", device="cpu"))
    assert full.max_length == 1024  # the tiny model's max positions
    step = "Step 1: 7 + 5 = 12. " * 40
    ids, n_t, n_y = small.encode(step, QUESTION + Q_SUFFIX)
    assert len(ids) == 48 and n_t + n_y == 48 and n_y >= 24
    assert ids[:n_t] == small.tokenizer(step)["input_ids"][-n_t:]  # the step keeps its end
    (score,) = small.measure([(step, QUESTION + Q_SUFFIX)])
    assert math.isfinite(score.nll) and score.suffix_tokens == n_y


def _jobs():
    steps2 = STEPS[1:4]
    return [
        BISJob(cache_key("fp", QUESTION, SOLUTION, STEPS), STEPS, QUESTION, SOLUTION, "a"),
        BISJob(cache_key("fp", QUESTION, SOLUTION, steps2), steps2, QUESTION, SOLUTION, "b"),
    ]


def test_cache_is_written_and_reused_without_loading_a_scorer(tmp_path, scorer):
    cache = tmp_path / "bis.jsonl"
    first = score_jobs(_jobs(), ScorerConfig(model="tiny"), cache, scorer=scorer)
    assert len(cache.read_text().splitlines()) == 2
    # A scorer that cannot be loaded proves the second pass never scores anything.
    again = score_jobs(_jobs(), ScorerConfig(model="/nonexistent/scorer"), cache)
    assert again == first == load_cache(cache)
    # A run killed mid-write leaves a torn line: it is ignored and the missing job scored again.
    lines = cache.read_text().splitlines()
    cache.write_text(lines[0] + "\n" + lines[1][:30])
    with pytest.raises(ThinklabError):
        score_jobs(_jobs(), ScorerConfig(model="/nonexistent/scorer"), cache)
    redone = score_jobs(_jobs(), ScorerConfig(model="tiny"), cache, scorer=scorer)
    assert redone == first and len(load_cache(cache)) == 2


def test_cache_key_depends_on_everything_scored():
    base = cache_key("fp", QUESTION, SOLUTION, STEPS)
    assert base != cache_key("fp2", QUESTION, SOLUTION, STEPS)
    assert base != cache_key("fp", QUESTION + " ", SOLUTION, STEPS)
    assert base != cache_key("fp", QUESTION, SOLUTION, STEPS[:-1])


@pytest.mark.slow
def test_parallel_workers_match_one_process(tmp_path, scorer):
    jobs = _jobs() * 1
    one = score_jobs(jobs, ScorerConfig(model="tiny", device="cpu"), None, scorer=scorer)
    two = score_jobs(
        jobs, ScorerConfig(model="tiny", device="cpu", workers=2), tmp_path / "c.jsonl", chunk_size=1
    )
    assert set(one) == set(two)
    for key in one:
        for a, b in zip(one[key].q + one[key].s, two[key].q + two[key].s, strict=True):
            assert a.nll == pytest.approx(b.nll, rel=1e-4) and a.attn_sum == pytest.approx(
                b.attn_sum, rel=1e-4
            )
