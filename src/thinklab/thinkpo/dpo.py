"""`thinklab train dpo`: TRL's DPOTrainer on preference pairs, with `train sft`'s conventions.

Every pair becomes plain strings: the prompt is exactly eval's standard prompt for the model's family
(chat template + thinking prefill), chosen/rejected are the rest of each assistant response
(`prompting.training_prompt`); TRL appends the EOS token. That is the token sequence the model sees at
inference with the standard prompt mode, for the tiny model and R1-style models alike. thinklab does not let TRL apply the chat
template to the responses because R1-Distill templates drop the `<think>` block from assistant turns,
which would train DPO on the answers alone.

Reference model: by default a frozen copy of the starting policy (TRL loads it from the same path; with
LoRA no copy is needed, the adapter is disabled to get the reference log-probs). `ref_model` points at
another model; `precompute_ref_log_probs` computes the reference once before training and frees it.

Defaults are ThinkPO's README settings for 7B models (β 0.01, lr 3e-7, sigmoid loss, cosine, warmup
0.1, 1 epoch); the tiny model needs a far larger learning rate (see docs/thinkpo.md). Multi-GPU: launch
the same command under `accelerate launch` (DeepSpeed ZeRO-3 config in configs/accelerate/).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from thinklab.config import option
from thinklab.data.writers import read_pairs
from thinklab.errors import ThinklabError
from thinklab.models import begin
from thinklab.prompting.modes import MARKER_FILE, R1, ThinkingFormat, format_for, training_prompt


@dataclass
class DPORunConfig:
    """`thinklab train dpo`: TRL's DPOTrainer on prompt/chosen/rejected pairs (ThinkPO's trainer)."""

    model: str = option("tiny", "Policy to start from: hub id, local dir, or `tiny`.")
    data: str = option(help="Preference JSONL (prompt/chosen/rejected; `pairs thinkpo` output).")
    out: str = option("runs/dpo", "Output model directory.")
    ref_model: str | None = option(
        None, "Reference model (default: a frozen copy of model; with lora the adapter-free base)."
    )
    beta: float = option(0.01, "DPO beta (ThinkPO: 0.01).")
    loss_type: str = option("sigmoid", "TRL loss type (sigmoid = DPO).")
    # > 0 adds TRL's "sft" loss (NLL of the chosen response) with this weight: RPO. Plain DPO can
    # satisfy its margin by pushing the rejected (short) traces down without making the chosen (long)
    # ones likely; on the tiny model that destroyed the policy (docs/thinkpo.md).
    sft_weight: float = option(
        0.0, "Weight of an added NLL loss on the chosen responses (RPO); 0 = plain DPO."
    )
    learning_rate: float = option(3e-7, "Peak learning rate (ThinkPO: 3e-7 for 7B).")
    epochs: float = option(1.0, "Training epochs (ignored when max_steps > 0).")
    max_steps: int = option(-1, "Optimizer steps (overrides epochs).")
    batch_size: int = option(8, "Per-device batch size (pairs).")
    grad_accum: int = option(1, "Gradient accumulation steps.")
    lr_scheduler: str = option("cosine", "Learning-rate schedule (Transformers' names).")
    warmup_ratio: float = option(0.1, "Warmup as a fraction of the steps.")
    max_length: int = option(1024, "Longest prompt+response in tokens (ThinkPO: 8192).")
    precompute_ref_log_probs: bool = option(
        False, "Compute reference log-probs once before training (saves memory)."
    )
    lora: bool = option(False, "Train a LoRA adapter (PEFT) instead of all weights.")
    lora_r: int = option(16, "LoRA rank.")
    lora_alpha: int | None = option(None, "LoRA alpha (default: 2 x lora_r).")
    lora_dropout: float = option(0.05, "LoRA dropout.")
    merge_lora: bool = option(True, "Merge the adapter into the base weights when done.")
    bf16: bool | None = option(
        None,
        "bf16 training (default: on with CUDA bf16 support; off on CPU: imprecise log-probs, no speed-up).",
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
    extra_args: dict = option(factory=dict, help="Any other TRL DPOConfig field (--config / --set only).")

    def __post_init__(self) -> None:
        if self.lora_alpha is None:
            self.lora_alpha = 2 * self.lora_r


def build_rows(data: str, tokenizer, fmt: ThinkingFormat = R1) -> list[dict]:
    """Plain prompt/chosen/rejected strings: eval's standard prompt for the model's family, the rest of
    each assistant response (`prompting.training_prompt`)."""
    rows = []
    for pair in read_pairs(data):
        prompt, (chosen, rejected) = training_prompt(
            tokenizer, pair.prompt, pair.system, [pair.chosen, pair.rejected], fmt
        )
        rows.append({"prompt": prompt, "chosen": chosen, "rejected": rejected})
    if not rows:
        raise ThinklabError(f"{data} holds no preference pairs")
    return rows


def run_dpo(cfg: DPORunConfig) -> Path:
    """Train with DPO and save a loadable model dir at `cfg.out` (LoRA merged by default)."""
    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import DPOConfig, DPOTrainer

    from thinklab.models import resolve_model_path

    base = resolve_model_path(cfg.model)
    tokenizer = AutoTokenizer.from_pretrained(base, trust_remote_code=cfg.trust_remote_code)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    fmt = format_for(base, tokenizer, cfg.thinking_format)
    dataset = Dataset.from_list(build_rows(cfg.data, tokenizer, fmt))
    load = dict(dtype=torch.float32, trust_remote_code=cfg.trust_remote_code)
    model = AutoModelForCausalLM.from_pretrained(base, **load)
    ref = None
    if cfg.ref_model:
        ref = AutoModelForCausalLM.from_pretrained(resolve_model_path(cfg.ref_model), **load)
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
    cuda = torch.cuda.is_available()
    bf16 = cfg.bf16 if cfg.bf16 is not None else (cuda and torch.cuda.is_bf16_supported())
    args = DPOConfig(
        output_dir=str(run.trainer_dir),
        num_train_epochs=cfg.epochs,
        max_steps=cfg.max_steps,
        per_device_train_batch_size=cfg.batch_size,
        gradient_accumulation_steps=cfg.grad_accum,
        learning_rate=cfg.learning_rate,
        lr_scheduler_type=cfg.lr_scheduler,
        warmup_steps=cfg.warmup_ratio,  # transformers 5: a float < 1 in warmup_steps is a ratio
        beta=cfg.beta,
        loss_type=[cfg.loss_type, "sft"] if cfg.sft_weight > 0 else [cfg.loss_type],
        loss_weights=[1.0, cfg.sft_weight] if cfg.sft_weight > 0 else None,
        max_length=cfg.max_length,
        precompute_ref_log_probs=cfg.precompute_ref_log_probs,
        bf16=bf16,
        use_cpu=not cuda,
        # TRL turns activation checkpointing on by default; on CPU and small models it only costs time.
        activation_checkpointing=cfg.gradient_checkpointing,
        logging_steps=cfg.logging_steps,
        **run.save_args(),
        report_to="none",
        seed=cfg.seed,
        disable_tqdm=True,
        **cfg.extra_args,
    )
    started = time.time()
    trainer = DPOTrainer(
        model=model,
        ref_model=ref,
        args=args,
        train_dataset=dataset,
        processing_class=tokenizer,
        peft_config=peft_config,
    )
    trainer.train(resume_from_checkpoint=run.resume_from())
    model = trainer.model
    if cfg.lora and cfg.merge_lora:
        model = model.merge_and_unload()
    out = run.staging
    model.save_pretrained(str(out), safe_serialization=True)
    tokenizer.save_pretrained(str(out))
    log = [
        {k: (round(v, 5) if isinstance(v, float) else v) for k, v in h.items()}
        for h in trainer.state.log_history
    ]
    (out / "dpo_log.json").write_text(json.dumps(log, indent=2) + "\n")
    record = {
        **asdict(cfg),
        "pairs": len(dataset),
        "steps": trainer.state.global_step,
        "minutes": round((time.time() - started) / 60, 2),
    }
    _carry_marker(base, out, {"dpo": record}, fmt)
    return run.commit()


def _carry_marker(base: str, out: Path, extra: dict, fmt: ThinkingFormat) -> None:
    """Keep the base's prompt-mode family (thinklab.json) and append this training record, as `train
    sft` does, so backends keep prompting the fine-tune the way its base was trained."""
    src = Path(base) / MARKER_FILE
    meta = json.loads(src.read_text()) if src.is_file() else {}
    meta.setdefault("history", []).append(extra)
    meta["base_model"] = base
    # The family it was trained in: a real model's fine-tune (no marker in its base) is recognised by
    # this, not by a folder name or chat template it may no longer show (s1 is known by name only).
    meta["thinking_format"] = fmt.record()
    (out / MARKER_FILE).write_text(json.dumps(meta, indent=2))
