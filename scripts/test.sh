#!/usr/bin/env bash
# Set up, run ruff, then the tests (offline; tests that need ../shared skip with a reason when it is absent).
#
#   bash scripts/test.sh          the fast tier: every test not marked slow (under 5 minutes on 2 cores)
#   bash scripts/test.sh --slow   only the slow tier: end-to-end runs (real servers, Ray clusters, kills)
#   bash scripts/test.sh --all    both tiers
#   --no-setup                    skip scripts/setup.sh and ruff (a second tier after a first run)
# Any other arguments go to pytest (e.g. `bash scripts/test.sh tests/eval -x`). .ci/run runs both tiers.
set -euo pipefail
cd "$(dirname "$0")/.."
tier=(-m "not slow")
setup=1
while [ $# -gt 0 ]; do
  case "$1" in
    --slow) tier=(-m slow) ;;
    --all) tier=(-m "") ;;  # an empty marker expression selects everything
    --no-setup) setup=0 ;;
    *) break ;;
  esac
  shift
done
if [ "$setup" = 1 ]; then
  bash scripts/setup.sh
  .venv/bin/ruff check src tests bench scripts
fi
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
.venv/bin/python -m pytest -q "${tier[@]}" "$@"
