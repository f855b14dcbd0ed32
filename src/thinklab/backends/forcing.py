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

from thinklab.backends.base import Backend, Completion, SamplingParams, thinking_token_count
from thinklab.prompting.modes import R1, ChatPrompt, Prompt, ThinkingFormat, continue_prompt

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
    thinking_tokens: int  # never more than the budget: a forced close is charged to the answer
    answer_tokens: int
    finish_reason: str  # "stop" | "length" (the final phase hit its cap) | PROMPT_TOO_LONG
    forced_answer: bool = False
    extensions: int = 0


@dataclass(frozen=True)
class BudgetConfig:
    mode: str = "cap"
    answer_tokens: int = 32  # extra allowance after a forced close (force-answer)
    extend: int = 0  # s1: how many times to replace the end of thinking with `extend_str`
    extend_str: str = "Wait"
    close_str: str | None = None  # what a forced close writes; None: the model family's (`forced_close`)

    def forced_close(self, fmt: ThinkingFormat) -> str:
        """What a forced close writes for a model of format `fmt`."""
        return fmt.forced_close if self.close_str is None else self.close_str


def thinking_format(backend: Backend) -> ThinkingFormat:
    """The backend's thinking format (R1's markers for engines that do not say)."""
    return getattr(backend, "thinking", None) or R1


def closed_in_prompt(prompt: Prompt, fmt: ThinkingFormat) -> bool:
    """Whether the prompt itself already closed the thinking block (the no-think prefill): then the
    model's response holds no thinking unless it opens a new block, and nothing in the prompt is ever
    counted as generated thinking."""
    text = prompt.prefill if isinstance(prompt, ChatPrompt) else prompt
    return text.rfind(fmt.close) > text.rfind(fmt.open) >= 0 or (
        isinstance(prompt, ChatPrompt) and bool(dict(prompt.template_args)) and not prompt.prefill
    )


def _thinking_tokens(backend: Backend, fmt: ThinkingFormat, c: Completion, prompt_closed: bool) -> int:
    """Generated tokens of the thinking part of one completion: up to and including the first close
    marker (all if none), counted from the generated token ids when the engine returns them (text
    re-tokenised otherwise, e.g. a server that sends no ids)."""
    if prompt_closed and fmt.open not in c.text:
        return 0
    tokenizer = getattr(backend, "tokenizer", None)
    if c.token_ids is not None and tokenizer is not None:
        n = thinking_token_count(
            c.token_ids, lambda ids: tokenizer.decode(ids, skip_special_tokens=False), fmt.close
        )
        return min(c.tokens, c.tokens if n is None else n)
    cut = c.text.find(fmt.close)
    return min(c.tokens, backend.count_tokens(c.text if cut < 0 else c.text[: cut + len(fmt.close)]))


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
        empty = BudgetedResponse(
            text="",
            tokens=0,
            generated_tokens=0,
            thinking_tokens=0,
            answer_tokens=0,
            finish_reason=PROMPT_TOO_LONG,
        )
        return [[empty] * params.n if i in too_long else next(kept) for i in range(len(prompts))]
    fmt = thinking_format(backend)
    if cfg.mode == "cap" and cfg.extend == 0:
        out = backend.generate(prompts, params.with_(max_tokens=budget))
        results = []
        for prompt, row in zip(prompts, out, strict=True):
            closed = closed_in_prompt(prompt, fmt)
            responses = []
            for c in row:
                thinking = _thinking_tokens(backend, fmt, c, closed)
                responses.append(
                    BudgetedResponse(
                        text=c.text,
                        tokens=c.tokens,
                        generated_tokens=c.tokens,
                        thinking_tokens=thinking,
                        answer_tokens=c.tokens - thinking,
                        finish_reason=c.finish_reason,
                    )
                )
            results.append(responses)
        return results
    return _think_then_answer(backend, fmt, prompts, params, budget, cfg)


def _think_then_answer(
    backend: Backend,
    fmt: ThinkingFormat,
    prompts: list[Prompt],
    params: SamplingParams,
    budget: int,
    cfg: BudgetConfig,
) -> list[list[BudgetedResponse]]:
    """Phase 1 thinks (and is extended), phase 2 answers. Each round batches every sample still in
    that phase, so the engine keeps seeing large batches."""
    close_str = cfg.forced_close(fmt)
    think_stop = (*params.stop, fmt.close)
    first = backend.generate(prompts, params.with_(max_tokens=budget, stop=think_stop))
    states: list[_State] = [
        _State(prompt=prompts[i], index=i, close=fmt.close).absorb(c)
        for i, row in enumerate(first)
        for c in row
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
        # The thinking budget is what was thought: a forced close is charged to the answer.
        s.thinking = s.spent
        if s.closed:  # the engine cut the close tag off the text; its tokens were counted as generated
            s.text += fmt.close
        else:
            s.forced_answer = True
            s.text += close_str
            s.forced += backend.count_tokens(close_str)
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
        thinking = s.thinking
        if thinking is None:  # answered in phase 1 (no close needed): count from its generated ids
            whole = Completion(s.text, s.spent, "stop", token_ids=s.ids)
            thinking = _thinking_tokens(backend, fmt, whole, closed_in_prompt(s.prompt, fmt))
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
    close: str
    text: str = ""
    ids: list[int] | None = None
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
        self.ids = c.token_ids  # read only for a sample answered in one call (see `_think_then_answer`)
        self.closed = c.stop_reason == self.close
        self.ended = c.stop_reason is None and c.finish_reason == "stop"
        self.length = c.finish_reason == "length"
        return self
