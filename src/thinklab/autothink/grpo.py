"""`thinklab train grpo`: TRL's GRPOTrainer with AutoThink's reward (or a plain correct + length reward).

One call trains one AutoThink stage: ``run_grpo(GRPORunConfig(model=..., stage=1))``, then stage 2 starts
from stage 1's output dir, and so on. Batch sizes are given the way the authors (verl) count them —
prompts per rollout batch, prompts per optimizer update, completions per prompt — and translated to TRL's
per-device terms here, where TRL's ``per_device_train_batch_size`` counts *completions*:

    completions per update = prompts_per_update * num_generations
                           = per_device_train_batch_size * world_size * gradient_accumulation_steps
    steps_per_generation   = gradient_accumulation_steps * (prompts_per_rollout / prompts_per_update)

so one rollout batch (``prompts_per_rollout * num_generations`` completions, which is also the "batch" of
AutoThink's batch-balance term) feeds ``prompts_per_rollout / prompts_per_update`` optimizer steps.

The rest matches the authors' GRPO: group mean/std advantages (``scale_rewards="group"``; TRL adds 1e-4
to the std where verl adds 1e-6), token-mean loss over the update (``loss_type="dapo"``, verl's
token-mean), clip 0.2 both sides, no KL (``beta=0``, so no reference model is loaded), one PPO epoch per
rollout (``num_iterations=1``), truncated completions kept (they score 0 as format errors).

On GPUs, ``use_vllm=True`` generates with vLLM: ``vllm_mode="colocate"`` runs it inside the trainer
processes (set ``vllm_gpu_memory_utilization``), ``vllm_mode="server"`` talks to ``trl vllm-serve --model
M`` started on other GPUs (``vllm_server_base_url``). Launch multi-GPU runs with ``accelerate launch``.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from thinklab.autothink.rewards import AutoThinkReward, CorrectnessLengthReward
from thinklab.autothink.stages import StagePreset, stage_preset
from thinklab.config import option
from thinklab.errors import ThinklabError
from thinklab.models import begin
from thinklab.prompting.modes import MARKER_FILE, PROMPT_MODES, format_for

REWARDS = ("autothink", "correct-length")
LOG_FILE = "grpo_log.jsonl"


@dataclass
class GRPORunConfig:
    """`thinklab train grpo`: one GRPO run with TRL (an AutoThink stage, or plain correct + length)."""

    model: str = option(
        "tiny", "Start policy: hub id, local dir, or `tiny` (stage 2 starts from stage 1's output)."
    )
    out: str = option("runs/grpo", "Output model directory (also gets grpo_log.jsonl).")
    reward: str = option("autothink", "autothink | correct-length.")
    stage: int = option(1, "AutoThink stage: 1 balance both modes, 2 accuracy, 3 length pruning.")
    preset: str = option("cpu", "cpu (tiny model, minutes) | full (the authors' GPU settings).")
    task: str = option("arith:train", "Training problems: registry name or jsonl:PATH.")
    data_dir: str | None = option(None, "Benchmark data folder for registry tasks.")
    prompt_mode: str | None = option(
        None, "standard | no-think | ellipsis (default: ellipsis for autothink)."
    )
    prompt_template: str | None = option(
        None,
        "User message: sky | autothink | vgs | plain, or text with {problem} (default: the task's; "
        "autothink = the AutoThink authors' R1 template).",
    )
    # Overrides of the stage preset (None keeps the preset's value).
    alpha: float | None = option(None, "Length shaping of correct answers (preset: 0, 0, 0.05).")
    beta: float | None = option(None, "Length shaping of wrong answers (preset: 0, 0, 0.05).")
    gamma: float | None = option(None, "Batch-balance threshold (preset: 0.5, 1.0, 1.0; 1.0 = off).")
    max_steps: int | None = option(None, "Optimizer steps (-1 = run epochs).")
    epochs: float | None = option(None, "Epochs over the prompts when max_steps is -1.")
    learning_rate: float | None = option(None, "Learning rate (preset: cpu 2e-5, full 1e-6).")
    num_generations: int | None = option(None, "Completions per prompt (GRPO group size, preset 8).")
    prompts_per_rollout: int | None = option(None, "Prompts per generation batch (the batch-balance batch).")
    prompts_per_update: int | None = option(None, "Prompts per optimizer step (PPO mini-batch).")
    max_tokens: int | None = option(None, "Token cap per completion (TRL's max_completion_length).")
    sampling: str | None = option(
        None, "k=v list: temperature (preset 0.6), top_p, top_k, min_p of the rollouts."
    )
    max_prompts: int | None = option(None, "Only the first N training prompts.")
    per_device_batch_size: int | None = option(
        None, "Completions per device per micro-step (default: a whole update)."
    )
    length_penalty: float = option(0.1, "correct-length reward: 1[correct] - this * tokens / cap.")
    use_vllm: bool = option(False, "Generate with vLLM (GPU; pip install thinklab[vllm]).")
    vllm_mode: str = option("colocate", "colocate (inside the trainer) | server (trl vllm-serve).")
    vllm_gpu_memory_utilization: float = option(0.3, "GPU memory share for colocated vLLM.")
    vllm_server_base_url: str | None = option(None, "URL of `trl vllm-serve` in server mode.")
    bf16: bool | None = option(
        None, "bf16 (default: on for CUDA with bf16, off on CPU: fp32 keeps PPO ratios exact)."
    )
    gradient_checkpointing: bool = option(False, "Recompute activations in the backward pass (less memory).")
    save_steps: int | None = option(None, "Checkpoint every N steps; a rerun resumes from the latest.")
    seed: int = option(42, "Seed.")
    logging_steps: int = option(1, "Log every N steps.")
    trust_remote_code: bool = option(False, "Allow model repos to run their own code.")
    thinking_format: str | None = option(
        None,
        "Thinking markers: r1 | qwen3 | qwen3-thinking | s1 | tiny, or a YAML file (default: recognised).",
    )
    extra_args: dict = option(factory=dict, help="Any other TRL GRPOConfig field (--config / --set only).")

    def sampling_values(self) -> dict[str, float]:
        """`sampling` as GRPOConfig fields; only what TRL's rollouts take, anything else is an error."""
        from thinklab.backends import parse_kv

        values = parse_kv(self.sampling)
        unknown = sorted(set(values) - {"temperature", "top_p", "top_k", "min_p"})
        if unknown:
            raise ThinklabError(
                f"--sampling: {', '.join(unknown)} not supported by GRPO rollouts (temperature, top_p, top_k, min_p)"
            )
        return values

    def preset_values(self) -> StagePreset:
        return stage_preset(
            self.stage, self.preset, alpha=self.alpha, beta=self.beta, gamma=self.gamma,
            max_steps=self.max_steps, epochs=self.epochs, learning_rate=self.learning_rate,
            num_generations=self.num_generations, prompts_per_rollout=self.prompts_per_rollout,
            prompts_per_update=self.prompts_per_update, max_completion_length=self.max_tokens,
            temperature=self.sampling_values().get("temperature"), max_prompts=self.max_prompts,
        )  # fmt: skip


