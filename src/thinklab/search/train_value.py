"""`thinklab train value`: train the value model on rollouts with the Transformers `Trainer`.

The Trainer gives the loop, schedule, clipping, bf16 autocast, Accelerate/DeepSpeed launch and
checkpoint-resume; thinklab adds only what is specific: a model whose `forward` returns VGS's masked
per-token loss (`ValueModel`), and a collator that right-pads ids, roll-out masks and labels.

Defaults follow VGS (`train_classifier.py`): AdamW (0.9, 0.95), eps 1e-6, weight decay 0.1 (not on
norms or biases; the Trainer's rule), grad clip 5.0, lr 1e-4, cosine to 0.1x after warmup. Deviations,
and why: warmup is a ratio (5%) rather than max(5%, 100 steps), since tiny runs have a few hundred steps
in all; rows are shuffled individually, not in VGS's groups of 2 roll-outs of one prompt (which only
serves its multi-GPU batching).

`evaluate_value` measures what the value model is for: ROC AUC of the prefix value (at the roll-in
cut) against the roll-out's outcome (correct vs not), per cut fraction, on held-out rollouts.
"""

from __future__ import annotations

import json
import random
import statistics
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from thinklab.errors import ThinklabError
from thinklab.models import begin
from thinklab.search.rollouts import LABEL_CORRECT, LABEL_UNFINISHED, read_rollouts
from thinklab.search.value_config import LOSS_ON, ValueTrainConfig
from thinklab.search.value_model import (
    ValueFunction,
    ValueHeadConfig,
    ValueModel,
    encode,
    require_value_dir,
)
from thinklab.train.precision import default_bf16


def build_examples(
    rows: Sequence[dict], tokenizer: Any, max_length: int, loss_on: str = "roll-out"
) -> list[dict]:
    """One example per roll-out: ids of prompt + roll-in + roll-out (one string, tokenised as at
    search time), the loss mask and the class label.

    `loss_on="roll-out"` (VGS) trains on the roll-out's tokens only: VGS's roll-ins come from other
    models, so their states are off-policy. Here roll-ins are the policy's own samples, so their
    states are on-policy too; `"generated"` also trains on them, against every roll-out sampled
    from them. A roll-in token is then fitted to the mean outcome of the roll-outs that continue it
    (a soft target), and the cut points that search scores are trained on directly."""
    if loss_on not in LOSS_ON:
        raise ThinklabError(f"loss_on must be one of {', '.join(LOSS_ON)}, not {loss_on!r}")
    examples = []
    for row in rows:
        head = row["prompt"] + row["roll_in"]
        for out, label in zip(row["roll_outs"], row["labels"], strict=True):
            enc = encode(tokenizer, head + out, offsets=True)
            ids = enc["input_ids"][:max_length]
            spans = enc["offset_mapping"][:max_length]
            # A token belongs to the roll-out if it ends after the roll-in (a token straddling the
            # boundary contains roll-out text); special tokens (empty spans) are never trained on.
            mask = [1 if (e > len(head) and e > s) else 0 for s, e in spans]
            if sum(mask) == 0:
                continue  # the roll-out fell beyond max_length: nothing to learn from it
            # The policy's tokens (roll-in and roll-out), by the same rule; read by log-prob features.
            generated = [1 if (e > len(row["prompt"]) and e > s) else 0 for s, e in spans]
            if loss_on == "generated":
                mask = generated
            examples.append(
                {"input_ids": ids, "loss_mask": mask, "generated_mask": generated, "labels": int(label)}
            )
    return examples


class ValueCollator:
    """Right-pads a batch of examples into tensors for `ValueModel.forward`."""

    def __init__(self, pad_token_id: int) -> None:
        self.pad = pad_token_id

    def __call__(self, batch: list[dict]) -> dict:
        import torch

        width = max(len(b["input_ids"]) for b in batch)
        return {
            "input_ids": torch.tensor(
                [b["input_ids"] + [self.pad] * (width - len(b["input_ids"])) for b in batch]
            ),
            "attention_mask": torch.tensor(
                [[1] * len(b["input_ids"]) + [0] * (width - len(b["input_ids"])) for b in batch]
            ),
            "loss_mask": torch.tensor([b["loss_mask"] + [0] * (width - len(b["loss_mask"])) for b in batch]),
            "generated_mask": torch.tensor(
                [b["generated_mask"] + [0] * (width - len(b["generated_mask"])) for b in batch]
            ),
            "labels": torch.tensor([b["labels"] for b in batch]),
        }


