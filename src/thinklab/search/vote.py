"""Answer tallies for sampling strategies: majority, value-weighted majority and best-of-N.

Answers are grouped into classes by the grader's equivalence (`thinklab.grading.group_equivalent`,
symmetric between two predictions), never by string equality: `0.5`, `\\frac12` and `1/2` vote
together. A class's weight is its member count (majority) or the sum of its members' weights
(weighted majority: VGS's `wmaj`, weights = value-model success probabilities).

Ties: the class seen first wins (the convention of `thinklab.eval.metrics.majority_vote`). VGS splits
the credit of a tie between the tied classes when it reports accuracy; `VoteResult.tied` keeps what is
needed to compute that too (see `tie_credit`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from thinklab.grading import group_equivalent


@dataclass
class VoteClass:
    """One equivalence class of answers: its representative (first member), members and weight."""

    answer: str
    members: list[int]
    weight: float


@dataclass
class VoteResult:
    answer: str | None
    winner: int | None  # index of the winning class in `classes`
    classes: list[VoteClass] = field(default_factory=list)
    tied: list[int] = field(default_factory=list)  # class indices sharing the top weight

    def tie_credit(self, is_correct: Callable[[str], bool]) -> float:
        """VGS's tie rule: the share of top-weight classes whose answer is correct."""
        if not self.tied:
            return 0.0
        return sum(is_correct(self.classes[i].answer) for i in self.tied) / len(self.tied)


def tally(
    answers: Sequence[str | None],
    weights: Sequence[float] | None = None,
    group: Callable[[Sequence[str | None]], list[list[int]]] = group_equivalent,
) -> VoteResult:
    """Group `answers` by equivalence and weigh each class (count, or sum of `weights`).

    `None` answers (nothing extracted: an unfinished or unparseable trace) belong to no class and so
    never win; if every answer is None the result's answer is None.
    """
    if weights is not None and len(weights) != len(answers):
        raise ValueError(f"{len(answers)} answers but {len(weights)} weights")
    w = list(weights) if weights is not None else [1.0] * len(answers)
    classes = []
    for members in group(answers):
        rep = answers[members[0]]
        assert rep is not None
        classes.append(VoteClass(answer=rep, members=members, weight=sum(w[i] for i in members)))
    if not classes:
        return VoteResult(answer=None, winner=None, classes=[])
    top = max(c.weight for c in classes)
    # Exact float ties only: weights are sums of the same kind of numbers, so a tie is a real tie.
    tied = [i for i, c in enumerate(classes) if c.weight == top]
    return VoteResult(answer=classes[tied[0]].answer, winner=tied[0], classes=classes, tied=tied)


def majority(answers: Sequence[str | None]) -> VoteResult:
    """Plain majority vote (self-consistency)."""
    return tally(answers)


def weighted_majority(answers: Sequence[str | None], weights: Sequence[float]) -> VoteResult:
    """VGS `wmaj`: classes scored by the sum of their members' values."""
    return tally(answers, weights)


def best_of_n(answers: Sequence[str | None], scores: Sequence[float]) -> int | None:
    """Index of the highest-scoring candidate that has an answer (first on ties); None if none has one.

    Candidates without an extractable answer are skipped: picking one would forfeit the problem while
    an answered candidate exists, whatever the scorer says."""
    if len(scores) != len(answers):
        raise ValueError(f"{len(answers)} answers but {len(scores)} scores")
    best = None
    for i, (a, s) in enumerate(zip(answers, scores, strict=True)):
        if a is None:
            continue
        if best is None or s > scores[best]:
            best = i
    return best
