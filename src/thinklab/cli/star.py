"""`thinklab star --config star.yaml [--resume]` and `thinklab star report RUN_DIR`: parse arguments,
call the STaR library (`thinklab.star`)."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    star = typer.Typer(
        help="STaR loop (QT-R1): generate, verify, rationalise, merge, fine-tune, evaluate; repeat.",
        invoke_without_command=True,
    )
    app.add_typer(star, name="star")

    @star.callback()
    def star_cmd(
        ctx: typer.Context,
        config: Path | None = typer.Option(None, help="STaR YAML config (see configs/star.yaml)."),
        resume: bool = typer.Option(False, help="Continue the run in out_dir at the stage where it stopped."),
        overwrite: bool = typer.Option(False, help="Delete out_dir and start over."),
        out_dir: Path | None = typer.Option(None, help="Override the config's out_dir."),
        rounds: int | None = typer.Option(None, help="Override the config's number of rounds."),
        base_model: str | None = typer.Option(None, help="Override the config's base model."),
        backend: str | None = typer.Option(
            None, help="Override the generation backend (hf | vllm | openai | ray)."
        ),
        backend_args: str | None = typer.Option(None, help="Override backend k=v arguments."),
        set_: list[str] = typer.Option(
            [],
            "--set",
            help="Override any config key, repeatable: --set problems_per_round=64 --set train.epochs=2.",
        ),
    ) -> None:
        """Run (or --resume) a STaR loop from a YAML config."""
        if ctx.invoked_subcommand is not None:
            return
        if config is None:
            typer.echo(ctx.get_help())
            raise typer.Exit(0)
        from thinklab.star import load_config, run_star
        from thinklab.star.report import markdown_table

        cfg = load_config(
            config,
            out_dir=str(out_dir) if out_dir else None,
            rounds=rounds,
            base_model=base_model,
            backend=backend,
            backend_args=backend_args,
            sets=set_,
        )
        reports = run_star(cfg, resume=resume, overwrite=overwrite)
        typer.echo(markdown_table(reports))
        typer.echo(f"run dir: {cfg.out_dir} (draw the curve with `thinklab star report {cfg.out_dir}`)")

    @star.command("report")
    def report_cmd(
        run_dir: Path = typer.Argument(..., help="A STaR run dir."),
        out: Path | None = typer.Option(None, help="Curve PNG path (default: RUN_DIR/curve.png)."),
    ) -> None:
        """Per-round table (Accuracy, Format-Pass, Avg Steps, Timeout%, examples added) and the curve."""
        from thinklab.star.report import report

        _, png = report(run_dir, out)
        typer.echo(f"curve: {png}")
