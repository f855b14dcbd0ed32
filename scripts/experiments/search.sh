#!/usr/bin/env bash
# Reproduces every number in docs/search.md (test-time scaling on the tiny model, final checkpoint).
# Outputs go under runs/search/. Every step is resumable: rerun the script after an interruption
# (run dirs and rollout files carry the model's content fingerprint, so a retrained checkpoint starts
# fresh instead of resuming stale results).
#
# Defaults = session 13's value model (docs/search.md "Session 13"): session 9's data and recipe (the v2
# checkpoint, T 1.0, value-training roll-outs on 2032 fresh problems: 432 of seed 7 and 800 each of seeds 21
# and 23; a value model that reads the policy's log-probs, its backbone trained) for 3 epochs, then 1 more
# epoch on 1600 more fresh problems (seeds 25 and 27, step 3b). The search tables of sessions 9-12 were made
# with session 9's model: MORE_SEEDS= EPOCHS=1 (about 3 h on 2 cores: value-training roll-outs 40 + 43 min,
# value training 31 min, search 16 min, confirmation search 21 min, AUC-ceiling roll-outs 2 x 8 min);
# session 13's defaults add about 3.5 h (two more epochs ~110 min, roll-outs 2 x 36 min, continued training
# 26 min at session 13's ~3 s a step).
# Session 10 added step 2e (400 fresh problems to measure the AUC target) and tried the roll-in in the
# value loss: VALUE_ARGS="--logprob-features --loss-on generated" (not the default: docs/search.md).
# Session 11 tried a second value-training epoch: MORE_SEEDS= EPOCHS=2 (mid-trace AUC 0.793 +- 0.014 on the
# three large held-out sets, vs 0.774; not adopted, docs/search.md).
# Session 12 tried a third: MORE_SEEDS= EPOCHS=3 (0.796 +- 0.013, no gain over two; not adopted).
# Session 13 went on training that model for 1 epoch on 1600 more problems (0.806 +- 0.013; adopted).
# Session 8 (432 problems, 2 epochs): MORE_SEEDS= EXTRA_SEEDS= EPOCHS=2.
# Session 7 (backbone frozen, 3 epochs): MORE_SEEDS= VALUE_ARGS="--logprob-features --freeze-backbone" EPOCHS=3.
# Session 6: that and TRAIN_LIMIT=144 SEARCH_LIMIT=80 FORCE_LIMIT=80.
# Session 4 (T 0.6, VGS head): SAMPLING=temperature=0.6,top_p=0.95 VALUE_ARGS=; session 6's T 0.8 run:
# SAMPLING=temperature=0.8,top_p=0.95 VALUE_ARGS=--logprob-features; session 3 used MAX_TOKENS=320
# TRAIN_LIMIT=48 (its T 0.8 run: SAMPLING=temperature=0.8,top_p=0.95 SEARCH_LIMIT=40 FORCE_LIMIT=40). Bigger:
#   SCALE=full scripts/experiments/search.sh      (hours on 2 CPU cores, minutes on one GPU with
#                                                  BACKEND_ARGS=device=cuda; --backend vllm for real models)
# On a shared machine, take the CPU lock per command:
#   TL="flock /tmp/thinklab-cpu.lock .venv/bin/python -m thinklab" HF_HUB_OFFLINE=1 scripts/experiments/search.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"
TL="${TL:-.venv/bin/python -m thinklab}"
OUT="${OUT:-runs/search}"
MODEL="${MODEL:-tiny}"             # the policy (and the value model's backbone)
SLICE="${SLICE:-arith:L8}"          # hardest trained level (v2 greedy: 82% on 100; levels 9-10 are ~1%, no search room)
FRESH="${FRESH:-arith-fresh:L8:7}"  # value-training problems: same level, unseen by policy and benchmarks
MAX_TOKENS="${MAX_TOKENS:-384}"     # per-trace budget: level-8 greedy traces are 250-320 tokens (5% pass 320)
SAMPLING="${SAMPLING:-temperature=1.0,top_p=1.0}"  # pure sampling: VGS's T 0.6 leaves v2 no room (docs/search.md)
VALUE_ARGS="${VALUE_ARGS---logprob-features}"  # extra `train value` flags (VGS: none)
EXTRA_SEEDS="${EXTRA_SEEDS-21 23}"  # more fresh value-training problems (step 1c), 800 per seed
MORE_SEEDS="${MORE_SEEDS-25 27}"    # go on training the value model on these seeds (step 3b; session 13)

