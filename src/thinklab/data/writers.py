"""Training-data formats that methods hand to trainers and to each other, and readers back from them.

- SFT: `messages` (TRL / chat templates), `sharegpt` (LLaMA-Factory, A*-Thought's output), `alpaca`
  (Axolotl, QT-R1's STaR data).
- DPO: TRL's preference rows `{prompt, chosen, rejected}`, as plain strings or as message lists.

Readers accept every shape the writers produce (plus `{problem|question|prompt, response}` rows), so a
method can read the output of another without knowing which format it chose.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from thinklab.data.jsonl import read_jsonl, write_jsonl
from thinklab.errors import DataError

SftFormat = Literal["messages", "sharegpt", "alpaca"]
SFT_FORMATS: tuple[str, ...] = ("messages", "sharegpt", "alpaca")

_USER_ROLES = {"user", "human"}
_ASSISTANT_ROLES = {"assistant", "gpt"}


@dataclass(frozen=True)
class Example:
    """One SFT example: the problem (user turn) and the full response (assistant turn).

    `instruction` is alpaca's fixed task instruction when the problem sits in `input` (QT-R1 style); chat
    formats have no field for it, so they prepend it to the user turn (one way: it does not round-trip).
    """

    problem: str
    response: str
    system: str | None = None
    instruction: str | None = None

    @property
    def user_content(self) -> str:
        return f"{self.instruction}\n\n{self.problem}" if self.instruction else self.problem


@dataclass(frozen=True)
class Pair:
    """One preference pair: the same prompt answered well (`chosen`) and worse (`rejected`)."""

    prompt: str
    chosen: str
    rejected: str
    system: str | None = None


# --- writers -------------------------------------------------------------------------------------


def _prompt_messages(user: str, system: str | None) -> list[dict[str, str]]:
    head = [{"role": "system", "content": system}] if system is not None else []
    return [*head, {"role": "user", "content": user}]


def to_messages(ex: Example) -> dict[str, Any]:
    """`{"messages": [system?, user, assistant]}`: what TRL's SFTTrainer and chat templates take."""
    return {"messages": [*_prompt_messages(ex.user_content, ex.system), _assistant(ex.response)]}


def to_sharegpt(ex: Example) -> dict[str, Any]:
    """`{"system"?, "conversations": [{from: user}, {from: assistant}]}`: LLaMA-Factory's sharegpt."""
    row: dict[str, Any] = {} if ex.system is None else {"system": ex.system}
    row["conversations"] = [
        {"from": "user", "value": ex.user_content},
        {"from": "assistant", "value": ex.response},
    ]
    return row


def to_alpaca(ex: Example) -> dict[str, Any]:
    """`{"instruction", "input", "output"}`; without an instruction the problem is the instruction."""
    if ex.instruction:
        row: dict[str, Any] = {"instruction": ex.instruction, "input": ex.problem, "output": ex.response}
    else:
        row = {"instruction": ex.problem, "input": "", "output": ex.response}
    if ex.system is not None:
        row["system"] = ex.system
    return row


_SFT_WRITERS = {"messages": to_messages, "sharegpt": to_sharegpt, "alpaca": to_alpaca}


def to_dpo(pair: Pair, *, conversational: bool = False) -> dict[str, Any]:
    """TRL's explicit-prompt preference row; `conversational=True` uses message lists.

    Plain strings have no place for a system prompt, so a pair with one must be written conversational.
    """
    if not conversational:
        if pair.system is not None:
            raise ValueError("a DPO pair with a system prompt needs conversational=True")
        return {"prompt": pair.prompt, "chosen": pair.chosen, "rejected": pair.rejected}
    return {
        "prompt": _prompt_messages(pair.prompt, pair.system),
        "chosen": [_assistant(pair.chosen)],
        "rejected": [_assistant(pair.rejected)],
    }


def _assistant(text: str) -> dict[str, str]:
    return {"role": "assistant", "content": text}


def write_examples(path: str | os.PathLike[str], examples: Iterable[Example], fmt: str = "messages") -> int:
    """Write SFT examples atomically in `fmt` (messages, sharegpt or alpaca); returns the row count."""
    if fmt not in _SFT_WRITERS:
        raise ValueError(f"unknown SFT format {fmt!r}; expected one of {', '.join(SFT_FORMATS)}")
    return write_jsonl(path, (_SFT_WRITERS[fmt](ex) for ex in examples))


def write_pairs(path: str | os.PathLike[str], pairs: Iterable[Pair], *, conversational: bool = False) -> int:
    """Write DPO pairs atomically in TRL's format; returns the row count."""
    return write_jsonl(path, (to_dpo(p, conversational=conversational) for p in pairs))


# --- readers -------------------------------------------------------------------------------------


