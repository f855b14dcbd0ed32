"""The HF backend's own decode loop against `model.generate` on the real families' architectures
(Qwen2 for R1-Distill and s1, Qwen3), not only the tiny Llama: same greedy tokens, same stop rules."""

from __future__ import annotations

import pytest

from thinklab.backends import SamplingParams, load_backend
from thinklab.prompting.modes import prompt_for

USERS = ["What is 1+1?", "Name a prime number larger than ten, please."]


@pytest.mark.parametrize("family", ["r1", "qwen3", "s1"])
def test_loop_decoder_matches_generate(family, family_model):
    import torch

    model = str(family_model(family))
    loop = load_backend("hf", model)
    ref = load_backend("hf", model, decoder="generate")
    # random weights give near-flat logits; scale the output layer so greedy choices are not ties that
    # float rounding could flip between two correct implementations
    with torch.no_grad():
        for b in (loop, ref):
            b.model.lm_head.weight.mul_(50.0)
    prompts = [prompt_for(loop, u) for u in USERS]
    params = SamplingParams(max_tokens=16)
    a = loop.generate(prompts, params)
    b = ref.generate(prompts, params)
    for x, y in zip(a, b, strict=True):
        assert x[0].token_ids == y[0].token_ids and x[0].finish_reason == y[0].finish_reason
