"""The tiny-model STaR preset: QT-R1's `Final:` format in a form a 3.5M-parameter model can write.

The shipped tiny model thinks in verbose arith traces and answers `\\boxed{N}`. For STaR it answers
with a `Final:` line instead, after a short thought: the restatement line it already knows, then one
line per operation, the concise style of `thinklab.tasks.arith`:

    <think>
    Okay, let me restate the problem: start with 7, then + 5, then * 3.

    7 + 5 = 12

    12 * 3 = 36
    </think>

    Final: 36

That is `level + 1` reasoning lines (2..9 for levels 1..8), so the preset's step bound is 9 and every
problem can pass QT-R1's "at least two reasoning lines". The warm start (`init.arith_examples`) renders
such traces for problems drawn from the arith train split *outside* the STaR pool; a `hint_fraction` of
them carry the rationalisation hint in the user turn with the same response, so the model has seen a
hint before it is asked to rationalise with one (STaR shows its hint format in few-shot examples; a
tiny model needs to be trained on it).
"""

from __future__ import annotations

import random

from thinklab.data.writers import Example
from thinklab.tasks import arith


def render_star_response(p: arith.ArithProblem) -> str:
    """The full assistant turn (thinking prefill included) of a correct trace in the STaR format."""
    restate = arith.render_thought(p, "verbose").split("\n\n")[0]
    return f"<think>\n{restate}\n\n{arith.render_thought(p, 'concise')}\n</think>\n\nFinal: {p.answer}"


def seed_examples(
    n: int,
    *,
    seed: int,
    user_template: str,
    rationalize_template: str,
    hint_fraction: float = 0.0,
    system: str | None = None,
    exclude: set[str] | None = None,
) -> list[Example]:
    """`n` warm-start examples from the arith train split (never the test split), none in `exclude`."""
    rng = random.Random(f"star-seed-{seed}")
    out = []
    for p in arith.generate(n, "train", seed, exclude=exclude, distinct=True):
        hinted = rng.random() < hint_fraction
        template = rationalize_template if hinted else user_template
        user = template.replace("{problem}", p.text()).replace("{answer}", str(p.answer))
        out.append(Example(problem=user, response=render_star_response(p), system=system))
    return out
