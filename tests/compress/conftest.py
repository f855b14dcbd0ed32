"""Locate the read-only reference folder `shared/` (sibling of the repo, or $THINKLAB_SHARED_DIR)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def r1_traces() -> Path:
    env = os.environ.get("THINKLAB_SHARED_DIR")
    shared = Path(env) if env else Path(__file__).resolve().parents[2].parent / "shared"
    path = shared / "traces" / "r1_distill_math_traces.jsonl"
    if not path.is_file():
        pytest.skip(f"real R1 traces not found at {path} (set THINKLAB_SHARED_DIR to the shared/ folder)")
    return path
