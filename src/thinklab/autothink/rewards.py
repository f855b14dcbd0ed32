"""AutoThink's reward: mode detection, base rewards, degeneration penalty, length shaping, batch balance.

Read from the authors' code (methods.md §2; `deepscaler/rewards/math_reward.py` and
`verl/trainer/main_ppo.py::RewardManager._reweight_rewards` in TU2021/AutoThink):

1. **Mode** on the decoded prompt+response text: no-think iff ``"<think>\\n...\\n</think>\\n\\n"`` is in it
   (the ellipsis prompt closed at once) or it starts with ``"</think>\\n\\n"`` (`grading.detect_thinking`).
2. **Solution** = the text after the first ``</think>``. No ``</think>``, or no ``\\boxed{}`` in the
   solution: a *format error*, reward 0 and incorrect, whatever the mode.
3. **Base reward**: thinking 1 right / 0 wrong; no thinking 2 right / -1 wrong.
4. **Degeneration**: a reward below 0 (so only a wrong no-think answer) becomes -2 when the text loops
   (an n-gram of <= 30 words repeated >= 10 times in a row) or holds a >= 120-character "word"
   (`grading.is_degenerate`).
5. **Length shaping** per group (the completions of one prompt), on response tokens L: among the correct
   ones (if more than one) ``r += exp(-alpha * z) - 1``; among the wrong ones (if more than one)
   ``r += 1 - exp(-beta * z)``, with ``z = (L - mean) / std`` (unbiased std, clamped at 1e-6). Short
   correct answers gain, long wrong ones are punished less (they "tried harder").
6. **Batch balance** on the whole batch: if the think rate exceeds ``gamma``, every thinking sample moves
   towards a target (0 if correct, -1 if wrong) by ``lam = clip(slope * (think_rate - gamma), 0, 1)``:
   ``r = (1 - lam) * r + lam * target``; symmetrically, if the no-think rate exceeds ``gamma``, no-think
   samples move towards +1 (correct) / -2 (wrong). Stage 1 uses gamma=0.5 so neither mode can take over
   before the policy has learnt to answer in both; gamma=1.0 switches it off.

`autothink_rewards` is the pure core (no model, no tokenizer, unit-tested term by term).
`AutoThinkReward` wraps it as a reward function for TRL's `GRPOTrainer`; `CorrectnessLengthReward` is a
plain correct-minus-length reward for GRPO without AutoThink.

**How TRL 1.16 orders a batch** (trl/trainer/grpo_trainer.py and `RepeatSampler` in trl/trainer/utils.py):
the sampler yields ``generation_batch_size / num_generations`` distinct prompts, each repeated
``num_generations`` times *consecutively*; the global generation batch is split into contiguous per-process
slices in rank order, every process calls the reward functions on its slice, and the trainer gathers the
rewards in rank order before normalising them in ``view(-1, num_generations)`` groups. So in the global
batch, group ``k`` is completions ``[k*G, (k+1)*G)``. A process's slice need not hold whole groups (e.g.
8 GPUs x 4 completions with G=8), so `AutoThinkReward` gathers the slices of all processes (in rank order,
as TRL does), computes the group and batch terms on the whole generation batch, and returns its own slice.
On one process that is a no-op.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from thinklab.errors import ThinklabError
from thinklab.grading import detect_thinking, extract_boxed, is_degenerate, is_equivalent
from thinklab.prompting.modes import ThinkingFormat

THINK_CORRECT, THINK_WRONG = 1.0, 0.0
NO_THINK_CORRECT, NO_THINK_WRONG = 2.0, -1.0
FORMAT_ERROR = 0.0  # AutoThink's RewardConfig.format_error_reward
DEGENERATE = -2.0
PENALTY_SLOPE = 2.0  # AutoThink's RewardManager.penalty_slope
STD_FLOOR = 1e-6
# Batch-balance targets by (think, correct): each lies one point below that mode's base reward.
BALANCE_TARGETS = {(True, True): 0.0, (True, False): -1.0, (False, True): 1.0, (False, False): -2.0}


@dataclass(frozen=True)
class SampleScore:
    """The per-sample part of the reward (before group and batch shaping)."""

    reward: float
    correct: bool
    think: bool
    format_ok: bool
    degenerate: bool


def solution_of(text: str) -> str | None:
    """AutoThink's solution span: the text after the first ``</think>`` (up to a second one, as the
    authors' ``split("</think>")[1]`` does), or None when the thinking never closed."""
    if "</think>" not in text:
        return None
    return text.split("</think>")[1]


