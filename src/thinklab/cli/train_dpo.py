"""`thinklab train dpo`: parse arguments into `DPORunConfig` and call `run_dpo` (ThinkPO's trainer)."""

from __future__ import annotations

from pathlib import Path

import typer


def register(train: typer.Typer) -> None:
    @train.command("dpo")
    def dpo_cmd(
        data: Path = typer.Option(
            ..., help="Preference JSONL (prompt/chosen/rejected; `pairs thinkpo` output)."
        ),
        model: str = typer.Option("tiny", help="Policy to start from: hub id, local dir, or `tiny`."),
        out: Path = typer.Option(Path("runs/dpo"), help="Output model directory."),
        ref_model: str | None = typer.Option(
            None,
            help="Reference model (default: a frozen copy of --model; with --lora the adapter-free base).",
        ),
        beta: float = typer.Option(0.01, help="DPO beta (ThinkPO README: 0.01)."),
        loss_type: str = typer.Option("sigmoid", help="TRL loss type (sigmoid = DPO)."),
        sft_weight: float = typer.Option(
            0.0, help="Weight of an added NLL loss on the chosen responses (RPO); 0 = plain DPO."
        ),
        learning_rate: float = typer.Option(3e-7, help="Peak learning rate (ThinkPO README: 3e-7 for 7B)."),
        epochs: float = typer.Option(1.0, help="Training epochs (ignored when --max-steps > 0)."),
        max_steps: int = typer.Option(-1, help="Optimizer steps (overrides epochs)."),
        batch_size: int = typer.Option(8, help="Per-device batch size (pairs)."),
        grad_accum: int = typer.Option(1, help="Gradient accumulation steps."),
        warmup_ratio: float = typer.Option(0.1, help="Warmup as a fraction of the steps."),
        max_length: int = typer.Option(1024, help="Longest prompt+response in tokens (ThinkPO: 8192)."),
        precompute_ref_log_probs: bool = typer.Option(
            False, help="Compute reference log-probs once before training (saves memory)."
        ),
        lora: bool = typer.Option(False, help="Train a LoRA adapter (PEFT) instead of all weights."),
        lora_r: int = typer.Option(16, help="LoRA rank (alpha = 2 x rank)."),
        merge_lora: bool = typer.Option(True, help="Merge the adapter into the base weights when done."),
        seed: int = typer.Option(42, help="Seed."),
        save_steps: int = typer.Option(0, help="Checkpoint every N steps; a rerun then resumes (0: off)."),
        logging_steps: int = typer.Option(10, help="Log every N steps."),
        trust_remote_code: bool = typer.Option(False, help="Allow model repos to run their own code."),
        thinking_format: str | None = typer.Option(
            None,
            help="Thinking markers: r1 | qwen3 | qwen3-thinking | s1 | tiny, or a YAML file (default: recognised).",
        ),
    ) -> None:
        """Direct preference optimisation with TRL (prompt = chat template, responses incl. <think>)."""
        from thinklab.thinkpo.dpo import DPORunConfig, run_dpo

        cfg = DPORunConfig(
            model=model,
            data=str(data),
            out_dir=str(out),
            ref_model=ref_model,
            beta=beta,
            loss_type=loss_type,
            sft_weight=sft_weight,
            learning_rate=learning_rate,
            epochs=epochs,
            max_steps=max_steps,
            batch_size=batch_size,
            grad_accum=grad_accum,
            warmup_ratio=warmup_ratio,
            max_length=max_length,
            precompute_ref_log_probs=precompute_ref_log_probs,
            lora=lora,
            lora_r=lora_r,
            lora_alpha=2 * lora_r,
            merge_lora=merge_lora,
            seed=seed,
            logging_steps=logging_steps,
            save_steps=save_steps,
            trust_remote_code=trust_remote_code,
            thinking_format=thinking_format,
        )
        typer.echo(f"saved {run_dpo(cfg)}")
