#!/usr/bin/env bash
# The main job on the embedded default: set up, then evaluate the shipped tiny model on the arith task
# (recipes/tiny/eval.yaml: three token budgets, no thinking, redundancy; tables on stdout, run dirs with
# samples/summary/plot under runs/). Extra arguments go to `thinklab recipe`, e.g. --only accuracy.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
.venv/bin/thinklab recipe recipes/tiny/eval.yaml "$@"
