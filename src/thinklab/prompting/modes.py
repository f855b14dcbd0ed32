"""Chat prompts and thinking modes for R1-style models and the tiny model.

A thinking mode is the text pre-filled after the assistant turn opens:

- ``standard``: ``<think>\\n`` — the model thinks, then closes ``</think>`` and answers;
- ``no-think``: the thinking block is pre-filled closed, so the model answers directly;
- ``ellipsis``: AutoThink's ``<think>\\n...\\n`` — the model decides whether to keep thinking.

R1-Distill chat templates already end the generation prompt with ``<think>\\n``; `build_prompt` removes
that so the mode decides (one place where the prefill is written, for every backend).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROMPT_MODES = ("standard", "no-think", "ellipsis")
MARKER_FILE = (
    "thinklab.json"  # written into model dirs that thinklab makes (the tiny model and its fine-tunes)
)


@dataclass(frozen=True)
class ThinkingModes:
    standard: str
    no_think: str
    ellipsis: str

    def prefix(self, mode: str) -> str:
        if mode not in PROMPT_MODES:
            raise ValueError(f"unknown prompt mode {mode!r}; choose one of {', '.join(PROMPT_MODES)}")
        return {"standard": self.standard, "no-think": self.no_think, "ellipsis": self.ellipsis}[mode]


# AutoThink's exact strings (methods.md §2); the R1 special tokens themselves come from the chat template.
R1_MODES = ThinkingModes(
    standard="<think>\n",
    no_think="<think>\nOkay, I think I have finished thinking.\n</think>\n\n",
    ellipsis="<think>\n...\n",
)
# The tiny model's no-think prefill is the empty think block it is trained to recognise.
TINY_MODES = ThinkingModes(standard="<think>\n", no_think="<think>\n</think>\n\n", ellipsis="<think>\n...\n")

_FAMILIES = {"r1": R1_MODES, "tiny": TINY_MODES}


def modes_for(model_dir: str | Path | None) -> ThinkingModes:
    """The thinking-mode strings for a model: thinklab-made dirs say so in `thinklab.json`."""
    if model_dir is not None:
        marker = Path(model_dir) / MARKER_FILE
        if marker.is_file():
            family = json.loads(marker.read_text()).get("prompt_modes", "r1")
            return _FAMILIES.get(family, R1_MODES)
    return R1_MODES


def render_chat(tokenizer: Any, user: str, system: str | None = None) -> str:
    """The chat prompt up to the opening of the assistant turn, without any thinking prefill."""
    messages = ([{"role": "system", "content": system}] if system else []) + [
        {"role": "user", "content": user}
    ]
    if getattr(tokenizer, "chat_template", None):
        text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    else:  # base models without a template: plain text, the way the seeds prompt them
        text = (f"{system}\n\n" if system else "") + f"{user}\n"
    stripped = text.rstrip("\n")
    if stripped.endswith("<think>"):
        text = stripped[: -len("<think>")]
    return text


def build_prompt(
    tokenizer: Any,
    user: str,
    mode: str = "standard",
    system: str | None = None,
    modes: ThinkingModes = R1_MODES,
) -> str:
    """Full prompt text: chat template + the thinking-mode prefill."""
    return render_chat(tokenizer, user, system) + modes.prefix(mode)


@dataclass(frozen=True)
class ChatPrompt:
    """A prompt for chat-only servers: messages plus an assistant prefill (the thinking mode, and any
    text already generated when budget forcing continues a response). Servers that accept a final
    assistant message to continue (vLLM's `continue_final_message`) honour the prefill."""

    messages: tuple[tuple[str, str], ...]
    prefill: str = ""

    def to_messages(self) -> list[dict[str, str]]:
        msgs = [{"role": r, "content": c} for r, c in self.messages]
        if self.prefill:
            msgs.append({"role": "assistant", "content": self.prefill})
        return msgs


Prompt = str | ChatPrompt


def prompt_for(backend: Any, user: str, mode: str = "standard", system: str | None = None) -> Prompt:
    """The prompt a backend needs: text via the local tokenizer's chat template, or a ChatPrompt for
    chat endpoints (where the server applies the template)."""
    modes = getattr(backend, "modes", R1_MODES)
    if getattr(backend, "chat", False):
        messages = ((("system", system),) if system else ()) + (("user", user),)
        return ChatPrompt(messages=messages, prefill="" if mode == "standard" else modes.prefix(mode))
    return build_prompt(backend.tokenizer, user, mode, system, modes)


def continue_prompt(prompt: Prompt, text: str) -> Prompt:
    """The prompt that continues `prompt` after `text` has been written by (or forced on) the model."""
    if isinstance(prompt, ChatPrompt):
        return ChatPrompt(messages=prompt.messages, prefill=prompt.prefill + text)
    return prompt + text
