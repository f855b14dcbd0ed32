"""Atomic training outputs and resumable Trainer checkpoints, shared by every `thinklab train` command.

Why: a trainer that writes its model dir in place leaves, when killed while saving, a dir with
`config.json` and no weights (or no tokenizer) that looks finished and fails to load with an unrelated
message; and with `save_strategy="no"` a rerun starts from step 0. So every trainer here:

- writes everything (Trainer checkpoints, weights, tokenizer, logs) into a hidden sibling,
  `.NAME.partial/`, and renames it to `NAME` only once the model dir is complete. `NAME` is therefore
  either absent, the previous complete model, or the new complete model; never half of one.
- with `save_steps > 0`, has the Trainer checkpoint into `.NAME.partial/trainer/` and, when the same
  command runs again, resumes from the last *complete* checkpoint instead of starting over. The
  settings are stored beside the checkpoints; a rerun with other settings is refused rather than
  continuing a schedule it did not start.

Usage in a trainer::

    run = begin(cfg.out_dir, asdict(cfg), cfg.save_steps)
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

SETTINGS_FILE = "train_run.json"
# Settings a rerun may change and still resume: where and how often it writes, and how long it runs
# (a run stopped at step 2 of 4 may go on to 8, as the Trainer allows; the schedule follows the new end).
_NOT_IDENTITY = ("out_dir", "save_steps", "logging_steps", "max_steps", "epochs")
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
