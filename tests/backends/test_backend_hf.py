"""The HF backend on the shipped tiny model: batching is exact, outputs depend on the prompt,
stop strings, finish reasons, sampling seeds and scoring behave."""

import math

import pytest
import torch

from thinklab.backends import SamplingParams, load_backend
from thinklab.backends.forcing import BudgetConfig, generate_budgeted
from thinklab.prompting.modes import prompt_for
from thinklab.tasks import arith


@pytest.fixture(scope="module")
def backend():
    return load_backend("hf", "tiny", batch_size=64)


@pytest.fixture(scope="module")
def prompts(backend):
    problems = arith.generate(24, "test", 5)
    return [prompt_for(backend, p.text()) for p in problems]


def test_padded_batch_equals_one_at_a_time(backend, prompts):
    params = SamplingParams(max_tokens=160)
    batched = [row[0].text for row in backend.generate(prompts, params)]
    single = [backend.generate([p], params)[0][0].text for p in prompts]
    assert batched == single


def test_outputs_depend_on_the_prompt(backend):
    a = arith.ArithProblem(12, (("add", 5), ("mul", 2)), "expr")
    b = arith.ArithProblem(31, (("sub", 4), ("add", 7)), "words")
    outs = backend.generate(
        [prompt_for(backend, a.text()), prompt_for(backend, b.text())], SamplingParams(max_tokens=200)
    )
    ta, tb = outs[0][0].text, outs[1][0].text
    assert ta != tb
    assert "12 + 5 = 17" in ta and "31 - 4 = 27" in tb


def test_stop_strings_and_finish_reasons(backend, prompts):
    out = backend.generate(prompts[:4], SamplingParams(max_tokens=400, stop=("</think>",)))
    for row in out:
        c = row[0]
        assert c.stop_reason == "</think>" and c.finish_reason == "stop" and "</think>" not in c.text
    cut = backend.generate(prompts[:4], SamplingParams(max_tokens=10))
    assert all(r[0].finish_reason == "length" and r[0].tokens == 10 for r in cut)
    full = backend.generate(prompts[:4], SamplingParams(max_tokens=400))
    assert all(r[0].finish_reason == "stop" and r[0].text.rstrip().endswith("}") for r in full)


def test_n_samples_and_seeds(backend, prompts):
    # T 2: at T 1 the shipped model's 40-token prefixes are near-deterministic (a restatement copied
    # from the problem), so only a hot temperature shows that the n samples of a prompt differ.
    params = SamplingParams(temperature=2.0, top_p=1.0, max_tokens=40, n=4, seed=7)
    a = backend.generate(prompts[:3], params)
    b = backend.generate(prompts[:3], params)
    assert [[c.text for c in row] for row in a] == [[c.text for c in row] for row in b]
    assert all(len(row) == 4 for row in a)
    assert len({c.text for row in a for c in row}) > 3  # sampling really samples
    c = backend.generate(prompts[:3], params.with_(seed=8))
    assert [[x.text for x in row] for row in a] != [[x.text for x in row] for row in c]


def test_score_matches_greedy_choice(backend, prompts):
    out = backend.generate(prompts[:2], SamplingParams(max_tokens=30))
    scores = backend.score(prompts[:2], [row[0].text for row in out])
    for row, s in zip(out, scores, strict=True):
        assert len(s) == backend.count_tokens(row[0].text)
        assert all(x <= 0 for x in s)
        assert math.exp(sum(s) / len(s)) > 0.5  # greedy tokens are likely under the model


def test_force_answer_counts_thinking_and_answer_separately(backend):
    problems = arith.generate(8, "test", 9, levels=(7, 8))
    prompts = [prompt_for(backend, p.text()) for p in problems]
    capped = generate_budgeted(backend, prompts, SamplingParams(), 40, BudgetConfig(mode="cap"))
    forced = generate_budgeted(
        backend, prompts, SamplingParams(), 40, BudgetConfig(mode="force-answer", answer_tokens=16)
    )
    for c, f in zip(capped, forced, strict=True):
        c, f = c[0], f[0]
        assert c.tokens == 40 and c.finish_reason == "length" and "</think>" not in c.text
        # the close is forced; what the tiny model writes after an abrupt close is often more steps
        # (it never saw one in training), so only the accounting is checked here
        assert f.forced_answer and f.text.startswith(c.text) and "\n</think>\n\n" in f.text
        # thinking is what was thought, never more than the budget; the forced close is charged to the answer
        close = backend.count_tokens("\n</think>\n\n")
        assert f.thinking_tokens == 40
        assert close < f.answer_tokens <= close + 16 and f.tokens == f.thinking_tokens + f.answer_tokens


def test_wait_extension_lengthens_thinking(backend):
    problems = arith.generate(8, "test", 10, levels=(2, 3))
    prompts = [prompt_for(backend, p.text()) for p in problems]
    base = generate_budgeted(backend, prompts, SamplingParams(), 400, BudgetConfig(mode="force-answer"))
    ext = generate_budgeted(
        backend, prompts, SamplingParams(), 400, BudgetConfig(mode="force-answer", extend=2)
    )
    assert sum(r[0].thinking_tokens for r in ext) > sum(r[0].thinking_tokens for r in base)
    assert all(r[0].extensions >= 1 and "Wait" in r[0].text for r in ext)


@pytest.mark.slow  # fast tier: test_llama_steps_equal_the_models_own_forward + test_family_decode chain it
def test_loop_decoder_equals_model_generate(prompts):
    """The default decoder (preallocated cache, finished rows dropped) writes the same greedy tokens as
    `model.generate` on the same batches, stop strings included."""
    loop = load_backend("hf", "tiny", batch_size=8)
    gen = load_backend("hf", "tiny", batch_size=8, decoder="generate")
    for params in (SamplingParams(max_tokens=200), SamplingParams(max_tokens=200, stop=("</think>",))):
        a = [(c.text, c.tokens, c.finish_reason) for row in loop.generate(prompts, params) for c in row]
        b = [(c.text, c.tokens, c.finish_reason) for row in gen.generate(prompts, params) for c in row]
        assert a == b


def test_llama_steps_equal_the_models_own_forward(backend, prompts, monkeypatch):
    """The written-out Llama step (`_LlamaSteps`, the tiny model's path) and the model's own forward
    with a StaticCache (`_ModelSteps`, every other architecture's path) write the same tokens, greedy
    and seeded sampling alike; a weight changed in place rebuilds the stacked copies."""
    from thinklab.backends import hf

    params = [SamplingParams(max_tokens=120), SamplingParams(max_tokens=60, temperature=0.8, seed=3, n=2)]
    fast = [backend.generate(prompts[:12], p) for p in params]
    assert backend._llama_weights() is not None
    monkeypatch.setattr(hf._LlamaWeights, "build", staticmethod(lambda model: None))
    backend._fast = None
    generic = [backend.generate(prompts[:12], p) for p in params]
    assert fast == generic
    monkeypatch.undo()
    backend._fast = None
    before = backend._llama_weights()
    assert backend._llama_weights() is before
    with torch.no_grad():
        backend.model.model.layers[0].mlp.up_proj.weight.mul_(1.0)
    assert backend._llama_weights() is not before


def test_unknown_decoder_is_a_clear_error():
    from thinklab.backends import BackendError

    with pytest.raises(BackendError, match="unknown decoder"):
        load_backend("hf", "tiny", decoder="fast")
