"""Every metric against values computed by hand."""

import math

import pytest

from thinklab.eval import metrics
from thinklab.grading import is_equivalent


def rec(pid, correct, tokens=10, pred=None, sample=0, gold="1", **kw):
    base = dict(
        id=pid,
        correct=correct,
        tokens=tokens,
        thinking_tokens=tokens - 2,
        finish_reason="stop",
        think=True,
        format_ok=True,
        pred=pred,
        sample=sample,
        gold=gold,
    )
    base.update(kw)
    return base


def test_accuracy_is_mean_of_per_problem_means_with_stderr():
    rs = [rec("a", 1, sample=0), rec("a", 0, sample=1), rec("b", 1), rec("b", 1, sample=1)]
    assert metrics.accuracy(rs) == pytest.approx(0.75)
    # per-problem means 0.5 and 1.0 → std (ddof 1) = 0.35355, se = 0.35355 / sqrt(2) = 0.25
    assert metrics.accuracy_stderr(rs) == pytest.approx(0.25)


def test_pass_at_k_unbiased():
    # n=4, c=1: pass@1 = 1/4; pass@2 = 1 - C(3,2)/C(4,2) = 1 - 3/6 = 0.5
    assert metrics.pass_at_k_one(4, 1, 1) == pytest.approx(0.25)
    assert metrics.pass_at_k_one(4, 1, 2) == pytest.approx(0.5)
    assert metrics.pass_at_k_one(4, 0, 4) == 0.0
    assert metrics.pass_at_k_one(4, 3, 2) == 1.0
    rs = [rec("a", c, sample=i) for i, c in enumerate([1, 0, 0, 0])] + [
        rec("b", 0, sample=i) for i in range(4)
    ]
    assert metrics.pass_at_k(rs, 2) == pytest.approx(0.25)
    with pytest.raises(ValueError):
        metrics.pass_at_k_one(2, 1, 3)


def test_majority_vote_groups_equivalent_answers():
    # "0.5" and "\frac12" are one class of 2 votes; "3" has 1; weighted votes can flip it.
    preds = ["3", "0.5", "\\frac12", None]
    assert is_equivalent(metrics.majority_vote(preds, is_equivalent), "1/2")
    assert metrics.majority_vote(preds, is_equivalent, weights=[5, 1, 1, 9]) == "3"
    assert metrics.majority_vote([None, None], is_equivalent) is None
    # ties go to the class seen first
    assert metrics.majority_vote(["7", "8"], is_equivalent) == "7"


def test_maj_at_k():
    rs = [
        rec("a", 0, pred="2", sample=0, gold="\\frac12"),
        rec("a", 1, pred="0.5", sample=1, gold="\\frac12"),
        rec("a", 1, pred="1/2", sample=2, gold="\\frac12"),
        rec("b", 0, pred="4", sample=0, gold="5"),
        rec("b", 0, pred="4", sample=1, gold="5"),
        rec("b", 1, pred="5", sample=2, gold="5"),
    ]
    assert metrics.maj_at_k(rs, 3, is_equivalent) == pytest.approx(0.5)


def test_token_metrics_truncation_and_acu():
    rs = [
        rec("a", 1, tokens=100),
        rec("b", 0, tokens=300, finish_reason="length", think=False, format_ok=False),
    ]
    s = metrics.summarize(rs, is_equivalent, n_params=2_000_000_000)
    assert s["mean_tokens"] == 200 and s["mean_thinking_tokens"] == 198
    assert s["truncation_rate"] == 0.5 and s["think_rate"] == 0.5 and s["format_pass"] == 0.5
    # ACU = 100 * 0.5 / 200 = 0.25; CoT-Valve: 100 * 0.5 / (2 [B params] * 200) = 0.125
    assert s["acu"] == pytest.approx(0.25)
    assert s["acu_params"] == pytest.approx(0.125)
    assert metrics.acu(0.5, 0) == 0.0 and metrics.acu_params(0.5, 10, None) is None
    assert math.isclose(s["pass@1"], 0.5)
