"""Data for AutoThink: the starting policy's SFT mixture, and GRPO prompt rows.

AutoThink starts from an R1-distilled model that, under the ellipsis prompt, already *sometimes* skips
thinking. The tiny model was trained only with the standard prompt, so thinklab gives it that ability
first: an SFT mixture of arith traces under the ellipsis prefill, with a fraction (default half, at every
level alike, so the RL has to find the link with difficulty) answered directly:

- think:    ``<think>\\n...\\n`` + verbose thought + ``\\n</think>\\n\\n\\boxed{N}``
- no-think: ``<think>\\n...\\n</think>\\n\\n`` + the answer (see `answer_style`)

A 3.5M-parameter model that has only ever thought step by step cannot answer directly yet, and learning
that from a few hundred mixed examples does not happen (measured: chance-level direct answers after 150
SFT steps). `direct_answer_examples` adds cheap practice for that skill under the core's *no-think*
prefill (``<think>\\n</think>\\n\\n`` for the tiny model), not under the ellipsis: the skill transfers to
the ``</think>\\n\\n\\boxed{`` continuation, while the ellipsis branch's think / no-think choice stays
level-independent — deciding by difficulty is left to the RL stages.

**What a no-think answer contains** (`answer_style`): ``boxed`` is the bare answer; ``concise`` writes a
short worked solution in the answer section — one line per operation, no restatement, no checks — then
the box, as an R1 model's answer section does after ``</think>`` (AutoThink's no-think responses are
short solutions, not bare numbers). Measured on the previous run: with ``boxed`` the tiny model's direct
answers were right 0-10% of the time even on level 1 (a two-digit sum in one pass is beyond a 4-layer,
3.5M-parameter model without practice it never had), so the reward made thinking better everywhere.
With ``concise`` skipping the thought is a real trade, as on real models: cheap and accurate on easy
problems, and on long chains the solution without the thought's restatement loses track of the operations.
Measured on v2, though, ``concise`` answers are nearly as accurate as thinking at every level, so never
thinking is reward-optimal (docs/autothink.md). ``paired`` computes two operations per line without
writing the value between them (``7 + 5 * 3 = 36``): one mental step more per line, so its accuracy should
fall with the number of lines, i.e. with difficulty, which is the trade the AutoThink decision needs.

`thinklab.train.sft` trains on the whole assistant response after the chat template, so the model also
learns to write the ``<think>\\n...\\n`` itself; under the standard prompt (``<think>\\n``) it then tends to
continue with ``...``. The standard-prompt baseline of the experiment is therefore the base model.
"""

from __future__ import annotations

import random
from pathlib import Path

from thinklab.data.writers import Example, write_examples
from thinklab.prompting.modes import TINY, ThinkingFormat, build_prompt, resolve_template
from thinklab.tasks import arith
from thinklab.tasks.registry import get_task

# The user text AutoThink trains and evaluates R1 models with (scripts/data/deepscaler_dataset.py).
AUTOTHINK_USER_TEMPLATE = "{problem} Let's think step by step and output the final answer within \\boxed{}."


def mixture_examples(
    n: int,
    no_think_fraction: float = 0.5,
    seed: int = 0,
    levels: tuple[int, ...] = tuple(range(1, arith.MAX_LEVEL + 1)),
    modes: ThinkingFormat = TINY,
    style: str = arith.SHIPPED_STYLE,
    answer_style: str = "boxed",
) -> list[Example]:
    """`n` arith training examples in the ellipsis mode; `no_think_fraction` of them answer directly."""
    if not 0.0 <= no_think_fraction <= 1.0:
        raise ValueError(f"no_think_fraction must be in [0, 1], got {no_think_fraction}")
    rng = random.Random(f"autothink-mix-{seed}")
    problems = arith.generate(n, "train", seed, levels, distinct=False)
    out = []
    for p in problems:
        if rng.random() < no_think_fraction:
            response = f"{modes.ellipsis}</think>\n\n{direct_answer(p, answer_style)}"
        else:
            response = modes.ellipsis + arith.render_completion(
                p, style, random.Random(f"{p.key}-{rng.random()}")
            )
        out.append(Example(problem=p.text(), response=response))
    return out


ANSWER_STYLES = ("boxed", "concise", "paired")


def direct_answer(p: arith.ArithProblem, answer_style: str = "boxed") -> str:
    """The answer section of a response that did not think: the bare box, or a short worked solution."""
    if answer_style == "boxed":
        return f"\\boxed{{{p.answer}}}"
    if answer_style in ("concise", "paired"):  # one or two operations per worked line
        lines = arith.worked_lines(p, ops_per_line=1 if answer_style == "concise" else 2)
        return "\n\n".join(lines) + f"\n\n\\boxed{{{p.answer}}}"
    raise ValueError(f"answer_style must be one of {', '.join(ANSWER_STYLES)}, not {answer_style!r}")


def direct_answer_examples(
    n: int,
    levels: tuple[int, ...] = (1, 2, 3),
    seed: int = 0,
    modes: ThinkingFormat = TINY,
    answer_style: str = "boxed",
) -> list[Example]:
    """`n` arith training examples answered at once under the no-think prefill (skill practice)."""
    problems = arith.generate(n, "train", seed + 7919, levels, distinct=False)
    return [
        Example(problem=p.text(), response=modes.no_think + direct_answer(p, answer_style)) for p in problems
    ]


def write_mixture(
    path: str | Path,
    n: int,
    no_think_fraction: float = 0.5,
    seed: int = 0,
    direct_n: int = 0,
    direct_levels: tuple[int, ...] = (1, 2, 3),
    answer_style: str = "boxed",
) -> int:
    """Write the mixture (plus `direct_n` direct-answer examples, shuffled in) as messages JSONL, what
    `thinklab train sft --data` reads; returns the row count."""
    examples = mixture_examples(n, no_think_fraction, seed, answer_style=answer_style)
    examples += direct_answer_examples(direct_n, direct_levels, seed, answer_style=answer_style)
    random.Random(f"autothink-shuffle-{seed}").shuffle(examples)
    return write_examples(path, examples, fmt="messages")


def grpo_rows(
    tokenizer,
    modes: ThinkingFormat,
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
    user_template = resolve_template(user_template) if user_template else None  # a name or text
    problems = t.problems(Path(data_dir) if data_dir else None, limit=limit)
    rows = []
    for p in problems:
        user = user_template.replace("{problem}", p.problem) if user_template else t.render(p)
        rows.append(
            {
                "prompt": build_prompt(tokenizer, user, prompt_mode, fmt=modes),
                "answer": p.answer,
                "level": int(p.metadata.get("level", 0) or 0),
                "id": p.id,
            }
        )
    return rows
