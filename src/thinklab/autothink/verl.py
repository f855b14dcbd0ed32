"""AutoThink's reward for verl, the engine the authors trained with at scale.

Two entry points, for verl's two kinds of reward manager (``custom_reward_function.path=<this file>``):

- ``compute_score(data_source, solution_str, ground_truth, extra_info=None)`` — the per-sample part (mode,
  base reward, degeneration penalty) for the default ``naive`` manager, e.g. for validation, where the
  authors do not shape rewards. Returns ``{"score", "correct", "think"}``; verl keeps the extra keys as
  ``reward_extra_info``.
- ``compute_score_batch(data_sources, solution_strs, ground_truths, extra_infos, **reward_kwargs)`` — the
  whole training reward for ``reward_model.reward_manager=batch``, which hands the entire rollout batch to
  one call: exactly what the group length terms and the batch balance need. Stage coefficients come from
  ``custom_reward_function.reward_kwargs`` (``stage=1|2|3`` or ``alpha``/``beta``/``gamma``).

verl decodes only the response (not the prompt), so mode detection relies on AutoThink's second rule: with
the ellipsis prompt a no-think response starts with ``</think>\\n\\n``. Groups: verl repeats each prompt
``rollout.n`` times with ``interleave=True``, so a prompt's responses are consecutive, like TRL's; the
group id is ``extra_info["uid"]`` or ``extra_info["index"]`` when present (DeepScaleR-style parquet rows
carry ``index``), else blocks of ``num_generations``. Lengths are response tokens when ``tokenizer`` (a
path or tokenizer) is given, else whitespace words — the z-scores only need lengths up to scale, so words
are a close stand-in.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from thinklab.autothink.rewards import (
    PENALTY_SLOPE,
    autothink_rewards,
    consecutive_group_ids,
    predicted_answer,
    sample_score,
)
from thinklab.autothink.stages import stage_preset
from thinklab.grading import is_equivalent


def _golds(ground_truth: Any) -> list[str]:
    if isinstance(ground_truth, list | tuple):
        return [str(g) for g in ground_truth]
    return [str(ground_truth)]


def _correct(solution_str: str, ground_truth: Any) -> bool:
    pred = predicted_answer(solution_str)
    return pred is not None and any(is_equivalent(g, pred) for g in _golds(ground_truth))


def compute_score(
    data_source: str, solution_str: str, ground_truth: Any, extra_info: dict | None = None
) -> dict[str, Any]:
    """Per-sample AutoThink reward of a decoded response (verl's naive reward manager)."""
    s = sample_score(solution_str, _correct(solution_str, ground_truth))
    return {"score": s.reward, "correct": s.correct, "think": s.think}


@lru_cache(maxsize=4)
def _load_tokenizer(path: str) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(path)


def _group_ids(extra_infos: Sequence[Any], solution_strs: Sequence[str], num_generations: int | None) -> list:
    for key in ("uid", "index"):
        if extra_infos and all(isinstance(e, dict) and key in e for e in extra_infos):
            return [e[key] for e in extra_infos]
    # Without ids, blocks of num_generations; the prompt is not in verl's batch call, so the block check
    # that `consecutive_group_ids` does on prompts is skipped (dummy equal prompts).
    n = num_generations or len(solution_strs)
    return consecutive_group_ids([""] * len(solution_strs), n)


def compute_score_batch(
    data_sources: Sequence[str],
    solution_strs: Sequence[str],
    ground_truths: Sequence[Any],
    extra_infos: Sequence[Any] | None = None,
    *,
    stage: int | None = None,
    alpha: float = 0.0,
    beta: float = 0.0,
    gamma: float = 1.0,
    slope: float = PENALTY_SLOPE,
    num_generations: int | None = None,
    tokenizer: Any = None,
    **_: Any,
) -> list[float]:
    """AutoThink's shaped training reward for a whole verl batch (``reward_manager=batch``)."""
    if stage is not None:
        p = stage_preset(int(stage), "full")
        alpha, beta, gamma = p.alpha, p.beta, p.gamma
    extra_infos = list(extra_infos) if extra_infos is not None else [None] * len(solution_strs)
    correct = [_correct(s, g) for s, g in zip(solution_strs, ground_truths, strict=True)]
    if tokenizer is not None:
        tok = _load_tokenizer(tokenizer) if isinstance(tokenizer, str) else tokenizer
        lengths = [len(tok(s, add_special_tokens=False)["input_ids"]) for s in solution_strs]
    else:
        lengths = [len(s.split()) for s in solution_strs]
    groups = _group_ids(extra_infos, solution_strs, num_generations)
    return autothink_rewards(list(solution_strs), correct, lengths, groups, alpha, beta, gamma, slope)
