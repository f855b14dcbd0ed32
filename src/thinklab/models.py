"""Models on disk, shared by backends, eval and every trainer: which folder a model name means, whether
it holds weights, and how a trained model dir is written (atomically) and installed.

A core module: it imports nothing from the method packages, `tiny/` included. ``tiny`` (or
``thinklab/tiny``) resolves to the shipped tiny model's checkpoint through a path constant
(`TINY_CHECKPOINT_DIR`); a local dir is checked for weights; a hub id passes through unchanged.

Atomic training outputs and resumable Trainer checkpoints (`begin`, `TrainOutput`), shared by every
`thinklab train` command. Why: a trainer that writes its model dir in place leaves, when killed while
saving, a dir with `config.json` and no weights (or no tokenizer) that looks finished and fails to load with an unrelated
message; and with `save_strategy="no"` a rerun starts from step 0. So every trainer here:

- writes everything (Trainer checkpoints, weights, tokenizer, logs) into a hidden sibling,
  `.NAME.partial/`, and renames it to `NAME` only once the model dir is complete. `NAME` is therefore
  either absent, the previous complete model, or the new complete model; never half of one.
- with `save_steps > 0`, has the Trainer checkpoint into `.NAME.partial/trainer/` and, when the same
  command runs again, resumes from the last *complete* checkpoint instead of starting over. The
  settings are stored beside the checkpoints; a rerun with other settings is refused rather than
  continuing a schedule it did not start.

Usage in a trainer::

    run = begin(cfg.out, asdict(cfg), cfg.save_steps)
    args = XConfig(output_dir=str(run.trainer_dir), **run.save_args(), ...)
    trainer.train(resume_from_checkpoint=run.resume_from())
    model.save_pretrained(run.staging); ...   # everything into run.staging
    return run.commit()
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from thinklab.errors import ThinklabError

# The shipped tiny model's checkpoint: a folder of the `thinklab.tiny` package, named by path so that
# resolving `tiny` never imports that package.
TINY_CHECKPOINT_DIR = Path(__file__).parent / "tiny" / "checkpoint"
TINY_ALIASES = ("tiny", "thinklab/tiny")


def resolve_model_path(model: str, weights: bool = True) -> str:
    """`tiny` → the shipped checkpoint dir; anything else is returned unchanged (local path or hub id).
    `weights=False` for callers that read only the folder's tokenizer and configs (a remote server's
    model, known here by its tokenizer files), so a folder without weights is not an error for them."""
    if model in TINY_ALIASES:
        if not (TINY_CHECKPOINT_DIR / "config.json").is_file():
            raise ThinklabError(
                f"the tiny checkpoint is missing from {TINY_CHECKPOINT_DIR}; rebuild it with `thinklab tiny train`"
            )
        return str(TINY_CHECKPOINT_DIR)
    if weights:
        require_weights(model)
    return model


# Files a model dir keeps its weights in (single file, shards with their index, adapters, GGUF).
WEIGHT_GLOBS = ("*.safetensors", "*.safetensors.index.json", "*.bin", "*.bin.index.json", "*.pt", "*.gguf")


def require_weights(model: str) -> None:
    """A local model dir with `config.json` but no weight file is a one-line error that says what it
    most likely is (a training run killed while saving, before thinklab saved atomically), instead of
    the tokenizer or architecture message Transformers gives for it. Hub ids pass through."""
    path = Path(model)
    if (path / "config.json").is_file() and not any(next(path.glob(g), None) for g in WEIGHT_GLOBS):
        raise ThinklabError(f"no weights in {path}; an interrupted training run? (train it again)")


def install_checkpoint(model_dir: str | Path) -> Path:
    """Copy a trained model dir over the shipped checkpoint (weights, tokenizer, config, marker)."""
    src = Path(model_dir)
    TINY_CHECKPOINT_DIR.mkdir(parents=True, exist_ok=True)
    for old in TINY_CHECKPOINT_DIR.iterdir():
        if old.is_file():
            old.unlink()
    for f in src.iterdir():
        if f.is_file():
            shutil.copy2(f, TINY_CHECKPOINT_DIR / f.name)
    return TINY_CHECKPOINT_DIR


# --------------------------------------------------------------------------------------------------
# Atomic training outputs
# --------------------------------------------------------------------------------------------------

SETTINGS_FILE = "train_run.json"
# Settings a rerun may change and still resume: where and how often it writes, and how long it runs
# (a run stopped at step 2 of 4 may go on to 8, as the Trainer allows; the schedule follows the new end).
_NOT_IDENTITY = ("out", "install", "save_steps", "logging_steps", "max_steps", "epochs")
# What Transformers writes last into a checkpoint dir (after weights, optimizer and scheduler): a
# checkpoint without it was cut off mid-save and is skipped.
_CHECKPOINT_DONE = "trainer_state.json"


def staging_dir(out: str | Path) -> Path:
    """The hidden sibling a training run writes into until its model dir is complete."""
    out = Path(out)
    return out.parent / f".{out.name}.partial"


@dataclass
class TrainOutput:
    """One training run's output: `staging` while it runs, `out` once `commit` has renamed it."""

    out: Path
    staging: Path
    save_steps: int

    @property
    def trainer_dir(self) -> Path:
        """The Trainer's `output_dir` (its checkpoints): inside the staging dir, gone after `commit`."""
        return self.staging / "trainer"

    def save_args(self) -> dict[str, Any]:
        """The Trainer arguments that turn checkpoints on (every `save_steps`) or off."""
        if self.save_steps > 0:
            return {"save_strategy": "steps", "save_steps": self.save_steps}
        return {"save_strategy": "no"}

    def resume_from(self) -> str | None:
        """The last complete checkpoint of an interrupted run with the same settings, or None."""
        last = last_checkpoint(self.trainer_dir)
        return str(last) if last is not None else None

    def commit(self) -> Path:
        """Drop the checkpoints and settings, then rename the finished staging dir to `out`.

        A previous model at `out` is moved aside first and removed after the rename, so `out` is
        missing only between two renames (a kill there leaves the old model in `.NAME.old`)."""
        shutil.rmtree(self.trainer_dir, ignore_errors=True)
        (self.staging / SETTINGS_FILE).unlink(missing_ok=True)
        old = self.out.parent / f".{self.out.name}.old"
        if self.out.exists():
            shutil.rmtree(old, ignore_errors=True)
            self.out.rename(old)
        self.staging.rename(self.out)
        shutil.rmtree(old, ignore_errors=True)
        return self.out


