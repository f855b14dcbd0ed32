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
def benchmarks_dir(shared_dir: Path) -> Path:
    path = shared_dir / "benchmarks"
    if not path.is_dir():
        pytest.skip(f"{path} not found")
    return path


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never reach the Hub, even where a code path would fall back to downloading."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("THINKLAB_DATA_DIR", raising=False)
