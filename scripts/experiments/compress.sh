#!/usr/bin/env bash
# A*-Thought on the tiny model (docs/compress.md): compress verbose arith training traces, build the
# step-dropping baselines at the same kept-token rate, fine-tune the tiny model on each set (and on the
# uncompressed set) with the same steps and seed, evaluate all of them over a budget sweep, benchmark
# batched against one-at-a-time validation, and run the pipeline on the real R1 traces.
#
# Every number in docs/compress.md comes from this script with its defaults. Outputs go under $OUT
# (default runs/compress). Every stage resumes: run it again after an interruption. Run each stage under
# the shared CPU lock on a shared machine, e.g.
#
#   flock /tmp/thinklab-cpu.lock env STAGES=12 scripts/experiments/compress.sh
#   scripts/experiments/compress.sh                       # everything (about 25 min on 2 CPU cores)
#   N=300 SFT_STEPS=120 EVAL_LIMIT=200 scripts/experiments/compress.sh   # a reduced run
#
# Two compressions of the same traces with the same BIS scores (stage 2):
#   astar      thinklab's search settings: --span 0 --min-kept 0.5 (each search step adds one step, in BIS
#              order, and validation starts once half the steps are kept); the baselines match it.
#   astar-seed the seed's search (spans m-1..m+1, stop at the first valid check) with the paper's
#              defaults min 5 / max 20 search steps.
set -euo pipefail
cd "$(dirname "$0")/../.."

export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
PY=${PY:-.venv/bin/python}
TL="$PY -m thinklab"
OUT=${OUT:-runs/compress}
N=${N:-1000}                      # verbose training traces to compress
STYLE=${STYLE:-verbose-rules}     # trace style: the shipped model's (v2); the v1 results used STYLE=verbose
SEED=${SEED:-0}
ASTAR_ARGS=${ASTAR_ARGS:---span 0 --min-kept 0.5 --min-steps 1 --max-steps 20}
SEED_ARGS=${SEED_ARGS:---span 1 --min-kept 0 --min-steps 5 --max-steps 20}
SFT_STEPS=${SFT_STEPS:-250}       # the same optimizer steps and seed for every training set
SFT_LR=${SFT_LR:-3e-4}
EVAL_LIMIT=${EVAL_LIMIT:-400}     # arith test problems (levels 1-8 cycled: 50 per level)
BUDGETS=${BUDGETS:-80,160,384}    # about half the mean response (160), the mean, and above the longest greedy response
SETS=${SETS:-full astar astar-seed random ends steps}  # steps: the upper bound (stage 1)
BENCH_TRACES=${BENCH_TRACES:-64}
BENCH_REPEATS=${BENCH_REPEATS:-3}
R1_TRACES=${R1_TRACES:-../shared/traces/r1_distill_math_traces.jsonl}
R1_LIMIT=${R1_LIMIT:-8}             # of its 40 traces (3522 steps in all: BIS on 2 cores takes > 5 min for 32)
STAGES=${STAGES:-1234567}
mkdir -p "$OUT"
stage() { [[ "$STAGES" == *"$1"* ]]; }

if stage 1; then
echo "== 1. verbose arith training traces (train split, thinklab.tasks.arith.render_completion)"
$PY -m thinklab.compress.data --n "$N" --seed "$SEED" --style "$STYLE" --out "$OUT/traces.jsonl"
# The upper bound: the same problems with every redundant line removed by rule (arith's `steps` style =
# restatement, `Step k` lines, answer line), what a perfect compression of a shipped-style trace keeps.
$PY -m thinklab.compress.data --n "$N" --seed "$SEED" --style steps --out "$OUT/steps.jsonl"
fi

if stage 2; then
echo "== 2. A*-Thought compression (tiny model as BIS scorer and validator)"
# shellcheck disable=SC2086
$TL compress --data "$OUT/traces.jsonl" --out "$OUT/astar.jsonl" --cache "$OUT/bis.jsonl" \
  --scorer tiny --validator tiny $ASTAR_ARGS --seed "$SEED"
# shellcheck disable=SC2086
$TL compress --data "$OUT/traces.jsonl" --out "$OUT/astar-seed.jsonl" --cache "$OUT/bis.jsonl" \
  --scorer tiny --validator tiny $SEED_ARGS --seed "$SEED"
fi

if stage 3; then
echo "== 3. step-dropping baselines at A*'s kept tokens, sample by sample"
for method in random ends; do
  $TL compress-baseline --data "$OUT/traces.jsonl" --like "$OUT/astar.jsonl" --method "$method" \
    --out "$OUT/$method.jsonl" --seed "$SEED"
done
fi

if stage 4; then
echo "== 4. fine-tune the tiny model on each set (same steps, same seed) and evaluate over budgets"
for name in $SETS; do
  data="$OUT/$name.jsonl"
  [ "$name" = full ] && data="$OUT/traces.jsonl"
  if [ ! -f "$OUT/sft-$name/config.json" ]; then
    $TL train sft --data "$data" --model tiny --out "$OUT/sft-$name" \
      --max-steps "$SFT_STEPS" --batch-size 16 --learning-rate "$SFT_LR" --seed "$SEED"
  fi
  $TL eval --model "$OUT/sft-$name" --task arith --budgets "$BUDGETS" --limit "$EVAL_LIMIT" \
    --out "$OUT/eval" --seed "$SEED" | tee "$OUT/eval-$name.log"
  grep '^run dir: ' "$OUT/eval-$name.log" | sed 's/^run dir: //' > "$OUT/eval-$name.dir"
done
fi

if stage 5; then
echo "== 5. report"
$PY - "$OUT" $SETS <<'EOF'
import json, sys
from pathlib import Path

