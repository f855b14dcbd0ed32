"""An OpenAI-compatible HTTP backend (vLLM `serve`, SGLang, `transformers serve`, hosted APIs).

- `endpoint="completions"` sends the full prompt text (chat template and thinking prefill applied
  locally with the model's tokenizer), so prompt modes and budget forcing behave exactly as on the
  HF backend. This is the default whenever a tokenizer can be loaded. Servers tokenize a text prompt
  with special tokens added (vLLM's and `transformers serve`'s default), so a rendered prompt that
  already starts with the template's BOS is sent without it when the tokenizer adds BOS itself:
  the server then sees exactly the token ids the HF backend encodes (no doubled BOS).
- `endpoint="chat"` sends messages and lets the server apply its template. A prefill (no-think,
  ellipsis, a forced close, "Wait") is sent as a final assistant message with
  `continue_final_message: true, add_generation_prompt: false` (vLLM's convention); a server that
  refuses it (`transformers serve` does), or a chat template that would rewrite the prefill (R1's
  drops a closed think block, Qwen3's adds an empty one; checked locally with the same template),
  stops the run with a one-line error naming `endpoint=completions`. The format's chat-template
  variables (Qwen3's `enable_thinking`) go as `chat_template_kwargs`. A server started with a reasoning parser returns the thinking apart
  (`reasoning_content`, or `reasoning` in newer vLLM); it is joined back into one text with the
  family's markers, so thinking detection and token accounting see what the model wrote.

Requests run concurrently on a thread pool, one request per sample (servers differ in `n` support),
with retries and exponential back-off on connection errors, 429 and 5xx. Token accounting: the
generated token ids when the server returns them (vLLM >= 0.10.2 with `return_token_ids`, asked for
on every request and dropped for good once a server refuses the field), else the server's `usage`
for totals; a server that reports neither is counted with the local tokenizer, or refused.
"""

from __future__ import annotations

import os
import random
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from thinklab.backends.base import BackendError, Completion, SamplingParams
from thinklab.prompting.modes import ChatPrompt, ThinkingFormat, format_for

RETRY_STATUS = {408, 409, 429, 500, 502, 503, 504}
# Fields only some servers know (vLLM's); a server that rejects them gets requests without them.
OPTIONAL_FIELDS = ("return_token_ids",)


class ServerRefused(BackendError):
    """A request the server answered with a 4xx that retrying cannot fix (kept apart so callers can
    tell "this server does not take that field" from a network failure)."""

    def __init__(self, message: str, status: int, detail: str) -> None:
        super().__init__(message)
        self.status = status
        self.detail = detail


def adds_bos(tokenizer: Any) -> bool:
    """Whether tokenizing plain text adds the BOS token by itself (Llama-style post-processors; R1's
    tokenizer under Transformers 4.x), as the server's tokenizer does for a text prompt."""
    bos_id = getattr(tokenizer, "bos_token_id", None)
    if tokenizer is None or bos_id is None:
        return False
    return tokenizer("a")["input_ids"][:1] == [bos_id]


def server_prompt(text: str, tokenizer: Any) -> str:
    """The prompt text to send so that the server's tokenization (special tokens added) gives the ids
    thinklab means: a leading BOS that the template wrote is dropped when the tokenizer adds its own."""
    bos = getattr(tokenizer, "bos_token", None)
    if bos and text.startswith(bos) and adds_bos(tokenizer):
        return text[len(bos) :]
    return text


def message_text(message: dict[str, Any], fmt: ThinkingFormat, prefill: str = "") -> str:
    """The response text of a chat message, with thinking that a reasoning parser split out joined back:
    open marker (unless the prefill already opened the block) + reasoning + close marker (when the
    parser found the end of thinking, i.e. an answer follows) + content. Without a reasoning field the
    content is returned as is."""
    content = message.get("content") or ""
    reasoning = message.get("reasoning_content")
    if reasoning is None:
        reasoning = message.get("reasoning")
    if not reasoning:
        return content
    opened = prefill.rfind(fmt.open) > prefill.rfind(fmt.close)
    head = "" if opened or reasoning.lstrip().startswith(fmt.open) else fmt.open
    return head + reasoning + (fmt.close + content if content else "")


def continuation_problem(tokenizer: Any, prompt: ChatPrompt) -> str | None:
    """Why the server's chat template would not continue `prompt`'s prefill verbatim, or None when it
    would (or cannot be checked: no local tokenizer or template). The server renders the final
    assistant message through the model's template, and thinking templates rewrite it: R1's drops
    everything up to `</think>` (the no-think block vanishes, Transformers then refuses the request),
    Qwen3's puts an empty think block before an unclosed one. Checked locally with the same template,
    so the run stops before any request instead of sampling from a prompt thinklab did not build."""
    if tokenizer is None or not getattr(tokenizer, "chat_template", None) or not prompt.prefill:
        return None
    args = dict(prompt.template_args)
    messages = [{"role": r, "content": c} for r, c in prompt.messages]
    try:
        opened = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True, **args)
        got = tokenizer.apply_chat_template(
            [*messages, {"role": "assistant", "content": prompt.prefill}],
            tokenize=False,
            add_generation_prompt=False,
            continue_final_message=True,
            **args,
        )
    except Exception as exc:  # noqa: BLE001 - the template's own refusal is the answer
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    overlap = next((k for k in range(len(prompt.prefill), 0, -1) if opened.endswith(prompt.prefill[:k])), 0)
    want = opened + prompt.prefill[overlap:]
    if got != want:
        return f"the template renders it as {got[len(opened) - overlap :][:60]!r}"
    return None