def predicted_answer(text: str) -> str | None:
    """The last complete ``\\boxed{}`` of the solution span, or None (a format error)."""
    solution = solution_of(text)
    return None if solution is None else extract_boxed(solution)


def sample_score(text: str, correct: bool) -> SampleScore:
    """Mode, base reward and degeneration penalty of one decoded prompt+response.

    `correct` is the grader's verdict on `predicted_answer(text)`; a text with a format error is
    incorrect whatever `correct` says (it has no answer to be right about).
    """
    think = detect_thinking(text)
    format_ok = predicted_answer(text) is not None
    correct = bool(correct) and format_ok
    if not format_ok:
        reward = FORMAT_ERROR
    elif think:
        reward = THINK_CORRECT if correct else THINK_WRONG
    else:
        reward = NO_THINK_CORRECT if correct else NO_THINK_WRONG
    degenerate = False
    # As in the authors' code the penalty only replaces negative rewards, i.e. wrong no-think answers: a
    # thinking loop that never closes already earns 0 (a format error) and is not penalised further.
    if reward < 0 and is_degenerate(text):
        reward, degenerate = DEGENERATE, True
    return SampleScore(reward, correct, think, format_ok, degenerate)


def _zscores(values: Sequence[float]) -> list[float]:
    n = len(values)
    mean = sum(values) / n
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))  # unbiased, as torch's std()
    std = max(std, STD_FLOOR)
    return [(v - mean) / std for v in values]


def length_shaping(
    rewards: Sequence[float],
    correct: Sequence[bool],
    lengths: Sequence[float],
    group_ids: Sequence[Any],
    alpha: float,
    beta: float,
) -> list[float]:
    """Step 5: add the per-group length terms (correct: exp(-alpha z) - 1; wrong: 1 - exp(-beta z))."""
    out = [float(r) for r in rewards]
    groups: dict[Any, list[int]] = {}
    for i, g in enumerate(group_ids):
        groups.setdefault(g, []).append(i)
    for members in groups.values():
        for right, coef in ((True, alpha), (False, beta)):
            idx = [i for i in members if bool(correct[i]) is right]
            if len(idx) < 2:
                continue
            for i, z in zip(idx, _zscores([float(lengths[i]) for i in idx]), strict=True):
                out[i] += (math.exp(-coef * z) - 1.0) if right else (1.0 - math.exp(-coef * z))
    return out


def batch_balance(
    rewards: Sequence[float],
    correct: Sequence[bool],
    think: Sequence[bool],
    gamma: float,
    slope: float = PENALTY_SLOPE,
) -> list[float]:
    """Step 6: pull the over-represented mode's rewards towards its targets (see the module docstring)."""
    out = [float(r) for r in rewards]
    total = len(out)
    if total == 0:
        return out
    think_rate = sum(bool(t) for t in think) / total
    for is_think, rate in ((True, think_rate), (False, 1.0 - think_rate)):
        if rate <= gamma:
            continue
        lam = max(0.0, min(1.0, (rate - gamma) * slope))
        for i in range(total):
            if bool(think[i]) is not is_think:
                continue
            target = BALANCE_TARGETS[(is_think, bool(correct[i]))]
            out[i] = (1.0 - lam) * out[i] + lam * target
    return out


def autothink_rewards(
    texts: Sequence[str],
    correct: Sequence[bool],
    lengths: Sequence[float],
    group_ids: Sequence[Any],
    alpha: float,
    beta: float,
    gamma: float,
    slope: float = PENALTY_SLOPE,
) -> list[float]:
    """AutoThink's training reward for a whole batch.

    texts: decoded prompt+response of each sample (mode detection and the solution span need the prompt's
    ellipsis); correct: the grader's verdict per sample; lengths: response tokens; group_ids: any hashable
    per sample, equal for the completions of one prompt; alpha/beta: length-shaping coefficients for
    correct/wrong answers; gamma: the batch-balance threshold (1.0 = off); slope: the penalty slope (2.0).
    """
    n = len(texts)
    if not (len(correct) == len(lengths) == len(group_ids) == n):
        raise ValueError(
            f"autothink_rewards needs one value per sample: {n} texts, {len(correct)} correct, "
            f"{len(lengths)} lengths, {len(group_ids)} group ids"
        )
    scores = [sample_score(t, c) for t, c in zip(texts, correct, strict=True)]
    right = [s.correct for s in scores]
    shaped = length_shaping([s.reward for s in scores], right, lengths, group_ids, alpha, beta)
    return batch_balance(shaped, right, [s.think for s in scores], gamma, slope)


