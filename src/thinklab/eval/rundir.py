"""Run directories: where an evaluation's samples, summary and plot live, and how they resume.

A run directory is named `{model}_{task}_{hash}` where the hash covers every setting that changes
results, so the same command finds the same directory again and continues it; a different setting
gets a new one. `samples.jsonl` is appended (and fsynced) one chunk at a time: a kill loses at most
the chunk in flight, and a half-written last line is dropped on resume.
"""

from __future__ import annotations

import hashlib
import json
import platform
import re
import shutil
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any

from thinklab.data.jsonl import append_jsonl, read_jsonl, write_jsonl
from thinklab.errors import ThinklabError

SAMPLES = "samples.jsonl"
SUMMARY = "summary.json"
CONFIG = "config.json"
PLOT = "accuracy_vs_tokens.png"


def slug(text: str) -> str:
    text = text.rstrip("/").split("/")[-2:] if "/" in text else [text]
    return re.sub(r"[^A-Za-z0-9.+-]+", "-", "-".join(text)).strip("-")[:60] or "x"


def config_hash(config: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()[:10]


def run_dir_for(out: str | Path, model: str, task: str, identity: dict[str, Any]) -> Path:
    return Path(out) / f"{slug(model)}_{slug(task)}_{config_hash(identity)}"


def prepare(run_dir: Path, config: dict[str, Any], overwrite: bool) -> None:
    """Create the dir (or wipe it with `overwrite`) and record the config; refuse a dir made by
    another config, which would mix samples of different settings."""
    if overwrite and run_dir.exists():
        shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / CONFIG
    if path.exists():
        old = json.loads(path.read_text())
        if old.get("identity") != config.get("identity"):
            raise ThinklabError(
                f"{run_dir} holds a run with other settings; use --overwrite or another --out"
            )
    else:
        write_json(path, config)


def load_samples(run_dir: Path) -> list[dict]:
    path = run_dir / SAMPLES
    if not path.exists():
        return []
    return list(read_jsonl(path, allow_partial_last_line=True))


def append_samples(run_dir: Path, records: list[dict]) -> None:
    append_jsonl(run_dir / SAMPLES, records)


def rewrite_samples(run_dir: Path, records: list[dict]) -> None:
    write_jsonl(run_dir / SAMPLES, records)


def write_json(path: Path, obj: Any) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2, default=_default) + "\n")
    tmp.replace(path)


def _default(obj: Any) -> Any:
    if is_dataclass(obj):
        return asdict(obj)
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, set | tuple):
        return list(obj)
    return str(obj)


def library_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in ("thinklab", "torch", "transformers", "trl", "peft", "datasets", "math-verify", "vllm"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            continue
    return out


def model_fingerprint(model: str) -> str:
    """A short id of a model's *content*, so a run dir is never reused for different weights at the same
    path (a retrained `tiny`, a fine-tune written over its old dir). Local dirs: config and tokenizer
    files plus, per weight file, its size and the hash of its first and last MiB (fast even for 64 GB of
    shards). Hub ids: the id itself (pin `revision` in backend args for exact reuse)."""
    from thinklab.tiny.model import resolve_model_path

    path = Path(resolve_model_path(model))
    if not path.is_dir():
        return model
    h = hashlib.sha256()
    for f in sorted(path.iterdir()):
        if not f.is_file():
            continue
        h.update(f.name.encode())
        if f.suffix in (".safetensors", ".bin", ".pt", ".gguf"):
            size = f.stat().st_size
            h.update(str(size).encode())
            with f.open("rb") as fh:
                h.update(fh.read(2**20))
                fh.seek(max(0, size - 2**20))
                h.update(fh.read(2**20))
        elif f.suffix in (".json", ".jinja", ".txt", ".model"):
            h.update(f.read_bytes())
    return h.hexdigest()[:12]
