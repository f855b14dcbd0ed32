"""Where the real model families' fixtures live (shared/models: tokenizer, chat template, config and
generation config, no weights). A module of its own, not conftest.py, because test files import these
names and several conftest.py files would make `from conftest import` ambiguous."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

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