@dataclass(frozen=True)
class BatchLayout:
    per_device_train_batch_size: int
    gradient_accumulation_steps: int
    steps_per_generation: int


def batch_layout(preset: StagePreset, world_size: int = 1, per_device: int | None = None) -> BatchLayout:
    """TRL's per-device batch settings for the preset's prompt counts (see the module docstring)."""
    g, update = preset.num_generations, preset.completions_per_update
    if preset.prompts_per_rollout % preset.prompts_per_update:
        raise ThinklabError(
            f"prompts_per_rollout ({preset.prompts_per_rollout}) must be a multiple of prompts_per_update "
            f"({preset.prompts_per_update})"
        )
    if g < 2:
        raise ThinklabError("GRPO needs num_generations >= 2 (advantages are relative to the group)")
    per_device = per_device or max(1, update // world_size)
    if update % (per_device * world_size):
        raise ThinklabError(
            f"{update} completions per update ({preset.prompts_per_update} prompts x {g}) do not split into "
            f"{world_size} device(s) x {per_device} completions; change --per-device-batch-size"
        )
    accum = update // (per_device * world_size)
    return BatchLayout(per_device, accum, accum * preset.updates_per_rollout)


def _reward(cfg: GRPORunConfig, preset: StagePreset):
    if cfg.reward == "autothink":
        return AutoThinkReward(
            preset.alpha, preset.beta, preset.gamma, num_generations=preset.num_generations
        )
    if cfg.reward == "correct-length":
        return CorrectnessLengthReward(cfg.length_penalty, preset.max_completion_length)
    raise ThinklabError(f"unknown --reward {cfg.reward!r}; choose one of {', '.join(REWARDS)}")


def run_grpo(cfg: GRPORunConfig) -> Path:
    """Train one GRPO run (one AutoThink stage) and save a loadable model dir at `cfg.out`."""
    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    from thinklab.autothink.data import grpo_rows
    from thinklab.models import resolve_model_path

    preset = cfg.preset_values()
    reward = _reward(cfg, preset)
    prompt_mode = cfg.prompt_mode or ("ellipsis" if cfg.reward == "autothink" else "standard")
    if prompt_mode not in PROMPT_MODES:
        raise ThinklabError(f"unknown --prompt-mode {prompt_mode!r}; choose one of {', '.join(PROMPT_MODES)}")
    base = resolve_model_path(cfg.model)
    tokenizer = AutoTokenizer.from_pretrained(base, trust_remote_code=cfg.trust_remote_code)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    fmt = format_for(base, tokenizer, cfg.thinking_format)
    reward.thinking = fmt
    rows = grpo_rows(
        tokenizer, fmt, cfg.task, prompt_mode, cfg.prompt_template, cfg.data_dir, preset.max_prompts
    )
    if len(rows) < preset.prompts_per_rollout:
        raise ThinklabError(
            f"{cfg.task} gave {len(rows)} prompts, fewer than one rollout batch ({preset.prompts_per_rollout})"
        )
    cuda = torch.cuda.is_available()
    bf16 = cfg.bf16 if cfg.bf16 is not None else (cuda and torch.cuda.is_bf16_supported())
    world = int(os.environ.get("WORLD_SIZE", "1"))
    layout = batch_layout(preset, world, cfg.per_device_batch_size)
    model = AutoModelForCausalLM.from_pretrained(
        base,
        dtype=torch.bfloat16 if (bf16 and cuda) else torch.float32,
        trust_remote_code=cfg.trust_remote_code,
    )
    run = begin(cfg.out, asdict(cfg), cfg.save_steps)  # written to a sibling, renamed when complete
    out = run.staging
    vllm = {}
    if cfg.use_vllm:
        vllm = {"use_vllm": True, "vllm_mode": cfg.vllm_mode}
        if cfg.vllm_mode == "colocate":
            vllm["vllm_gpu_memory_utilization"] = cfg.vllm_gpu_memory_utilization
        elif cfg.vllm_server_base_url:
            vllm["vllm_server_base_url"] = cfg.vllm_server_base_url
    args = GRPOConfig(
        output_dir=str(run.trainer_dir),
        num_generations=preset.num_generations,
        per_device_train_batch_size=layout.per_device_train_batch_size,
        gradient_accumulation_steps=layout.gradient_accumulation_steps,
        steps_per_generation=layout.steps_per_generation,
        max_completion_length=preset.max_completion_length,
        temperature=preset.temperature,
        **{"top_p": 1.0, **{k: v for k, v in cfg.sampling_values().items() if k != "temperature"}},
        learning_rate=preset.learning_rate,
        lr_scheduler_type="constant",  # verl's default actor schedule (no warmup, constant)
        num_train_epochs=preset.epochs,
        max_steps=preset.max_steps,
        beta=0.0,
        epsilon=preset.epsilon,
        epsilon_high=preset.epsilon,
        num_iterations=1,
        loss_type="dapo",
        scale_rewards="group",
        mask_truncated_completions=False,
        bf16=bf16,
        use_cpu=not cuda,
        # TRL turns activation checkpointing on by default; on CPU and for small models it only costs time.
        activation_checkpointing=cfg.gradient_checkpointing,
        logging_steps=cfg.logging_steps,
        **run.save_args(),
        report_to="none",
        seed=cfg.seed,
        disable_tqdm=True,
        log_completions=False,
        **vllm,
        **cfg.extra_args,
    )
    log_path = out / LOG_FILE
    resume = run.resume_from()
    _trim_log(log_path, int(Path(resume).name.split("-")[-1]) if resume else 0)

    class _WriteLog(TrainerCallback):
        """Append every log entry (reward, think rate, lengths, loss) to grpo_log.jsonl as training runs."""

        def on_log(self, _args, state, _control, logs=None, **_kw):
            if logs:
                with log_path.open("a") as fh:
                    fh.write(json.dumps({"step": state.global_step, **logs}) + "\n")
                keys = ("reward", "autothink/think_rate", "autothink/accuracy", "completions/mean_length")
                brief = " ".join(f"{k.split('/')[-1]}={logs[k]:.3g}" for k in keys if k in logs)
                if brief:
                    print(f"[grpo step {state.global_step}/{state.max_steps}] {brief}", flush=True)

    started = time.time()
    trainer = GRPOTrainer(
        model=model,
        reward_funcs=[reward],
        args=args,
        train_dataset=Dataset.from_list(rows),
        processing_class=tokenizer,
        callbacks=[_WriteLog()],
    )
    trainer.train(resume_from_checkpoint=resume)
    trainer.save_model(str(out))
    tokenizer.save_pretrained(str(out))
    _write_marker(base, out, {
        "grpo": {
            **asdict(cfg), "preset_values": asdict(preset), "layout": asdict(layout), "prompt_mode": prompt_mode,
            "minutes": round((time.time() - started) / 60, 2),
        }
    }, fmt.record())  # fmt: skip
    return run.commit()


def _trim_log(path: Path, step: int) -> None:
    """Keep the log entries up to the checkpoint a run resumes from (all of them: none when it starts
    afresh), so the steps an interrupted run logged after its last checkpoint are not logged twice."""
    if not path.exists():
        return
    keep = [line for line in path.read_text().splitlines(keepends=True) if _step_of(line) <= step]
    path.write_text("".join(keep))


def _step_of(line: str) -> float:
    try:
        return json.loads(line).get("step", 0)
    except ValueError:  # a line cut off by the kill
        return float("inf")


def _write_marker(base: str, out: Path, extra: dict, fmt_record: str | dict) -> None:
    """Keep the base model's prompt-mode family (the tiny model's no-think string) and append the history."""
    src = Path(base) / MARKER_FILE
    meta = json.loads(src.read_text()) if src.is_file() else {}
    meta.setdefault("history", []).append(extra)
    meta["base_model"] = base
    meta["thinking_format"] = fmt_record  # the family it was trained in (a real model's base has no marker)
    (out / MARKER_FILE).write_text(json.dumps(meta, indent=2, default=str))
