"""The validator model: path costs (g, h) and the check that a compressed path still yields the answer.

Both go through the shared backend interface, so the validator can be any model on any engine
(`hf`, `vllm`, `openai` with a completions endpoint):

- costs use ``backend.score(prompts, continuations)``: one call scores every (sample, candidate path)
  handed in, whatever the number of samples and candidates;
- the check uses ``backend.generate`` once for every path handed in, and grades with thinklab's grader.

**The cost prompt.** The seed scores ``f"{q}{TB}{path}{TE}{SB}{s}{SE}"`` with no chat template and no
whitespace around the tags. A validator that is a chat model never saw that text in training, so the
log-probs would mostly measure the format mismatch (for the tiny model, which knows nothing but its own
format, they are meaningless). Here the validator reads exactly what it reads at inference and what
it was trained on: ``render_chat(q)`` (the chat template, when the tokenizer has one) + the opening tag,
then the continuation ``path + closing + solution`` rendered by `thinklab.data.render_response` in the
validator's trace format (``r1``: ``<think>\\n{path}\\n</think>\\n\\n{solution}``, the tiny model's
training format token for token). ``chat=False`` reproduces the seed's raw prompt (with the same
tag layout).

- ``g = -β · mean(logprob of the path tokens + closing tag, given q)`` (the seed also counts the
  tags between q and the solution; the opening tag is in the prompt here, like a thinking prefill).
- ``h = -mean(logprob of the solution tokens given q + path)`` over *all* solution tokens (paper Eq. 9–10;
  the seed's ``[-ns+1:]`` drops the first solution token).

**The check.** The validator generates the solution after the closed path (seed: one sample,
temperature 0.6, top_p 0.95, max 1024 tokens) and the answer is graded against the reference with
`thinklab.grading.grade` (brace-matched ``\\boxed{}``, then mathematical equivalence). The seed compares
``re.findall(r"\\\\boxed\\{(.*?)\\}")`` strings, which cuts ``\\boxed{\\frac{1}{2}}`` at the first ``}`` and
calls ``0.5`` and ``\\frac12`` different.

**Context.** A validator whose window is smaller than a trace (the tiny model on R1 traces) gets the
front of its input clipped (`max_context`): the solution and question keep at most a quarter of the
window each and the path keeps its end. Real validators (32k windows) are not clipped in practice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from thinklab.backends.base import SamplingParams
from thinklab.data.traces import Trace, render_response
from thinklab.errors import ThinklabError
from thinklab.grading import grade
from thinklab.prompting.modes import render_chat

_T, _S = "\x00THOUGHT\x00", "\x00SOLUTION\x00"


@dataclass(frozen=True)
class Layout:
    """The validator's trace format cut around the thought and the solution."""

    opening: str  # before the thought (goes into the prompt, like a thinking prefill)
    between: str  # after the thought, before the solution (closing tag, solution tag)
    after: str  # after the solution (Sky's closing solution tag)

    @classmethod
    def for_format(cls, fmt: str) -> Layout:
        if fmt not in ("r1", "sky", "s1"):
            raise ThinklabError(f"validator format must be r1, sky or s1, not {fmt!r}")
        text = render_response(Trace("", _T, _S, fmt))
        opening, rest = text.split(_T)
        between, after = rest.split(_S)
        return cls(opening, between, after)


@dataclass
class ValidatorConfig:
    beta: float = 0.1
    fmt: str = "r1"  # tag layout the validator was trained on
    chat: bool | None = None  # None: use the chat template when the tokenizer has one
    system: str | None = None
    sampling: SamplingParams = field(
        default_factory=lambda: SamplingParams(temperature=0.6, top_p=0.95, max_tokens=1024, seed=0)
    )
    max_context: int | None = None  # None: the backend model's max positions when known
    # Split a call into groups of similar length (shortest >= ratio x longest). HF pads every batch to
    # its longest sequence, which on a CPU costs more than batching saves; vLLM packs sequences itself
    # and wants one call (None).
    pad_ratio: float | None = None
    # Cap the check's generation at 2 x the longest reference solution + 32 tokens (never above the
    # sampling max_tokens). The seed always allows 1024: right for a 32B model writing a full solution,
    # but in a batch one rambling sample makes every sequence decode 1024 steps.
    cap_to_solution: bool = True


@dataclass
class Sample:
    """What the validator needs of one trace."""

    question: str
    solution: str
    gold: str | None  # reference answer; None: no answer to check (the seed then skips validation)
    system: str | None = None


@dataclass
class ValidatorStats:
    score_calls: int = 0
    generate_calls: int = 0
    sequences_scored: int = 0
    generations: int = 0
    clipped: int = 0

    @property
    def calls(self) -> int:
        return self.score_calls + self.generate_calls


