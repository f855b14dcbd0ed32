"""`thinklab tiny ...`: train the embedded tiny model, and measure what its traces contain."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    tiny = typer.Typer(help="The embedded tiny reasoning model and its arith task.", no_args_is_help=True)
    app.add_typer(tiny, name="tiny")

    @tiny.command("train")
    def train_cmd(
        out: Path = typer.Option(Path("runs/tiny"), help="Output model directory."),
        steps: int = typer.Option(2400, help="Optimizer steps."),
        batch_size: int = typer.Option(16, help="Sequences per step."),
        learning_rate: float = typer.Option(1e-3, help="Peak learning rate (cosine schedule)."),
        style: str = typer.Option(
            "verbose-rules", help="Trace style to train on: verbose-rules | verbose | concise."
        ),
        seed: int = typer.Option(0, help="Seed for data, tokenizer and init."),
        threads: int | None = typer.Option(None, help="torch threads (default: all cores)."),
        init_from: Path | None = typer.Option(
            None, help="Continue training this tiny model dir instead of starting from scratch."
        ),
        warmup_steps: int = typer.Option(100, help="Linear warm-up steps."),
        levels: str = typer.Option(
            "1,2,3,4,5,6,7,8,6,7,8", help="Difficulty levels to draw, cycled (repeat a level to weight it)."
        ),
        direct_fraction: float = typer.Option(
            0.0, help="Share of rows that answer at once under the no-think prefill (no thinking)."
        ),
        direct_levels: str = typer.Option("1,2,3", help="Levels the direct-answer rows are drawn from."),
        bf16: bool | None = typer.Option(
            None,
            help="bf16 autocast (default: on a bf16 GPU or a CPU with native bf16; emulated bf16 is ~30x slower).",
        ),
        save_steps: int | None = typer.Option(None, help="Save a model-only checkpoint every N steps."),
        install: bool = typer.Option(False, help="Also copy the result over the shipped checkpoint."),
    ) -> None:
        """Train the tiny model with TRL's SFTTrainer, from scratch or from --init-from. The defaults are the
        shipped checkpoint's first stage; it then had 1000 steps at lr 3e-4 (scripts/experiments/tiny.sh --train)."""
        from thinklab.cli.options import int_list
        from thinklab.tasks.arith import MAX_LEVEL
        from thinklab.tiny.train import TinyTrainConfig, train_tiny

        cfg = TinyTrainConfig(
            out_dir=str(out),
            steps=steps,
            batch_size=batch_size,
            learning_rate=learning_rate,
            examples=steps * batch_size,
            style=style,
            seed=seed,
            threads=threads,
            init_from=str(init_from) if init_from else None,
            warmup_steps=warmup_steps,
            levels=int_list(levels, "--levels", "1,2,3", minimum=1, maximum=MAX_LEVEL),
            direct_fraction=direct_fraction,
            direct_levels=int_list(direct_levels, "--direct-levels", "1,2,3", minimum=1, maximum=MAX_LEVEL),
            bf16=bf16,
            save_steps=save_steps,
        )
        path = train_tiny(cfg)
        typer.echo(f"saved {path}")
        if install:
            from thinklab.tiny.model import install_checkpoint

            typer.echo(f"installed into {install_checkpoint(path)}")

    @tiny.command("redundancy")
    def redundancy_cmd(
        model: str = typer.Option("tiny", help="Model to feed the traces back to."),
        limit: int = typer.Option(400, help="Test problems to use."),
    ) -> None:
        """Feed gold traces (in the model's training style) back as thinking, whole and with redundant lines
        removed; report answer accuracy."""
        from rich.console import Console
        from rich.table import Table

        from thinklab.tiny.analysis import redundancy_check

        rows = redundancy_check(model, limit)
        table = Table(title="answer accuracy when the given thinking is fed back")
        for c in ("thinking given", "mean thinking tokens", "accuracy %"):
            table.add_column(c, justify="right")
        for name, tokens, acc in rows:
            table.add_row(name, f"{tokens:.1f}", f"{100 * acc:.1f}")
        Console().print(table)
