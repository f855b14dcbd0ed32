"""Sampling strategies over any backend: single sample, best-of-N, majority and weighted majority.

A strategy is a small function over the shared backend interface. Every one returns, per prompt, a
`StrategyResult` whose compute is counted the same way for all strategies (and for the block search
in `thinklab.search.beam`), so that they can be compared at equal cost:

- `tokens`: every token the policy generated for the problem, over all samples/beams, including
  pruned beams and the strings budget forcing writes (s1's "Wait" and forced `</think>`);
- `blocks`: generation units of at most `block_size` tokens (a sample of t tokens is ceil(t/block_size)
  blocks; a beam-search continuation is one block);
- `value_tokens`: tokens forwarded through the value model or scorer (its own cost, reported apart
  because it is a different model; prefixes are re-read in full, no cache).

Samples come from `thinklab.backends.forcing.generate_budgeted`, so s1 budget forcing (cap,
force-answer, "Wait" extensions) applies to every sampling strategy through `BudgetConfig`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from thinklab.backends.base import Backend, SamplingParams
from thinklab.backends.forcing import BudgetConfig, BudgetedResponse, generate_budgeted
from thinklab.prompting.modes import Prompt
from thinklab.search.vote import VoteResult, best_of_n, majority, weighted_majority

SAMPLING_STRATEGIES = ("single", "majority", "weighted", "bon")


class Scorer(Protocol):
    """Scores complete or partial responses: `scorer(prompts, texts) -> one float per pair` (batched).

    `ValueModel` is one (P(correct) at the last token); `logprob_scorer(backend)` is another. After a
    call, `last_tokens` (if present) holds the tokens read for each pair, for compute accounting."""

    def __call__(self, prompts: Sequence[Prompt], texts: Sequence[str]) -> list[float]: ...


@dataclass
class Candidate:
    """One finished sample or beam: its text (after the prompt), answer and cost."""

    text: str
    answer: str | None
    tokens: int  # tokens in `text` (generated + forced)
    finish_reason: str  # "stop" | "length"
    value: float | None = None
    thinking_tokens: int = 0
    blocks: int = 0
    extensions: int = 0
    forced_answer: bool = False
    value_tokens: int = 0  # tokens the scorer read to value this candidate

    def to_json(self) -> dict[str, Any]:
        return {
            "answer": self.answer,
            "value": None if self.value is None else round(self.value, 6),
            "tokens": self.tokens,
            "finish_reason": self.finish_reason,
            "blocks": self.blocks,
            "extensions": self.extensions,
        }


@dataclass
class StrategyResult:
    """What a strategy returns for one problem: the answer, the chosen response and the full cost."""

    answer: str | None
    text: str  # the response shown for the answer (best member of the winning class)
    tokens_generated: int
    blocks: int
    value_tokens: int = 0
    candidates: list[Candidate] = field(default_factory=list)
    vote: VoteResult | None = None
    chosen: int | None = None  # index into candidates
    extra: dict[str, Any] = field(default_factory=dict)


def blocks_of(tokens: int, block_size: int) -> int:
    """Generation units of at most `block_size` tokens in a sample of `tokens` tokens (at least 1)."""
    return max(1, math.ceil(tokens / block_size))


def sample_candidates(
    backend: Backend,
    prompts: Sequence[Prompt],
    params: SamplingParams,
    n: int,
    max_tokens: int,
    extract: Callable[[str], str | None],
    budget: BudgetConfig | None = None,
    block_size: int = 64,
    prefill: str = "",
) -> list[list[Candidate]]:
    """`n` budgeted samples per prompt (one batched call), each with its extracted answer.

    `max_tokens` is the per-sample thinking budget handed to budget forcing (with `cap`, a hard cut)."""
    outs = generate_budgeted(backend, list(prompts), params.with_(n=n), max_tokens, budget or BudgetConfig())
    return [[_candidate(r, extract, block_size, prefill) for r in row] for row in outs]


def _candidate(
    r: BudgetedResponse, extract: Callable[[str], str | None], block_size: int, prefill: str
) -> Candidate:
    return Candidate(
        text=r.text,
        answer=extract(prefill + r.text),
        tokens=r.tokens,
        finish_reason=r.finish_reason,
        thinking_tokens=r.thinking_tokens,
        blocks=blocks_of(r.tokens, block_size),
        extensions=r.extensions,
        forced_answer=r.forced_answer,
    )


def score_candidates(scorer: Scorer, prompts: Sequence[Prompt], pools: Sequence[Sequence[Candidate]]) -> None:
    """Fill `value` (and `value_tokens`) of every unscored candidate with one batched scorer call."""
    flat = [(p, c) for p, pool in zip(prompts, pools, strict=True) for c in pool if c.value is None]
    if not flat:
        return
    values = scorer([p for p, _ in flat], [c.text for _, c in flat])
    read = getattr(scorer, "last_tokens", None) or [0] * len(flat)
    for (_, c), v, t in zip(flat, values, read, strict=True):
        c.value = float(v)
        c.value_tokens = int(t)


# ----------------------------------------------------------------------------- aggregators
# Each takes one problem's candidate pool (already sampled and, where needed, scored) and decides.


def _cost(cands: Sequence[Candidate]) -> tuple[int, int]:
    return sum(c.tokens for c in cands), sum(c.blocks for c in cands)


def _best_member(cands: Sequence[Candidate], members: list[int]) -> int:
    return max(members, key=lambda i: (cands[i].value if cands[i].value is not None else 0.0, -i))


def aggregate(strategy: str, cands: Sequence[Candidate]) -> StrategyResult:
    """Decide one problem from its pool with `strategy` in `single | majority | weighted | bon`.

    `weighted` and `bon` need `value` filled (see `score_candidates`). `single` is the first sample."""
    tokens, blocks = _cost(cands)
    value_tokens = sum(c.value_tokens for c in cands) if strategy in ("weighted", "bon") else 0
    if strategy == "single":
        c = cands[0]
        return StrategyResult(c.answer, c.text, c.tokens, c.blocks, 0, list(cands[:1]), chosen=0)
    answers = [c.answer for c in cands]
    if strategy == "bon":
        _need_values(cands, strategy)
        i = best_of_n(answers, [c.value for c in cands])  # type: ignore[misc]
        i = 0 if i is None else i
        return StrategyResult(
            cands[i].answer, cands[i].text, tokens, blocks, value_tokens, list(cands), chosen=i
        )
    if strategy == "majority":
        vote = majority(answers)
    elif strategy == "weighted":
        _need_values(cands, strategy)
        vote = weighted_majority(answers, [c.value for c in cands])  # type: ignore[misc]
    else:
        raise ValueError(
            f"unknown sampling strategy {strategy!r}; choose one of {', '.join(SAMPLING_STRATEGIES)}"
        )
    if vote.winner is None:
        chosen = 0
    else:
        members = vote.classes[vote.winner].members
        chosen = _best_member(cands, members) if strategy == "weighted" else members[0]
    return StrategyResult(
        vote.answer, cands[chosen].text, tokens, blocks, value_tokens, list(cands), vote=vote, chosen=chosen
    )


def _need_values(cands: Sequence[Candidate], strategy: str) -> None:
    if any(c.value is None for c in cands):
        raise ValueError(f"strategy {strategy!r} needs scored candidates (pass a value model or scorer)")


def run_sampling(
    strategy: str,
    backend: Backend,
    prompts: Sequence[Prompt],
    n: int,
    params: SamplingParams,
    max_tokens: int,
    extract: Callable[[str], str | None],
    scorer: Scorer | None = None,
    budget: BudgetConfig | None = None,
    block_size: int = 64,
    prefill: str = "",
) -> list[StrategyResult]:
    """The whole strategy in one call: sample `n` per prompt, score if needed, aggregate.

    (`thinklab search` calls `sample_candidates` and `aggregate` itself, to share one nested pool of
    samples between strategies and budgets; the results are the same as calling this per budget.)"""
    if strategy in ("weighted", "bon") and scorer is None:
        raise ValueError(f"strategy {strategy!r} needs a scorer (a value model or logprob_scorer)")
    pools = sample_candidates(backend, prompts, params, n, max_tokens, extract, budget, block_size, prefill)
    if strategy in ("weighted", "bon"):
        score_candidates(scorer, prompts, pools)  # type: ignore[arg-type]
    return [aggregate(strategy, pool) for pool in pools]


class logprob_scorer:  # noqa: N801 - used like a function: `logprob_scorer(backend)`
    """Best-of-N by the policy's own confidence: mean token log-prob of the response (`backend.score`).

    A scorer that needs no trained model, for comparison with the value model."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.last_tokens: list[int] = []

    def __call__(self, prompts: Sequence[Prompt], texts: Sequence[str]) -> list[float]:
        if any(not isinstance(p, str) for p in prompts):
            raise ValueError("logprob scoring needs text prompts (a local tokenizer), not chat prompts")
        logps = self.backend.score(list(prompts), list(texts))  # type: ignore[arg-type]
        self.last_tokens = [
            len(lp) + self.backend.count_tokens(p) for p, lp in zip(prompts, logps, strict=True)
        ]  # type: ignore[arg-type]
        return [sum(lp) / len(lp) if lp else float("-inf") for lp in logps]
