#!/usr/bin/env bash
# Set up, then run the whole test suite (offline; tests that need ../shared skip with a reason when it is absent).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
.venv/bin/ruff check src tests bench scripts
.venv/bin/python -m pytest -q "$@"
