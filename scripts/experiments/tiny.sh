#!/usr/bin/env bash
# Reproduce every number of the tiny model card (README). Run after `bash scripts/setup.sh`.
# Training is optional (the checkpoint ships); pass --train to retrain it (about 90 CPU minutes on 2 cores, in four stages).
set -euo pipefail
cd "$(dirname "$0")/../.."
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
TL=.venv/bin/thinklab
if [ "${1:-}" = "--train" ]; then
  # The shipped checkpoint was trained in four stages (see README, model card):
  $TL tiny train --out runs/tiny-stage1 --steps 3600 --learning-rate 1e-3 --seed 0
  $TL tiny train --out runs/tiny-stage2 --init-from runs/tiny-stage1 --steps 2000 --learning-rate 5e-4 --warmup-steps 50 --seed 1
  $TL tiny train --out runs/tiny-stage3 --init-from runs/tiny-stage2 --steps 600 --learning-rate 3e-4 --warmup-steps 30 --seed 2 --levels 1,2,3,4,5,6,6,7,7,7,8,8,8
  $TL tiny train --out runs/tiny-stage4 --init-from runs/tiny-stage3 --steps 800 --learning-rate 3e-4 --warmup-steps 30 --seed 3 --levels 1,2,3,4,5,6,7,7,7,8,8,8,8
  MODEL=runs/tiny-stage4
else
  MODEL=tiny
fi
# accuracy per level with full thinking, and the budget sweep (cap)
$TL eval --model "$MODEL" --task arith --budgets 64,128,320 --out runs
# no thinking: the no-think prefill, a small budget is plenty for "\boxed{N}"
$TL eval --model "$MODEL" --task arith --prompt-mode no-think --budgets 32 --out runs
# redundancy: gold verbose traces fed back whole / without redundant lines / not at all
$TL tiny redundancy --model "$MODEL" --limit 400
# generation throughput against the naive loop
.venv/bin/python bench/generation.py --model "$MODEL"