def _text(content: Any) -> str:
    """Message content as text: a string, or OpenAI-style parts `[{"type": "text", "text": ...}]`."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    raise ValueError(f"message content must be a string, got {type(content).__name__}")


def _turn(message: Any) -> tuple[str, str]:
    """(role, text) of a message in either convention: {role, content} or sharegpt's {from, value}."""
    if not isinstance(message, dict):
        raise ValueError(f"a message must be an object, got {type(message).__name__}")
    role = message.get("role", message.get("from"))
    content = message.get("content", message.get("value"))
    if role is None or content is None:
        raise ValueError("a message needs role/content (or from/value)")
    return str(role).lower(), _text(content)


def split_chat(messages: Any, system: str | None = None) -> tuple[str | None, str, str | None]:
    """(system, last user turn, last assistant turn after it) of a chat; earlier turns are dropped.

    Reasoning data is single-turn; for a multi-turn chat the final exchange is the one being trained on.
    The assistant is None when the chat ends on a user turn (a prompt).
    """
    if not isinstance(messages, list) or not messages:
        raise ValueError("expected a non-empty list of messages")
    turns = [_turn(m) for m in messages]
    for role, text in turns:
        if role == "system":
            system = text
    assistant = None
    if turns[-1][0] in _ASSISTANT_ROLES:
        assistant = turns[-1][1]
        turns = turns[:-1]
    users = [text for role, text in turns if role in _USER_ROLES]
    if not users:
        raise ValueError("the conversation has no user message")
    return system, users[-1], assistant


def example_from_row(row: dict[str, Any]) -> Example:
    """Read one SFT row in any supported shape: messages, sharegpt, alpaca or {problem, response}."""
    if "messages" in row or "conversations" in row:
        chat = row.get("messages", row.get("conversations"))
        system, user, assistant = split_chat(chat, row.get("system"))
        if assistant is None:
            raise ValueError("the conversation does not end with an assistant message")
        return Example(user, assistant, system)
    if "instruction" in row and "output" in row:
        inp = str(row.get("input") or "")
        instruction = str(row["instruction"])
        if inp:
            return Example(inp, str(row["output"]), row.get("system"), instruction)
        return Example(instruction, str(row["output"]), row.get("system"))
    problem = next((row[k] for k in ("problem", "question", "prompt") if row.get(k) is not None), None)
    if problem is not None and "response" in row:
        return Example(str(problem), str(row["response"]), row.get("system"))
    raise ValueError(
        "unrecognised row: expected messages, conversations, instruction/output, "
        f"or problem/question/prompt + response; got keys {sorted(row)}"
    )


def _reply(value: Any) -> tuple[str | None, str | None, str]:
    """A chosen/rejected value: a string, one message, or a full chat (implicit prompt)."""
    if isinstance(value, str):
        return None, None, value
    if isinstance(value, dict):
        value = [value]
    if isinstance(value, list) and len(value) == 1:
        role, text = _turn(value[0])
        if role not in _ASSISTANT_ROLES:
            raise ValueError(f"a chosen/rejected message must be from the assistant, not {role!r}")
        return None, None, text
    system, user, assistant = split_chat(value)
    if assistant is None:
        raise ValueError("a chosen/rejected conversation must end with an assistant message")
    return system, user, assistant


def pair_from_row(row: dict[str, Any]) -> Pair:
    """Read one DPO row: explicit prompt (string or messages) or TRL's implicit prompt (full chats)."""
    if "chosen" not in row or "rejected" not in row:
        raise ValueError(f"a DPO row needs chosen and rejected; got keys {sorted(row)}")
    c_system, c_user, chosen = _reply(row["chosen"])
    _, _, rejected = _reply(row["rejected"])
    prompt, system = row.get("prompt"), row.get("system")
    if prompt is None and "conversations" in row:  # LLaMA-Factory's sharegpt preference rows
        prompt = row["conversations"]
    if isinstance(prompt, list):
        system, prompt, _ = split_chat(prompt, system)
    if prompt is None:
        if c_user is None:
            raise ValueError("a DPO row needs a prompt (or chosen/rejected as full conversations)")
        prompt, system = c_user, c_system
    return Pair(str(prompt), chosen, rejected, system)


def _read_rows(path: str | os.PathLike[str], convert: Any) -> list[Any]:
    rows = read_jsonl(path)
    out = []
    for row, lineno in zip(rows, rows.line_numbers, strict=True):
        try:
            out.append(convert(row))
        except (ValueError, TypeError, KeyError) as exc:
            raise DataError(f"{rows.path}:{lineno}: {exc}") from None
    return out


def read_examples(path: str | os.PathLike[str]) -> list[Example]:
    """Read SFT examples from any supported format (format detected per row)."""
    return _read_rows(Path(path), example_from_row)


def read_pairs(path: str | os.PathLike[str]) -> list[Pair]:
    """Read DPO pairs written by `write_pairs` (either variant) or TRL/LLaMA-Factory datasets."""
    return _read_rows(Path(path), pair_from_row)
