#!/usr/bin/env bash
# ThinkPO on the tiny model and the arith task (CPU). Reproduces every number in docs/thinkpo.md.
#
#   1. "concise" model: a short SFT of the shipped tiny model on concise arith traces (train split);
#   2. before: evaluate it on arith (all levels) and arith:hard (levels 6-8, the hardest slice);
#   3. pairs: long = the shipped (verbose) tiny model's greedy responses, short = the concise model's,
#      on the arith train split; kept when both are graded correct, chosen = long, rejected = short;
#   4. DPO (TRL) from the concise model on those pairs, with an NLL term on the chosen side (RPO,
#      --sft-weight); plain DPO (DPO_SFT_WEIGHT=0 DPO_LR=5e-5 DPO_EPOCHS=3 DPO_DIR=runs/thinkpo/dpo)
#      collapsed the model, see docs/thinkpo.md;
#   5. validation: before and after on arith:train problems the pairs did not use (a sanity check on
#      the train split, nothing is tuned on the test sets);
#   6. after: the held-out evaluations of step 2; 7. the before/after table.
#
# Sizes are environment variables; the defaults are the full experiment, e.g. a reduced run:
#   OUT=runs/thinkpo-small PAIR_LIMIT=200 EVAL_LIMIT=200 bash scripts/experiments/thinkpo.sh
# Outputs: $OUT/concise and $DPO_DIR models, $OUT/pairs.jsonl (+ .stats.json), $OUT/eval/* run dirs,
# $OUT/table.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
TL=.venv/bin/thinklab
PY=.venv/bin/python

OUT=${OUT:-runs/thinkpo}
SFT_EXAMPLES=${SFT_EXAMPLES:-4000}   # concise traces from the arith train split
SFT_STEPS=${SFT_STEPS:-400}          # batch 16, lr 3e-4: short on purpose (a concise, not fully trained model)
PAIR_LIMIT=${PAIR_LIMIT:-400}        # arith:train problems to build pairs on (800 = all of them)
EVAL_LIMIT=${EVAL_LIMIT:-240}        # held-out problems per eval task (levels cycled: 30 per level on arith,
                                     # 80 per level on arith:hard; 800 = the full test sets)
BUDGET=${BUDGET:-768}                # token cap for every response (verbose level-8 traces fit easily)
DPO_BETA=${DPO_BETA:-0.1}
DPO_LR=${DPO_LR:-1e-4}               # with the NLL term; 1e-5 left the concise mode greedy (docs/thinkpo.md)
DPO_EPOCHS=${DPO_EPOCHS:-2}
DPO_BATCH=${DPO_BATCH:-8}
DPO_SFT_WEIGHT=${DPO_SFT_WEIGHT:-1.0} # RPO: + 1.0 x mean NLL of the chosen (long) responses
DPO_DIR=${DPO_DIR:-$OUT/dpo-rpo-lr$DPO_LR}
VAL_LIMIT=${VAL_LIMIT:-240}          # validation: arith:train problems PAIR_LIMIT.. (unused by the pairs)
AFTER="after-$(basename "$DPO_DIR")"
mkdir -p "$OUT"

# 1. concise SFT data and model
$PY - "$OUT/concise_sft.jsonl" "$SFT_EXAMPLES" <<'EOF'
import random, sys
from thinklab.data.writers import Example, write_examples
from thinklab.tasks import arith
path, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(0)
problems = arith.generate(n, "train", 11, distinct=False)  # train split only, never the test split
write_examples(path, [Example(p.text(), "<think>\n" + arith.render_completion(p, "concise", rng)) for p in problems])
print(f"wrote {len(problems)} concise examples to {path}")
EOF
[ -f "$OUT/concise/config.json" ] || $TL train sft --data "$OUT/concise_sft.jsonl" --model tiny --out "$OUT/concise" \
  --max-steps "$SFT_STEPS" --batch-size 16 --learning-rate 3e-4 --max-length 512

# 2. before
for task in arith arith:hard; do
  $TL eval --model "$OUT/concise" --task "$task" --budgets "$BUDGET" --limit "$EVAL_LIMIT" --out "$OUT/eval/before"
done

# 3. pairs (both sides sampled greedily and graded; resumable eval run dirs under $OUT/samples)
$TL pairs thinkpo --long-model tiny --short-model "$OUT/concise" --task arith:train --limit "$PAIR_LIMIT" \
  --max-tokens "$BUDGET" --tokenizer tiny --out "$OUT/pairs.jsonl"

# 4. DPO from the concise model (reference = frozen copy of it)
[ -f "$DPO_DIR/config.json" ] || $TL train dpo --model "$OUT/concise" --data "$OUT/pairs.jsonl" --out "$DPO_DIR" \
  --beta "$DPO_BETA" --learning-rate "$DPO_LR" --epochs "$DPO_EPOCHS" --batch-size "$DPO_BATCH" --max-length 1024 \
  --sft-weight "$DPO_SFT_WEIGHT"

# 5. validation on the train split: problems PAIR_LIMIT..PAIR_LIMIT+VAL_LIMIT-1 of arith:train (levels cycled)
for model in "$OUT/concise" "$DPO_DIR"; do
  $PY - "$model" "$PAIR_LIMIT" "$VAL_LIMIT" "$BUDGET" "$OUT/eval/val" <<'EOF'
import dataclasses, sys
from thinklab.eval.runner import EvalConfig, run_eval
from thinklab.tasks.registry import get_task, register
model, start, n, budget, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
train = get_task("arith:train")
register(dataclasses.replace(train, name="arith-val", load=lambda d, s: train.load(d, s)[start : start + n],
                             description=f"arith:train problems {start}..{start + n - 1} (not in the pairs)"))
r = run_eval(EvalConfig(model=model, task="arith-val", budgets=(budget,), out=out))
print(r.run_dir)
EOF
done

# 6. after
for task in arith arith:hard; do
  $TL eval --model "$DPO_DIR" --task "$task" --budgets "$BUDGET" --limit "$EVAL_LIMIT" --out "$OUT/eval/$AFTER"
done

# 7. table (validation runs first, then the held-out ones)
args=()
for d in "$OUT/eval/val"/*/; do args+=("val:$(basename "$d" | cut -d_ -f1)=$d"); done
for phase in before "$AFTER"; do
  for d in "$OUT/eval/$phase"/*/; do args+=("$phase=$d"); done
done
$TL report thinkpo "${args[@]}" --out "$OUT/table.png"  # table.md beside it