def choice_token_ids(choice: dict[str, Any]) -> list[int] | None:
    """Generated token ids of a choice when the server sent them (vLLM's `return_token_ids`)."""
    ids = choice.get("token_ids")
    if isinstance(ids, list) and all(isinstance(t, int) for t in ids):
        return ids
    return None


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
        thinking_format: str | None = None,
    ) -> None:
        import httpx

        from thinklab.models import TINY_ALIASES, resolve_model_path

        def local(name: str) -> str:
            # The weights live on the server: a local folder may hold only the tokenizer and template,
            # so only the `tiny` alias is resolved (resolving a path would demand weights in it).
            return resolve_model_path(name) if name in TINY_ALIASES else name

        if endpoint not in ("completions", "chat"):
            raise BackendError(f"unknown endpoint {endpoint!r}; use completions or chat")
        self.model_id = model
        self.base_url = (base_url or os.environ.get("OPENAI_BASE_URL") or "http://127.0.0.1:8000/v1").rstrip(
            "/"
        )
        self.served_model = served_model or local(model)
        self.chat = endpoint == "chat"
        self.concurrency = concurrency
        self.max_retries = max_retries
        self.backoff = backoff
        key = api_key or os.environ.get("OPENAI_API_KEY") or "EMPTY"
        self.client = httpx.Client(timeout=timeout, headers={"Authorization": f"Bearer {key}"})
        self.tokenizer = None
        tok_path = local(tokenizer or model)
        try:
            from transformers import AutoTokenizer

            self.tokenizer = AutoTokenizer.from_pretrained(tok_path, trust_remote_code=trust_remote_code)
        except Exception as exc:  # noqa: BLE001 - any failure means "no local tokenizer"
            if not self.chat:
                raise BackendError(
                    f"the completions endpoint needs the model's tokenizer locally to build prompts; "
                    f"could not load {tok_path!r} ({str(exc).splitlines()[0]}). Pass tokenizer=PATH or endpoint=chat"
                ) from None
        self.thinking = format_for(tok_path, self.tokenizer, thinking_format)
        self.num_parameters = None
        self.optional_fields = True  # cleared once the server rejects OPTIONAL_FIELDS

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
                    raise ServerRefused(
                        f"server at {self.base_url} refused the request: {last}", resp.status_code, resp.text
                    )
            except httpx.TransportError as exc:
                last = f"{type(exc).__name__}: {exc}"
            if attempt < self.max_retries:
                time.sleep(self.backoff * 2**attempt * (1 + random.random() / 4))
        raise BackendError(
            f"cannot reach the server at {self.base_url} after {self.max_retries + 1} tries ({last})"
        )

    def _post_optional(self, path: str, body: dict) -> dict:
        """`_post` with the optional fields while the server takes them; a server that rejects one of
        them by name is asked again without them, and never sent them again."""
        if self.optional_fields:
            try:
                return self._post(path, {**body, **dict.fromkeys(OPTIONAL_FIELDS, True)})
            except ServerRefused as exc:
                if exc.status not in (400, 422) or not any(f in exc.detail for f in OPTIONAL_FIELDS):
                    raise
                self.optional_fields = False
        return self._post(path, body)

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
            if prompt.template_args:
                body["chat_template_kwargs"] = dict(prompt.template_args)
            if prompt.prefill:
                problem = continuation_problem(self.tokenizer, prompt)
                if problem:
                    raise BackendError(
                        f"the chat template of {self.model_id} does not continue the assistant prefill "
                        f"{prompt.prefill[:40]!r} as written ({problem}); use --backend-args endpoint=completions"
                    )
                body.update(add_generation_prompt=False, continue_final_message=True)
            try:
                data = self._post_optional("chat/completions", body)
            except ServerRefused as exc:
                if not prompt.prefill or exc.status not in (400, 422):
                    raise
                said = " ".join(exc.detail.split())[:160]  # one line, whatever the server wrote
                raise BackendError(
                    f"the server at {self.base_url} refused to continue an assistant message "
                    f"(continue_final_message), which this prompt's prefill {prompt.prefill[:40]!r} needs "
                    f"(HTTP {exc.status}: {said}); use --backend-args endpoint=completions"
                ) from None
            choice = data["choices"][0]
            text = message_text(choice.get("message") or {}, self.thinking, prompt.prefill)
        else:
            body["prompt"] = server_prompt(prompt, self.tokenizer)
            data = self._post_optional("completions", body)
            choice = data["choices"][0]
            text = choice.get("text") or ""
        token_ids = choice_token_ids(choice)
        usage = data.get("usage") or {}
        tokens = usage.get("completion_tokens")
        if tokens is None:
            if token_ids is not None:
                tokens = len(token_ids)
            elif self.tokenizer is None:
                raise BackendError("the server reported no token usage and no local tokenizer can count them")
            else:
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
            token_ids=token_ids,
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
            sent = server_prompt(p + c, self.tokenizer)
            start = len(p) - (len(p + c) - len(sent))  # where the continuation starts in what was sent
            data = self._post(
                "completions",
                {
                    "model": self.served_model,
                    "prompt": sent,
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
                [v for o, v in zip(offsets, values, strict=False) if o >= start and v is not None][
                    : self.count_tokens(c)
                ]
            )
        return out

    def count_tokens(self, text: str) -> int:
        if self.tokenizer is None:
            raise BackendError("token counting needs a local tokenizer (pass tokenizer=PATH)")
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])