# The small scale's problem counts can be overridden: TRAIN_LIMIT, TEST_LIMIT, SEARCH_LIMIT, FORCE_LIMIT.
if [[ "${SCALE:-small}" == full ]]; then
  TRAIN_LIMIT=300; TRAIN_ROLLOUTS=4; TEST_LIMIT=200; TEST_ROLLOUTS=4
  EPOCHS=3; SEARCH_LIMIT=200; BUDGETS=2,4,8,16; FORCE_LIMIT=200
else
  TRAIN_LIMIT=${TRAIN_LIMIT:-432}; TRAIN_ROLLOUTS=2; TEST_LIMIT=${TEST_LIMIT:-40}; TEST_ROLLOUTS=2
  EPOCHS=${EPOCHS:-3}; SEARCH_LIMIT=${SEARCH_LIMIT:-100}; BUDGETS=2,4,8; FORCE_LIMIT=${FORCE_LIMIT:-100}
fi
step() { echo "== $* ($(date +%T))" >&2; }

# 1. Value-model training data from the policy's own traces on problems it never trained on and no
#    evaluation uses: `arith-fresh:L8:7` = level 8 from the held-out bucket, drawn with seed 7,
#    minus every arith benchmark problem (not `arith:train`, the bucket the policy was trained on).
#    2 roll-ins per problem, cut at 25/50/75% of their tokens, roll-outs sampled from each cut.
step "1 rollouts (fresh problems)"
$TL rollouts --model "$MODEL" --task "$FRESH" --limit "$TRAIN_LIMIT" --n-rollins 2 \
  --cuts 0.25,0.5,0.75 --n-rollouts "$TRAIN_ROLLOUTS" --max-tokens "$MAX_TOKENS" --sampling "$SAMPLING" \
  --out "$OUT/rollouts/train.jsonl"

# 1b. The same fresh problems with the policy's greedy trace as the roll-in (one per problem): greedy
#     decoding errs systematically on the hard slice while samples rarely do, so these prefixes carry
#     the wrong partial traces the value model must learn to recognise.
step "1b rollouts (fresh problems, greedy roll-ins)"
$TL rollouts --model "$MODEL" --task "$FRESH" --limit "$TRAIN_LIMIT" --n-rollins 1 --rollin-sampling temperature=0 \
  --cuts 0.25,0.5,0.75 --n-rollouts "$TRAIN_ROLLOUTS" --max-tokens "$MAX_TOKENS" --sampling "$SAMPLING" \
  --out "$OUT/rollouts/train-greedy.jsonl"

# 1c. More fresh problems (session 9): 800 each from other seeds of the same family (disjoint from seed 7,
#     the validation seed 9, the confirmation seeds 11 / 13 / 15 and every benchmark list), one sampled
#     roll-in each: the value model must learn which questions this policy gets wrong, and 432 problems
#     are few for that.
fresh_rollouts() {  # $1 = seed: 800 problems -> $OUT/rollouts/train$1.jsonl (steps 1c and 3b)
  step "rollouts (fresh problems, seed $1)"
  $TL rollouts --model "$MODEL" --task "${FRESH%:*}:$1" --limit 800 --n-rollins 1 --cuts 0.25,0.5,0.75 \
    --n-rollouts "$TRAIN_ROLLOUTS" --max-tokens "$MAX_TOKENS" --sampling "$SAMPLING" --out "$OUT/rollouts/train$1.jsonl"
}
TRAIN_FILES=("$OUT/rollouts/train.jsonl" "$OUT/rollouts/train-greedy.jsonl")
for SEED in $EXTRA_SEEDS; do
  fresh_rollouts "$SEED"
  TRAIN_FILES+=("$OUT/rollouts/train$SEED.jsonl")
done
cat "${TRAIN_FILES[@]}" > "$OUT/rollouts/train-all.jsonl"