# --------------------------------------------------------------------------------------------- TRL


def _as_text(x: Any) -> str:
    """A TRL prompt or completion as text: plain strings pass; conversational message lists are joined."""
    if isinstance(x, str):
        return x
    if isinstance(x, list):
        return "".join(m.get("content", "") if isinstance(m, dict) else str(m) for m in x)
    return str(x)


def consecutive_group_ids(prompts: Sequence[str], num_generations: int | None) -> list[int]:
    """Group ids for a TRL batch: blocks of `num_generations` consecutive completions.

    Each block must share one prompt (TRL's `RepeatSampler` order); anything else means the batch is not
    laid out the way the group terms assume, and an error is better than silently mixing prompts. With
    `num_generations=None` the groups are runs of identical consecutive prompts.
    """
    n = len(prompts)
    if num_generations is None:
        ids, g = [], -1
        for i, p in enumerate(prompts):
            if i == 0 or p != prompts[i - 1]:
                g += 1
            ids.append(g)
        return ids
    if num_generations < 1 or n % num_generations:
        raise ThinklabError(
            f"a batch of {n} completions does not split into groups of num_generations={num_generations}"
        )
    for start in range(0, n, num_generations):
        if len(set(prompts[start : start + num_generations])) != 1:
            raise ThinklabError(
                f"completions {start}..{start + num_generations - 1} do not share one prompt: the batch is not "
                "ordered in groups of num_generations consecutive completions (TRL's RepeatSampler order)"
            )
    return [i // num_generations for i in range(n)]


def _gather(local: list[Any]) -> tuple[list[Any], int]:
    """All processes' lists concatenated in rank order, and where this process's slice starts."""
    # A distributed run has imported torch.distributed already; looking it up (not importing it) keeps
    # the pure-Python callers (tests, verl's reward workers) free of torch's import time.
    dist = sys.modules.get("torch.distributed")
    if dist is None or not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return local, 0
    parts: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(parts, local)
    offset = sum(len(p) for p in parts[: dist.get_rank()])
    return [x for p in parts for x in p], offset


class _RewardBase:
    """Shared plumbing: texts, lengths and correctness from what `GRPOTrainer` passes a reward function."""

    answer_key = "answer"

    def __init__(
        self,
        answer_key: str = "answer",
        grader: Callable[[str, str], bool] | None = None,
        count_tokens: Callable[[str], int] | None = None,
    ) -> None:
        self.answer_key = answer_key
        self.grader = grader or is_equivalent
        self.count_tokens = count_tokens
        self.thinking: ThinkingFormat | None = None  # the policy's family; None: R1's markers

    def _inputs(
        self, prompts: Sequence[Any], completions: Sequence[Any], completion_ids: Any, kwargs: dict
    ) -> tuple[list[str], list[str], list[bool], list[int]]:
        if self.answer_key not in kwargs:
            raise ThinklabError(
                f"the GRPO dataset needs an {self.answer_key!r} column with the gold answers "
                f"(columns passed: {', '.join(sorted(k for k in kwargs if not k.startswith(('trainer_', 'log_'))))})"
            )
        golds = [str(a) for a in kwargs[self.answer_key]]
        prompt_texts = [_as_text(p) for p in prompts]
        # AutoThink's rules read R1's markers; another family's (s1's) are mapped onto them first.
        as_r1 = self.thinking.as_r1 if self.thinking is not None else (lambda t: t)
        texts = [as_r1(p + _as_text(c)) for p, c in zip(prompt_texts, completions, strict=True)]
        if completion_ids is not None:
            lengths = [len(ids) for ids in completion_ids]
        elif self.count_tokens is not None:
            lengths = [self.count_tokens(_as_text(c)) for c in completions]
        else:
            raise ThinklabError("lengths need completion_ids (TRL passes them) or a count_tokens function")
        correct = []
        for text, gold in zip(texts, golds, strict=True):
            pred = predicted_answer(text)
            correct.append(pred is not None and bool(self.grader(gold, pred)))
        return prompt_texts, texts, correct, lengths


class AutoThinkReward(_RewardBase):
    """AutoThink's reward as a TRL `GRPOTrainer` reward function (one float per completion).

    ``AutoThinkReward(alpha, beta, gamma, num_generations=G)``; the dataset needs an ``answer`` column (and may
    carry ``level`` or any other column; ``level`` is only used for logging). Prompts must already end with
    the ellipsis prefill so that prompt+completion is the text the authors score. Logs
    ``autothink/think_rate``, ``autothink/accuracy``, ``autothink/no_think_accuracy`` and, with a ``level``
    column, ``autothink/think_rate_L<level>`` through TRL's ``log_metric`` hook.
    """

    __name__ = "autothink"

    def __init__(
        self,
        alpha: float = 0.0,
        beta: float = 0.0,
        gamma: float = 1.0,
        slope: float = PENALTY_SLOPE,
        num_generations: int | None = None,
        answer_key: str = "answer",
        grader: Callable[[str, str], bool] | None = None,
        count_tokens: Callable[[str], int] | None = None,
    ) -> None:
        super().__init__(answer_key, grader, count_tokens)
        self.alpha, self.beta, self.gamma, self.slope = alpha, beta, gamma, slope
        self.num_generations = num_generations

    def __call__(
        self, prompts: Sequence[Any], completions: Sequence[Any], completion_ids: Any = None, **kwargs: Any
    ) -> list[float]:
        prompt_texts, texts, correct, lengths = self._inputs(prompts, completions, completion_ids, kwargs)
        levels = kwargs.get("level") or [None] * len(texts)
        local = list(zip(prompt_texts, texts, correct, lengths, levels, strict=True))
        rows, offset = _gather(local)
        all_prompts = [r[0] for r in rows]
        group_ids = consecutive_group_ids(all_prompts, self.num_generations)
        rewards = autothink_rewards(
            [r[1] for r in rows],
            [r[2] for r in rows],
            [r[3] for r in rows],
            group_ids,
            self.alpha,
            self.beta,
            self.gamma,
            self.slope,
        )
        log_metric = kwargs.get("log_metric")
        if callable(log_metric):  # every process logs the same batch-wide values
            thinks = [detect_thinking(r[1]) for r in rows]
            n_think = sum(thinks)
            log_metric("autothink/think_rate", n_think / len(rows))
            log_metric("autothink/accuracy", sum(r[2] for r in rows) / len(rows))
            if n_think < len(rows):
                hits = sum(r[2] for r, t in zip(rows, thinks, strict=True) if not t)
                log_metric("autothink/no_think_accuracy", hits / (len(rows) - n_think))
            # Think rate per difficulty level when the dataset has a `level` column (arith does).
            by_level: dict[Any, list[bool]] = {}
            for r, t in zip(rows, thinks, strict=True):
                if r[4] is not None:
                    by_level.setdefault(r[4], []).append(t)
            for lv, flags in sorted(by_level.items(), key=lambda kv: str(kv[0])):
                log_metric(f"autothink/think_rate_L{lv}", sum(flags) / len(flags))
        return rewards[offset : offset + len(local)]


class CorrectnessLengthReward(_RewardBase):
    """Plain GRPO reward without AutoThink: ``1[correct] - length_penalty * tokens / max_tokens``.

    Per sample only (no group or batch terms), so it needs no gathering. `max_tokens` should be the
    generation cap (`max_completion_length`), making the penalty at most `length_penalty`.
    """

    __name__ = "correct_length"

    def __init__(
        self,
        length_penalty: float = 0.1,
        max_tokens: int = 1024,
        answer_key: str = "answer",
        grader: Callable[[str, str], bool] | None = None,
        count_tokens: Callable[[str], int] | None = None,
    ) -> None:
        super().__init__(answer_key, grader, count_tokens)
        if max_tokens < 1:
            raise ValueError("max_tokens must be positive")
        self.length_penalty, self.max_tokens = length_penalty, max_tokens

    def __call__(
        self, prompts: Sequence[Any], completions: Sequence[Any], completion_ids: Any = None, **kwargs: Any
    ) -> list[float]:
        _, _, correct, lengths = self._inputs(prompts, completions, completion_ids, kwargs)
        return [
            float(c) - self.length_penalty * min(n, self.max_tokens) / self.max_tokens
            for c, n in zip(correct, lengths, strict=True)
        ]
