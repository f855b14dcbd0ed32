"""Issue 25 item 8: the chunk size fixes the seeds of a rollout file, so resuming with another one is
refused instead of silently drawing other samples for the problems left.

A stand-in chat backend (no model) writes its seed into every completion, which makes the seeds
visible in the file and keeps the test to well under a second."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from thinklab.backends.base import Completion, SamplingParams
from thinklab.errors import ThinklabError
from thinklab.search.rollouts import RolloutConfig, build_rollouts


class SeedEcho:
    """A chat backend whose completions are `seed=S \\boxed{1}`: outputs depend only on the seed."""

    chat = True
    name = "echo"

    def generate(self, prompts: list, params: SamplingParams) -> list[list[Completion]]:
        text = f"seed={params.seed} \\boxed{{1}}"
        return [[Completion(text=text, tokens=4, finish_reason="stop")] * params.n for _ in prompts]


def _cfg(out: Path, **kw) -> RolloutConfig:
    base = dict(task="arith:L2", out=str(out), n_rollins=1, cuts=(0.5,), n_rollouts=1, chunk_size=2)
    return RolloutConfig(**{**base, **kw})


def _rows(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]


def test_resume_with_another_chunk_size_is_refused_and_loses_nothing(tmp_path):
    ref = build_rollouts(_cfg(tmp_path / "ref.jsonl", limit=6), backend=SeedEcho())
    out = tmp_path / "run.jsonl"
    build_rollouts(_cfg(out, limit=2), backend=SeedEcho())  # a run stopped after its first chunk
    before = out.read_text()
    with pytest.raises(ThinklabError, match="started with --chunk-size 2; resume it with --chunk-size 2"):
        build_rollouts(_cfg(out, limit=6, chunk_size=3), backend=SeedEcho())
    assert out.read_text() == before
    build_rollouts(_cfg(out, limit=6), backend=SeedEcho())  # the same size resumes
    assert _rows(out) == _rows(ref)
    # a finished file has nothing left to seed: reading it back with another size is fine
    build_rollouts(_cfg(out, limit=6, chunk_size=5), backend=SeedEcho())
    assert _rows(out) == _rows(ref)


def test_a_corrupt_settings_file_is_one_line(tmp_path):
    out = tmp_path / "run.jsonl"
    build_rollouts(_cfg(out, limit=2), backend=SeedEcho())
    out.with_name(out.name + ".config.json").write_text("{")
    with pytest.raises(ThinklabError, match=r"run\.jsonl\.config\.json is not valid JSON"):
        build_rollouts(_cfg(out, limit=4), backend=SeedEcho())
