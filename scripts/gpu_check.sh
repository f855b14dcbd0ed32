#!/usr/bin/env bash
# GPU readiness check (not in CI; a few minutes on one GPU). On a machine with a CUDA GPU and
# `pip install 'thinklab[vllm]'`, runs what CPU CI cannot:
#   1. eval of the shipped tiny model through the vLLM backend, --budget-mode force-answer --extend 1;
#   2. the same with a random-weight R1-shaped model built on the fly from the R1-Distill-Qwen-1.5B
#      fixture (real tokenizer, chat template and generation config; ../shared/models, or
#      $THINKLAB_SHARED_DIR/models) — skipped with a reason when the fixture is absent;
#   3. one GRPO step with TRL's vLLM generation (colocated);
#   4. a two-process `accelerate launch` SFT when two GPUs exist (skipped otherwise);
# then prints a table (step, status, seconds, note) and exits non-zero if any step failed.
#
# Usage: bash scripts/gpu_check.sh [--dry-run]
#   --dry-run  print the plan and the commands without a GPU, vLLM or running anything.
# Env: PYTHON (default .venv/bin/python), GPU_CHECK_DIR (work dir; default a new temp dir),
#      GPU_CHECK_STEP_TIMEOUT (seconds per step, default 150), THINKLAB_SHARED_DIR.
set -uo pipefail
cd "$(dirname "$0")/.."

DRY_RUN=0
case "${1:-}" in
  --dry-run) DRY_RUN=1 ;;
  "") ;;
  *) echo "gpu_check: unknown argument '$1' (usage: bash scripts/gpu_check.sh [--dry-run])" >&2; exit 2 ;;
esac

PY=${PYTHON:-.venv/bin/python}
BIN=$(dirname "$PY")
STEP_TIMEOUT=${GPU_CHECK_STEP_TIMEOUT:-150}
TOTAL_LIMIT=570 # stop starting steps after 9.5 minutes, so the whole check stays under 10
SHARED=${THINKLAB_SHARED_DIR:-../shared}
R1_FIXTURE="$SHARED/models/r1-distill-qwen-1.5b"
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false VLLM_LOGGING_LEVEL=${VLLM_LOGGING_LEVEL:-WARNING}
export MASTER_ADDR=${MASTER_ADDR:-127.0.0.1} MASTER_PORT=${MASTER_PORT:-29511}

if [[ ! -x "$PY" ]]; then
  echo "gpu_check: no Python at $PY (run scripts/setup.sh, or set PYTHON=...)" >&2
  exit 2
fi

NGPU=0
if [[ $DRY_RUN -eq 0 ]]; then
  # Fail fast, in one line each, before anything slow starts.
  if ! NGPU=$("$PY" -c "import torch; n = torch.cuda.device_count() if torch.cuda.is_available() else 0; print(n)" 2>/dev/null) || [[ "$NGPU" -lt 1 ]]; then
    echo "gpu_check: no CUDA GPU visible to torch (torch.cuda.is_available() is False); run this on a GPU machine" >&2
    exit 2
  fi
  if ! "$PY" -c "import vllm" 2>/dev/null; then
    echo "gpu_check: vLLM is not importable by $PY; pip install 'thinklab[vllm]' on this GPU machine" >&2
    exit 2
  fi
fi

WORK=${GPU_CHECK_DIR:-$(mktemp -d -t thinklab-gpu-check.XXXXXX)}
mkdir -p "$WORK/logs"
VLLM_ARGS="gpu_memory_utilization=0.35,enforce_eager=true"

declare -a ROWS=()
FAILED=0

# run_step NAME NOTE CMD...: runs CMD with a timeout, logs to $WORK/logs/NAME.log, records a row.
run_step() {
  local name=$1 note=$2
  shift 2
  if [[ $DRY_RUN -eq 1 ]]; then
    printf '[dry-run] %s:' "$name"
    printf ' %q' "$@"
    printf '\n'
    ROWS+=("$name|planned|-|$note")
    return 0
  fi
  if (( SECONDS > TOTAL_LIMIT )); then
    ROWS+=("$name|skipped|-|out of time (10-minute cap)")
    return 0
  fi
  local start=$SECONDS rc=0
  timeout "$STEP_TIMEOUT" "$@" >"$WORK/logs/$name.log" 2>&1 || rc=$?
  local took=$(( SECONDS - start ))
  if [[ $rc -eq 0 ]]; then
    ROWS+=("$name|ok|$took|$note")
  else
    FAILED=1
    local why="exit $rc"
    [[ $rc -eq 124 ]] && why="timed out after ${STEP_TIMEOUT}s"
    ROWS+=("$name|FAILED|$took|$why; log $WORK/logs/$name.log")
    echo "---- $name failed ($why); last lines of its log:" >&2
    tail -n 15 "$WORK/logs/$name.log" >&2
  fi
}