def run_train_value(cfg: ValueTrainConfig) -> Path:
    """Train a value model on a rollout file and save it to `cfg.out`; returns the dir."""
    import torch
    from transformers import AutoTokenizer, Trainer, TrainingArguments

    from thinklab.models import resolve_model_path

    rows = [row for path in cfg.data for row in read_rollouts(path)]
    base = str(require_value_dir(cfg.init_from)) if cfg.init_from else resolve_model_path(cfg.model)
    tokenizer = AutoTokenizer.from_pretrained(base, trust_remote_code=cfg.trust_remote_code)
    if not getattr(tokenizer, "is_fast", False):
        raise ThinklabError(f"the value model needs a fast tokenizer (offsets) for {cfg.model}")
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    examples = build_examples(rows, tokenizer, cfg.max_length, cfg.loss_on)
    if not examples:
        raise ThinklabError(f"{', '.join(cfg.data)} hold(s) no usable roll-outs")
    if cfg.init_from:
        model = _continued_model(cfg)
    else:
        model = ValueModel.from_backbone(
            cfg.model,
            ValueHeadConfig(
                num_labels=cfg.num_labels, dropout=cfg.dropout, logprob_features=cfg.logprob_features
            ),
            trust_remote_code=cfg.trust_remote_code,
        )
    if cfg.freeze_backbone:
        model.backbone.requires_grad_(False)  # the Trainer's optimizer skips frozen parameters
    run = begin(cfg.out, asdict(cfg), cfg.save_steps)  # written to a sibling, renamed when complete
    out = run.staging
    cuda = torch.cuda.is_available()
    bf16 = default_bf16(cfg.bf16)
    args = TrainingArguments(
        output_dir=str(run.trainer_dir),
        num_train_epochs=cfg.epochs,
        max_steps=cfg.max_steps,
        per_device_train_batch_size=cfg.batch_size,
        gradient_accumulation_steps=cfg.grad_accum,
        learning_rate=cfg.learning_rate,
        lr_scheduler_type="cosine_with_min_lr",
        lr_scheduler_kwargs={"min_lr_rate": cfg.min_lr_rate},
        warmup_steps=cfg.warmup_ratio,  # a float < 1 is a ratio of the total steps in Transformers 5
        weight_decay=cfg.weight_decay,
        adam_beta1=0.9,
        adam_beta2=0.95,
        adam_epsilon=1e-6,
        max_grad_norm=cfg.max_grad_norm,
        bf16=bf16,
        use_cpu=not cuda,
        remove_unused_columns=False,  # the collator's fields are not in the model signature's first args
        logging_steps=cfg.logging_steps,
        **run.save_args(),
        report_to="none",
        seed=cfg.seed,
        disable_tqdm=True,
        **cfg.extra_args,
    )
    started = time.time()
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=_ListDataset(examples),
        data_collator=ValueCollator(tokenizer.pad_token_id),
    )
    trainer.train(resume_from_checkpoint=run.resume_from())
    model.save_pretrained(out, tokenizer)
    losses = [round(h["loss"], 4) for h in trainer.state.log_history if "loss" in h]
    record: dict[str, Any] = {
        "config": asdict(cfg),
        "examples": len(examples),
        "rows": len(rows),
        "label_counts": _label_counts(rows),
        "steps": trainer.state.global_step,
        "minutes": round((time.time() - started) / 60, 2),
        "losses": losses,
    }
    if cfg.eval_data:
        # Evaluate the saved model as search will load it: the in-memory one still carries the
        # Trainer's mixed-precision forward wrapper (bf16 autocast), which shifts values slightly.
        record["eval"] = evaluate_value(ValueFunction.load(out), read_rollouts(cfg.eval_data))
    (out / "value_training.json").write_text(json.dumps(record, indent=2) + "\n")
    return run.commit()


