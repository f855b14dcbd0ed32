"""Locate the read-only reference folder `shared/` (sibling of the repo, or $THINKLAB_SHARED_DIR)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    env = os.environ.get("THINKLAB_SHARED_DIR")
    path = Path(env) if env else Path(__file__).resolve().parents[2].parent / "shared"
    if not path.is_dir():
        pytest.skip(f"reference folder {path} not found (set THINKLAB_SHARED_DIR to use another)")
    return path


@pytest.fixture(scope="session")
def traces_file(shared_dir: Path) -> Path:
    path = shared_dir / "traces" / "r1_distill_math_traces.jsonl"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    return path
