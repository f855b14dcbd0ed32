"""Fixtures for the grading tests: where the read-only reference material (shared/) lives."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def find_shared_dir() -> Path | None:
    """shared/ from $THINKLAB_SHARED_DIR, else the sibling of the repo root; None when neither exists."""
    env = os.environ.get("THINKLAB_SHARED_DIR")
    candidate = Path(env) if env else REPO_ROOT / ".." / "shared"
    return candidate.resolve() if candidate.is_dir() else None


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The shared/ folder; tests that need it skip (with the reason) on a machine without it."""
    found = find_shared_dir()
    if found is None:
        where = os.environ.get("THINKLAB_SHARED_DIR") or str(REPO_ROOT.parent / "shared")
        pytest.skip(f"shared/ reference data not found at {where} (set THINKLAB_SHARED_DIR to its path)")
    return found
