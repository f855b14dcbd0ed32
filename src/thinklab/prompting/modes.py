"""Thinking formats per model family, chat prompts and thinking modes.

A **thinking format** is everything thinklab needs to know about how a model family marks its
reasoning, as data in one place (`FORMATS`; a user can name one or give a small YAML file):

| family           | models                                   | open / close                           | no-think prefill                      |
|------------------|------------------------------------------|----------------------------------------|---------------------------------------|
| `r1`             | DeepSeek-R1 and its distills (both chat templates) | `<think>` / `</think>`        | AutoThink's "Okay, I think I have finished thinking." block |
| `qwen3`          | Qwen3 hybrid models (`enable_thinking`)  | `<think>` / `</think>`                 | the template's own `enable_thinking=False` empty block |
| `qwen3-thinking` | QwQ-32B, Qwen3-*-Thinking-2507           | `<think>` / `</think>`                 | Qwen's empty block `<think>\\n\\n</think>\\n\\n` |
| `s1`             | s1 / s1.1 (Qwen2.5-Instruct template)    | `<|im_start|>think` / `<|im_start|>answer` | an empty think section              |
| `tiny`           | the shipped tiny model and its fine-tunes | `<think>` / `</think>`                | `<think>\\n</think>\\n\\n` (what it was trained on) |

A **thinking mode** is the text pre-filled after the assistant turn opens:

- ``standard``: the open marker — the model thinks, closes and answers;
- ``no-think``: the thinking block pre-filled closed, so the model answers directly;
- ``ellipsis``: AutoThink's ``<think>\\n...\\n`` — the model decides whether to keep thinking.

Chat templates differ in how much of the prefill they write themselves (R1-Distill's current template
and QwQ's end with ``<think>\\n``, R1's old one does not; Qwen3's with ``enable_thinking=False`` writes
the whole empty block). `render_chat` removes whatever part of the mode's prefill the template already
wrote, and `build_prompt` appends the prefill once, so the prompt is the same for every template of a
family and equals the official ``apply_chat_template(..., add_generation_prompt=True)`` plus the
prefill, token by token (``tests/prompting``).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from thinklab.errors import ThinklabError

PROMPT_MODES = ("standard", "no-think", "ellipsis")
MARKER_FILE = (
    "thinklab.json"  # written into model dirs that thinklab makes (the tiny model and its fine-tunes)
)


@dataclass(frozen=True)
class ThinkingFormat:
    """How one model family marks its reasoning (see the module table).

    `forced_close` is what budget forcing writes when the thinking budget runs out; `template_args`
    are extra chat-template variables per mode (Qwen3's ``enable_thinking=False`` for no-think);
    `answer_stop` are stop strings for the answer phase (s1 ends its answer at ``<|im_end|>``, which
    is also its end-of-sequence token, so it is listed for engines that do not stop there).
    """

    name: str
    open: str = "<think>"
    close: str = "</think>"
    standard: str = "<think>\n"
    no_think: str = "<think>\n</think>\n\n"
    ellipsis: str = "<think>\n...\n"
    forced_close: str = "\n</think>\n\n"
    template_args: dict[str, dict[str, Any]] = field(default_factory=dict)

    def prefix(self, mode: str) -> str:
        if mode not in PROMPT_MODES:
            raise ThinklabError(f"unknown prompt mode {mode!r}; choose one of {', '.join(PROMPT_MODES)}")
        return {"standard": self.standard, "no-think": self.no_think, "ellipsis": self.ellipsis}[mode]

    def chat_args(self, mode: str) -> dict[str, Any]:
        return dict(self.template_args.get(mode, {}))

    def split(self, text: str) -> tuple[str, str | None]:
        """(thinking, answer) of prefill + response text: the answer is what follows the first close
        marker, None when thinking never closed. One leading open marker is not part of the thinking."""
        cut = text.find(self.close)
        head = text if cut < 0 else text[:cut]
        start = head.find(self.open)
        thinking = head[start + len(self.open) :] if start >= 0 else head
        return thinking, (None if cut < 0 else text[cut + len(self.close) :])

    def thought(self, prefill: str, response: str) -> bool:
        """Did the *model* think? True when the response (never the prompt) holds reasoning: the
        text before the first close marker has more than whitespace and AutoThink's "..." placeholder.
        A prefill that is already closed (no-think) leaves nothing to think in, unless the model
        opens a new block itself. This is AutoThink's mode detection, read on the generated part only
        (AutoThink scores its ellipsis prompt, whose placeholder it also ignores)."""
        if self.close in prefill:  # the block was closed by the prompt: only a new block counts
            response_thinking, _ = self.split(response) if self.open in response else ("", None)
            return bool(response_thinking.strip(" \n.…"))
        thinking, _ = self.split(response)
        return bool(thinking.strip(" \n.…"))

    @property
    def r1_marked(self) -> bool:
        """Whether this family writes R1's `<think>` / `</think>` (then no marker mapping is needed)."""
        return (self.open, self.close) == ("<think>", "</think>")

    def as_r1(self, text: str) -> str:
        """The text with this family's markers replaced by `<think>` / `</think>`, which the graders and
        AutoThink's rules read; text already in R1's markers is returned unchanged."""
        if self.r1_marked:
            return text
        thinking, answer = self.split(text)
        return "<think>" + thinking + ("" if answer is None else "</think>" + answer)

    def reading(self, extract: Any) -> Any:
        """`extract` (an answer extractor over R1-marked text) made to read this family's text."""
        if self.r1_marked:
            return extract
        return lambda text, *args, **kwargs: extract(self.as_r1(text), *args, **kwargs)

    def record(self) -> str | dict[str, Any]:
        """What `thinklab.json` keeps of a trained model's format: a built-in family by name, any other
        (a user's YAML) whole, so a fine-tune of it is read back with the same markers."""
        return self.name if FORMATS.get(self.name) == self else self.to_dict()

    def from_r1(self, text: str) -> str:
        """Inverse of `as_r1`: R1's `<think>` / `</think>` in `text` written in this family's markers."""
        if self.r1_marked:
            return text
        return text.replace("<think>", self.open, 1).replace("</think>", self.close, 1)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


R1 = ThinkingFormat(
    name="r1",
    # AutoThink's exact strings (its R1 prompts); the R1 special tokens come from the chat template.
    no_think="<think>\nOkay, I think I have finished thinking.\n</think>\n\n",
)
QWEN3 = ThinkingFormat(
    name="qwen3",
    no_think="<think>\n\n</think>\n\n",  # what the template writes with enable_thinking=False
    template_args={"no-think": {"enable_thinking": False}},
)
QWEN3_THINKING = ThinkingFormat(name="qwen3-thinking", no_think="<think>\n\n</think>\n\n")
S1 = ThinkingFormat(
    name="s1",
    open="<|im_start|>think",
    close="<|im_start|>answer",
    standard="<|im_start|>think\n",
    no_think="<|im_start|>think\n<|im_start|>answer\n",
    ellipsis="<|im_start|>think\n...\n",
    # s1's own forced stop (its lm-evaluation-harness fork): close the section and start the answer.
    forced_close="\n<|im_start|>answer\nFinal Answer:",
)
# The tiny model's no-think prefill is the empty think block it is trained to recognise.
TINY = ThinkingFormat(name="tiny")

FORMATS: dict[str, ThinkingFormat] = {f.name: f for f in (R1, QWEN3, QWEN3_THINKING, S1, TINY)}

# s1 / s1.1 ship Qwen2.5-Instruct's template unchanged, so only the name tells them apart.
_S1_NAME = re.compile(r"(^|[/_\-.])s1(\.\d+)?([-_]|$)", re.IGNORECASE)


# User-message templates the methods' authors used, by name (`--prompt-template NAME`); `{problem}` is
# replaced by the problem text. A task's own template is the default.
PROMPT_TEMPLATES: dict[str, str] = {
    "plain": "{problem}",
    # SkyThought's evaluator (and the Sky-T1 / Bespoke-Stratos models it evaluates).
    "sky": "{problem}\nReturn your final response within \\boxed{}.",
    # AutoThink's training and evaluation prompts (DeepScaleR's).
    "autothink": "{problem} Let's think step by step and output the final answer within \\boxed{}.",
    # Value-guided search (VGS) with DeepSeek-R1-Distill models.
    "vgs": "{problem} Please think step-by-step and put your final answer within \\boxed{}.",
}


def resolve_template(spec: str | None, default: str = "{problem}") -> str:
    """A user-message template: a name in `PROMPT_TEMPLATES`, or text holding `{problem}`; None keeps
    the task's own. Literal braces stay as written (only `{problem}` is replaced)."""
    if not spec:
        return default
    if spec in PROMPT_TEMPLATES:
        return PROMPT_TEMPLATES[spec]
    if "{problem}" not in spec:
        raise ThinklabError(
            f"--prompt-template {spec!r} is neither a name ({', '.join(PROMPT_TEMPLATES)}) nor text with {{problem}}"
        )
    return spec


def load_format(spec: str) -> ThinkingFormat:
    """A format by name (`r1`, `qwen3`, `qwen3-thinking`, `s1`, `tiny`) or from a YAML/JSON file whose
    keys are `ThinkingFormat`'s fields (missing ones take R1's values)."""
    if spec in FORMATS:
        return FORMATS[spec]
    path = Path(spec)
    if not path.is_file():
        raise ThinklabError(
            f"unknown thinking format {spec!r}: name one of {', '.join(FORMATS)} or give a YAML file"
        )
    import yaml

    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ThinklabError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    known = {f.name for f in fields(ThinkingFormat)}
    if not isinstance(data, dict) or set(data) - known:
        extra = sorted(set(data) - known) if isinstance(data, dict) else data
        raise ThinklabError(
            f"{path}: a thinking format takes the keys {', '.join(sorted(known))}; got {extra}"
        )
    data.setdefault("name", path.stem)
    return ThinkingFormat(**data)


def format_for(
    model_dir: str | Path | None, tokenizer: Any = None, override: str | None = None
) -> ThinkingFormat:
    """The thinking format of a model: the user's choice, else `thinklab.json` in thinklab-made dirs,
    else recognised from the model name and the tokenizer's chat template; R1's when nothing says."""
    if override:
        return load_format(override)
    if model_dir is not None:
        marker = Path(model_dir) / MARKER_FILE
        if marker.is_file():
            meta = json.loads(marker.read_text())
            recorded = meta.get("thinking_format") or meta.get("prompt_modes", "r1")
            if isinstance(recorded, dict):  # a user's format, kept whole (`ThinkingFormat.record`)
                return ThinkingFormat(**recorded)
            return FORMATS.get(recorded, R1)
        if _S1_NAME.search(str(model_dir)) or _S1_NAME.search(_config_name(model_dir)):
            return S1
    template = str(getattr(tokenizer, "chat_template", None) or "")
    if "enable_thinking" in template:
        return QWEN3
    if "<｜Assistant｜>" in template:
        return R1
    if "<|im_start|>" in template and "<think>" in template:
        return QWEN3_THINKING
    return R1


def _config_name(model_dir: str | Path) -> str:
    """`_name_or_path` of a local model dir's config (a fine-tune saved from `simplescaling/s1.1-32B`)."""
    config = Path(model_dir) / "config.json"
    try:
        return str(json.loads(config.read_text()).get("_name_or_path", ""))
    except (OSError, ValueError):
        return ""


def _overlap(text: str, prefill: str) -> int:
    """Length of the longest start of `prefill` that `text` already ends with."""
    for k in range(len(prefill), 0, -1):
        if text.endswith(prefill[:k]):
            return k
    return 0


def render_chat(
    tokenizer: Any,
    user: str,
    system: str | None = None,
    fmt: ThinkingFormat | None = None,
    mode: str = "standard",
) -> str:
    """The chat prompt up to the opening of the assistant turn, without any thinking prefill (the part
    of the mode's prefill that the template wrote itself is removed, so `build_prompt` adds it once)."""
    fmt = fmt or R1
    messages = ([{"role": "system", "content": system}] if system else []) + [
        {"role": "user", "content": user}
    ]
    if getattr(tokenizer, "chat_template", None):
        text = tokenizer.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=True, **fmt.chat_args(mode)
        )
    else:  # base models without a template: plain text, the way the seeds prompt them
        text = (f"{system}\n\n" if system else "") + f"{user}\n"
    prefill = fmt.prefix(mode)
    cut = _overlap(text, prefill)
    if not cut and text.rstrip("\n").endswith(fmt.open):  # a template that opens with other spacing
        cut = len(text) - len(text.rstrip("\n")) + len(fmt.open)
    return text[: len(text) - cut]


