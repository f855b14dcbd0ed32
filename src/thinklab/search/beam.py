"""Value-guided block-wise beam search and DVTS (Value-Guided Search, methods.md §3).

One search, for one prompt, with `num_blocks` blocks in flight and beam width `K`:

- `k0 = num_blocks // K` beams are kept. Round 0 samples `k0 * K` blocks from the empty prefix (the
  seed starts `k0` identical empty beams that each sample `K`; one call with n = k0*K is the same).
- Every later round, each active beam samples `K` continuations of at most `block_size` tokens
  (`backend.generate(continue_prompt(prompt, prefix), params.with_(max_tokens=block, n=K))`).
- Every child (prefix + continuation) is scored by the value model in one batched call; the top
  `k` children are kept, `k` = the number of beams that were active. A kept child that ended (end of
  sequence / stop string) or reached `max_tokens` is frozen into `finished`; the others stay active.
  So a search always ends with exactly `k0` finished beams: none lost, none counted twice.
- The search stops when no beam is active. (The seed rescores all kept beams at the end; a frozen
  beam's value was computed on exactly its final text when it was kept, so it is reused, not recomputed.)

DVTS runs `T` such searches independently (different samples, no shared pruning) and pools their
finished beams; the answer is the value-weighted majority (VGS `wmaj`) over the pool. With a budget of
`B` blocks in flight, `beam` is one search with `num_blocks = B` and `dvts` is `B // num_blocks` searches.

Compute: every generated token is counted, pruned children included (`tokens_generated`); `blocks`
counts sampled continuations; `value_tokens` counts tokens read by the value model.
"""

from __future__ import annotations

import hashlib
import itertools
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from thinklab.backends.base import Backend, SamplingParams
from thinklab.backends.forcing import BudgetConfig, thinking_format
from thinklab.prompting.modes import Prompt, continue_prompt
from thinklab.search.strategies import Candidate, Scorer, StrategyResult
from thinklab.search.vote import best_of_n, majority, weighted_majority


@dataclass(frozen=True)
class BeamConfig:
    """Block search settings. VGS on R1-Distill: block_size 4096, max_tokens 16384, beam_width 2,
    num_blocks 8 (per DVTS tree), T=0.6, top_p 0.95. The defaults here suit the tiny model."""

    block_size: int = 64
    beam_width: int = 2
    num_blocks: int = 4
    max_tokens: int = 512

    def __post_init__(self) -> None:
        if self.block_size < 1 or self.beam_width < 1 or self.max_tokens < 1:
            raise ValueError(f"invalid beam settings {self}")
        if self.num_blocks < self.beam_width:
            raise ValueError(
                f"num_blocks ({self.num_blocks}) must be at least beam_width ({self.beam_width})"
            )

    @property
    def kept(self) -> int:
        return self.num_blocks // self.beam_width


@dataclass
class Beam:
    """A prefix of the response (text after the prompt) and its bookkeeping."""

    id: int
    parent: int | None
    text: str = ""
    tokens: int = 0
    blocks: int = 0
    value: float | None = None
    value_tokens: int = 0
    finished: bool = False
    finish_reason: str = "stop"  # for finished beams: "stop" (ended) | "length" (hit max_tokens)
    forced_at: int | None = None  # tokens before a forced close (`force_answers`): its thinking


@dataclass
class SearchTree:
    """One independent search for one prompt."""

    prompt_index: int
    tree: int
    width: int  # k0: beams kept, = finished beams at the end
    active: list[Beam] = field(default_factory=list)
    finished: list[Beam] = field(default_factory=list)
    tokens_generated: int = 0
    blocks_generated: int = 0
    value_tokens: int = 0
    rounds: int = 0

    @property
    def done(self) -> bool:
        return not self.active and self.rounds > 0


def _round_seed(seed: int | None, *parts: object) -> int | None:
    if seed is None:
        return None
    digest = hashlib.sha256("/".join(map(str, (seed, *parts))).encode()).digest()
    return int.from_bytes(digest[:4], "big")


