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

FAMILY_DIRS = {
    "r1": "r1-distill-qwen-1.5b",
    "r1-old": "r1-distill-qwen-old-template",
    "qwen3": "qwen3-hybrid",
    "qwen3-thinking": "qwen3-thinking-2507",
    "s1": "s1.1-qwen2.5-instruct",
}


def shared_models_dir() -> Path:
    env = os.environ.get("THINKLAB_SHARED_DIR")
    shared = Path(env) if env else Path(__file__).resolve().parents[1].parent / "shared"
    return shared / "models"


def family_fixture_dir(family: str) -> Path:
    """The fixture folder of a family, or a skip that says where it was looked for."""
    path = shared_models_dir() / FAMILY_DIRS[family]
    if not (path / "tokenizer.json").is_file():
        pytest.skip(
            f"model family fixture not found at {path} (set THINKLAB_SHARED_DIR to the shared/ folder)"
        )
    return path


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
