#!/usr/bin/env bash
# Reproduce every number of the tiny model card (README). Run after `bash scripts/setup.sh`.
# Training is optional (the checkpoint ships); pass --train to retrain it (about 39 minutes on 2 idle cores, two stages).
set -euo pipefail
cd "$(dirname "$0")/../.."
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
TL=.venv/bin/thinklab
if [ "${1:-}" = "--train" ]; then
  # The shipped checkpoint was trained in two stages (see README, model card): the `tiny train`
  # defaults (2400 steps at lr 1e-3 on verbose-rules traces, levels 6-8 weighted double), then 1000
  # steps at lr 3e-4.
  $TL tiny train --out runs/tiny-stage1 --seed 0
  $TL tiny train --out runs/tiny-stage2 --init-from runs/tiny-stage1 --steps 1000 --learning-rate 3e-4 --warmup-steps 30 --seed 4
  MODEL=runs/tiny-stage2
else
  MODEL=tiny
fi
# accuracy per level with full thinking, and the budget sweep (cap)
$TL eval --model "$MODEL" --task arith --budgets 80,160,320 --out runs
# no thinking: the no-think prefill, a small budget is plenty for "\boxed{N}"
$TL eval --model "$MODEL" --task arith --prompt-mode no-think --budgets 32 --out runs
# redundancy: gold traces (the model's style) fed back whole / without redundant lines / not at all
$TL tiny redundancy --model "$MODEL" --limit 400
# generation throughput against the naive loop
.venv/bin/python bench/generation.py --model "$MODEL"