def _continued_model(cfg: ValueTrainConfig) -> ValueModel:
    """The value model saved in `cfg.init_from` (backbone, head and frozen policy copy), to train on.

    Why: more roll-outs or more epochs can then go on from a finished model instead of starting over
    (a fresh optimizer and schedule; the Trainer's own resume is for an interrupted run of the same
    schedule). The head's shape comes from the saved model, so flags that would change it must agree."""
    model = ValueModel.from_pretrained(cfg.init_from, trust_remote_code=cfg.trust_remote_code)
    saved = model.value_config
    for name in ("num_labels", "logprob_features"):
        if getattr(saved, name) != getattr(cfg, name):
            raise ThinklabError(
                f"{cfg.init_from} was trained with {name}={getattr(saved, name)}; "
                f"continuing it with {name}={getattr(cfg, name)} would change the head"
            )
    saved.dropout = model.dropout.p = cfg.dropout  # a training setting, not part of the head
    return model


class _ListDataset:
    """A map-style dataset over a list (what the Trainer's DataLoader needs, nothing more)."""

    def __init__(self, items: list[dict]) -> None:
        self.items = items

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> dict:
        return self.items[i]


def _label_counts(rows: Sequence[dict]) -> dict[str, int]:
    counts = defaultdict(int)
    for r in rows:
        for lab in r["labels"]:
            counts[("wrong", "correct", "unfinished")[lab]] += 1
    return dict(counts)


# ----------------------------------------------------------------------------- evaluation


