"""Sampling strategies on the real tiny model: compute accounting identical for all strategies."""

from __future__ import annotations

import pytest

from thinklab.backends import SamplingParams
from thinklab.backends.forcing import BudgetConfig, generate_budgeted
from thinklab.grading import extract_answer
from thinklab.search.runner import segments
from thinklab.search.strategies import Candidate, aggregate, blocks_of, logprob_scorer, run_sampling

PARAMS = SamplingParams(temperature=1.0, top_p=0.95, seed=11)


@pytest.fixture(scope="module")
def tiny():
    from thinklab.backends import load_backend

    return load_backend("hf", "tiny", threads=1)


@pytest.fixture(scope="module")
def prompts(tiny):
    from thinklab.prompting.modes import prompt_for

    return [
        prompt_for(tiny, q)
        for q in ("Compute 4 + 5 * 2 from left to right.", "Compute 30 - 7 + 2 - 9 from left to right.")
    ]


def extract(text):
    return extract_answer("<think>\n" + text)


def test_blocks_by_hand():
    assert [blocks_of(t, 64) for t in (0, 1, 64, 65, 128, 129)] == [1, 1, 1, 2, 2, 3]


def test_segments_are_nested_powers_of_two():
    assert segments(1) == [(0, 1)]
    assert segments(5) == [(0, 1), (1, 2), (2, 4), (4, 8)]
    assert segments(8) == [(0, 1), (1, 2), (2, 4), (4, 8)]


@pytest.mark.parametrize("strategy", ["majority", "weighted", "bon"])
def test_tokens_are_every_sample_every_strategy(tiny, prompts, strategy):
    scorer = logprob_scorer(tiny)
    results = run_sampling(strategy, tiny, prompts, 4, PARAMS, 48, extract, scorer=scorer, block_size=16)
    direct = generate_budgeted(tiny, prompts, PARAMS.with_(n=4), 48, BudgetConfig())
    for res, row in zip(results, direct, strict=True):
        assert len(res.candidates) == 4
        assert res.tokens_generated == sum(r.tokens for r in row) == sum(c.tokens for c in res.candidates)
        assert res.blocks == sum(blocks_of(r.tokens, 16) for r in row)
        if strategy == "majority":
            assert res.value_tokens == 0
        else:  # the scorer read prompt + response of every sample once
            assert res.value_tokens == sum(c.value_tokens for c in res.candidates) > res.tokens_generated


def test_budget_forcing_tokens_are_counted(tiny, prompts):
    """s1 through the strategies: forced strings ("Wait", the forced close) count as spent tokens."""
    cfg = BudgetConfig(mode="force-answer", extend=2, answer_tokens=16)
    results = run_sampling("majority", tiny, prompts, 3, PARAMS, 64, extract, budget=cfg, block_size=16)
    direct = generate_budgeted(tiny, prompts, PARAMS.with_(n=3), 64, cfg)
    for res, row in zip(results, direct, strict=True):
        assert res.tokens_generated == sum(r.tokens for r in row)
        assert [c.extensions for c in res.candidates] == [r.extensions for r in row]
        for r in row:
            assert r.tokens >= r.generated_tokens
            assert r.tokens == r.thinking_tokens + r.answer_tokens
            # the thinking budget, "Wait" included; a forced close is charged to the answer
            assert r.thinking_tokens <= 64 + tiny.count_tokens(cfg.extend_str)


def test_bon_picks_highest_scored_answered_candidate():
    cands = [
        Candidate("a", None, 5, "length", value=0.99),
        Candidate("b", "3", 7, "stop", value=0.2),
        Candidate("c", "4", 9, "stop", value=0.7),
    ]
    res = aggregate("bon", cands)
    assert res.answer == "4" and res.chosen == 2
    assert res.tokens_generated == 21


def test_weighted_needs_values():
    with pytest.raises(ValueError, match="scored"):
        aggregate("weighted", [Candidate("a", "1", 3, "stop")])


def test_single_costs_one_sample():
    cands = [Candidate("a", "1", 5, "stop", blocks=1), Candidate("b", "2", 7, "stop", blocks=1)]
    res = aggregate("single", cands)
    assert (res.answer, res.tokens_generated, res.blocks) == ("1", 5, 1)


def test_extended_samples_always_close_their_thinking(tiny):
    """s1 "Wait": after an extension the tiny model often ends (EOS) without closing its thinking;
    budget forcing must then close it and let the model answer, as when the budget runs out."""
    from thinklab.prompting.modes import prompt_for

    qs = [f"Compute {a} + 4 - 2 * 3 + 5 - 1 + 2 - 3 + 1 from left to right." for a in (11, 23, 35, 40)]
    prompts = [prompt_for(tiny, q) for q in qs]
    cfg = BudgetConfig(mode="force-answer", extend=2, answer_tokens=16)
    rows = generate_budgeted(tiny, prompts, SamplingParams(), 400, cfg)
    extended = [r[0] for r in rows if r[0].extensions]
    assert extended, "the tiny model should close its thinking early at least once"
    for r in extended:
        assert "</think>" in r.text


def test_run_identity_fingerprints_policy_and_value_content(tmp_path):
    """A retrained policy or value model at the same path must not resume an old run dir/rollout file."""
    from thinklab.search.rollouts import RolloutConfig
    from thinklab.search.runner import SearchConfig, run_identity

    def model_dir(weights: bytes) -> str:
        d = tmp_path / f"m{len(weights)}"
        d.mkdir()
        (d / "config.json").write_text("{}")
        (d / "model.safetensors").write_bytes(weights)
        return str(d)

    a, b = model_dir(b"1"), model_dir(b"22")
    old = run_identity(SearchConfig(model=a, value_model=b, strategies=("beam",)), "beam")
    (tmp_path / "m2" / "model.safetensors").write_bytes(b"33")  # value model retrained in place
    new = run_identity(SearchConfig(model=a, value_model=b, strategies=("beam",)), "beam")
    assert old["model_fingerprint"] == new["model_fingerprint"]
    assert old["value_fingerprint"] != new["value_fingerprint"]
    assert "value_fingerprint" not in run_identity(SearchConfig(model=a, value_model=b), "majority")
    before = RolloutConfig(model=a).identity()
    (tmp_path / "m1" / "model.safetensors").write_bytes(b"4")  # policy retrained in place
    assert RolloutConfig(model=a).identity()["model_fingerprint"] != before["model_fingerprint"]
