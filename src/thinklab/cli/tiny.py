"""`thinklab tiny ...`: train the embedded tiny model, write arith training data in its trace styles, and
measure what its traces contain."""

from __future__ import annotations

from dataclasses import dataclass

import typer

from thinklab.cli.build import config_command
from thinklab.config import option
from thinklab.tiny.data import TinyDataConfig
from thinklab.tiny.train import TinyTrainConfig


@dataclass
class RedundancyConfig:
    """`thinklab tiny redundancy`: how much of the tiny model's traces the answer needs."""

    model: str = option("tiny", "Model to feed the traces back to.")
    limit: int = option(400, "Test problems to use.")


def register(app: typer.Typer) -> None:
    tiny = typer.Typer(help="The embedded tiny reasoning model and its arith task.", no_args_is_help=True)
    app.add_typer(tiny, name="tiny")

    @config_command(tiny, "train", TinyTrainConfig)
    def train_cmd(cfg: TinyTrainConfig) -> None:
        """Train the tiny model with TRL's SFTTrainer, from scratch or from init_from. The defaults are the
        shipped checkpoint's first stage; it then had 1000 steps at lr 3e-4 (recipes/tiny/model.yaml)."""
        from thinklab.tiny.train import train_tiny

        path = train_tiny(cfg)
        typer.echo(f"saved {path}")
        if cfg.install:
            from thinklab.models import install_checkpoint

            typer.echo(f"installed into {install_checkpoint(path)}")

    @config_command(tiny, "data", TinyDataConfig)
    def data_cmd(cfg: TinyDataConfig) -> None:
        """Write N arith train-split examples in a trace style, for `train sft` (or `compress`: traces)."""
        from thinklab.tiny.data import write_tiny_data

        rows = write_tiny_data(cfg)
        typer.echo(f"wrote {rows} {cfg.style} examples ({cfg.out_format}) to {cfg.out}")

    @config_command(tiny, "redundancy", RedundancyConfig)
    def redundancy_cmd(cfg: RedundancyConfig) -> None:
        """Feed gold traces (in the model's training style) back as thinking, whole and with redundant lines
        removed; report answer accuracy."""
        from rich.console import Console
        from rich.table import Table

        from thinklab.tiny.analysis import redundancy_check

        rows = redundancy_check(cfg.model, cfg.limit)
        table = Table(title="answer accuracy when the given thinking is fed back")
        for c in ("thinking given", "mean thinking tokens", "accuracy %"):
            table.add_column(c, justify="right")
        for name, tokens, acc in rows:
            table.add_row(name, f"{tokens:.1f}", f"{100 * acc:.1f}")
        Console().print(table)
