"""The OpenAI backend's reading of what vLLM-style servers send and accept, on an in-process HTTP
transport (no server): generated token ids (`return_token_ids`), thinking split out by a reasoning
parser (`reasoning_content` / `reasoning`), the continuation fields of a prefilled chat prompt, and
a server that rejects the optional fields. The real-server behaviour is in
`test_backend_openai_server.py`."""

import json
import os

import httpx
import pytest

from thinklab.backends import SamplingParams, load_backend
from thinklab.backends.base import BackendError
from thinklab.backends.forcing import BudgetConfig, generate_budgeted
from thinklab.backends.openai import message_text, server_prompt
from thinklab.prompting.modes import R1, S1, ChatPrompt, prompt_for


def _backend(handler, **kw):
    backend = load_backend("openai", "tiny", base_url="http://server.test/v1", max_retries=0, **kw)
    backend.client = httpx.Client(transport=httpx.MockTransport(handler))
    return backend


def test_message_text_joins_reasoning_with_the_family_markers():
    msg = {"reasoning_content": "\nadd 2 and 2\n", "content": "\n\n4"}
    assert message_text(msg, R1) == "<think>\nadd 2 and 2\n</think>\n\n4"
    # newer vLLM names the field `reasoning`
    assert message_text({"reasoning": "x", "content": "y"}, R1) == "<think>x</think>y"
    # the prefill already opened the block (ellipsis, a "Wait" continuation): no second open marker
    assert message_text(msg, R1, prefill="<think>\n...\n") == "\nadd 2 and 2\n</think>\n\n4"
    # never closed (stopped at the close marker or the budget): no close marker is made up
    assert (
        message_text({"reasoning_content": "still thinking", "content": None}, R1) == "<think>still thinking"
    )
    assert message_text(msg, S1) == "<|im_start|>think\nadd 2 and 2\n<|im_start|>answer\n\n4"
    # no reasoning field: the content as is
    assert message_text({"content": "<think>a</think>b"}, R1) == "<think>a</think>b"


def test_server_prompt_drops_only_a_bos_the_tokenizer_would_add_again():
    class Tok:
        bos_token, bos_token_id = "<s>", 1

        def __init__(self, adds: bool) -> None:
            self.adds = adds

        def __call__(self, text):
            return {"input_ids": ([1] if self.adds else []) + [5]}

    assert server_prompt("<s>hello", Tok(adds=True)) == "hello"
    assert server_prompt("<s>hello", Tok(adds=False)) == "<s>hello"
    assert server_prompt("hello", Tok(adds=True)) == "hello"


def test_token_ids_from_the_server_are_returned_and_count_thinking():
    """vLLM's `return_token_ids`: the generated ids come back on the Completion, and the thinking
    tokens are counted from them (the close marker's position in the ids), not by re-tokenizing."""
    bodies = []
    backend = _backend(lambda r: None)
    tok = backend.tokenizer
    ids = tok("<think>\nlet me see</think>\n\n4", add_special_tokens=False)["input_ids"]
    text = tok.decode(ids, skip_special_tokens=False)

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        choice = {"text": text, "token_ids": ids, "finish_reason": "stop", "stop_reason": None}
        return httpx.Response(200, json={"choices": [choice], "usage": {"completion_tokens": len(ids)}})

    backend.client = httpx.Client(transport=httpx.MockTransport(handler))
    prompt = prompt_for(backend, "2+2?", mode="no-think")
    out = backend.generate([prompt], SamplingParams(max_tokens=50))
    assert out[0][0].token_ids == ids and out[0][0].tokens == len(ids)
    assert bodies[0]["return_token_ids"] is True
    close_at = ids.index(tok.convert_tokens_to_ids("</think>")) + 1
    budgeted = generate_budgeted(backend, [prompt], SamplingParams(), 50, BudgetConfig())
    assert budgeted[0][0].thinking_tokens == close_at


def test_a_server_that_rejects_optional_fields_is_asked_again_without_them():
    bodies = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        bodies.append(body)
        if "return_token_ids" in body:  # `transformers serve`'s answer to fields it does not know
            return httpx.Response(
                422, json={"detail": "Unexpected fields in the request: {'return_token_ids'}"}
            )
        choice = {"text": "4", "finish_reason": "stop"}
        return httpx.Response(200, json={"choices": [choice], "usage": {"completion_tokens": 2}})

    backend = _backend(handler, concurrency=1)
    out = backend.generate(["<|user|>\n2+2?\n<|assistant|>\n<think>\n"] * 2, SamplingParams(max_tokens=8))
    assert [c[0].text for c in out] == ["4", "4"] and out[0][0].token_ids is None
    assert out[0][0].tokens == 2  # the server's usage
    assert ["return_token_ids" in b for b in bodies] == [True, False, False]  # asked once, then never


