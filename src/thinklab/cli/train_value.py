"""`thinklab train value`: parse arguments into a ValueTrainConfig and call `run_train_value`."""

from __future__ import annotations

import json
from pathlib import Path

import typer


def register(train: typer.Typer) -> None:
    @train.command("value")
    def value_cmd(
        data: Path = typer.Option(..., help="Rollouts JSONL from `thinklab rollouts`."),
        model: str = typer.Option("tiny", help="Backbone: hub id, local causal-LM dir, or `tiny`."),
        out: Path = typer.Option(Path("runs/value"), help="Output dir (backbone + value_head.safetensors)."),
        init_from: Path | None = typer.Option(
            None,
            help="Go on training this value-model dir (backbone, head, policy copy) instead of a fresh "
            "head on --model, e.g. on more roll-outs; fresh optimizer and schedule.",
        ),
        eval_data: Path | None = typer.Option(None, help="Held-out rollouts: report ROC AUC after training."),
        epochs: float = typer.Option(1.0, help="Training epochs (ignored when --max-steps > 0)."),
        max_steps: int = typer.Option(-1, help="Optimizer steps (overrides epochs)."),
        batch_size: int = typer.Option(16, help="Per-device batch size (roll-outs)."),
        grad_accum: int = typer.Option(1, help="Gradient accumulation steps."),
        learning_rate: float = typer.Option(1e-4, help="Peak learning rate (VGS: 1e-4)."),
        warmup_ratio: float = typer.Option(0.05, help="Warmup as a fraction of all steps."),
        weight_decay: float = typer.Option(0.1, help="AdamW weight decay (not on norms and biases)."),
        max_length: int = typer.Option(1024, help="Longest sequence in tokens (longer ones are cut)."),
        dropout: float = typer.Option(0.05, help="Dropout on hidden states before the head (training only)."),
        logprob_features: bool = typer.Option(
            False,
            help="Head also reads the policy's running log-prob statistics (a frozen copy of --model "
            "is saved with it; not in VGS). See docs/search.md.",
        ),
        freeze_backbone: bool = typer.Option(
            False, help="Train the head only (VGS trains the backbone too): fewer weights to overfit."
        ),
        loss_on: str = typer.Option(
            "roll-out",
            help="Tokens the loss reads: roll-out (VGS) | generated (roll-in too: on-policy here, "
            "each fitted to the mean outcome of its roll-outs). See docs/search.md.",
        ),
        save_steps: int = typer.Option(0, help="Checkpoint every N steps; a rerun then resumes (0: off)."),
        seed: int = typer.Option(42, help="Seed."),
        trust_remote_code: bool = typer.Option(False, help="Allow model repos to run their own code."),
    ) -> None:
        """Train a token-level value head (VGS) on a causal LM backbone with the Transformers Trainer."""
        from thinklab.search.train_value import ValueTrainConfig, run_train_value

        cfg = ValueTrainConfig(
            data=str(data),
            model=model,
            init_from=str(init_from) if init_from else None,
            out_dir=str(out),
            eval_data=str(eval_data) if eval_data else None,
            epochs=epochs,
            max_steps=max_steps,
            batch_size=batch_size,
            grad_accum=grad_accum,
            learning_rate=learning_rate,
            warmup_ratio=warmup_ratio,
            weight_decay=weight_decay,
            max_length=max_length,
            dropout=dropout,
            logprob_features=logprob_features,
            freeze_backbone=freeze_backbone,
            loss_on=loss_on,
            save_steps=save_steps,
            seed=seed,
            trust_remote_code=trust_remote_code,
        )
        path = run_train_value(cfg)
        record = json.loads((path / "value_training.json").read_text())
        typer.echo(
            f"saved {path} ({record['steps']} steps, {record['minutes']} min, final loss "
            f"{record['losses'][-1] if record['losses'] else 'n/a'})"
        )
        if "eval" in record:
            ev = record["eval"]
            se = f" ± {ev['mid_trace_auc_se']:.3f}" if ev.get("mid_trace_auc_se") else ""
            typer.echo(
                f"held-out AUC: all {_f3(ev['by_cut']['all']['auc'])}, "
                f"mid-trace {_f3(ev.get('mid_trace_auc'))}{se}"
            )


def _f3(x: float | None) -> str:
    """Three digits, like the s.e. beside it (an AUC is None when a cut holds one class only)."""
    return "n/a" if x is None else f"{x:.3f}"
