"""Block beam search bookkeeping and compute accounting.

Exact counts use a scripted engine (one character = one token, completions of known length), so the
expected numbers can be worked out by hand; the invariants are also checked on the real tiny model."""

from __future__ import annotations

import itertools

import pytest

from thinklab.backends import SamplingParams
from thinklab.backends.base import Completion
from thinklab.search.beam import BeamConfig, beam_search_trees, dvts, pool_result


class ScriptedBackend:
    """Deterministic engine: every prompt reads `L=<n>|` (the response length at which it ends).

    Each call continues `prompt + prefix`; a completion is `max_tokens` letters ("length") unless the
    response reaches `L`, then it stops there ("stop"). With `early_stop=True` the first sample of each
    call stops at once after 3 letters. Letters are distinct per completion so children differ."""

    name = "scripted"
    model_id = "scripted"
    tokenizer = None

    def __init__(self, early_stop: bool = False) -> None:
        self.early_stop = early_stop
        self.calls: list[tuple[int, int, int]] = []  # (prompts, n, max_tokens)
        self.generated: list[int] = []
        self._letters = itertools.cycle("abcdefghijklmnopqrstuvwxyz")

    def count_tokens(self, text: str) -> int:
        return len(text)

    def generate(self, prompts, params):
        self.calls.append((len(prompts), params.n, params.max_tokens))
        out = []
        for p in prompts:
            head, _, prefix = p.partition("|")
            end = int(head.removeprefix("L="))
            row = []
            for j in range(params.n):
                ch = next(self._letters)
                if self.early_stop and j == 0:
                    row.append(Completion(ch * 3, 3, "stop"))
                elif len(prefix) + params.max_tokens >= end:
                    n = end - len(prefix)
                    row.append(Completion(ch * n, n, "stop"))
                else:
                    row.append(Completion(ch * params.max_tokens, params.max_tokens, "length"))
                self.generated.append(row[-1].tokens)
            out.append(row)
        return out


class ScriptedValue:
    """Finished-looking texts (ending in 3 equal letters after a stop) are not special; the value is a
    fixed function of the text so that ranking is reproducible by hand: value = 1 / (1 + len(text))
    plus `bonus` for texts whose last block is 3 letters (the early stops)."""

    def __init__(self, bonus: float = 0.0) -> None:
        self.bonus = bonus
        self.last_tokens: list[int] = []

    def __call__(self, prompts, texts):
        self.last_tokens = [len(p) + len(t) for p, t in zip(prompts, texts, strict=True)]
        return [1.0 / (1 + len(t)) + (self.bonus if len(t) % 10 == 3 else 0.0) for t in texts]


PARAMS = SamplingParams(temperature=1.0, seed=0)


def test_full_length_search_counts_by_hand():
    # L=25, block 10, 4 blocks in flight, width 2 -> 2 kept beams.
    # round 0: 4 children x 10 tokens; round 1: 2 beams x 2 x 10; round 2: 2 x 2 x 5 (stop at 25).
    backend, value = ScriptedBackend(), ScriptedValue()
    cfg = BeamConfig(block_size=10, beam_width=2, num_blocks=4, max_tokens=100)
    (tree,) = beam_search_trees(backend, ["L=25|"], value, PARAMS, cfg)[0]
    assert tree.tokens_generated == 4 * 10 + 4 * 10 + 4 * 5 == 100
    assert tree.blocks_generated == 12
    assert len(tree.finished) == 2 and not tree.active
    assert all(b.tokens == 25 and b.blocks == 3 and b.finish_reason == "stop" for b in tree.finished)
    assert tree.tokens_generated == sum(backend.generated)
    assert [c[1] for c in backend.calls] == [4, 2, 2]  # n per call: 4 from the root, then K=2 per beam
    # value tokens: every child is scored once on prompt + its text (prompt "L=25|" is 5 chars)
    assert tree.value_tokens == 4 * (5 + 10) + 4 * (5 + 20) + 4 * (5 + 25)


def test_length_cap_freezes_beams_as_unfinished():
    # max_tokens 15: round 1 may only generate 5 more tokens, which hit the cap -> frozen "length".
    backend, value = ScriptedBackend(), ScriptedValue()
    cfg = BeamConfig(block_size=10, beam_width=2, num_blocks=4, max_tokens=15)
    (tree,) = beam_search_trees(backend, ["L=25|"], value, PARAMS, cfg)[0]
    assert tree.tokens_generated == 4 * 10 + 4 * 5 == 60
    assert tree.blocks_generated == 8
    assert [b.finish_reason for b in tree.finished] == ["length", "length"]
    assert all(b.tokens == 15 for b in tree.finished)
    assert backend.calls[-1][2] == 5  # the last block was capped at the remaining 5 tokens