def roc_auc(scores: Sequence[float], positives: Sequence[bool]) -> float | None:
    """Area under the ROC curve = P(score of a random positive > score of a random negative), ties
    counting one half (the Mann-Whitney U statistic / (n_pos * n_neg)). None if a class is empty."""
    pos = [s for s, p in zip(scores, positives, strict=True) if p]
    neg = [s for s, p in zip(scores, positives, strict=True) if not p]
    if not pos or not neg:
        return None
    # Average ranks over ties, then U = sum of positive ranks - n_pos (n_pos + 1) / 2.
    order = sorted(range(len(scores)), key=lambda i: scores[i])
    ranks = [0.0] * len(scores)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and scores[order[j + 1]] == scores[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    u = sum(r for r, p in zip(ranks, positives, strict=True) if p) - len(pos) * (len(pos) + 1) / 2
    return u / (len(pos) * len(neg))


def within_group_auc(groups: Iterable[Sequence[tuple[float, bool]]]) -> tuple[float | None, int, int]:
    """P(a positive outranks a negative of the *same* group), ties one half, over all such pairs; also
    the number of pairs and of groups that hold both classes. Each group is [(score, positive), ...],
    e.g. one problem's candidates. Best-of-N and weighted votes compare candidates of one problem, so
    this, not the pooled `roc_auc`, is what they get from a value model."""
    wins = pairs = 0.0
    mixed = 0
    for group in groups:
        pos = [v for v, ok in group if ok]
        neg = [v for v, ok in group if not ok]
        mixed += bool(pos and neg)
        for a in pos:
            for b in neg:
                pairs += 1
                wins += 1.0 if a > b else 0.5 if a == b else 0.0
    return (wins / pairs if pairs else None), int(pairs), mixed


def auc_ceiling(rows: Sequence[dict]) -> dict[str, dict]:
    """The highest prefix AUC any value model can reach on these roll-outs, per cut (needs many
    roll-outs per prefix, e.g. `thinklab rollouts --n-rollouts 16`).

    Why: a roll-out's label is one draw (a T 1.0 continuation can still slip after the cut), so even
    the true success probability p of each prefix, used as its value, scores below 1 against single
    labels; a value model's AUC is judged against this, not against 1. Two estimates:
    `plug_in` takes p = the prefix's correct rate and counts each pair of prefixes (a, b) p_a (1 - p_b)
    times (sampling noise in p spreads it, so it runs high); `leave_one_out` scores each roll-out by the
    correct rate of the *other* roll-outs of its prefix (a predictor that never sees the label it is
    scored on: reachable, so a lower estimate). Correct = label 1; wrong and unfinished count as not."""
    by_cut: dict[str, list[list[bool]]] = defaultdict(list)
    for r in rows:
        by_cut[f"{r['cut']:.2f}"].append([lab == LABEL_CORRECT for lab in r["labels"]])
    out = {}
    for cut, groups in sorted(by_cut.items()):
        ps = [sum(g) / len(g) for g in groups if g]
        num = den = 0.0
        for pa in ps:
            for pb in ps:
                w = pa * (1 - pb)
                den += w
                num += w * (1.0 if pa > pb else 0.5 if pa == pb else 0.0)
        loo_scores, loo_labels = [], []
        for g in groups:
            if len(g) >= 2:
                for y in g:
                    loo_scores.append((sum(g) - y) / (len(g) - 1))
                    loo_labels.append(y)
        out[cut] = {
            "prefixes": len(ps),
            "roll_outs": sum(len(g) for g in groups),
            "correct_rate": sum(map(sum, groups)) / max(1, sum(len(g) for g in groups)),
            "all_right": sum(p == 1 for p in ps),
            "all_wrong": sum(p == 0 for p in ps),
            "plug_in": num / den if den else None,
            "leave_one_out": roc_auc(loo_scores, loo_labels),
        }
    return out


def outcome_pairs(
    rows: Sequence[dict], values: Sequence[float], keep: Sequence[bool] | None = None
) -> tuple[list[float], list[bool]]:
    """Each kept prefix's value once per roll-out, beside that roll-out's outcome (correct or not):
    the pairs every prefix AUC here is taken over, so a prefix weighs by its number of roll-outs."""
    v: list[float] = []
    y: list[bool] = []
    for i, (r, val) in enumerate(zip(rows, values, strict=True)):
        if keep is None or keep[i]:
            v += [val] * len(r["labels"])
            y += [lab == LABEL_CORRECT for lab in r["labels"]]
    return v, y


def bootstrap_aucs(
    rows: Sequence[dict], scores: Sequence[Sequence[float]], n: int = 1000, seed: int = 0
) -> list[list[float]]:
    """AUC of each scorer (one value per row) over `n` resamples of the *problems* (rows sharing an
    `id` are drawn together, with all their roll-outs): its spread is the AUC's standard error, and
    every scorer sees the same resamples, so differences between scorers can be read paired.

    Hand-rolled rather than `scipy.stats.bootstrap`: the statistic is the roll-out-weighted AUC of
    `outcome_pairs` over whole problems, which that API does not resample by; and scipy is not a
    dependency. A resample with one class only is skipped (rare: it needs every draw right or wrong)."""
    rng = random.Random(seed)
    groups: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        groups[str(r.get("id", i))].append(i)
    members = list(groups.values())
    draws: list[list[float]] = [[] for _ in scores]
    for _ in range(n):
        picked = [i for _ in members for i in members[rng.randrange(len(members))]]
        sample = [rows[i] for i in picked]
        aucs = [roc_auc(*outcome_pairs(sample, [sc[i] for i in picked])) for sc in scores]
        if all(a is not None for a in aucs):
            for d, a in zip(draws, aucs, strict=True):
                d.append(a)
    return draws


def standard_error(draws: Sequence[float]) -> float | None:
    """Sample standard deviation of bootstrap draws, i.e. the bootstrap s.e. (None with fewer than two,
    where `statistics.stdev` would raise: a tiny set can leave no usable resample)."""
    return statistics.stdev(draws) if len(draws) > 1 else None


def evaluate_value(fn: ValueFunction, rows: Sequence[dict]) -> dict:
    """ROC AUC of V(prompt + roll-in) against each roll-out's outcome (1 = correct vs 0/2), per cut.

    Every roll-out is one (prefix value, outcome) pair; the prefix is the policy's partial trace at the
    cut. Also reports the base rate and mean value by outcome, and AUC within each difficulty level
    (rows with `level`), so that a high AUC can be read against them: across levels, a value model
    can score well just by recognising hard problems."""
    values = fn([r["prompt"] for r in rows], [r["roll_in"] for r in rows])
    by_cut: dict[str, dict[str, list]] = defaultdict(lambda: {"v": [], "y": []})
    for r, v in zip(rows, values, strict=True):
        for lab in r["labels"]:
            for key in (f"{r['cut']:.2f}", "all"):
                by_cut[key]["v"].append(v)
                by_cut[key]["y"].append(lab == LABEL_CORRECT)
    out: dict[str, Any] = {"rows": len(rows), "by_cut": {}}
    for key in sorted(by_cut):
        v, y = by_cut[key]["v"], by_cut[key]["y"]
        pos = [a for a, b in zip(v, y, strict=True) if b]
        neg = [a for a, b in zip(v, y, strict=True) if not b]
        out["by_cut"][key] = {
            "pairs": len(v),
            "correct_rate": sum(y) / len(y),
            "auc": roc_auc(v, y),
            "mean_value_correct": sum(pos) / len(pos) if pos else None,
            "mean_value_wrong": sum(neg) / len(neg) if neg else None,
        }
    mid = [k for k in out["by_cut"] if k != "all" and 0.3 <= float(k) <= 0.7]
    if mid:
        in_mid = [f"{r['cut']:.2f}" in mid for r in rows]
        v, y = outcome_pairs(rows, values, in_mid)
        out["mid_trace_auc"] = roc_auc(v, y)
        out["mid_trace_cuts"] = mid
        # How far the AUC may move with other problems of the same kind (100 prefixes: about 0.03).
        kept = [i for i, k in enumerate(in_mid) if k]
        (draws,) = bootstrap_aucs([rows[i] for i in kept], [[values[i] for i in kept]])
        out["mid_trace_auc_se"] = standard_error(draws)
    # Within one difficulty level the value cannot win by recognising hard problems: report it apart.
    levels = sorted({r.get("level") for r in rows if r.get("level") is not None})
    if len(levels) > 1:
        out["by_level"] = {}
        for lv in levels:
            v, y = outcome_pairs(rows, values, [r.get("level") == lv for r in rows])
            out["by_level"][str(lv)] = {
                "pairs": len(v),
                "correct_rate": sum(y) / len(y),
                "auc": roc_auc(v, y),
            }
    out["finished"] = finished_ranking(fn, rows)
    # Brier score of the value as a probability of success, over all pairs.
    v, y = outcome_pairs(rows, values)
    out["brier"] = sum((a - float(b)) ** 2 for a, b in zip(v, y, strict=True)) / len(v) if v else None
    return out


def finished_ranking(fn: ValueFunction, rows: Sequence[dict]) -> dict:
    """How the value ranks one problem's *finished* traces (prompt + roll-in + roll-out, valued at its
    last token): within-problem ROC AUC of right over wrong, ties one half, pooled AUC beside it.

    Why: best-of-N and weighted votes compare candidates of the same problem, so what they need is the
    within-problem ranking; the prefix AUC above pools problems, where recognising a hard problem
    already scores (docs/search.md, session 5: pooled 0.74, within-problem 0.48 on the same values).
    Unfinished roll-outs are left out (they have no answer to vote for)."""
    items = [
        (r["id"], r["prompt"], r["roll_in"] + text, lab == LABEL_CORRECT)
        for r in rows
        for text, lab in zip(r["roll_outs"], r["labels"], strict=True)
        if lab != LABEL_UNFINISHED
    ]
    if not items:
        return {"problems": 0, "pairs": 0, "within_problem_auc": None, "pooled_auc": None}
    values = fn([i[1] for i in items], [i[2] for i in items])
    by_problem: dict[str, list[tuple[float, bool]]] = defaultdict(list)
    for (pid, _, _, ok), v in zip(items, values, strict=True):
        by_problem[pid].append((v, ok))
    auc, pairs, mixed = within_group_auc(by_problem.values())
    return {
        "problems": mixed,
        "pairs": pairs,
        "within_problem_auc": auc,
        "pooled_auc": roc_auc(values, [i[3] for i in items]),
    }


def evaluate_value_dir(model_dir: str, data: str, device: str | None = None) -> dict:
    """Load a saved value model and evaluate it on a rollout file (`thinklab value-eval`)."""
    fn = ValueFunction.load(model_dir, device=device)
    return evaluate_value(fn, read_rollouts(data))
