"""The one generation interface every engine implements, and every method builds on.

Two operations cover all of thinklab's methods (search-and-learn style: strategies are functions over
this interface, and budgets are counted from what it returns):

- `generate(prompts, params)`: text prompts in, `n` completions per prompt out, each with its text,
  the number of tokens generated and why it stopped (`"stop"`: end of sequence or a stop string;
  `"length"`: the token budget ran out). Prompts are full text (chat template and thinking prefill
  already applied by `thinklab.prompting`), so budget forcing can continue a partial response by
  sending prompt + partial text again, on any engine.
- `score(prompts, continuations)`: per-token log-probabilities of each continuation given its prompt
  (A*-Thought's validator costs, BIS, value baselines).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any, Protocol

from thinklab.errors import ThinklabError


class BackendError(ThinklabError):
    """An engine that cannot be loaded or reached; the message says what to check."""


@dataclass(frozen=True)
class SamplingParams:
    """Sampling settings shared by all backends. `temperature=0` means greedy."""

    temperature: float = 0.0
    top_p: float = 1.0
    top_k: int = 0
    max_tokens: int = 1024
    n: int = 1
    seed: int | None = None
    stop: tuple[str, ...] = ()

    def with_(self, **changes: Any) -> SamplingParams:
        return replace(self, **changes)

    @classmethod
    def parse(cls, spec: str, **defaults: Any) -> SamplingParams:
        """Parse the anchors' `k=v,k=v` convention, e.g. `temperature=0.6,top_p=0.95`."""
        types = {f.name: f.type for f in fields(cls)}
        values: dict[str, Any] = dict(defaults)
        for part in filter(None, (p.strip() for p in (spec or "").split(","))):
            key, sep, raw = part.partition("=")
            key = key.strip()
            if not sep or key not in types:
                raise ThinklabError(
                    f"malformed --sampling item {part!r}: expected key=value with key in {', '.join(types)}"
                )
            kind = types[key]
            try:
                if key == "stop":
                    values[key] = tuple(s for s in raw.split("|") if s)
                elif "int" in str(kind):
                    values[key] = int(raw)
                else:
                    values[key] = float(raw)
            except ValueError:
                raise ThinklabError(f"malformed --sampling value {part!r}: {raw!r} is not a number") from None
        params = cls(**values)
        if params.temperature < 0 or not 0 < params.top_p <= 1 or params.n < 1 or params.max_tokens < 1:
            raise ThinklabError(f"invalid sampling settings {params}")
        return params


@dataclass
class Completion:
    """One generated continuation. `tokens` counts generated tokens only (not the prompt)."""

    text: str
    tokens: int
    finish_reason: str  # "stop" | "length"
    stop_reason: str | None = None  # the stop string that ended it, if any
    token_ids: list[int] | None = field(default=None, repr=False)


class Backend(Protocol):
    """What an engine provides. `tokenizer` may be None for a remote chat-only server."""

    name: str
    model_id: str
    tokenizer: Any

    def generate(self, prompts: list[str], params: SamplingParams) -> list[list[Completion]]: ...

    def score(self, prompts: list[str], continuations: list[str]) -> list[list[float]]: ...

    def count_tokens(self, text: str) -> int: ...


def model_generation_config(path: str | None) -> dict[str, Any]:
    """The model folder's `generation_config.json` (empty when there is none, or for remote models).

    Read as plain JSON rather than through `GenerationConfig.from_pretrained` because only a handful of
    fields matter here and a missing file must not reach for the hub."""
    import json
    from pathlib import Path

    if not path:
        return {}
    file = Path(path) / "generation_config.json"
    try:
        data = json.loads(file.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def sampling_defaults(path: str | None) -> str:
    """The model's recommended sampling as a `--sampling` string (R1: `temperature=0.6,top_p=0.95`), used
    when the user gives none; "" (greedy) when the model's generation config does not sample. Settings
    thinklab's backends do not implement (e.g. `repetition_penalty`) are left out."""
    gen = model_generation_config(path)
    if not gen.get("do_sample") or not gen.get("temperature"):
        return ""
    parts = [f"temperature={gen['temperature']}"]
    if gen.get("top_p") not in (None, 1, 1.0):
        parts.append(f"top_p={gen['top_p']}")
    if gen.get("top_k"):
        parts.append(f"top_k={gen['top_k']}")
    return ",".join(parts)


def end_token_ids(path: str | None, tokenizer: Any) -> set[int]:
    """Every token id that ends a sequence: the tokenizer's EOS plus the generation config's list
    (Qwen3 and s1 end a turn with `<|im_end|>` and a document with `<|endoftext|>`)."""
    ids = {tokenizer.eos_token_id} if getattr(tokenizer, "eos_token_id", None) is not None else set()
    eos = model_generation_config(path).get("eos_token_id")
    ids.update(eos if isinstance(eos, list) else [eos] if isinstance(eos, int) else [])
    return ids


def thinking_token_count(token_ids: list[int], decode: Any, close: str) -> int | None:
    """Generated tokens up to and including the first `close` marker, read from the generated ids: the
    smallest k whose decoded ids[:k] hold the marker (binary search; decoding a prefix only grows).
    None when the marker is not in the ids (thinking never closed in this completion)."""
    if not token_ids or close not in decode(token_ids):
        return None
    lo, hi = 1, len(token_ids)
    while lo < hi:
        mid = (lo + hi) // 2
        if close in decode(token_ids[:mid]):
            hi = mid
        else:
            lo = mid + 1
    return lo
