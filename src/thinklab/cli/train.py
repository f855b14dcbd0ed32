"""`thinklab train sft|dpo|grpo|value`: each command's options are its trainer's config class; the
command runs the trainer and prints where the model went."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from thinklab.autothink.grpo import GRPORunConfig
from thinklab.cli.build import config_command
from thinklab.search.value_config import ValueTrainConfig
from thinklab.thinkpo.dpo import DPORunConfig
from thinklab.train.sft import SFTRunConfig


def register(app: typer.Typer) -> None:
    train = typer.Typer(
        help="Fine-tune models with TRL (SFT, DPO, GRPO) and train value models.", no_args_is_help=True
    )
    app.add_typer(train, name="train")

    @config_command(train, "sft", SFTRunConfig)
    def sft_cmd(cfg: SFTRunConfig) -> None:
        """Supervised fine-tuning on a JSONL of problems and full responses (loss on responses only)."""
        from thinklab.train.sft import run_sft

        typer.echo(f"saved {run_sft(cfg)}")

    @config_command(train, "dpo", DPORunConfig)
    def dpo_cmd(cfg: DPORunConfig) -> None:
        """Direct preference optimisation with TRL (prompt = chat template, responses incl. <think>)."""
        from thinklab.thinkpo.dpo import run_dpo

        typer.echo(f"saved {run_dpo(cfg)}")

    @config_command(train, "grpo", GRPORunConfig)
    def grpo_cmd(cfg: GRPORunConfig) -> None:
        """One GRPO run with TRL: an AutoThink stage (`--reward autothink --stage 1|2|3`) or plain GRPO."""
        from thinklab.autothink.grpo import run_grpo

        typer.echo(f"saved {run_grpo(cfg)}")

    @config_command(train, "value", ValueTrainConfig)
    def value_cmd(cfg: ValueTrainConfig) -> None:
        """Train a token-level value head (VGS) on a causal LM backbone with the Transformers Trainer."""
        from thinklab.search.train_value import run_train_value

        path = run_train_value(cfg)
        record = json.loads((Path(path) / "value_training.json").read_text())
        final = record["losses"][-1] if record["losses"] else "n/a"
        typer.echo(f"saved {path} ({record['steps']} steps, {record['minutes']} min, final loss {final})")
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