# 2. Held-out rollouts on the benchmark problems search is evaluated on (never used in training).
step "2 rollouts (held-out benchmark problems)"
$TL rollouts --model "$MODEL" --task "$SLICE" --limit "$TEST_LIMIT" --n-rollins 1 --cuts 0.25,0.5,0.75 \
  --n-rollouts "$TEST_ROLLOUTS" --max-tokens "$MAX_TOKENS" --sampling "$SAMPLING" --seed 1 \
  --out "$OUT/rollouts/test.jsonl"

step "2b rollouts (held-out benchmark problems, greedy roll-ins)"
$TL rollouts --model "$MODEL" --task "$SLICE" --limit "$TEST_LIMIT" --n-rollins 1 --rollin-sampling temperature=0 \
  --cuts 0.25,0.5,0.75 --n-rollouts "$TEST_ROLLOUTS" --max-tokens "$MAX_TOKENS" --sampling "$SAMPLING" --seed 1 \
  --out "$OUT/rollouts/test-greedy.jsonl"

# 2c. Validation roll-outs on other fresh problems (seed 9), to compare value models without the
#     evaluated problems (docs/search.md, session 6).
step "2c rollouts (fresh validation problems)"
$TL rollouts --model "$MODEL" --task "${FRESH%:*}:9" --limit 48 --n-rollins 2 --cuts 0.25,0.5,0.75 \
  --n-rollouts 2 --max-tokens "$MAX_TOKENS" --sampling "$SAMPLING" --out "$OUT/rollouts/val.jsonl"

# 2d. The AUC ceiling: one sampled roll-in per search problem, 16 roll-outs from each cut, so each
#     prefix's success probability is measured (`thinklab report search` compares the value model to it).
step "2d rollouts (search problems, 16 roll-outs per cut: the AUC ceiling)"
$TL rollouts --model "$MODEL" --task "$SLICE" --limit "$SEARCH_LIMIT" --n-rollins 1 --cuts 0.25,0.5,0.75 \
  --n-rollouts 16 --max-tokens "$MAX_TOKENS" --sampling "$SAMPLING" --seed 1 --out "$OUT/rollouts/ceiling.jsonl"

# 2e. A larger held-out set for the AUC target (session 10, fixed before it ran): 400 more fresh
#     problems (seed 17), one sampled roll-in cut at 50% (the mid-trace point), 8 roll-outs each.
#     100-prefix sets measure the AUC to about +-0.03; this one to about +-0.02.
step "2e rollouts (400 fresh problems, mid-trace only: the AUC target)"
$TL rollouts --model "$MODEL" --task "${FRESH%:*}:17" --split test --limit 400 --n-rollins 1 --cuts 0.5 \
  --n-rollouts 8 --max-tokens "$MAX_TOKENS" --sampling "$SAMPLING" --seed 1 --out "$OUT/rollouts/mid17.jsonl"

# 3. Train the value head (and backbone) on the tiny model; held-out ROC AUC -> value_auc.json.
step "3 train value"
if [[ ! -f "$OUT/value/value_training.json" ]]; then
  $TL train value --model "$MODEL" --data "$OUT/rollouts/train-all.jsonl" --eval-data "$OUT/rollouts/test.jsonl" \
    --epochs "$EPOCHS" --batch-size 16 --learning-rate 3e-4 --dropout 0.0 $VALUE_ARGS --save-steps 200 \
    --out "$OUT/value"
fi
VALUE="$OUT/value"

# 3b. (Session 13) Go on training that model for 1 epoch on more fresh problems (800 per seed, step 1c's
#     roll-outs), with a fresh optimizer and schedule: `--init-from`. MORE_SEEDS= skips it.
if [[ -n "$MORE_SEEDS" ]]; then
  MORE_FILES=()
  for SEED in $MORE_SEEDS; do
    fresh_rollouts "$SEED"
    MORE_FILES+=("$OUT/rollouts/train$SEED.jsonl")
  done
  cat "${MORE_FILES[@]}" > "$OUT/rollouts/train-more.jsonl"
  step "3b train value (continued)"
  if [[ ! -f "$OUT/value-more/value_training.json" ]]; then
    $TL train value --init-from "$OUT/value" --data "$OUT/rollouts/train-more.jsonl" \
      --eval-data "$OUT/rollouts/test.jsonl" --epochs 1 --batch-size 16 --learning-rate 3e-4 --dropout 0.0 \
      $VALUE_ARGS --save-steps 200 --out "$OUT/value-more"
  fi
  VALUE="$OUT/value-more"
