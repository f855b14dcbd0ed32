"""`thinklab train grpo`: GRPO with AutoThink's staged reward (or a plain correct + length reward)."""

from __future__ import annotations

from pathlib import Path

import typer


def register(train: typer.Typer) -> None:
    @train.command("grpo")
    def grpo_cmd(
        model: str = typer.Option(
            "tiny", help="Start policy: hub id, local dir, or `tiny` (stage 2 starts from stage 1's output)."
        ),
        out: Path = typer.Option(
            Path("runs/grpo"), help="Output model directory (also gets grpo_log.jsonl)."
        ),
        reward: str = typer.Option("autothink", help="autothink | correct-length."),
        stage: int = typer.Option(
            1, help="AutoThink stage: 1 balance both modes, 2 accuracy, 3 length pruning."
        ),
        preset: str = typer.Option(
            "cpu", help="cpu (tiny model, minutes) | full (the authors' GPU settings)."
        ),
        task: str = typer.Option("arith:train", help="Training problems: registry name or jsonl:PATH."),
        data_dir: Path | None = typer.Option(None, help="Benchmark data folder for registry tasks."),
        prompt_mode: str | None = typer.Option(
            None, help="standard | no-think | ellipsis (default: ellipsis for autothink)."
        ),
        user_template: str | None = typer.Option(
            None, help="User text with {problem}; `autothink` = the authors' R1 template."
        ),
        alpha: float | None = typer.Option(
            None, help="Length shaping of correct answers (preset: 0, 0, 0.05)."
        ),
        beta: float | None = typer.Option(None, help="Length shaping of wrong answers (preset: 0, 0, 0.05)."),
        gamma: float | None = typer.Option(
            None, help="Batch-balance threshold (preset: 0.5, 1.0, 1.0; 1.0 = off)."
        ),
        max_steps: int | None = typer.Option(None, help="Optimizer steps (-1 = run --epochs)."),
        epochs: float | None = typer.Option(None, help="Epochs over the prompts when --max-steps is -1."),
        learning_rate: float | None = typer.Option(None, help="Learning rate (preset: cpu 2e-5, full 1e-6)."),
        num_generations: int | None = typer.Option(
            None, help="Completions per prompt (GRPO group size, preset 8)."
        ),
        prompts_per_rollout: int | None = typer.Option(
            None, help="Prompts per generation batch (the batch-balance batch)."
        ),
        prompts_per_update: int | None = typer.Option(
            None, help="Prompts per optimizer step (PPO mini-batch)."
        ),
        max_completion_length: int | None = typer.Option(None, help="Token cap per completion."),
        temperature: float | None = typer.Option(None, help="Sampling temperature (preset 0.6)."),
        max_prompts: int | None = typer.Option(None, help="Only the first N training prompts."),
        per_device_batch_size: int | None = typer.Option(None, help="Completions per device per micro-step."),
        length_penalty: float = typer.Option(
            0.1, help="correct-length reward: 1[correct] - this * tokens / cap."
        ),
        use_vllm: bool = typer.Option(False, help="Generate with vLLM (GPU; pip install thinklab[vllm])."),
        vllm_mode: str = typer.Option(
            "colocate", help="colocate (inside the trainer) | server (trl vllm-serve)."
        ),
        vllm_gpu_memory_utilization: float = typer.Option(0.3, help="GPU memory share for colocated vLLM."),
        vllm_server_base_url: str | None = typer.Option(None, help="URL of `trl vllm-serve` in server mode."),
        bf16: bool | None = typer.Option(None, help="bf16 (default: on for CUDA with bf16, off on CPU)."),
        save_steps: int | None = typer.Option(
            None, help="Checkpoint every N steps; a rerun resumes from the latest."
        ),
        seed: int = typer.Option(42, help="Seed."),
        trust_remote_code: bool = typer.Option(False, help="Allow model repos to run their own code."),
        thinking_format: str | None = typer.Option(
            None,
            help="Thinking markers: r1 | qwen3 | qwen3-thinking | s1 | tiny, or a YAML file (default: recognised).",
        ),
    ) -> None:
        """One GRPO run with TRL: an AutoThink stage (`--reward autothink --stage 1|2|3`) or plain GRPO."""
        from thinklab.autothink.data import AUTOTHINK_USER_TEMPLATE
        from thinklab.autothink.grpo import GRPORunConfig, run_grpo

        cfg = GRPORunConfig(
            model=model, out_dir=str(out), reward=reward, stage=stage, preset=preset, task=task,
            data_dir=str(data_dir) if data_dir else None, prompt_mode=prompt_mode,
            user_template=AUTOTHINK_USER_TEMPLATE if user_template == "autothink" else user_template,
            alpha=alpha, beta=beta, gamma=gamma, max_steps=max_steps, epochs=epochs, learning_rate=learning_rate,
            num_generations=num_generations, prompts_per_rollout=prompts_per_rollout,
            prompts_per_update=prompts_per_update, max_completion_length=max_completion_length,
            temperature=temperature, max_prompts=max_prompts, per_device_batch_size=per_device_batch_size,
            length_penalty=length_penalty, use_vllm=use_vllm, vllm_mode=vllm_mode,
            vllm_gpu_memory_utilization=vllm_gpu_memory_utilization, vllm_server_base_url=vllm_server_base_url,
            bf16=bf16, save_steps=save_steps, seed=seed, trust_remote_code=trust_remote_code, thinking_format=thinking_format,
        )  # fmt: skip
        typer.echo(f"saved {run_grpo(cfg)}")
