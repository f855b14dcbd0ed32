"""Measurements of what the tiny model's thinking contains (`thinklab tiny redundancy`).

Redundancy is measured by feeding thinking back: for held-out problems, the gold trace in the model's
own training style (`verbose` or `verbose-rules`, read from its `thinklab.json`) is put in the prompt
as the model's own thinking, closed with `</think>`, and the model writes only the answer. Done four
ways — the whole trace, the trace with its redundant lines (restatement, double checks, recomputes,
summaries) removed, that again without its conclusion line ("So the answer is N."), and no thinking at
all — the answer accuracy tells whether the removed lines were needed.
"""

from __future__ import annotations

from statistics import mean

from thinklab.backends.base import SamplingParams
from thinklab.backends.hf import HFBackend
from thinklab.prompting.modes import build_prompt
from thinklab.tasks import arith


def _answer_accuracy(
    backend: HFBackend, problems: list[arith.ArithProblem], thoughts: list[str | None]
) -> tuple[float, float]:
    from thinklab.grading import extract_answer, is_equivalent

    prompts, tokens = [], []
    for p, thought in zip(problems, thoughts, strict=True):
        base = build_prompt(
            backend.tokenizer, p.text(), "no-think" if thought is None else "standard", fmt=backend.thinking
        )
        if thought is not None:
            base += thought + "\n</think>\n\n"
            tokens.append(backend.count_tokens(thought))
        else:
            tokens.append(0)
        prompts.append(base)
    outs = backend.generate(prompts, SamplingParams(max_tokens=16))
    correct = [
        (pred := extract_answer("</think>" + o[0].text)) is not None and is_equivalent(str(p.answer), pred)
        for p, o in zip(problems, outs, strict=True)
    ]
    return mean(tokens), mean(map(float, correct))


def redundancy_check(model: str = "tiny", limit: int = 400) -> list[tuple[str, float, float]]:
    """Rows of (thinking given, mean thinking tokens, answer accuracy)."""
    from thinklab.tiny.model import trained_style

    backend = HFBackend(model)
    style = trained_style(model)
    problems = arith.generate(limit, "test", arith.DEFAULT_TEST_SEED)
    full = [arith.render_thought(p, style) for p in problems]
    pruned = ["\n\n".join(s for s in t.split("\n\n") if not arith.redundant_step(s)) for t in full]
    # Without its "So the answer is N." line the model must read the answer off the last step, so
    # this row cannot pass by copying a conclusion.
    steps_only = [t.rsplit("\n\n", 1)[0] for t in pruned]
    rows = []
    for name, thoughts in (
        (f"whole trace ({style})", full),
        ("redundant lines removed", pruned),
        ("step lines only (no conclusion line)", steps_only),
        ("none", [None] * len(problems)),
    ):
        tokens, acc = _answer_accuracy(backend, problems, thoughts)
        rows.append((name, tokens, acc))
    return rows
