"""`ValueTrainConfig`, the options of `thinklab train value`, in a module of its own: the trainer module
imports torch at the top (its value head is an `nn.Module`), and the CLI reads every config class at start."""

from __future__ import annotations

from dataclasses import dataclass

from thinklab.config import option

LOSS_ON = ("roll-out", "generated")


@dataclass
class ValueTrainConfig:
    """`thinklab train value`: a token-level value head (VGS) on a causal-LM backbone."""

    data: tuple[str, ...] = option(
        help="Rollouts JSONL from `thinklab rollouts`; several comma-separated, read in order as one file."
    )
    model: str = option("tiny", "Backbone: hub id, local causal-LM dir, or `tiny` (VGS: the policy itself).")
    init_from: str | None = option(
        None,
        "Go on training this value-model dir (backbone, head, policy copy) instead of a fresh head on model, "
        "e.g. on more roll-outs; fresh optimizer and schedule.",
    )
    out: str = option("runs/value", "Output dir (backbone + value_head.safetensors).")
    eval_data: str | None = option(None, "Held-out rollouts: report ROC AUC after training.")
    epochs: float = option(1.0, "Training epochs (ignored when max_steps > 0).")
    max_steps: int = option(-1, "Optimizer steps (overrides epochs).")
    batch_size: int = option(16, "Per-device batch size (roll-outs).")
    grad_accum: int = option(1, "Gradient accumulation steps.")
    learning_rate: float = option(1e-4, "Peak learning rate (VGS: 1e-4).")
    min_lr_rate: float = option(0.1, "Final learning rate as a fraction of the peak (cosine with min lr).")
    warmup_ratio: float = option(0.05, "Warmup as a fraction of all steps.")
    weight_decay: float = option(0.1, "AdamW weight decay (not on norms and biases).")
    max_grad_norm: float = option(5.0, "Gradient clipping norm.")
    max_length: int = option(1024, "Longest sequence in tokens (longer ones are cut).")
    num_labels: int = option(3, "Outcome classes: wrong, correct, unfinished.")
    dropout: float = option(0.05, "Dropout on hidden states before the head (training only).")
    logprob_features: bool = option(
        False,
        "Head also reads the policy's running log-prob statistics (a frozen copy of model is saved with it; "
        "not in VGS). See docs/search.md.",
    )
    freeze_backbone: bool = option(
        False, "Train the head only (VGS trains the backbone too): fewer weights to overfit."
    )
    loss_on: str = option(
        "roll-out",
        "Tokens the loss reads: roll-out (VGS) | generated (roll-in too: on-policy here, each fitted to the "
        "mean outcome of its roll-outs). See docs/search.md.",
    )
    bf16: bool | None = option(
        None, "bf16 training (default: where native: a bf16 GPU, or a CPU with AVX512-BF16/AMX)."
    )
    seed: int = option(42, "Seed.")
    logging_steps: int = option(10, "Log every N steps.")
    save_steps: int = option(0, "Checkpoint every N steps; a rerun then resumes from the latest (0: off).")
    trust_remote_code: bool = option(False, "Allow model repos to run their own code.")
    extra_args: dict = option(
        factory=dict, help="Any other Transformers TrainingArguments field (--config / --set only)."
    )

    def __post_init__(self) -> None:
        if isinstance(self.data, str):  # one path given in Python
            self.data = (self.data,)