class Validator:
    """Costs and checks for candidate paths over one backend; counts every backend call."""

    def __init__(self, backend: Any, cfg: ValidatorConfig | None = None) -> None:
        self.backend = backend
        self.cfg = cfg or ValidatorConfig()
        self.tokenizer = getattr(backend, "tokenizer", None)
        if self.tokenizer is None:
            raise ThinklabError(
                "the validator needs a text-completion backend with a local tokenizer "
                "(for the openai backend use endpoint=completions and tokenizer=PATH)"
            )
        self.layout = Layout.for_format(self.cfg.fmt)
        chat = self.cfg.chat
        self.chat = bool(getattr(self.tokenizer, "chat_template", None)) if chat is None else chat
        self.max_context = self.cfg.max_context or _max_positions(backend)
        self.stats = ValidatorStats()
        self._prompts: dict[tuple[str, str | None], str] = {}

    # ---------------------------------------------------------------- text
    def prompt(self, sample: Sample) -> str:
        """Question prompt + opening tag (cached per sample)."""
        system = sample.system if sample.system is not None else self.cfg.system
        key = (sample.question, system)
        if key not in self._prompts:
            if self.chat:
                head = render_chat(self.tokenizer, sample.question, system)
            else:
                head = (f"{system}\n\n" if system else "") + sample.question
            self._prompts[key] = head + self.layout.opening
        return self._prompts[key]

    def _tokens(self, text: str) -> list[int]:
        return self.tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"]

    def _clip_left(self, text: str, keep: int) -> str:
        ids = self._tokens(text)
        if len(ids) <= keep:
            return text
        self.stats.clipped += 1
        return self.tokenizer.decode(ids[-max(keep, 1) :]) if keep > 0 else ""

    def _fit(self, prompt: str, path: str, tail: str, reserve: int = 0) -> tuple[str, str, str]:
        """Clip (prompt, path, tail) so prompt + path + between + tail + reserve fits `max_context`."""
        if not self.max_context:
            return prompt, path, tail
        window = self.max_context - reserve - 1
        sizes = [len(self._tokens(x)) for x in (prompt, path, self.layout.between, tail)]
        if sum(sizes) <= window:
            return prompt, path, tail
        quarter = max(window // 4, 1)
        prompt = self._clip_left(prompt, quarter) if sizes[0] > quarter else prompt
        tail = self._clip_left(tail, quarter) if sizes[3] > quarter else tail
        used = len(self._tokens(prompt)) + sizes[2] + len(self._tokens(tail))
        return prompt, self._clip_left(path, window - used), tail

    def _groups(self, lengths: list[int]) -> list[list[int]]:
        """Item indices in one group (one backend call), or in groups of similar length (`pad_ratio`)."""
        ratio = self.cfg.pad_ratio
        if not ratio:
            return [list(range(len(lengths)))]
        groups: list[list[int]] = []
        for k in sorted(range(len(lengths)), key=lambda k: -lengths[k]):
            if groups and lengths[k] >= ratio * lengths[groups[-1][0]]:
                groups[-1].append(k)
            else:
                groups.append([k])
        return groups

    # ---------------------------------------------------------------- costs
    def costs(self, items: Sequence[tuple[Sample, str]]) -> list[tuple[float, float]]:
        """(g, h) for every (sample, path text), in one backend.score call."""
        if not items:
            return []
        prompts, conts, n_tail = [], [], []
        for sample, path in items:
            tail = sample.solution + self.layout.after
            prompt, path, tail = self._fit(self.prompt(sample), path, tail)
            prompts.append(prompt)
            conts.append(path + self.layout.between + tail)
            n_tail.append(max(1, len(self._tokens(tail))))
        logprobs: list[list[float]] = [[] for _ in items]
        for group in self._groups([len(p) + len(c) for p, c in zip(prompts, conts, strict=True)]):
            scored = self.backend.score([prompts[k] for k in group], [conts[k] for k in group])
            for k, lp in zip(group, scored, strict=True):
                logprobs[k] = lp
            self.stats.score_calls += 1
        self.stats.sequences_scored += len(items)
        out = []
        for lp, nt in zip(logprobs, n_tail, strict=True):
            nt = min(nt, len(lp) - 1) if len(lp) > 1 else len(lp)
            path_lp, sol_lp = lp[: len(lp) - nt], lp[len(lp) - nt :]
            g = -self.cfg.beta * _mean(path_lp)
            h = -_mean(sol_lp)
            out.append((g, h))
        return out

    # ---------------------------------------------------------------- check
    def check(self, items: Sequence[tuple[Sample, str]]) -> list[bool]:
        """Whether the validator, given each closed path, writes a solution with the reference answer."""
        if not items:
            return []
        params = self.cfg.sampling.with_(n=1)
        if self.cfg.cap_to_solution:
            need = max(2 * len(self._tokens(s.solution + self.layout.after)) + 32 for s, _ in items)
            params = params.with_(max_tokens=min(params.max_tokens, need))
        reserve = min(params.max_tokens, (self.max_context or 0) // 4)
        prompts = []
        for sample, path in items:
            prompt, path, _ = self._fit(self.prompt(sample), path, "", reserve=reserve)
            prompts.append(prompt + path + self.layout.between)
        outs: list[list[Any]] = [[] for _ in items]
        for group in self._groups([len(p) for p in prompts]):
            for k, row in zip(group, self.backend.generate([prompts[k] for k in group], params), strict=True):
                outs[k] = row
            self.stats.generate_calls += 1
        self.stats.generations += len(items)
        verdicts = []
        for (sample, _), row in zip(items, outs, strict=True):
            verdicts.append(answer_ok(sample.gold, row[0].text if row else ""))
        return verdicts


def answer_ok(gold: str | None, solution_text: str) -> bool:
    r"""Whether a generated solution states the reference answer (thinklab's grader: brace-matched boxes,
    then equivalence). The seed's regex ``\\boxed\{(.*?)\}`` cuts ``\boxed{\frac{1}{2}}`` at ``\frac{1``."""
    return gold is not None and grade(gold, solution_text).correct


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def _max_positions(backend: Any) -> int | None:
    model = getattr(backend, "model", None)
    config = getattr(model, "config", None)
    if config is None:
        return None
    config = getattr(config, "text_config", None) or config
    return getattr(config, "max_position_embeddings", None) or getattr(config, "n_positions", None)