def beam_search_trees(
    backend: Backend,
    prompts: Sequence[Prompt],
    value_fn: Scorer,
    params: SamplingParams,
    cfg: BeamConfig,
    trees: int = 1,
    on_round: Callable[[int, list[SearchTree]], None] | None = None,
) -> list[list[SearchTree]]:
    """Run `trees` independent searches per prompt, all batched together; returns trees per prompt.

    Each round makes one `generate` call per distinct (samples, block cap) pair and one `value_fn` call
    for all children of all searches, so the engine and the value model see large batches."""
    ids = itertools.count()
    all_trees = [
        SearchTree(prompt_index=i, tree=t, width=cfg.kept) for i in range(len(prompts)) for t in range(trees)
    ]
    root = {id(tr): Beam(id=next(ids), parent=None) for tr in all_trees}
    rnd = 0
    while True:
        # (tree, parent beam, samples to draw)
        if rnd == 0:
            jobs = [(tr, root[id(tr)], cfg.kept * cfg.beam_width) for tr in all_trees]
        else:
            jobs = [(tr, b, cfg.beam_width) for tr in all_trees for b in tr.active]
        if not jobs:
            break
        children: dict[int, list[Beam]] = defaultdict(list)  # id(tree) -> children in job order
        groups: dict[tuple[int, int], list[int]] = defaultdict(list)
        for j, (_tr, parent, n) in enumerate(jobs):
            cap = min(cfg.block_size, cfg.max_tokens - parent.tokens)
            groups[(n, cap)].append(j)
        for g, ((n, cap), members) in enumerate(sorted(groups.items())):
            outs = backend.generate(
                [continue_prompt(prompts[jobs[j][0].prompt_index], jobs[j][1].text) for j in members],
                params.with_(n=n, max_tokens=cap, seed=_round_seed(params.seed, rnd, g)),
            )
            for j, row in zip(members, outs, strict=True):
                tr, parent, _ = jobs[j]
                for c in row:
                    tr.tokens_generated += c.tokens
                    tr.blocks_generated += 1
                    child = Beam(
                        id=next(ids),
                        parent=parent.id,
                        text=parent.text + c.text,
                        tokens=parent.tokens + c.tokens,
                        blocks=parent.blocks + 1,
                    )
                    if c.finish_reason == "stop" or c.tokens == 0:
                        child.finished, child.finish_reason = True, "stop"
                    elif child.tokens >= cfg.max_tokens:
                        child.finished, child.finish_reason = True, "length"
                    children[id(tr)].append(child)
        flat = [(tr, ch) for tr in all_trees for ch in children.get(id(tr), [])]
        values = value_fn([prompts[tr.prompt_index] for tr, _ in flat], [ch.text for _, ch in flat])
        read = getattr(value_fn, "last_tokens", None) or [0] * len(flat)
        for (tr, ch), v, t in zip(flat, values, read, strict=True):
            ch.value, ch.value_tokens = float(v), int(t)
            tr.value_tokens += int(t)
        for tr in all_trees:
            kids = children.get(id(tr))
            if not kids:
                continue
            k = tr.width if rnd == 0 else len(tr.active)
            # Highest value first; ties keep generation order (stable sort), so runs are reproducible.
            keep = sorted(range(len(kids)), key=lambda i: -(kids[i].value or 0.0))[:k]
            kept = [kids[i] for i in sorted(keep)]
            tr.finished += [b for b in kept if b.finished]
            tr.active = [b for b in kept if not b.finished]
            tr.rounds += 1
        if on_round is not None:
            on_round(rnd, all_trees)
        rnd += 1
    out: list[list[SearchTree]] = [[] for _ in prompts]
    for tr in all_trees:
        out[tr.prompt_index].append(tr)
    return out


