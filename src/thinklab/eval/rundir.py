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


def check(run_dir: Path, config: dict[str, Any], overwrite: bool) -> None:
    """Refuse, before anything is loaded or written, a run dir that cannot be used: a parent `--out`
    that is a file, a dir made by another config (it would mix samples of different settings), or a
    corrupt `config.json`. Read-only, so a failure here leaves the disk as it was."""
    for parent in (run_dir.parent, *run_dir.parent.parents):
        if parent.exists():
            if not parent.is_dir():
                raise ThinklabError(f"--out {parent} is a file; give a folder for run directories")
            break
    if run_dir.exists() and not run_dir.is_dir():
        raise ThinklabError(f"{run_dir} is a file, not a run directory; remove it or use another --out")
    path = run_dir / CONFIG
    if overwrite or not path.exists():
        return
    old = read_json(path, f"the run config; delete {run_dir} or use --overwrite")
    if not isinstance(old, dict) or old.get("identity") != config.get("identity"):
        raise ThinklabError(f"{run_dir} holds a run with other settings; use --overwrite or another --out")


def prepare(run_dir: Path, config: dict[str, Any], overwrite: bool) -> None:
    """Create the dir (or wipe it with `overwrite`) and record the config, after `check`.

    Callers that load a model call `check` first and this only once the model has loaded, so a failed
    load neither leaves an empty run dir behind nor wipes an old run with `--overwrite`."""
    check(run_dir, config, overwrite)
    try:
        if overwrite and run_dir.exists():
            shutil.rmtree(run_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
        if not (run_dir / CONFIG).exists():
            write_json(run_dir / CONFIG, config)
    except OSError as exc:
        raise ThinklabError(f"cannot write run dir {run_dir}: {exc.strerror or exc}") from None


def settings_path(out: Path) -> Path:
    return out.with_name(out.name + ".config.json")


def resume_output(
    out: Path, identity: dict[str, Any], config: dict[str, Any], overwrite: bool
) -> tuple[set[str], dict[str, Any]]:
    """The one-file form of a run (rollouts, compress): rows appended to one JSONL, each keyed by `id`,
    with the settings beside it (`<out>.config.json`). Returns the ids already written and the stored
    settings. `overwrite` deletes both; a file made with other settings is refused (resuming it would mix
    rows of two configurations); a torn last line from a kill is ignored. A file without settings (made
    before they were recorded) is adopted with the current ones."""
    from thinklab.data.jsonl import read_jsonl

    meta = settings_path(out)
    if overwrite:
        out.unlink(missing_ok=True)
        meta.unlink(missing_ok=True)
    if out.is_dir():
        raise ThinklabError(f"--out {out} is a folder; give a .jsonl file path")
    identity = json.loads(json.dumps(identity, default=_default))  # as stored (tuples become lists)
    stored: dict[str, Any] = {}
    if meta.exists():
        stored = read_json(meta, "the run's settings; delete it with its file, or use --overwrite")
        if not isinstance(stored, dict) or stored.get("identity") != identity:
            raise ThinklabError(f"{out} was made with other settings; use --overwrite or another --out")
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        write_json(meta, {"identity": identity, "config": config})
    done = (
        {str(r["id"]) for r in read_jsonl(out, allow_partial_last_line=True) if "id" in r}
        if out.exists()
        else set()
    )
    return done, stored


def read_json(path: Path, what: str) -> Any:
    """A JSON file thinklab wrote; a damaged one (hand edit, full disk) is a one-line error naming
    the file and `what` to do, not a traceback."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "not UTF-8"
        raise ThinklabError(f"{path} is not valid JSON ({reason}): {what}") from None


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


def count_parameters(model: str) -> int | None:
    """Parameters of a local model dir, summed from its safetensors headers without loading a weight.

    Why: a resumed eval whose samples are all on disk loads no model, yet its summary still needs
    `num_parameters` (ACU per parameter); reading the headers costs milliseconds. None where it cannot
    be known this way (hub ids, `.bin` checkpoints, a damaged header)."""
    import math
    import struct

    from thinklab.models import resolve_model_path

    path = Path(resolve_model_path(model, weights=False))
    files = sorted(path.glob("*.safetensors")) if path.is_dir() else []
    if not files:
        return None
    total = 0
    for f in files:
        try:
            with f.open("rb") as fh:
                (size,) = struct.unpack("<Q", fh.read(8))
                if size > 2**28:
                    return None
                header = json.loads(fh.read(size))
        except (OSError, struct.error, ValueError):
            return None
        total += sum(math.prod(t["shape"]) for k, t in header.items() if k != "__metadata__" and "shape" in t)
    return total or None


def model_fingerprint(model: str) -> str:
    """A short id of a model's *content*, so a run dir is never reused for different weights at the same
    path (a retrained `tiny`, a fine-tune written over its old dir). Local dirs: config and tokenizer
    files plus, per weight file, its size and the hash of its first and last MiB (fast even for 64 GB of
    shards). Hub ids: the id itself (pin `revision` in backend args for exact reuse)."""
    from thinklab.models import resolve_model_path

    path = Path(resolve_model_path(model, weights=False))
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
