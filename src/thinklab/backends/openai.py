"""An OpenAI-compatible HTTP backend (vLLM `serve`, SGLang, `transformers serve`, hosted APIs).

- `endpoint="completions"` sends the full prompt text (chat template and thinking prefill applied
  locally with the model's tokenizer), so prompt modes and budget forcing behave exactly as on the
  HF backend. This is the default whenever a tokenizer can be loaded.
- `endpoint="chat"` sends messages and lets the server apply its template; a non-standard thinking
  mode is sent as a final assistant message with `continue_final_message` (vLLM honours it).

Requests run concurrently on a thread pool, one request per sample (servers differ in `n` support),
with retries and exponential back-off on connection errors, 429 and 5xx. Token counts come from the
server's `usage`; a server that reports none is counted with the local tokenizer, or refused.
"""

from __future__ import annotations

import os
import random
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from thinklab.backends.base import BackendError, Completion, SamplingParams
from thinklab.prompting.modes import ChatPrompt, modes_for

RETRY_STATUS = {408, 409, 429, 500, 502, 503, 504}


class OpenAIBackend:
    name = "openai"

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        endpoint: str = "completions",
        served_model: str | None = None,
        tokenizer: str | None = None,
        concurrency: int = 8,
        max_retries: int = 4,
        timeout: float = 300.0,
        backoff: float = 0.5,
        trust_remote_code: bool = False,
    ) -> None:
        import httpx

        from thinklab.tiny.model import resolve_model_path

        if endpoint not in ("completions", "chat"):
            raise BackendError(f"unknown endpoint {endpoint!r}; use completions or chat")
        self.model_id = model
        self.base_url = (base_url or os.environ.get("OPENAI_BASE_URL") or "http://127.0.0.1:8000/v1").rstrip(
            "/"
        )
        self.served_model = served_model or resolve_model_path(model)
        self.chat = endpoint == "chat"
        self.concurrency = concurrency
        self.max_retries = max_retries
        self.backoff = backoff
        key = api_key or os.environ.get("OPENAI_API_KEY") or "EMPTY"
        self.client = httpx.Client(timeout=timeout, headers={"Authorization": f"Bearer {key}"})
        self.tokenizer = None
        tok_path = tokenizer or resolve_model_path(model)
        try:
            from transformers import AutoTokenizer

            self.tokenizer = AutoTokenizer.from_pretrained(tok_path, trust_remote_code=trust_remote_code)
        except Exception as exc:  # noqa: BLE001 - any failure means "no local tokenizer"
            if not self.chat:
                raise BackendError(
                    f"the completions endpoint needs the model's tokenizer locally to build prompts; "
                    f"could not load {tok_path!r} ({str(exc).splitlines()[0]}). Pass tokenizer=PATH or endpoint=chat"
                ) from None
        self.modes = modes_for(tok_path)
        self.num_parameters = None

    # ------------------------------------------------------------------ HTTP
    def _post(self, path: str, body: dict) -> dict:
        import httpx

        url = f"{self.base_url}/{path}"
        last = ""
        for attempt in range(self.max_retries + 1):
            try:
                resp = self.client.post(url, json=body)
                if resp.status_code < 400:
                    return resp.json()
                last = f"HTTP {resp.status_code}: {resp.text[:200]}"
                if resp.status_code not in RETRY_STATUS:
                    raise BackendError(f"server at {self.base_url} refused the request: {last}")
            except httpx.TransportError as exc:
                last = f"{type(exc).__name__}: {exc}"
            if attempt < self.max_retries:
                time.sleep(self.backoff * 2**attempt * (1 + random.random() / 4))
        raise BackendError(
            f"cannot reach the server at {self.base_url} after {self.max_retries + 1} tries ({last})"
        )

    def _one(self, prompt: str | ChatPrompt, params: SamplingParams, sample: int) -> Completion:
        body: dict[str, Any] = {
            "model": self.served_model,
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
        }
        if params.seed is not None:
            body["seed"] = params.seed + sample
        if params.stop:
            body["stop"] = list(params.stop)
        if params.top_k:
            body["top_k"] = params.top_k
        if isinstance(prompt, ChatPrompt) or self.chat:
            if not isinstance(prompt, ChatPrompt):
                raise BackendError("the chat endpoint needs chat prompts (messages), not text")
            body["messages"] = prompt.to_messages()
            if prompt.prefill:
                body.update(add_generation_prompt=False, continue_final_message=True)
            data = self._post("chat/completions", body)
            choice = data["choices"][0]
            text = (choice.get("message") or {}).get("content") or ""
        else:
            body["prompt"] = prompt
            data = self._post("completions", body)
            choice = data["choices"][0]
            text = choice.get("text") or ""
        usage = data.get("usage") or {}
        tokens = usage.get("completion_tokens")
        if tokens is None:
            if self.tokenizer is None:
                raise BackendError("the server reported no token usage and no local tokenizer can count them")
            tokens = self.count_tokens(text)
        finish = choice.get("finish_reason") or "stop"
        stop_reason = choice.get("stop_reason")
        if not isinstance(stop_reason, str):
            # Servers that do not say which stop string fired: if the text stopped early and a stop
            # string was asked for, attribute it to the first stop string (documented limitation).
            stop_reason = (
                params.stop[0]
                if finish == "stop" and params.stop and tokens < params.max_tokens and len(params.stop) == 1
                else None
            )
        return Completion(
            text=text,
            tokens=int(tokens),
            finish_reason="length" if finish == "length" else "stop",
            stop_reason=stop_reason,
        )

    # ------------------------------------------------------------------ interface
    def generate(self, prompts: list, params: SamplingParams) -> list[list[Completion]]:
        jobs = [(i, j) for i in range(len(prompts)) for j in range(params.n)]
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            done = list(pool.map(lambda ij: self._one(prompts[ij[0]], params, ij[1]), jobs))
        out: list[list[Completion]] = [[] for _ in prompts]
        for (i, _), c in zip(jobs, done, strict=True):
            out[i].append(c)
        return out

    def score(self, prompts: list[str], continuations: list[str]) -> list[list[float]]:
        """Per-token log-probs via `echo` + `logprobs` on the completions endpoint (vLLM supports it)."""
        out = []
        for p, c in zip(prompts, continuations, strict=True):
            data = self._post(
                "completions",
                {
                    "model": self.served_model,
                    "prompt": p + c,
                    "max_tokens": 1,
                    "echo": True,
                    "logprobs": 0,
                    "temperature": 0,
                },
            )
            lp = data["choices"][0].get("logprobs") or {}
            offsets, values = lp.get("text_offset") or [], lp.get("token_logprobs") or []
            if not values:
                raise BackendError(
                    f"the server at {self.base_url} does not return prompt log-probs (echo+logprobs)"
                )
            out.append(
                [v for o, v in zip(offsets, values, strict=False) if o >= len(p) and v is not None][
                    : self.count_tokens(c)
                ]
            )
        return out

    def count_tokens(self, text: str) -> int:
        if self.tokenizer is None:
            raise BackendError("token counting needs a local tokenizer (pass tokenizer=PATH)")
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])
