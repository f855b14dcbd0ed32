"""Data for AutoThink: the starting policy's SFT mixture, and GRPO prompt rows.

AutoThink starts from an R1-distilled model that, under the ellipsis prompt, already *sometimes* skips
thinking. The tiny model was trained only with the standard prompt, so thinklab gives it that ability
first: an SFT mixture of arith traces under the ellipsis prefill, with a fraction (default half, at every
level alike, so the RL has to find the link with difficulty) answered directly:

- think:    ``<think>\\n...\\n`` + verbose thought + ``\\n</think>\\n\\n\\boxed{N}``
- no-think: ``<think>\\n...\\n</think>\\n\\n\\boxed{N}``

A 3.5M-parameter model that has only ever thought step by step cannot answer directly yet, and learning
that from a few hundred mixed examples does not happen (measured: chance-level direct answers after 150
SFT steps). `direct_answer_examples` adds cheap practice for that skill under the core's *no-think*
prefill (``<think>\\n</think>\\n\\n`` for the tiny model), not under the ellipsis: the skill transfers to
the ``</think>\\n\\n\\boxed{`` continuation, while the ellipsis branch's think / no-think choice stays
level-independent — deciding by difficulty is left to the RL stages.

`thinklab.train.sft` trains on the whole assistant response after the chat template, so the model also
learns to write the ``<think>\\n...\\n`` itself; under the standard prompt (``<think>\\n``) it then tends to
continue with ``...``. The standard-prompt baseline of the experiment is therefore the base model.
"""

from __future__ import annotations

import random
from pathlib import Path

from thinklab.data.writers import Example, write_examples
from thinklab.prompting.modes import TINY_MODES, ThinkingModes, build_prompt
from thinklab.tasks import arith
from thinklab.tasks.registry import get_task

# The user text AutoThink trains and evaluates R1 models with (scripts/data/deepscaler_dataset.py).
AUTOTHINK_USER_TEMPLATE = "{problem} Let's think step by step and output the final answer within \\boxed{}."


def mixture_examples(
    n: int,
    no_think_fraction: float = 0.5,
    seed: int = 0,
    levels: tuple[int, ...] = tuple(range(1, arith.MAX_LEVEL + 1)),
    modes: ThinkingModes = TINY_MODES,
    style: str = "verbose",
) -> list[Example]:
    """`n` arith training examples in the ellipsis mode; `no_think_fraction` of them answer directly."""
    if not 0.0 <= no_think_fraction <= 1.0:
        raise ValueError(f"no_think_fraction must be in [0, 1], got {no_think_fraction}")
    rng = random.Random(f"autothink-mix-{seed}")
    problems = arith.generate(n, "train", seed, levels, distinct=False)
    out = []
    for p in problems:
        if rng.random() < no_think_fraction:
            response = f"{modes.ellipsis}</think>\n\n\\boxed{{{p.answer}}}"
        else:
            response = modes.ellipsis + arith.render_completion(
                p, style, random.Random(f"{p.key}-{rng.random()}")
            )
        out.append(Example(problem=p.text(), response=response))
    return out


def direct_answer_examples(
    n: int, levels: tuple[int, ...] = (1, 2, 3), seed: int = 0, modes: ThinkingModes = TINY_MODES
) -> list[Example]:
    """`n` arith training examples answered at once under the no-think prefill (skill practice)."""
    problems = arith.generate(n, "train", seed + 7919, levels, distinct=False)
    return [Example(problem=p.text(), response=f"{modes.no_think}\\boxed{{{p.answer}}}") for p in problems]


def write_mixture(
    path: str | Path,
    n: int,
    no_think_fraction: float = 0.5,
    seed: int = 0,
    direct_n: int = 0,
    direct_levels: tuple[int, ...] = (1, 2, 3),
) -> int:
    """Write the mixture (plus `direct_n` direct-answer examples, shuffled in) as messages JSONL, what
    `thinklab train sft --data` reads; returns the row count."""
    examples = mixture_examples(n, no_think_fraction, seed) + direct_answer_examples(
        direct_n, direct_levels, seed
    )
    random.Random(f"autothink-shuffle-{seed}").shuffle(examples)
    return write_examples(path, examples, fmt="messages")


def grpo_rows(
    tokenizer,
    modes: ThinkingModes,
    task: str = "arith:train",
    prompt_mode: str = "ellipsis",
    user_template: str | None = None,
    data_dir: str | None = None,
    limit: int | None = None,
) -> list[dict]:
    """GRPO prompt rows: ``prompt`` (chat template + thinking prefill, as text), ``answer``, ``level``, ``id``.

    The prompt is plain text (not messages) so that the reward sees exactly prompt + completion, the
    decoded sequence AutoThink's mode detection runs on. `user_template` (with ``{problem}``) replaces the
    task's own template, e.g. `AUTOTHINK_USER_TEMPLATE` for R1 models.
    """
    t = get_task(task)
    problems = t.problems(Path(data_dir) if data_dir else None, limit=limit)
    rows = []
    for p in problems:
        user = user_template.replace("{problem}", p.problem) if user_template else t.render(p)
        rows.append(
            {
                "prompt": build_prompt(tokenizer, user, prompt_mode, modes=modes),
                "answer": p.answer,
                "level": int(p.metadata.get("level", 0) or 0),
                "id": p.id,
            }
        )
    return rows
