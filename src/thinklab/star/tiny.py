"""The tiny-model STaR preset: QT-R1's `Final:` format in a form a 3.5M-parameter model can write.

The shipped tiny model thinks in verbose arith traces (a restatement, `Step k:` lines, double checks,
recomputations, running summaries, "So the answer is N.") and answers `\\boxed{N}`. The STaR format is
that thought followed by a `Final:` line:

    <think>
    Okay, let me restate the problem: start with 7, then + 5, then * 3.

    Step 1: 7 + 5 = 12.

    Wait, let me recompute 7 + 5. It is 12. Correct.

    Step 2: 12 * 3 = 36.

    Let me double check: 12 * 3 = 36. Yes.

    So the answer is 36.
    </think>

    Final: 36

The preset's verifier bounds the reasoning lines (20: the longest shipped-style trace), so a response
that rambles on a long problem fails, which is what QT-R1's "≤ N steps" rule is for.

The warm start (`init.arith_examples`) renders traces in one of `STYLES` for problems drawn from the
arith train split *outside* the STaR pool and the held-out set; the default, `rambling`, makes the
shipped model deliberately weak in its behaviour (see `render_star_response`). A `hint_fraction` of
them carry the rationalisation hint in the user turn with the same response, so the model has seen a hint
before it is asked to rationalise with one (STaR shows its hint format in few-shot examples; a tiny model
needs to be trained on it). Every line is of a kind the model already writes: a warm start on arith's bare
`a op b = c` style (~8 nats per token to the shipped model) left it writing garbage.
"""

from __future__ import annotations

import random
import re

from thinklab.data.writers import Example
from thinklab.tasks import arith

STYLES = ("verbose", "steps", "rambling")
# `rambling`: after each step's lines, the first k of the RAMBLE_LINES it lacks (k ~ Binomial(2, 1/2)),
# each a true restatement of the step in a line type the shipped model already writes (its recompute and
# double check). What failed: lines new to the model (60 warm-start steps on "Hmm, so ... gives ..."
# lines, words its 467-token BPE had never seen, left it writing garbage: 1.3% held-out); one repeated
# line (greedy decoding looped: 83% time-outs); and extra "So far the values are ..." summaries (the
# model counts steps by its summary every third step; summaries elsewhere made it skip steps: 9.2%).
# Greedy decoding writes one extra line a step (P(k >= 1) = 3/4, P(k = 2 | k >= 1) = 1/3).
RAMBLE_LINES = (
    "Wait, let me recompute {expr}. It is {value}. Correct.",
    "Let me double check: {expr} = {value}. Yes.",
)
_STEP_LINE = re.compile(r"^Step \d+: (?P<expr>.+?) = (?P<value>-?\d+)\.$")


def render_star_response(p: arith.ArithProblem, style: str = "steps") -> str:
    """The full assistant turn (thinking prefill included) of a correct trace with a `Final:` answer.

    `steps`: the restatement and the `Step k:` lines only (level + 1 reasoning lines); `verbose`: the
    model's own thought in the shipped style (`arith.SHIPPED_STYLE`: checks, recomputations, summaries,
    "So the answer is N.") unchanged; `rambling`: the shipped style with a random number of extra
    recomputes and double checks after every step (true, useless lines: a deliberately *behavioural*
    weakness, which makes the model slip when it copies a value after them and breaks the step bound
    and the token budget on longer problems, while its arithmetic knowledge stays the shipped model's).
    """
    if style not in STYLES:
        raise ValueError(f"unknown STaR trace style {style!r}; choose one of {', '.join(STYLES)}")
    if style == "steps":  # arith's `steps` style without its "So the answer is N." line
        lines = arith.render_thought(p, "steps").split("\n\n")[:-1]
    else:
        lines = arith.render_thought(p, arith.SHIPPED_STYLE).split("\n\n")
    if style == "rambling":
        lines = _ramble(lines, random.Random(f"ramble/{p.key}"))
    return "<think>\n" + "\n\n".join(lines) + f"\n</think>\n\nFinal: {p.answer}"


def _ramble(lines: list[str], rng: random.Random) -> list[str]:
    """After each step's own lines (its `Step` line and the check the rules put after it, but before a
    running summary), the first k (k ~ Binomial(2, 1/2)) of the RAMBLE_LINES types the step does not
    already have, in a fixed order, so no line repeats within a step."""
    out: list[str] = []
    fields: dict[str, str] | None = None

    def flush() -> None:
        if fields is None:
            return
        k = sum(rng.random() < 0.5 for _ in RAMBLE_LINES)
        start = out.index(fields["line"])
        block = out[start:]
        fresh = [f for f in RAMBLE_LINES if not any(x.startswith(f.split("{")[0]) for x in block)]
        # before a running summary: the model reads "So far the values are" as "the next Step follows"
        at = next((start + i for i, x in enumerate(block) if x.startswith("So far")), len(out))
        out[at:at] = [form.format(**fields) for form in fresh[:k]]

    for line in lines:
        step = _STEP_LINE.match(line)
        if step or line.startswith("So the answer"):
            flush()
            fields = None
        out.append(line)
        if step:
            fields = {**step.groupdict(), "line": line}
    return out


def seed_examples(
    n: int,
    *,
    seed: int,
    prompt_template: str,
    rationalize_template: str,
    hint_fraction: float = 0.0,
    system: str | None = None,
    exclude: set[str] | None = None,
    style: str = "steps",
) -> list[Example]:
    """`n` warm-start examples from the arith train split (never the test split), none in `exclude`."""
    rng = random.Random(f"star-seed-{seed}")
    out = []
    for p in arith.generate(n, "train", seed, exclude=exclude, distinct=True):
        hinted = rng.random() < hint_fraction
        template = rationalize_template if hinted else prompt_template
        user = template.replace("{problem}", p.text()).replace("{answer}", str(p.answer))
        out.append(Example(problem=user, response=render_star_response(p, style), system=system))
    return out