out = Path(sys.argv[1])
sets = [s for s in sys.argv[2:] if (out / f"eval-{s}.dir").exists()]
rows = []
for name in sets:
    run = Path((out / f"eval-{name}.dir").read_text().strip())
    summary = json.loads((run / "summary.json").read_text())
    data = out / ("traces.jsonl" if name == "full" else f"{name}.jsonl")
    rate = 1.0
    side = Path(f"{data}.summary.json")
    if side.exists():
        rate = json.loads(side.read_text())["token_rate"]
    elif name == "steps":  # the rule-made upper bound has no compression summary: count its thoughts
        from transformers import AutoTokenizer
        from thinklab.data import read_traces
        from thinklab.models import resolve_model_path

        tok = AutoTokenizer.from_pretrained(resolve_model_path("tiny"))
        def thought_tokens(path):
            return sum(len(tok(r.trace.thought, add_special_tokens=False)["input_ids"]) for r in read_traces(path))
        rate = thought_tokens(data) / thought_tokens(out / "traces.jsonl")
    rows.append((name, rate, summary["budgets"]))
budgets = list(rows[0][2])
head = f"{'train set':10s} {'kept':>5s} " + " ".join(f"{'acc@' + b:>8s}" for b in budgets)
head += " " + " ".join(f"{'len@' + b:>8s}" for b in budgets)
print(head)
for name, rate, per in rows:
    accs = " ".join(f"{100 * per[b]['accuracy']:8.1f}" for b in budgets)
    lens = " ".join(f"{per[b]['mean_tokens']:8.1f}" for b in budgets)
    print(f"{name:10s} {rate:5.2f} {accs} {lens}")
by = {name: per for name, _, per in rows}
tight, top = budgets[0], budgets[-1]
full = by["full"]
for name in sets[1:]:
    m = by[name]
    print(f"{name} vs full: mean response {100 * (1 - m[top]['mean_tokens'] / full[top]['mean_tokens']):.1f}% shorter; "
          f"accuracy at {top}: {100 * (m[top]['accuracy'] - full[top]['accuracy']):+.1f} points; "
          f"at {tight}: x{m[tight]['accuracy'] / max(full[tight]['accuracy'], 1e-9):.2f}")
print("accuracy at", top, "by level:")
for name in sets:
    run = Path((out / f"eval-{name}.dir").read_text().strip())
    per_level = {}
    for line in (run / "samples.jsonl").read_text().splitlines():
        r = json.loads(line)
        if str(r["budget"]) == top:
            per_level.setdefault(r["level"], []).append(r["correct"])
    print(f"  {name:10s} " + " ".join(f"L{k}:{100 * sum(v) / len(v):3.0f}" for k, v in sorted(per_level.items())))
for name in ("astar", "astar-seed"):
    side = out / f"{name}.jsonl.summary.json"
    if side.exists():
        print(name, json.dumps(json.loads(side.read_text())["this_run"]))

# what each compressed set kept: computation lines ("Step k: ...") against redundant ones
from thinklab.compress.steps import StepSplitter
from thinklab.data import read_jsonl, read_traces
from thinklab.tasks.arith import redundant_step

split = StepSplitter().split
orig = {r.id: split(r.trace.thought) for r in read_traces(out / "traces.jsonl")}
for name in ("astar", "astar-seed", "random", "ends"):
    if not (out / f"{name}.jsonl").exists():
        continue
    rows = read_jsonl(out / f"{name}.jsonl")
    kc = tc = kr = tr = every = 0
    for r in rows:
        steps = orig[r["id"]]
        kept = set(range(len(steps)) if r["kept_steps"] is None else r["kept_steps"])
        comp = {i for i, st in enumerate(steps) if st.startswith("Step ")}
        red = {i for i, st in enumerate(steps) if redundant_step(st)}
        kc, tc, kr, tr = kc + len(kept & comp), tc + len(comp), kr + len(kept & red), tr + len(red)
        every += comp <= kept
    print(f"{name:10s} keeps {kc / tc:.0%} of computation lines, {kr / tr:.0%} of redundant lines; "
          f"all computation lines in {every / len(rows):.0%} of traces")
EOF
# the same sets as a markdown table and a plot ($OUT/report.md, $OUT/report.png)
runs=(); names=(); outs=()
for name in $SETS; do
  if [ -f "$OUT/eval-$name.dir" ]; then runs+=("$(cat "$OUT/eval-$name.dir")"); names+=("$name"); fi
done
for name in astar astar-seed random ends; do
  if [ -f "$OUT/$name.jsonl.summary.json" ]; then outs+=("$OUT/$name.jsonl"); fi
done
$TL report compress "${outs[@]}" --runs "$(IFS=,; echo "${runs[*]}")" --names "$(IFS=,; echo "${names[*]}")" \
  --out "$OUT/report.png"
fi

if stage 6; then
echo "== 6. batched vs one-at-a-time validation"
# shellcheck disable=SC2086
$PY bench/compress.py --traces "$BENCH_TRACES" --repeats "$BENCH_REPEATS" $ASTAR_ARGS \
  --json "$OUT/bench.json"
fi

if stage 7; then
echo "== 7. the real R1 traces (tiny model as scorer and validator: only the format is meaningful)"
if [ -f "$R1_TRACES" ]; then
  $TL compress --data "$R1_TRACES" --out "$OUT/r1_tiny.jsonl" --scorer tiny --validator tiny --limit "$R1_LIMIT" \
    --min-steps 1 --max-steps 4 --validator-sampling "temperature=0,max_tokens=16"
  $PY -c "
from thinklab.data import read_traces
recs = read_traces('$OUT/r1_tiny.jsonl')
print(f'{len(recs)} compressed R1 traces parse back; formats:', sorted({r.trace.fmt for r in recs}))
"
else
  echo "skipped: $R1_TRACES not found"
fi
fi