def build_prompt(
    tokenizer: Any,
    user: str,
    mode: str = "standard",
    system: str | None = None,
    fmt: ThinkingFormat = R1,
) -> str:
    """Full prompt text: chat template + the thinking-mode prefill."""
    return render_chat(tokenizer, user, system, fmt, mode) + fmt.prefix(mode)


@dataclass(frozen=True)
class ChatPrompt:
    """A prompt for chat-only servers: messages plus an assistant prefill (the thinking mode, and any
    text already generated when budget forcing continues a response). Servers that accept a final
    assistant message to continue (vLLM's and `transformers serve`'s `continue_final_message`) honour
    the prefill. `template_args` are the format's chat-template variables for the mode (Qwen3's
    `enable_thinking`), sent as `chat_template_kwargs`."""

    messages: tuple[tuple[str, str], ...]
    prefill: str = ""
    template_args: tuple[tuple[str, Any], ...] = ()

    def to_messages(self) -> list[dict[str, str]]:
        msgs = [{"role": r, "content": c} for r, c in self.messages]
        if self.prefill:
            msgs.append({"role": "assistant", "content": self.prefill})
        return msgs


Prompt = str | ChatPrompt


def prompt_for(backend: Any, user: str, mode: str = "standard", system: str | None = None) -> Prompt:
    """The prompt a backend needs: text via the local tokenizer's chat template, or a ChatPrompt for
    chat endpoints (where the server applies the template)."""
    fmt = getattr(backend, "thinking", R1)
    if getattr(backend, "chat", False):
        messages = ((("system", system),) if system else ()) + (("user", user),)
        args = tuple(sorted(fmt.chat_args(mode).items()))
        prefill = "" if mode == "standard" or (args and mode == "no-think") else fmt.prefix(mode)
        return ChatPrompt(messages=messages, prefill=prefill, template_args=args)
    return build_prompt(backend.tokenizer, user, mode, system, fmt)


