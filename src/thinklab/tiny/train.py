"""Train the tiny reasoning model from scratch on `arith` with TRL's SFTTrainer (`thinklab tiny train`).

The recipe: a fresh BPE tokenizer, a Llama model from config (see model.py for why Llama), prompt/completion pairs where the prompt
is the chat prompt plus the `<think>\\n` prefill and the completion is the verbose trace and boxed answer
(loss on the completion only), no packing and no padding-free batching (so every sequence keeps its own
position ids and attention mask — the failure mode where outputs ignore the prompt), length-grouped
batches to waste little on padding, bf16 autocast where the CPU has native bf16 (fp32 otherwise), cosine schedule.
"""

from __future__ import annotations

import json
import os
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from thinklab.config import option
from thinklab.errors import ThinklabError
from thinklab.models import begin, staging_dir
from thinklab.prompting.modes import MARKER_FILE, TINY, build_prompt
from thinklab.tasks import arith
from thinklab.train.precision import default_bf16


@dataclass
class TinyTrainConfig:
    """`thinklab tiny train`. Defaults = the shipped checkpoint's first stage (docs/tiny.md); it then had
    1000 steps at lr 3e-4 from `init_from`."""

    out: str = option("runs/tiny", "Output model directory.")
    steps: int = option(2400, "Optimizer steps.")
    batch_size: int = option(16, "Sequences per step.")
    learning_rate: float = option(1e-3, "Peak learning rate (cosine schedule).")
    warmup_steps: int = option(100, "Linear warm-up steps.")
    weight_decay: float = option(0.01, "AdamW weight decay.")
    examples: int | None = option(None, "Training rows (default: steps x batch_size, each row seen once).")
    style: str = option(arith.SHIPPED_STYLE, "Trace style to train on: verbose-rules | verbose | concise.")
    levels: tuple[int, ...] = option(
        (*range(1, arith.MAX_LEVEL + 1), 6, 7, 8),
        "Difficulty levels to draw, cycled (repeat a level to weight it).",
    )
    direct_fraction: float = option(
        0.0, "Share of rows that answer at once under the no-think prefill (no thinking)."
    )
    direct_levels: tuple[int, ...] = option((1, 2, 3), "Levels the direct-answer rows are drawn from.")
    seed: int = option(0, "Seed for data, tokenizer and init.")
    bf16: bool | None = option(
        None,
        "bf16 autocast (default: on a bf16 GPU or a CPU with native bf16; emulated bf16 is ~30x slower).",
    )
    threads: int | None = option(None, "torch threads (default: all cores).")
    logging_steps: int = option(50, "Log every N steps.")
    compile: bool = option(False, "torch.compile the model.")
    save_steps: int | None = option(None, "Save a model-only checkpoint every N steps.")
    init_from: str | None = option(
        None, "Continue training this tiny model dir (its tokenizer is kept) instead of from scratch."
    )
    install: bool = option(False, "Also copy the result over the shipped checkpoint.")
    model_overrides: dict = option(factory=dict, help="LlamaConfig fields to change (--config / --set only).")

    def __post_init__(self) -> None:
        if self.examples is None:
            self.examples = self.steps * self.batch_size
        for name in ("levels", "direct_levels"):
            bad = [v for v in getattr(self, name) if not 1 <= v <= arith.MAX_LEVEL]
            if bad:
                raise ThinklabError(f"{name}: levels are 1..{arith.MAX_LEVEL}, got {bad}")


def build_sft_rows(
    tokenizer,
    n: int,
    style: str,
    levels: tuple[int, ...],
    seed: int,
    direct_fraction: float = 0.0,
    direct_levels: tuple[int, ...] = (),
) -> list[dict]:
    """Prompt/completion rows from the train split (never the test split, by construction).

    `direct_fraction` of the rows (drawn from `direct_levels`) practise answering at once under the
    no-think prefill (`<think>\\n</think>\\n\\n` then `\\boxed{N}`): adaptive-thinking methods need a model
    that can answer easy problems without thinking, which a model trained only on traces cannot (the
    previous checkpoint: 0.5% with the no-think prompt, 5% even on level 1)."""
    rng = random.Random(seed)
    n_direct = round(n * direct_fraction) if direct_levels else 0
    rows = []
    for p in arith.generate(n - n_direct, "train", seed, levels, distinct=False):
        prompt = build_prompt(tokenizer, p.text(), "standard", fmt=TINY)
        rows.append({"prompt": prompt, "completion": arith.render_completion(p, style, rng)})
    if n_direct:
        for p in arith.generate(n_direct, "train", seed + 1, direct_levels, distinct=False):
            prompt = build_prompt(tokenizer, p.text(), "no-think", fmt=TINY)
            rows.append({"prompt": prompt, "completion": f"\\boxed{{{p.answer}}}"})
        rng.shuffle(rows)
    return rows


