"""Token budgets as a controller over any backend's `generate` (not inside each engine).

- `cap`: one call with `max_tokens=budget`: a response cut before its answer simply has no answer
  (A*-Thought's convention, so it scores wrong).
- `force-answer` (s1): think with `max_tokens=budget` and stop at the end-of-thinking tag; if the
  budget runs out first, close the thinking block ourselves and let the model answer within a small
  extra allowance. Thinking and answer tokens are counted separately.
- `extend` (s1 "Wait"): when the model closes its thinking early, suppress the close, append the
  extension string and keep thinking, up to `extend` times, still within the thinking budget.

Every token in the response is counted, the forced strings included, so strategies are compared at
equal, honest cost.
"""

from __future__ import annotations

from dataclasses import dataclass

from thinklab.backends.base import Backend, SamplingParams
from thinklab.prompting.modes import Prompt, continue_prompt

THINK_CLOSE = "</think>"
BUDGET_MODES = ("cap", "force-answer")
# The finish reason of a sample whose prompt leaves less room in the model's context than its budget
# (plus the answer allowance under force-answer): nothing is generated, the sample scores wrong and is
# counted apart, so it is never mistaken for an answer given within the budget.
PROMPT_TOO_LONG = "prompt_too_long"


@dataclass
class BudgetedResponse:
    """A response generated under a budget: the text after the prompt, with its token accounting."""

    text: str
    tokens: int  # everything in `text`: generated + forced
    generated_tokens: int
    thinking_tokens: int
    answer_tokens: int
    finish_reason: str  # "stop" | "length" (length: the final phase hit its cap)
    forced_answer: bool = False
    extensions: int = 0


@dataclass(frozen=True)
class BudgetConfig:
    mode: str = "cap"
    answer_tokens: int = 32  # extra allowance after a forced close (force-answer)
    extend: int = 0  # s1: how many times to replace the end of thinking with `extend_str`
    extend_str: str = "Wait"
    close_str: str = "\n</think>\n\n"  # what a forced close writes


def _thinking_tokens(backend: Backend, text: str) -> int:
    """Tokens of the thinking part: everything up to and including the first close tag (all if none)."""
    cut = text.find(THINK_CLOSE)
    return backend.count_tokens(text if cut < 0 else text[: cut + len(THINK_CLOSE)])


def _over_context(backend: Backend, prompts: list[Prompt], need: int) -> set[int]:
    """Indices of prompts whose tokens plus `need` exceed the backend's context. Only backends that
    know both (`context_length`, `prompt_tokens`: the HF backend) are checked; a server checks its own."""
    context = getattr(backend, "context_length", None)
    count = getattr(backend, "prompt_tokens", None)
    if not context or count is None:
        return set()
    return {i for i, p in enumerate(prompts) if isinstance(p, str) and count(p) + need > context}


def generate_budgeted(
    backend: Backend, prompts: list[Prompt], params: SamplingParams, budget: int, cfg: BudgetConfig
) -> list[list[BudgetedResponse]]:
    """`params.n` budgeted responses per prompt."""
    if cfg.mode not in BUDGET_MODES:
        raise ValueError(f"unknown budget mode {cfg.mode!r}; choose one of {', '.join(BUDGET_MODES)}")
    room = budget + (cfg.answer_tokens if cfg.mode == "force-answer" else 0)
    too_long = _over_context(backend, prompts, room)
    if too_long:
        keep = [i for i in range(len(prompts)) if i not in too_long]
        done = generate_budgeted(backend, [prompts[i] for i in keep], params, budget, cfg) if keep else []
        kept = iter(done)
        empty = BudgetedResponse("", 0, 0, 0, 0, PROMPT_TOO_LONG)
        return [[empty] * params.n if i in too_long else next(kept) for i in range(len(prompts))]
    if cfg.mode == "cap" and cfg.extend == 0:
        out = backend.generate(prompts, params.with_(max_tokens=budget))
        results = []
        for row in out:
            results.append(
                [
                    BudgetedResponse(
                        text=c.text,
                        tokens=c.tokens,
                        generated_tokens=c.tokens,
                        thinking_tokens=min(c.tokens, _thinking_tokens(backend, c.text)),
                        answer_tokens=max(0, c.tokens - _thinking_tokens(backend, c.text)),
                        finish_reason=c.finish_reason,
                    )
                    for c in row
                ]
            )
        return results
    return _think_then_answer(backend, prompts, params, budget, cfg)


