"""`thinklab search`: options from `SearchConfig`; calls `thinklab.search.run_search` and prints the tables."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from thinklab.cli.build import config_command
from thinklab.search.runner import SearchConfig


def register(app: typer.Typer) -> None:
    @config_command(app, "search", SearchConfig)
    def search_cmd(cfg: SearchConfig) -> None:
        """Test-time search at several compute budgets: voting, best-of-N, value-guided beam search, DVTS.
        Writes one eval-style run dir per strategy (resumable) and a comparison plot of accuracy against
        generated tokens per problem."""
        from thinklab.eval.report import level_table, summary_table
        from thinklab.search.runner import comparison_rows, run_search

        model, task = cfg.model, cfg.task
        result = run_search(cfg)
        console = Console()
        for run in result.runs:
            console.print(summary_table(run.summary, title=f"{model} on {task}: {run.strategy}"))
            levels = level_table(run.summary, str(max(cfg.budgets)))
            if levels is not None:
                console.print(levels)
        table = Table(title=f"{model} on {task}: strategies at equal budgets")
        for col in ("strategy", "budget", "acc %", "± se", "tokens/problem", "blocks", "value tokens"):
            table.add_column(col, justify="right")
        for r in sorted(comparison_rows(result), key=lambda r: (r["budget"], r["strategy"])):
            table.add_row(
                r["strategy"],
                str(r["budget"]),
                f"{100 * r['accuracy']:.1f}",
                f"{100 * r['stderr']:.1f}",
                f"{r['tokens_per_problem']:.0f}",
                f"{r['blocks'] or 0:.1f}",
                f"{r['value_tokens'] or 0:.0f}",
            )
        console.print(table)
        for run in result.runs:
            typer.echo(f"run dir ({run.strategy}): {run.run_dir}")
        if result.plot:
            typer.echo(f"plot: {result.plot}")