def test_finished_beams_are_frozen_and_width_shrinks():
    # The first sample of each call stops after 3 tokens and gets a value bonus, so it is kept:
    # round 0: [stop3, 10, 10, 10] -> keep stop3 (finished) + the best 10 (active): width 2 -> 1 active
    # round 1: the active beam samples 2: [stop3 (13 tokens), 10 (20 tokens)] -> keep 1 = the stop.
    backend, value = ScriptedBackend(early_stop=True), ScriptedValue(bonus=1.0)
    cfg = BeamConfig(block_size=10, beam_width=2, num_blocks=4, max_tokens=100)
    (tree,) = beam_search_trees(backend, ["L=50|"], value, PARAMS, cfg)[0]
    assert tree.tokens_generated == (3 + 3 * 10) + (3 + 10) == 46
    assert tree.blocks_generated == 4 + 2 == 6
    assert sorted(b.tokens for b in tree.finished) == [3, 13]
    assert tree.rounds == 2 and not tree.active


def test_no_beam_lost_or_counted_twice_each_round():
    backend, value = ScriptedBackend(early_stop=True), ScriptedValue(bonus=0.0)
    cfg = BeamConfig(block_size=7, beam_width=3, num_blocks=9, max_tokens=40)
    seen_finished: set[int] = set()

    def check(rnd, trees):
        for tr in trees:
            ids = [b.id for b in tr.active] + [b.id for b in tr.finished]
            assert len(ids) == len(set(ids)) == tr.width == 3
            for b in tr.finished:  # a frozen beam is never revisited or changed
                seen_finished.add(b.id)
            assert not {b.id for b in tr.active} & seen_finished

    forest = beam_search_trees(backend, ["L=30|", "L=12|"], value, PARAMS, cfg, trees=2, on_round=check)
    trees = [tr for row in forest for tr in row]
    assert len(trees) == 4
    assert sum(tr.tokens_generated for tr in trees) == sum(backend.generated)
    assert sum(tr.blocks_generated for tr in trees) == len(backend.generated)
    for tr in trees:
        assert len(tr.finished) == 3 and not tr.active
        assert all(b.tokens <= cfg.max_tokens for b in tr.finished)


def test_pool_result_accounts_all_trees_and_votes_by_value():
    backend, value = ScriptedBackend(), ScriptedValue()
    cfg = BeamConfig(block_size=10, beam_width=2, num_blocks=4, max_tokens=100)
    res = dvts(backend, ["L=25|"], value, PARAMS, cfg, 3, extract=lambda t: t[-1])[0]
    assert res.tokens_generated == 3 * 100 == sum(backend.generated)
    assert res.blocks == 3 * 12
    assert len(res.candidates) == 3 * 2  # every tree's kept beams, once each
    assert res.extra["trees"] == 3


@pytest.fixture(scope="module")
def tiny():
    from thinklab.backends import load_backend

    return load_backend("hf", "tiny", threads=1)


def test_invariants_on_the_real_tiny_model(tiny):
    """Real generations: every generated token is counted once, beams are prefixes of their children,
    each search ends with exactly num_blocks // beam_width finished beams."""
    from thinklab.prompting.modes import prompt_for

    generated: list[int] = []

    class Counting:  # records what the real engine returned; passes everything through
        def __getattr__(self, name):
            return getattr(tiny, name)

        def generate(self, prompts, params):
            out = tiny.generate(prompts, params)
            generated.extend(c.tokens for row in out for c in row)
            return out

    prompts = [
        prompt_for(tiny, p)
        for p in ("Compute 5 + 3 * 2 - 4 from left to right.", "Compute 9 - 2 + 7 from left to right.")
    ]

    def value_fn(ps, texts):  # a real, if arbitrary, scorer: shorter prefixes first
        return [1.0 / (1 + len(t)) for t in texts]

    cfg = BeamConfig(block_size=16, beam_width=2, num_blocks=6, max_tokens=120)
    parents: dict[int, str] = {}

    def check(rnd, trees):
        for tr in trees:
            assert len(tr.active) + len(tr.finished) == tr.width == 3
            for b in tr.active:
                parents[b.id] = b.text

    forest = beam_search_trees(
        Counting(), prompts, value_fn, SamplingParams(temperature=1.0, seed=3), cfg, 2, check
    )
    trees = [tr for row in forest for tr in row]
    assert sum(tr.tokens_generated for tr in trees) == sum(generated)
    assert sum(tr.blocks_generated for tr in trees) == len(generated)
    for tr in trees:
        assert len(tr.finished) == 3
        for b in tr.finished:
            assert b.tokens <= cfg.max_tokens
            if b.parent in parents:
                assert b.text.startswith(parents[b.parent])
    res = pool_result(forest[0], extract=lambda t: None, count_tokens=tiny.count_tokens)
    assert res.tokens_generated == sum(tr.tokens_generated for tr in forest[0])
