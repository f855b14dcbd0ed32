"""`thinklab star`: the STaR loop from `StarConfig` (usually `--config recipes/<model>/star.yaml`)."""

from __future__ import annotations

import typer

from thinklab.cli.build import config_command
from thinklab.star.config import StarConfig


def register(app: typer.Typer) -> None:
    @config_command(app, "star", StarConfig, no_args_is_help=True)
    def star_cmd(cfg: StarConfig) -> None:
        """STaR loop (QT-R1): generate, verify, rationalise, merge, fine-tune, evaluate; repeat. Nested
        sections (generation, eval_generation, train, init) are set in --config or by --set train.epochs=2."""
        from thinklab.star import run_star
        from thinklab.star.report import markdown_table

        reports = run_star(cfg, resume=cfg.resume, overwrite=cfg.overwrite)
        typer.echo(markdown_table(reports))
        typer.echo(f"run dir: {cfg.out} (table and curve: `thinklab report star {cfg.out}`)")