def begin(out_dir: str | Path, settings: dict[str, Any], save_steps: int | None = 0) -> TrainOutput:
    """Check `out_dir` and prepare the staging dir: resume it (same settings, a complete checkpoint),
    refuse it (other settings, checkpoints to lose), or start it afresh (nothing worth keeping).

    Nothing is written to `out_dir` itself; an existing dir there is replaced at `commit` only if it
    is empty or a model dir (has `config.json`), so a mistyped `--out` cannot delete other files."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ThinklabError(f"--out {out} is a file; give a folder for the model")
    if out.is_dir() and any(out.iterdir()) and not (out / "config.json").is_file():
        raise ThinklabError(f"--out {out} exists and is not a model dir; choose another --out or empty it")
    run = TrainOutput(out=out, staging=staging_dir(out), save_steps=max(0, save_steps or 0))
    identity = json.loads(
        json.dumps({k: v for k, v in settings.items() if k not in _NOT_IDENTITY}, default=str)
    )
    path = run.staging / SETTINGS_FILE
    if run.staging.exists():
        if last_checkpoint(run.trainer_dir) is None:
            shutil.rmtree(run.staging)  # killed before its first checkpoint: nothing to resume
        else:
            try:
                stored = json.loads(path.read_text())
            except (OSError, ValueError):
                stored = None
            if stored != identity:
                raise ThinklabError(
                    f"{run.staging} holds checkpoints of an interrupted run with other settings; rerun "
                    "that command to finish it, or delete the folder to start over"
                )
    try:
        run.staging.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(identity, indent=2) + "\n")
    except OSError as exc:
        raise ThinklabError(f"cannot write {run.staging}: {exc.strerror or exc}") from None
    return run


def last_checkpoint(folder: Path) -> Path | None:
    """The highest-numbered `checkpoint-N` in `folder` that finished saving (None if there is none)."""
    if not folder.is_dir():
        return None
    done = [
        p
        for p in folder.glob("checkpoint-*")
        if p.is_dir() and p.name.split("-")[-1].isdigit() and (p / _CHECKPOINT_DONE).is_file()
    ]
    return max(done, key=lambda p: int(p.name.split("-")[-1]), default=None)