def force_answers(
    backend: Backend,
    prompts: Sequence[Prompt],
    trees: Sequence[Sequence[SearchTree]],
    params: SamplingParams,
    budget: BudgetConfig,
    value_fn: Scorer | None = None,
) -> None:
    """s1's forced answer for beams that hit `max_tokens` while still thinking: close the thinking
    block (`budget.close_str`) and let the model answer within `budget.answer_tokens`. The forced and
    answer tokens are added to the beam and to its tree's generated tokens (honest accounting), and
    the beam is re-valued on its new text when `value_fn` is given."""
    fmt = thinking_format(backend)
    close_str = budget.forced_close(fmt)
    todo = [
        (tr, b)
        for row in trees
        for tr in row
        for b in tr.finished
        if b.finish_reason == "length" and fmt.close not in b.text
    ]
    if not todo:
        return
    outs = backend.generate(
        [continue_prompt(prompts[tr.prompt_index], b.text + close_str) for tr, b in todo],
        params.with_(n=1, max_tokens=budget.answer_tokens, seed=_round_seed(params.seed, "force")),
    )
    forced = backend.count_tokens(close_str)
    for (tr, b), row in zip(todo, outs, strict=True):
        c = row[0]
        b.forced_at = b.tokens  # the thinking budget; the forced close is charged to the answer, as in eval
        b.text += close_str + c.text
        b.tokens += forced + c.tokens
        tr.tokens_generated += forced + c.tokens
        tr.blocks_generated += 1
        b.blocks += 1
        b.finish_reason = "length" if c.finish_reason == "length" else "stop"
    if value_fn is not None:
        values = value_fn([prompts[tr.prompt_index] for tr, _ in todo], [b.text for _, b in todo])
        read = getattr(value_fn, "last_tokens", None) or [0] * len(todo)
        for (tr, b), v, t in zip(todo, values, read, strict=True):
            b.value = float(v)
            b.value_tokens += int(t)
            tr.value_tokens += int(t)


def pool_result(
    trees: Sequence[SearchTree],
    extract: Callable[[str], str | None],
    prefill: str = "",
    count_tokens: Callable[[str], int] | None = None,
    close: str = "</think>",
) -> StrategyResult:
    """Pool the finished beams of independent searches and answer by value-weighted majority.

    Best-of-N (highest value) and plain majority over the same beams are kept in `extra`."""
    cands = []
    for tr in trees:
        for b in tr.finished:
            think = b.text.find(close)
            if b.forced_at is not None:
                thinking = b.forced_at
            elif count_tokens:
                thinking = count_tokens(b.text if think < 0 else b.text[: think + len(close)])
            else:
                thinking = b.tokens
            cands.append(
                Candidate(
                    text=b.text,
                    answer=extract(prefill + b.text),
                    tokens=b.tokens,
                    finish_reason=b.finish_reason,
                    value=b.value,
                    thinking_tokens=min(thinking, b.tokens),
                    blocks=b.blocks,
                    forced_answer=b.forced_at is not None,
                    value_tokens=b.value_tokens,
                )
            )
    answers = [c.answer for c in cands]
    values = [c.value if c.value is not None else 0.0 for c in cands]
    vote = weighted_majority(answers, values)
    if vote.winner is not None:
        chosen = max(vote.classes[vote.winner].members, key=lambda i: (values[i], -i))
    else:
        chosen = 0
    bon = best_of_n(answers, values)
    return StrategyResult(
        answer=vote.answer,
        text=cands[chosen].text if cands else "",
        tokens_generated=sum(tr.tokens_generated for tr in trees),
        blocks=sum(tr.blocks_generated for tr in trees),
        value_tokens=sum(tr.value_tokens for tr in trees),
        candidates=cands,
        vote=vote,
        chosen=chosen,
        extra={
            "bon": answers[bon] if bon is not None else None,
            "maj": majority(answers).answer,
            "trees": len(trees),
            "rounds": max((tr.rounds for tr in trees), default=0),
        },
    )


def beam_search(
    backend: Backend,
    prompts: Sequence[Prompt],
    value_fn: Scorer,
    params: SamplingParams,
    cfg: BeamConfig,
    extract: Callable[[str], str | None],
    prefill: str = "",
    force: BudgetConfig | None = None,
) -> list[StrategyResult]:
    """One value-guided block beam search per prompt (`cfg.num_blocks` blocks in flight)."""
    return dvts(backend, prompts, value_fn, params, cfg, 1, extract, prefill, force)


def dvts(
    backend: Backend,
    prompts: Sequence[Prompt],
    value_fn: Scorer,
    params: SamplingParams,
    cfg: BeamConfig,
    trees: int,
    extract: Callable[[str], str | None],
    prefill: str = "",
    force: BudgetConfig | None = None,
) -> list[StrategyResult]:
    """DVTS: `trees` independent beam searches per prompt, pooled (budget = trees x cfg.num_blocks)."""
    if trees < 1:
        raise ValueError(f"DVTS needs at least one tree, got {trees}")
    forest = beam_search_trees(backend, prompts, value_fn, params, cfg, trees)
    if force is not None and force.mode == "force-answer":
        force_answers(backend, prompts, forest, params, force, value_fn)
    return [
        pool_result(row, extract, prefill, backend.count_tokens, thinking_format(backend).close)
        for row in forest
    ]
