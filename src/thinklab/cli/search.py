"""`thinklab search`: parse arguments into a SearchConfig and call `thinklab.search.run_search`."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from thinklab.cli.options import int_list


def register(app: typer.Typer) -> None:
    @app.command("search")
    def search_cmd(
        strategy: str = typer.Option(
            "majority", help="Comma-separated: single, majority, weighted, bon, beam, dvts."
        ),
        model: str = typer.Option("tiny", help="Policy: hub id, local model dir, or `tiny`."),
        task: str = typer.Option("arith", help="Registry name (see `thinklab tasks list`) or jsonl:PATH."),
        budgets: str = typer.Option(
            "1,2,4,8", help="Widths: samples per problem (voting) or blocks in flight (beam, dvts)."
        ),
        value_model: Path | None = typer.Option(
            None, help="Value model dir from `thinklab train value` (weighted, beam, dvts, bon)."
        ),
        scorer: str = typer.Option(
            "value", help="What best-of-N ranks by: value | logprob (policy's mean log-prob)."
        ),
        sampling: str = typer.Option(
            "temperature=0.8,top_p=0.95", help="k=v list for the policy's sampling."
        ),
        max_tokens: int = typer.Option(
            512, help="Per trace: thinking budget of a sample, length cap of a beam."
        ),
        block_size: int = typer.Option(
            64, help="Tokens per block (beam search unit; also used to count blocks)."
        ),
        beam_width: int = typer.Option(2, help="Continuations sampled per kept beam per round (VGS beamK)."),
        tree_blocks: int = typer.Option(4, help="DVTS: blocks in flight per independent tree."),
        prompt_mode: str = typer.Option("standard", help="standard | no-think | ellipsis."),
        budget_mode: str = typer.Option("cap", help="cap | force-answer (s1), for samples and capped beams."),
        answer_tokens: int = typer.Option(32, help="Answer allowance after a forced close (force-answer)."),
        extend: int = typer.Option(
            0, help="s1: times to replace the end of thinking with --extend-str (samples)."
        ),
        extend_str: str = typer.Option("Wait", help="String appended when thinking is extended."),
        backend: str = typer.Option("hf", help="hf | vllm | openai | ray (replicas: docs/scaling.md)."),
        backend_args: str = typer.Option("", help="k=v list for the policy backend."),
        value_args: str = typer.Option("", help="k=v list for the value model: device, batch_size, dtype."),
        limit: int | None = typer.Option(None, help="Only the first N problems."),
        seed: int = typer.Option(0, help="Sampling seed."),
        out: Path = typer.Option(Path("runs"), help="Parent folder of run directories."),
        data_dir: Path | None = typer.Option(None, help="Benchmark data folder (else $THINKLAB_DATA_DIR)."),
        system_prompt: str | None = typer.Option(None, help="Optional system prompt."),
        chunk_size: int = typer.Option(64, help="Problems per batch and per write to disk."),
        overwrite: bool = typer.Option(False, help="Start over instead of resuming."),
        trust_remote_code: bool = typer.Option(False, help="Allow model repos to run their own code."),
    ) -> None:
        """Test-time search at several compute budgets: voting, best-of-N, value-guided beam search, DVTS.

        Writes one eval-style run dir per strategy (resumable) and a comparison plot of accuracy against
        generated tokens per problem."""
        from thinklab.eval.report import level_table, summary_table
        from thinklab.search.runner import SearchConfig, comparison_rows, run_search

        cfg = SearchConfig(
            model=model,
            task=task,
            strategies=tuple(s.strip() for s in strategy.split(",") if s.strip()),
            budgets=int_list(budgets, "--budgets", "1,2,4,8", minimum=1),
            value_model=str(value_model) if value_model else None,
            scorer=scorer,
            sampling=sampling,
            max_tokens=max_tokens,
            block_size=block_size,
            beam_width=beam_width,
            tree_blocks=tree_blocks,
            prompt_mode=prompt_mode,
            budget_mode=budget_mode,
            answer_tokens=answer_tokens,
            extend=extend,
            extend_str=extend_str,
            backend=backend,
            backend_args=backend_args,
            value_args=value_args,
            limit=limit,
            seed=seed,
            out=str(out),
            data_dir=str(data_dir) if data_dir else None,
            system_prompt=system_prompt,
            chunk_size=chunk_size,
            overwrite=overwrite,
            trust_remote_code=trust_remote_code,
        )
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
