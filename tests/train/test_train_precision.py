"""bf16 is used only where it is native: emulated bf16 on an AVX2-only CPU made a training step ~30x
slower than fp32 (src/thinklab/train/precision.py)."""

from __future__ import annotations

import pytest
import torch

from thinklab.train.precision import cpu_has_native_bf16, default_bf16


@pytest.mark.parametrize("requested", [True, False])
def test_an_explicit_choice_wins(requested):
    assert default_bf16(requested) is requested


def test_default_follows_the_hardware():
    if torch.cuda.is_available():
        assert default_bf16() == torch.cuda.is_bf16_supported()
    else:
        assert default_bf16() == cpu_has_native_bf16()


def test_the_tiny_sft_config_defaults_to_auto():
    from thinklab.search.train_value import ValueTrainConfig
    from thinklab.tiny.train import TinyTrainConfig
    from thinklab.train.sft import SFTRunConfig

    assert TinyTrainConfig(out="x").bf16 is None
    assert SFTRunConfig(data="x", out="y").bf16 is None
    assert ValueTrainConfig(data="x", out="y").bf16 is None