def test_chat_prefill_and_template_args_use_the_continuation_convention():
    bodies = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        message = {"role": "assistant", "content": "\n\n4", "reasoning_content": "\nshort\n"}
        choice = {"message": message, "finish_reason": "stop", "token_ids": [1, 2, 3]}
        return httpx.Response(200, json={"choices": [choice], "usage": {"completion_tokens": 3}})

    backend = _backend(handler, endpoint="chat")
    prompt = ChatPrompt(
        messages=(("user", "2+2?"),), prefill="<think>\n...\n", template_args=(("enable_thinking", True),)
    )
    out = backend.generate([prompt], SamplingParams(max_tokens=8))
    body = bodies[0]
    assert body["messages"][-1] == {"role": "assistant", "content": "<think>\n...\n"}
    assert body["continue_final_message"] is True and body["add_generation_prompt"] is False
    assert body["chat_template_kwargs"] == {"enable_thinking": True}
    assert out[0][0].text == "\nshort\n</think>\n\n4" and out[0][0].token_ids == [1, 2, 3]
    # without a prefill the server opens the assistant turn itself: no continuation fields
    backend.generate([ChatPrompt(messages=(("user", "2+2?"),))], SamplingParams(max_tokens=8))
    assert "continue_final_message" not in bodies[1] and "chat_template_kwargs" not in bodies[1]


@pytest.mark.parametrize("status", [400, 422])
def test_chat_prefill_refused_names_the_completions_endpoint(status):
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json={"detail": "Unexpected fields: {'continue_final_message'}"})

    backend = _backend(handler, endpoint="chat")
    prompt = ChatPrompt(messages=(("user", "2+2?"),), prefill="<think>\n</think>\n\n")
    with pytest.raises(Exception, match="endpoint=completions") as err:
        backend.generate([prompt], SamplingParams(max_tokens=8))
    assert "\n" not in str(err.value)


def _shared_model(name: str) -> str:
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = os.environ.get("THINKLAB_SHARED_DIR")
    path = (Path(env) if env else root.parent / "shared") / "models" / name
    if not path.is_dir():
        pytest.skip(f"model fixtures not found at {path} (set THINKLAB_SHARED_DIR to the shared/ folder)")
    return str(path)


@pytest.mark.parametrize(
    ("family", "mode", "refused"),
    [
        ("r1-distill-qwen-1.5b", "no-think", True),  # R1's template drops everything up to </think>
        ("qwen3-hybrid", "ellipsis", True),  # Qwen3's puts an empty think block before the prefill
        ("r1-distill-qwen-1.5b", "ellipsis", False),
        ("s1.1-qwen2.5-instruct", "no-think", False),
        ("qwen3-hybrid", "no-think", False),  # enable_thinking=False: no prefill to continue
    ],
)
def test_chat_prefill_the_template_would_rewrite_stops_before_any_request(family, mode, refused):
    bodies = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        choice = {"message": {"role": "assistant", "content": "4"}, "finish_reason": "stop"}
        return httpx.Response(200, json={"choices": [choice], "usage": {"completion_tokens": 1}})

    path = _shared_model(family)
    backend = load_backend("openai", path, base_url="http://server.test/v1", endpoint="chat", max_retries=0)
    backend.client = httpx.Client(transport=httpx.MockTransport(handler))
    prompt = prompt_for(backend, "What is 2+2?", mode=mode)
    if refused:
        with pytest.raises(BackendError, match="endpoint=completions") as err:
            backend.generate([prompt], SamplingParams(max_tokens=4))
        assert "\n" not in str(err.value) and bodies == []
    else:
        out = backend.generate([prompt], SamplingParams(max_tokens=4))
        assert out[0][0].text == "4" and len(bodies) == 1


def test_reasoning_parser_output_is_counted_as_thinking():
    """A server with a reasoning parser returns the thinking apart from the answer; joined back, the
    budget accounting sees thinking and answer (ignoring it counted the answer alone as thinking)."""
    reasoning, content = "\nsix times seven is forty-two\n", "\n\n\\boxed{42}"

    def handler(request: httpx.Request) -> httpx.Response:
        message = {"role": "assistant", "content": content, "reasoning_content": reasoning}
        choice = {"message": message, "finish_reason": "stop"}
        return httpx.Response(200, json={"choices": [choice], "usage": {"completion_tokens": 30}})

    backend = _backend(handler, endpoint="chat")
    prompt = prompt_for(backend, "What is 6*7?")
    out = generate_budgeted(backend, [prompt], SamplingParams(), 64, BudgetConfig())
    r = out[0][0]
    assert r.text == "<think>" + reasoning + "</think>" + content
    thinking = backend.count_tokens("<think>" + reasoning + "</think>")
    assert r.thinking_tokens == thinking and r.answer_tokens == 30 - thinking
