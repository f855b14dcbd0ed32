"""Issue 25 items 1-2: a prompt that does not fit the model's context is reported, never generated.

Before, an oversized prompt went into a batch whose KV cache is sized for its longest prompt (a 50 MB
problem line asked for ~100 GB), and a prompt longer than the context got one token, finish reason
`length`, and was scored like an answer."""

from __future__ import annotations

import pytest

from thinklab.backends import SamplingParams, load_backend
from thinklab.backends.forcing import PROMPT_TOO_LONG, BudgetConfig, generate_budgeted
from thinklab.prompting.modes import prompt_for


@pytest.fixture(scope="module")
def backend():
    return load_backend("hf", "tiny", batch_size=8)


def _prompt_of(backend, tokens: int) -> str:
    """A chat prompt of at least `tokens` tokens (the tiny tokenizer writes one token per digit)."""
    return prompt_for(backend, "Compute 3 + 4 from left to right. " + "7" * tokens)


def test_a_prompt_longer_than_the_context_is_never_batched(backend, monkeypatch):
    assert backend.context_length == 1024
    short, huge = _prompt_of(backend, 0), _prompt_of(backend, 3000)
    assert backend.prompt_tokens(huge) > 3000
    widths: list[int] = []
    decode = backend._decode

    def spy(ids, *args):
        widths.append(max(len(x) for x in ids))
        return decode(ids, *args)

    monkeypatch.setattr(backend, "_decode", spy)
    params = SamplingParams(max_tokens=32, n=2)
    out = backend.generate([huge, short, huge], params)
    assert [c.finish_reason for c in out[0] + out[2]] == [PROMPT_TOO_LONG] * 4
    assert all(c.text == "" and c.tokens == 0 for c in out[0] + out[2])
    assert max(widths) < 100  # only the short prompt reached the decoder: nothing sized by the huge one
    assert [c.text for c in out[1]] == [c.text for c in backend.generate([short], params)[0]]


@pytest.mark.parametrize("mode", ["cap", "force-answer"])
def test_a_budget_that_does_not_fit_beside_the_prompt_is_reported(backend, mode):
    """context - budget < prompt < context: the budget cannot be honoured, so nothing is generated."""
    short, near = _prompt_of(backend, 0), _prompt_of(backend, 960)
    assert backend.prompt_tokens(near) < backend.context_length < backend.prompt_tokens(near) + 128
    cfg = BudgetConfig(mode=mode, answer_tokens=16)
    out = generate_budgeted(backend, [near, short], SamplingParams(n=2), 128, cfg)
    assert [r.finish_reason for r in out[0]] == [PROMPT_TOO_LONG] * 2
    assert out[0][0].tokens == 0 and out[0][0].text == ""
    assert all(r.finish_reason != PROMPT_TOO_LONG and r.tokens > 0 for r in out[1])
    # with a budget that leaves room the same prompt is generated
    (fits,) = generate_budgeted(backend, [near], SamplingParams(), 16, BudgetConfig())
    assert fits[0].finish_reason != PROMPT_TOO_LONG