def continue_prompt(prompt: Prompt, text: str) -> Prompt:
    """The prompt that continues `prompt` after `text` has been written by (or forced on) the model."""
    if isinstance(prompt, ChatPrompt):
        return ChatPrompt(
            messages=prompt.messages, prefill=prompt.prefill + text, template_args=prompt.template_args
        )
    return prompt + text


def training_prompt(
    tokenizer: Any, user: str, system: str | None, responses: list[str], fmt: ThinkingFormat
) -> tuple[str, list[str]]:
    """The prompt and completions to train on `responses` (one for SFT, chosen and rejected for DPO),
    with the prompt equal to eval's standard prompt token by token.

    A response that opens its thinking (`<think>\\n…`, as thinklab's own traces do) loses that opening,
    which the prompt's prefill then holds; one that starts inside its thinking (R1's current template
    puts `<think>\\n` in the prompt, so its outputs start `Okay, so I…`) is kept whole. Responses with no
    thinking markers at all are not thinking traces: they follow the bare chat prompt, as before."""
    if not any(fmt.open in r or fmt.close in r for r in responses):
        if not any("</think>" in r for r in responses):
            return render_chat(tokenizer, user, system, fmt), list(responses)
        responses = [fmt.from_r1(r) for r in responses]  # R1-marked data for another family (s1)
    completions = []
    for r in responses:
        if r.startswith(fmt.standard):
            r = r[len(fmt.standard) :]
        elif r.startswith(fmt.open):
            r = r[len(fmt.open) :].removeprefix("\n")
        completions.append(r)
    return build_prompt(tokenizer, user, "standard", system, fmt), completions
