"""Test-wide settings: everything runs offline, on the real shipped tiny model and real files."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


# ---------------------------------------------------------------------------------------------------
# Real model families: the tokenizer, chat template, config and generation config of five reasoning
# model families (shared/models, no weights); tests build random-weight models from them.
import shutil  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from family_models import family_fixture_dir  # noqa: E402 - tests/ is on sys.path (this file is in it)


@pytest.fixture(scope="session")
def family_model(tmp_path_factory):
    """`family_model(name)` → a saved random-weight model dir of that family (built once per session).
    The folder keeps the fixture's name, so name-based recognition (s1) sees what a user's dir shows."""
    built: dict[str, Path] = {}

    def build(family: str) -> Path:
        if family in built:
            return built[family]
        src = family_fixture_dir(family)
        import torch
        from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

        out = tmp_path_factory.mktemp(f"family-{family}") / src.name
        torch.manual_seed(0)
        model = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(src))
        model.save_pretrained(out)
        AutoTokenizer.from_pretrained(src).save_pretrained(out)
        shutil.copy(src / "generation_config.json", out / "generation_config.json")
        built[family] = out
        return out

    return build
