#!/usr/bin/env bash
# The main job on the embedded default: set up, then evaluate the shipped tiny model on the arith task
# at three token budgets (table on stdout, run dir with samples/summary/plot under runs/).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
.venv/bin/thinklab eval --model tiny --task arith --budgets 80,160,320 --out runs "$@"