def train_tiny(cfg: TinyTrainConfig) -> Path:
    """Build tokenizer and model, train, save a loadable HF model dir to `cfg.out`; return it."""
    if cfg.style not in arith.TRACE_STYLES:  # before anything is imported, built or written
        raise ThinklabError(
            f"unknown trace style {cfg.style!r}; choose one of {', '.join(arith.TRACE_STYLES)}"
        )
    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, TrainerCallback
    from trl import SFTConfig, SFTTrainer

    from thinklab.tiny.model import tiny_config
    from thinklab.tiny.tokenizer import build_tokenizer

    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    # Written to a hidden sibling and renamed when complete (thinklab/models.py). Its checkpoints are
    # model-only (no optimizer state), so there is nothing to resume: a leftover is cleared first.
    import shutil

    shutil.rmtree(staging_dir(cfg.out), ignore_errors=True)
    run = begin(cfg.out, asdict(cfg))
    out = run.staging
    if cfg.init_from:
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(cfg.init_from)
        model = AutoModelForCausalLM.from_pretrained(cfg.init_from, dtype=torch.float32)
    else:
        tokenizer = build_tokenizer(seed=0)  # the tokenizer does not depend on the run's seed
        config = tiny_config(
            len(tokenizer),
            tokenizer.pad_token_id,
            tokenizer.bos_token_id,
            tokenizer.eos_token_id,
            **cfg.model_overrides,
        )
        model = AutoModelForCausalLM.from_config(config)
    n_params = sum(p.numel() for p in model.parameters())
    dataset = Dataset.from_list(
        build_sft_rows(
            tokenizer,
            cfg.examples,
            cfg.style,
            cfg.levels,
            cfg.seed,
            cfg.direct_fraction,
            cfg.direct_levels,
        )
    )

    args = SFTConfig(
        output_dir=str(out / "trainer"),
        max_steps=cfg.steps,
        per_device_train_batch_size=cfg.batch_size,
        learning_rate=cfg.learning_rate,
        lr_scheduler_type="cosine",
        warmup_steps=cfg.warmup_steps,
        weight_decay=cfg.weight_decay,
        bf16=default_bf16(cfg.bf16),
        use_cpu=not torch.cuda.is_available(),
        activation_checkpointing=False,
        packing=False,
        padding_free=False,
        completion_only_loss=True,
        max_length=1024,
        train_sampling_strategy="group_by_length",
        logging_steps=cfg.logging_steps,
        save_strategy="steps" if cfg.save_steps else "no",
        save_steps=cfg.save_steps or 500,
        save_only_model=True,
        report_to="none",
        seed=cfg.seed,
        dataloader_num_workers=0,
        disable_tqdm=True,
        torch_compile=cfg.compile,
        # Few distinct shapes keep torch.compile from recompiling for every batch length.
        pad_to_multiple_of=64 if cfg.compile else None,
    )
    started = time.time()
    losses: list[float] = []

    class _Log(TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kwargs):  # noqa: ARG002
            if logs and "loss" in logs:
                losses.append(round(float(logs["loss"]), 4))
                print(
                    f"step {state.global_step}/{state.max_steps} loss {logs['loss']:.4f} "
                    f"elapsed {time.time() - started:.0f}s",
                    flush=True,
                )

    trainer = SFTTrainer(
        model=model, args=args, train_dataset=dataset, processing_class=tokenizer, callbacks=[_Log()]
    )
    trainer.train()
    minutes = (time.time() - started) / 60
    model = trainer.model
    model.config.use_cache = True
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.save_pretrained(str(out), safe_serialization=True)
    tokenizer.save_pretrained(str(out))
    history = []
    if cfg.init_from and (Path(cfg.init_from) / MARKER_FILE).is_file():
        previous = json.loads((Path(cfg.init_from) / MARKER_FILE).read_text())
        history = previous.get("stages", [previous.get("train")])
    meta = {
        "prompt_modes": "tiny",
        "parameters": n_params,
        "stages": history,
        "train": {
            **asdict(cfg),
            "levels": list(cfg.levels),
            "direct_levels": list(cfg.direct_levels),
            "minutes": round(minutes, 1),
            "threads": torch.get_num_threads(),
            "losses": losses,
        },
    }
    meta["stages"] = [*history, meta["train"]]
    (out / MARKER_FILE).write_text(json.dumps(meta, indent=2))
    # Intermediate checkpoints (`save_steps`) move to out/checkpoints/step-N with the marker file, so
    # they load like the final model (tiny prompt modes); the rest of the trainer dir goes.
    for ckpt in sorted((out / "trainer").glob("checkpoint-*")):
        dest = out / "checkpoints" / f"step-{ckpt.name.split('-')[-1]}"
        dest.parent.mkdir(exist_ok=True)
        shutil.rmtree(dest, ignore_errors=True)
        shutil.move(str(ckpt), dest)
        for leftover in ("trainer_state.json", "training_args.bin"):
            (dest / leftover).unlink(missing_ok=True)
        (dest / MARKER_FILE).write_text(json.dumps({**meta, "checkpoint_step": int(dest.name[5:])}, indent=2))
    shutil.rmtree(out / "trainer", ignore_errors=True)
    os.sync()
    return run.commit()