fi
$TL value-eval --value-model "$VALUE" --data "$OUT/rollouts/test.jsonl" --out "$OUT/value_auc.json"
$TL value-eval --value-model "$VALUE" --data "$OUT/rollouts/test-greedy.jsonl" --out "$OUT/value_auc_greedy.json"
$TL value-eval --value-model "$VALUE" --data "$OUT/rollouts/val.jsonl" --out "$OUT/value_auc_val.json"
$TL value-eval --value-model "$VALUE" --data "$OUT/rollouts/ceiling.jsonl" --out "$OUT/value_auc_ceiling.json"
$TL value-eval --value-model "$VALUE" --data "$OUT/rollouts/mid17.jsonl" --out "$OUT/value_auc_mid17.json"

# 4. All strategies at equal budgets (widths) on the hard slice, in one command so the sampling
#    strategies vote over the same samples; writes one run dir per strategy and an overlay plot of
#    accuracy vs generated tokens per problem (search_*.png).
step "4 search"
$TL search --model "$MODEL" --strategy single,majority,weighted,bon,beam,dvts --value-model "$VALUE" \
  --task "$SLICE" --limit "$SEARCH_LIMIT" --budgets "$BUDGETS" --sampling "$SAMPLING" \
  --max-tokens "$MAX_TOKENS" --block-size 64 --beam-width 2 --tree-blocks 2 --out "$OUT/strategies"

# 4b. Confirmation on problems nothing has seen (session 8, set before it ran): fresh level-8 problems
#     (seed 11, disjoint from the value-training seed 7, the validation seed 9 and every benchmark list),
#     widths 3 / 6 / 9 so that majority has an odd count at two of them and beam / DVTS accept all three
#     (beam width 3, 3 blocks per DVTS tree). Greedy reference first.
step "4b confirmation (fresh problems)"
CONFIRM="${CONFIRM:-${FRESH%:*}:11}"
$TL eval --model "$MODEL" --task "$CONFIRM" --limit "$SEARCH_LIMIT" --budgets "$MAX_TOKENS" --out "$OUT/confirm/greedy"
$TL rollouts --model "$MODEL" --task "$CONFIRM" --limit "$SEARCH_LIMIT" --n-rollins 1 --cuts 0.25,0.5,0.75 \
  --n-rollouts 16 --max-tokens "$MAX_TOKENS" --sampling "$SAMPLING" --seed 1 --out "$OUT/confirm/rollouts/ceiling.jsonl"
$TL value-eval --value-model "$VALUE" --data "$OUT/confirm/rollouts/ceiling.jsonl" --out "$OUT/confirm/value_auc_ceiling.json"
$TL search --model "$MODEL" --strategy single,majority,weighted,bon,beam,dvts --value-model "$VALUE" \
  --task "$CONFIRM" --limit "$SEARCH_LIMIT" --budgets 3,6,9 --sampling "$SAMPLING" \
  --max-tokens "$MAX_TOKENS" --block-size 64 --beam-width 3 --tree-blocks 3 --out "$OUT/confirm/strategies"

# 5. Greedy reference on the same problems, under the same cap (no forced answer), then
#    s1 budget forcing, greedy, on the same problems: K "Wait" extensions; K=0 is plain greedy
#    (with an answer forced at the thinking cap).
step "5 greedy"
$TL eval --model "$MODEL" --task "$SLICE" --limit "$FORCE_LIMIT" --budgets "$MAX_TOKENS" --out "$OUT/greedy"
for K in 0 1 3; do
  step "5 budget forcing K=$K"
  $TL eval --model "$MODEL" --task "$SLICE" --limit "$FORCE_LIMIT" --budgets "$MAX_TOKENS" --budget-mode force-answer \
    --extend "$K" --out "$OUT/forcing"
done

# 6. The tables of docs/search.md, from the run dirs.
$TL report search "$OUT"
$TL report search "$OUT/confirm"
