"""`thinklab train sft`: TRL's SFTTrainer on any messages / sharegpt / alpaca JSONL, full or LoRA.

Every example becomes a prompt/completion pair: the prompt is exactly eval's standard prompt for the
model's family (chat template + the thinking prefill, `prompting.training_prompt`), the completion is
the rest of the assistant response, and the loss is on the completion only. So training sees the token
sequence the model sees at inference, whether the data's responses open their thinking themselves
(thinklab's traces) or start inside it (R1 outputs made with a template that prefills `<think>\n`).

Multi-GPU users launch the same command under Accelerate (`accelerate launch --config_file
configs/accelerate/deepspeed_zero3.yaml -m thinklab train sft ...`); TRL/Transformers pick the
distributed setup up from the launcher. LoRA adapters are merged into the base weights by default so
the output is a plain model directory that every backend loads.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from thinklab.config import option
from thinklab.data.writers import read_examples
from thinklab.errors import ThinklabError
from thinklab.models import begin
from thinklab.prompting.modes import MARKER_FILE, R1, ThinkingFormat, format_for, training_prompt
from thinklab.train.precision import default_bf16


@dataclass
class SFTRunConfig:
    """`thinklab train sft`: TRL's SFTTrainer on a JSONL of problems and full responses."""

    model: str = option("tiny", "Base model: hub id, local dir, or `tiny`.")
    data: str = option(help="messages / sharegpt / alpaca JSONL (any format thinklab writes).")
    out: str = option("runs/sft", "Output model directory.")
    epochs: float = option(1.0, "Training epochs (ignored when max_steps > 0).")
    max_steps: int = option(-1, "Optimizer steps (overrides epochs).")
    batch_size: int = option(16, "Per-device batch size.")
    grad_accum: int = option(1, "Gradient accumulation steps.")
    learning_rate: float = option(2e-4, "Peak learning rate.")
    lr_scheduler: str = option("cosine", "Learning-rate schedule (Transformers' names).")
    warmup_ratio: float = option(0.05, "Warmup as a fraction of the steps.")
    max_length: int = option(1024, "Longest training sequence in tokens.")
    lora: bool = option(False, "Train a LoRA adapter (PEFT) instead of all weights.")
    lora_r: int = option(16, "LoRA rank.")
    lora_alpha: int | None = option(None, "LoRA alpha (default: 2 x lora_r).")
    lora_dropout: float = option(0.05, "LoRA dropout.")
    merge_lora: bool = option(True, "Merge the adapter into the base weights when done.")
    bf16: bool | None = option(
        None, "bf16 training (default: where native: a bf16 GPU, or a CPU with AVX512-BF16/AMX)."
    )
    gradient_checkpointing: bool = option(False, "Recompute activations in the backward pass (less memory).")
    seed: int = option(42, "Seed.")
    logging_steps: int = option(10, "Log every N steps.")
    save_steps: int = option(0, "Checkpoint every N steps; a rerun then resumes from the latest (0: off).")
    trust_remote_code: bool = option(False, "Allow model repos to run their own code.")
    thinking_format: str | None = option(
        None,
        "Thinking markers: r1 | qwen3 | qwen3-thinking | s1 | tiny, or a YAML file (default: recognised).",
    )
    extra_args: dict = option(factory=dict, help="Any other TRL SFTConfig field (--config / --set only).")

    def __post_init__(self) -> None:
        if self.lora_alpha is None:
            self.lora_alpha = 2 * self.lora_r


def build_rows(data: str, tokenizer, fmt: ThinkingFormat = R1) -> list[dict]:
    """Prompt/completion rows whose prompt is eval's standard prompt for the model's family."""
    rows = []
    for ex in read_examples(data):
        prompt, (completion,) = training_prompt(tokenizer, ex.user_content, ex.system, [ex.response], fmt)
        rows.append({"prompt": prompt, "completion": completion})
    if not rows:
        raise ThinklabError(f"{data} holds no training examples")
    return rows


def run_sft(cfg: SFTRunConfig) -> Path:
    """Fine-tune and save a loadable model dir at `cfg.out`; returns it."""
    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    from thinklab.models import resolve_model_path

    base = resolve_model_path(cfg.model)
    tokenizer = AutoTokenizer.from_pretrained(base, trust_remote_code=cfg.trust_remote_code)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    fmt = format_for(base, tokenizer, cfg.thinking_format)
    dataset = Dataset.from_list(build_rows(cfg.data, tokenizer, fmt))
    model = AutoModelForCausalLM.from_pretrained(
        base, dtype=torch.float32, trust_remote_code=cfg.trust_remote_code
    )
    peft_config = None
    if cfg.lora:
        from peft import LoraConfig

        peft_config = LoraConfig(
            r=cfg.lora_r,
            lora_alpha=cfg.lora_alpha,
            lora_dropout=cfg.lora_dropout,
            target_modules="all-linear",
            task_type="CAUSAL_LM",
        )
    run = begin(cfg.out, asdict(cfg), cfg.save_steps)  # written to a sibling, renamed when complete
    bf16 = default_bf16(cfg.bf16)
    args = SFTConfig(
        output_dir=str(run.trainer_dir),
        num_train_epochs=cfg.epochs,
        max_steps=cfg.max_steps,
        per_device_train_batch_size=cfg.batch_size,
        gradient_accumulation_steps=cfg.grad_accum,
        learning_rate=cfg.learning_rate,
        lr_scheduler_type=cfg.lr_scheduler,
        warmup_steps=cfg.warmup_ratio,  # transformers 5: a float < 1 in warmup_steps is a ratio (no warmup_ratio)
        bf16=bf16,
        use_cpu=not torch.cuda.is_available(),
        # TRL turns these on by default; on CPU they only cost time, so they are explicit here.
        activation_checkpointing=cfg.gradient_checkpointing,
        packing=False,
        padding_free=False,
        completion_only_loss=True,
        max_length=cfg.max_length,
        train_sampling_strategy="group_by_length",
        logging_steps=cfg.logging_steps,
        **run.save_args(),
        report_to="none",
        seed=cfg.seed,
        disable_tqdm=True,
        **cfg.extra_args,
    )
    started = time.time()
    trainer = SFTTrainer(
        model=model, args=args, train_dataset=dataset, processing_class=tokenizer, peft_config=peft_config
    )
    trainer.train(resume_from_checkpoint=run.resume_from())
    model = trainer.model
    if cfg.lora and cfg.merge_lora:
        model = model.merge_and_unload()
    model.save_pretrained(str(run.staging), safe_serialization=True)
    tokenizer.save_pretrained(str(run.staging))
    _carry_marker(
        base,
        run.staging,
        {
            "sft": {
                **asdict(cfg),
                "minutes": round((time.time() - started) / 60, 2),
                "losses": [round(h["loss"], 4) for h in trainer.state.log_history if "loss" in h],
            }
        },
        fmt,
    )
    return run.commit()


def _carry_marker(base: str, out: Path, extra: dict, fmt: ThinkingFormat) -> None:
    """Fine-tunes of a thinklab model keep its prompt-mode family; the training record is appended."""
    src = Path(base) / MARKER_FILE
    meta = json.loads(src.read_text()) if src.is_file() else {}
    meta.setdefault("history", []).append(extra)
    meta["base_model"] = base
    # The family it was trained in: a real model's fine-tune (no marker in its base) is recognised by
    # this, not by a folder name or chat template it may no longer show (s1 is known by name only).
    meta["thinking_format"] = fmt.record()
    (out / MARKER_FILE).write_text(json.dumps(meta, indent=2))
