#!/usr/bin/env bash
# Reproduces every number in docs/search.md (test-time scaling on the tiny model).
# Outputs go under runs/search/. Every step is resumable: rerun the script after an interruption.
#
# Full size (defaults below) takes hours on 2 CPU cores and minutes on one GPU
# (add BACKEND_ARGS="device=cuda" or use --backend vllm for real models).
# Reduced size, as run for the docs on a shared 2-core machine:
#   SCALE=small scripts/experiments/search.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
TL="${TL:-.venv/bin/python -m thinklab}"
OUT="${OUT:-runs/search}"
SLICE="${SLICE:-arith:L8}"          # chosen from step 0: greedy accuracy below 80%
SAMPLING="${SAMPLING:-temperature=0.8,top_p=0.95}"

if [[ "${SCALE:-full}" == small ]]; then
  GREEDY_LIMIT=240; TRAIN_LIMIT=90; TRAIN_ROLLOUTS=2; TEST_LIMIT=60; TEST_ROLLOUTS=2
  EPOCHS=2; SEARCH_LIMIT=40; BUDGETS=2,4,8; FORCE_LIMIT=100
else
  GREEDY_LIMIT=800; TRAIN_LIMIT=300; TRAIN_ROLLOUTS=4; TEST_LIMIT=150; TEST_ROLLOUTS=4
  EPOCHS=3; SEARCH_LIMIT=200; BUDGETS=2,4,8,16; FORCE_LIMIT=400
fi

# 0. Greedy accuracy by level on the hard test slice (levels 6-8): pick SLICE honestly.
$TL eval --task arith:hard --budgets 512 --limit "$GREEDY_LIMIT" --out "$OUT/greedy"

# 1. Value-model training data from the policy's own traces, on TRAIN problems of levels 6-8:
#    2 roll-ins per problem, cut at 25/50/75% of their tokens, roll-outs from each cut.
$TL rollouts --task arith:train --levels 6,7,8 --limit "$TRAIN_LIMIT" --n-rollins 2 \
  --cuts 0.25,0.5,0.75 --n-rollouts "$TRAIN_ROLLOUTS" --max-tokens 512 --sampling "$SAMPLING" \
  --out "$OUT/rollouts/train.jsonl"

# 2. Held-out rollouts from TEST problems (arith:hard is the test split; never used in training).
$TL rollouts --task arith:hard --limit "$TEST_LIMIT" --n-rollins 1 --cuts 0.25,0.5,0.75 \
  --n-rollouts "$TEST_ROLLOUTS" --max-tokens 512 --sampling "$SAMPLING" --seed 1 \
  --out "$OUT/rollouts/test.jsonl"

# 3. Train the value head on the tiny backbone; held-out ROC AUC is written to value_training.json.
$TL train value --data "$OUT/rollouts/train.jsonl" --eval-data "$OUT/rollouts/test.jsonl" \
  --epochs "$EPOCHS" --batch-size 16 --learning-rate 3e-4 --dropout 0.0 --out "$OUT/value"
$TL value-eval --value-model "$OUT/value" --data "$OUT/rollouts/test.jsonl" --out "$OUT/value_auc.json"

# 4. Strategies at equal budgets (widths) on the hard slice; the plot is accuracy vs generated
#    tokens per problem. One command per strategy keeps each run short and resumable.
for S in single majority weighted beam dvts; do
  $TL search --strategy "$S" --value-model "$OUT/value" --task "$SLICE" --limit "$SEARCH_LIMIT" \
    --budgets "$BUDGETS" --sampling "$SAMPLING" --max-tokens 512 --block-size 64 --beam-width 2 \
    --tree-blocks 2 --out "$OUT/strategies"
done
$TL plot "$OUT"/strategies/tiny_*-single_* "$OUT"/strategies/tiny_*-majority_* \
  "$OUT"/strategies/tiny_*-weighted_* "$OUT"/strategies/tiny_*-beam_* "$OUT"/strategies/tiny_*-dvts_* \
  --labels single,majority,weighted,beam,dvts --out "$OUT/strategies.png" \
  --title "tiny on $SLICE: accuracy vs generated tokens per problem"

# 5. s1 budget forcing: more "Wait" extensions -> more thinking tokens; what happens to accuracy.
for K in 0 1 2 4; do
  $TL eval --task "$SLICE" --limit "$FORCE_LIMIT" --budgets 512 --budget-mode force-answer \
    --extend "$K" --out "$OUT/forcing"
done
