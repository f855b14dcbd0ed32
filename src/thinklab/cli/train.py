"""`thinklab train ...`: thin wrappers over TRL trainers. SFT lives here; each method adds its own
trainer command from a module `thinklab.cli.train_<name>` that defines `register(train_app)`."""

from __future__ import annotations

import importlib
from pathlib import Path

import typer

_TRAINER_MODULES = ["thinklab.cli.train_dpo", "thinklab.cli.train_grpo", "thinklab.cli.train_value"]


def register(app: typer.Typer) -> None:
    train = typer.Typer(
        help="Fine-tune models with TRL (SFT, DPO, GRPO) and train value models.", no_args_is_help=True
    )
    app.add_typer(train, name="train")
    for name in _TRAINER_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register(train)

    @train.command("sft")
    def sft_cmd(
        data: Path = typer.Option(
            ..., help="messages / sharegpt / alpaca JSONL (any format thinklab writes)."
        ),
        model: str = typer.Option("tiny", help="Base model: hub id, local dir, or `tiny`."),
        out: Path = typer.Option(Path("runs/sft"), help="Output model directory."),
        epochs: float = typer.Option(1.0, help="Training epochs (ignored when --max-steps > 0)."),
        max_steps: int = typer.Option(-1, help="Optimizer steps (overrides epochs)."),
        batch_size: int = typer.Option(16, help="Per-device batch size."),
        grad_accum: int = typer.Option(1, help="Gradient accumulation steps."),
        learning_rate: float = typer.Option(2e-4, help="Peak learning rate."),
        max_length: int = typer.Option(1024, help="Longest sequence in tokens."),
        lora: bool = typer.Option(False, help="Train a LoRA adapter (PEFT) instead of all weights."),
        lora_r: int = typer.Option(16, help="LoRA rank."),
        merge_lora: bool = typer.Option(True, help="Merge the adapter into the base weights when done."),
        seed: int = typer.Option(42, help="Seed."),
        save_steps: int = typer.Option(0, help="Checkpoint every N steps; a rerun then resumes (0: off)."),
        trust_remote_code: bool = typer.Option(False, help="Allow model repos to run their own code."),
        thinking_format: str | None = typer.Option(
            None,
            help="Thinking markers: r1 | qwen3 | qwen3-thinking | s1 | tiny, or a YAML file (default: recognised).",
        ),
    ) -> None:
        """Supervised fine-tuning on a JSONL of problems and full responses (loss on responses only)."""
        from thinklab.train.sft import SFTRunConfig, run_sft

        cfg = SFTRunConfig(
            model=model,
            data=str(data),
            out_dir=str(out),
            epochs=epochs,
            max_steps=max_steps,
            batch_size=batch_size,
            grad_accum=grad_accum,
            learning_rate=learning_rate,
            max_length=max_length,
            lora=lora,
            lora_r=lora_r,
            lora_alpha=2 * lora_r,
            merge_lora=merge_lora,
            seed=seed,
            save_steps=save_steps,
            trust_remote_code=trust_remote_code,
            thinking_format=thinking_format,
        )
        typer.echo(f"saved {run_sft(cfg)}")