def _think_then_answer(
    backend: Backend, prompts: list[Prompt], params: SamplingParams, budget: int, cfg: BudgetConfig
) -> list[list[BudgetedResponse]]:
    """Phase 1 thinks (and is extended), phase 2 answers. Each round batches every sample still in
    that phase, so the engine keeps seeing large batches."""
    think_stop = (*params.stop, THINK_CLOSE)
    first = backend.generate(prompts, params.with_(max_tokens=budget, stop=think_stop))
    states: list[_State] = [
        _State(prompt=prompts[i], index=i).absorb(c) for i, row in enumerate(first) for c in row
    ]
    one = params.with_(n=1)
    for _ in range(cfg.extend):
        todo = [s for s in states if s.closed and s.spent < budget]
        if not todo:
            break
        for s in todo:
            # s1: drop the end-of-thinking the model wrote and append the extension string instead.
            s.text += cfg.extend_str
            s.forced += backend.count_tokens(cfg.extend_str)
            s.extensions += 1
        for cap in sorted({max(1, budget - s.spent) for s in todo}):
            group = [s for s in todo if max(1, budget - s.spent) == cap]
            res = backend.generate(
                [continue_prompt(s.prompt, s.text) for s in group], one.with_(max_tokens=cap, stop=think_stop)
            )
            for s, row in zip(group, res, strict=True):
                s.absorb(row[0])
    # A sample that ended (end of sequence) without closing its thinking after an extension is still
    # thinking: it never answered, so it gets the forced close like a sample whose budget ran out.
    need_answer = [s for s in states if not s.ended or s.extensions]
    for s in need_answer:
        if s.closed:  # the engine cut the close tag off the text; its tokens were counted as generated
            s.text += THINK_CLOSE
        else:
            s.forced_answer = True
            s.text += cfg.close_str
            s.forced += backend.count_tokens(cfg.close_str)
        s.thinking = s.spent
    if need_answer:
        res = backend.generate(
            [continue_prompt(s.prompt, s.text) for s in need_answer], one.with_(max_tokens=cfg.answer_tokens)
        )
        for s, row in zip(need_answer, res, strict=True):
            c = row[0]
            s.text += c.text
            s.generated += c.tokens
            s.length = c.finish_reason == "length"
    results: list[list[BudgetedResponse]] = [[] for _ in prompts]
    for s in states:
        thinking = s.thinking if s.thinking is not None else min(s.spent, _thinking_tokens(backend, s.text))
        results[s.index].append(
            BudgetedResponse(
                text=s.text,
                tokens=s.spent,
                generated_tokens=s.generated,
                thinking_tokens=thinking,
                answer_tokens=s.spent - thinking,
                finish_reason="length" if s.length else "stop",
                forced_answer=s.forced_answer,
                extensions=s.extensions,
            )
        )
    return results


@dataclass
class _State:
    prompt: Prompt
    index: int
    text: str = ""
    generated: int = 0
    forced: int = 0
    closed: bool = False  # stopped at the end-of-thinking tag
    ended: bool = False  # stopped at end of sequence without closing (e.g. answered in no-think mode)
    length: bool = False
    extensions: int = 0
    forced_answer: bool = False
    thinking: int | None = None

    @property
    def spent(self) -> int:
        return self.generated + self.forced

    def absorb(self, c) -> _State:
        self.text += c.text
        self.generated += c.tokens
        self.closed = c.stop_reason == THINK_CLOSE
        self.ended = c.stop_reason is None and c.finish_reason == "stop"
        self.length = c.finish_reason == "length"
        return self
