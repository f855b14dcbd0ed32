#!/usr/bin/env bash
# STaR x s1 on the tiny model and the arith task (CPU). Reproduces the table and curve in docs/star.md.
#
# configs/star.yaml: a deliberately weak start (a briefly trained tiny model, made here if missing, after
# 60 SFT steps on 128 shipped-style traces ending `Final: N`), then 3 rounds of generate -> verify ->
# rationalise -> merge -> fine-tune -> held-out eval. Extra arguments go to `thinklab star`, e.g. a reduced run:
#   bash scripts/experiments/star.sh --out-dir runs/star/tiny-small --set problems_per_round=128 --set eval_limit=200
# An interrupted run continues where it stopped with the same command plus --resume.
# Outputs: the run dir (default runs/star/tiny) with per-round data, models, report.json files,
# report.md (the table) and curve.png.
set -euo pipefail
cd "$(dirname "$0")/../.."
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
TL=.venv/bin/thinklab

OUT=runs/star/tiny
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  if [ "${args[$i]}" = "--out-dir" ]; then OUT=${args[$((i + 1))]}; fi
done
# The deliberately weak base (configs/star.yaml `base_model`): a brief from-scratch run in the shipped
# trace style, then a short lower-lr stage (~14 min on 2 cores; 30.8% greedy held-out).
BASE=runs/star/weak-base
if [ ! -f "$BASE/model.safetensors" ]; then
  $TL tiny train --out "$BASE-1" --steps 800 --seed 0
  $TL tiny train --out "$BASE" --init-from "$BASE-1" --steps 400 --learning-rate 5e-4 --warmup-steps 30 --seed 1
fi
$TL star --config configs/star.yaml "$@"
$TL star report "$OUT"
