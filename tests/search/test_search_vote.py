"""Vote tallying: answers are grouped by the grader's equivalence, not by string equality."""

import pytest

from thinklab.search.vote import best_of_n, majority, tally, weighted_majority


def test_equivalent_but_different_answers_vote_together():
    # 0.5, \frac{1}{2} and 1/2 are one answer; "2" and "2.0" another; None never votes.
    answers = ["2", "0.5", "\\frac{1}{2}", None, "2.0", "1/2"]
    result = majority(answers)
    sizes = {c.answer: sorted(c.members) for c in result.classes}
    assert sizes == {"2": [0, 4], "0.5": [1, 2, 5]}
    assert result.answer == "0.5"
    assert [c.weight for c in result.classes] == [2.0, 3.0]


def test_string_majority_would_pick_differently():
    # By string equality "7" (2 votes) beats each spelling of one half (1 vote each): grouping matters.
    answers = ["7", "\\frac12", "0.5", "7", "1/2"]
    assert majority(answers).answer == "\\frac12"


def test_weighted_majority_sums_values_per_class():
    answers = ["3", "3.0", "4", "\\frac{8}{2}", "5"]
    values = [0.1, 0.2, 0.4, 0.3, 0.65]
    # classes: {3: 0.3}, {4: 0.7}, {5: 0.65} -> 4 wins by summed value though 5 has the best single value
    result = weighted_majority(answers, values)
    assert result.answer == "4"
    weights = {c.answer: round(c.weight, 9) for c in result.classes}
    assert weights == {"3": 0.3, "4": 0.7, "5": 0.65}
    assert best_of_n(answers, values) == 4


def test_ties_go_to_first_seen_and_split_credit():
    answers = ["1", "2", "2", "1", "3"]
    result = majority(answers)
    assert result.answer == "1"
    assert result.tied == [0, 1]
    assert result.tie_credit(lambda a: a == "2") == 0.5
    assert result.tie_credit(lambda a: a == "3") == 0.0


def test_no_answers_at_all():
    result = majority([None, None])
    assert result.answer is None and result.winner is None and result.classes == []
    assert best_of_n([None, None], [0.9, 0.1]) is None


def test_best_of_n_skips_unanswered_and_breaks_ties_first():
    assert best_of_n([None, "1", "2"], [0.99, 0.5, 0.5]) == 1


def test_length_mismatch_is_an_error():
    with pytest.raises(ValueError):
        tally(["1", "2"], [1.0])
    with pytest.raises(ValueError):
        best_of_n(["1"], [1.0, 2.0])
