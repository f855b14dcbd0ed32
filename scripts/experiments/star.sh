#!/usr/bin/env bash
# STaR x s1 on the tiny model and the arith task (CPU). Reproduces the table and curve in docs/star.md.
#
# configs/star.yaml: a deliberately weak start (the shipped tiny model after 60 SFT steps on 128 of its
# own traces with extra "rambling" check lines, ending `Final: N`), then 3 rounds of generate -> verify ->
# rationalise -> merge -> fine-tune -> held-out eval. (Sessions 4-5's knowledge-weak base, a briefly
# trained model: `thinklab tiny train --out runs/star/weak-base-1 --steps 800 --seed 0` then
# `thinklab tiny train --out runs/star/weak-base --init-from runs/star/weak-base-1 --steps 400
# --learning-rate 5e-4 --warmup-steps 30 --seed 1`, and `--set base_model=runs/star/weak-base
# --set init.arith_style=verbose`.) Extra arguments go to `thinklab star`, e.g. a reduced run:
#   bash scripts/experiments/star.sh --out-dir runs/star/tiny-small --set problems_per_round=128 --set eval_limit=200
# An interrupted run continues where it stopped with the same command plus --resume.
# Outputs: the run dir (default runs/star/tiny) with per-round data, models, report.json files,
# report.md (the table) and curve.png.
set -euo pipefail
cd "$(dirname "$0")/../.."
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"
TL=.venv/bin/thinklab

OUT=runs/star/tiny
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  if [ "${args[$i]}" = "--out-dir" ]; then OUT=${args[$((i + 1))]}; fi
done
$TL star --config configs/star.yaml "$@"
$TL report star "$OUT"
