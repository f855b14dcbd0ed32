"""`thinklab rollouts` (value-model training data) and `thinklab value-eval` (its held-out AUC)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import typer

from thinklab.cli.build import config_command
from thinklab.config import option
from thinklab.search.rollouts import RolloutConfig


@dataclass
class ValueEvalConfig:
    """`thinklab value-eval`: a value model's ROC AUC on held-out roll-outs."""

    value_model: str = option(help="Value model dir from `thinklab train value`.")
    data: str = option(help="Held-out rollouts JSONL (from `thinklab rollouts`).")
    device: str | None = option(None, "cpu | cuda (default: cuda if available).")
    out: str | None = option(None, "Also write the metrics to this JSON file.")


def register(app: typer.Typer) -> None:
    @config_command(app, "rollouts", RolloutConfig)
    def rollouts_cmd(cfg: RolloutConfig) -> None:
        """Sample roll-ins from a policy, cut them, roll out from each cut and label the outcomes
        (0 wrong, 1 correct, 2 unfinished): training data for `thinklab train value`."""
        from thinklab.search.rollouts import build_rollouts, read_rollouts

        path = build_rollouts(cfg)
        rows = read_rollouts(path)
        labels = [lab for r in rows for lab in r["labels"]]
        counts = {name: labels.count(i) for i, name in enumerate(("wrong", "correct", "unfinished"))}
        typer.echo(f"wrote {path}: {len(rows)} roll-ins, {len(labels)} roll-outs {counts}")

    @config_command(app, "value-eval", ValueEvalConfig)
    def value_eval_cmd(cfg: ValueEvalConfig) -> None:
        """ROC AUC of a value model's prefix values against roll-out outcomes, per cut point."""
        from thinklab.search.train_value import evaluate_value_dir

        result = evaluate_value_dir(cfg.value_model, cfg.data, cfg.device)
        text = json.dumps(result, indent=2)
        if cfg.out:
            out = Path(cfg.out)
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(text + "\n")
        typer.echo(text)
