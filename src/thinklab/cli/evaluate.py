"""`thinklab eval` and `thinklab score`: build the config, call the eval library, print the table."""

from __future__ import annotations

from dataclasses import dataclass

import typer
from rich.console import Console

from thinklab.cli.build import config_command
from thinklab.config import option
from thinklab.eval.runner import EvalConfig


@dataclass
class ScoreConfig:
    """`thinklab score`: re-grade a run's samples without generating."""

    run_dir: str = option(help="A run directory written by `thinklab eval`.", argument=True)
    extraction: str | None = option(
        None, "Re-grade under this extraction policy: strict | harness (default: the run's own)."
    )


def register(app: typer.Typer) -> None:
    @config_command(app, "eval", EvalConfig)
    def eval_cmd(cfg: EvalConfig) -> None:
        """Evaluate a model on a task at several token budgets (resumable; writes samples, summary, plot)."""
        from thinklab.eval.report import print_summary
        from thinklab.eval.runner import run_eval

        result = run_eval(cfg)
        print_summary(result.summary, Console())
        typer.echo(f"run dir: {result.run_dir}")

    @config_command(app, "score", ScoreConfig)
    def score_cmd(cfg: ScoreConfig) -> None:
        """Re-grade a run's samples with the current grader, without generating."""
        from pathlib import Path

        from thinklab.eval.report import print_summary, rescore

        summary = rescore(Path(cfg.run_dir), cfg.extraction)
        print_summary(summary, Console())
        policy = summary.get("extraction") or "the task's own extractor"
        line = (
            f"re-graded under {policy}; {summary['rescored_changed']} of {summary['rescored_graded']} "
            "previously graded samples changed verdict"
        )
        if summary["rescored_new"]:
            line += f"; {summary['rescored_new']} graded for the first time"
        typer.echo(line)