skip_step() { ROWS+=("$1|skipped|-|$2"); }

# 1. tiny model through vLLM: force-answer with one "Wait" extension.
run_step eval-tiny-vllm "tiny, force-answer + extend 1, 16 problems" \
  "$BIN/thinklab" eval --model tiny --task arith --limit 16 --budgets 64,128 \
  --budget-mode force-answer --extend 1 --backend vllm --backend-args "$VLLM_ARGS" \
  --out "$WORK/runs" --overwrite

# 2. a random-weight R1-shaped model (real R1 tokenizer / template / generation config).
R1_DIR="$WORK/r1-random"
if [[ -d "$R1_FIXTURE" ]]; then
  run_step build-r1-random "from $R1_FIXTURE (hidden 256, 2 layers)" \
    "$PY" - "$R1_FIXTURE" "$R1_DIR" <<'PYEOF'
import shutil
import sys

import torch
from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

fixture, out = sys.argv[1], sys.argv[2]
config = AutoConfig.from_pretrained(fixture)
# head_dim 64: the fixture's 16 is below what vLLM's attention kernels take
config.update(dict(hidden_size=256, intermediate_size=512, num_attention_heads=4, num_key_value_heads=2))
torch.manual_seed(0)
model = AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16)
model.save_pretrained(out)
AutoTokenizer.from_pretrained(fixture).save_pretrained(out)
shutil.copy(f"{fixture}/generation_config.json", f"{out}/generation_config.json")
print(f"saved {sum(p.numel() for p in model.parameters()) / 1e6:.1f}M parameters to {out}")
PYEOF
  if [[ $DRY_RUN -eq 1 || -f "$R1_DIR/config.json" ]]; then
    run_step eval-r1-vllm "random R1-shaped, force-answer + extend 1, 8 problems" \
      "$BIN/thinklab" eval --model "$R1_DIR" --task arith --limit 8 --budgets 64 \
      --budget-mode force-answer --extend 1 --backend vllm --backend-args "$VLLM_ARGS" \
      --out "$WORK/runs" --overwrite
  else
    skip_step eval-r1-vllm "the R1-shaped model was not built"
  fi
else
  skip_step eval-r1-vllm "no fixture at $R1_FIXTURE (set THINKLAB_SHARED_DIR)"
fi

# 3. one GRPO step, generation by TRL's colocated vLLM.
run_step grpo-vllm "tiny, 1 step, TRL colocated vLLM" \
  "$BIN/thinklab" train grpo --model tiny --out "$WORK/grpo" --max-steps 1 --max-prompts 8 \
  --num-generations 4 --prompts-per-rollout 4 --prompts-per-update 4 --max-completion-length 96 \
  --use-vllm --vllm-mode colocate --vllm-gpu-memory-utilization 0.3

# 4. two-process SFT under accelerate (data written here: a few chat examples in the tiny format).
if [[ $DRY_RUN -eq 1 || $NGPU -ge 2 ]]; then
  if [[ $DRY_RUN -eq 0 ]]; then
    "$PY" - "$WORK/sft.jsonl" <<'PYEOF'
import json
import sys

with open(sys.argv[1], "w") as f:
    for a in range(2, 34):
        b = a % 7 + 1
        answer = f"<think>\n{a} + {b} = {a + b}\n</think>\n\n\\boxed{{{a + b}}}"
        messages = [{"role": "user", "content": f"What is {a} + {b}?"}, {"role": "assistant", "content": answer}]
        f.write(json.dumps({"messages": messages}) + "\n")
PYEOF
  fi
  run_step sft-accelerate-2gpu "tiny, 2 processes, 4 steps" \
    "$BIN/accelerate" launch --num_processes 2 --num_machines 1 --mixed_precision no --dynamo_backend no \
    -m thinklab train sft --data "$WORK/sft.jsonl" --model tiny --out "$WORK/sft" \
    --max-steps 4 --batch-size 4 --max-length 256
else
  skip_step sft-accelerate-2gpu "needs 2 GPUs, this machine has $NGPU"
fi

echo
printf '%-22s %-8s %7s  %s\n' step status seconds note
printf '%-22s %-8s %7s  %s\n' ---- ------ ------- ----
for row in "${ROWS[@]}"; do
  IFS='|' read -r name status took note <<<"$row"
  printf '%-22s %-8s %7s  %s\n' "$name" "$status" "$took" "$note"
done
echo "work dir: $WORK (total ${SECONDS}s)"
exit $FAILED
