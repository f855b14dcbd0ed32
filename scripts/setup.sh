#!/usr/bin/env bash
# Create or reuse .venv and install thinklab with torch pinned first (so pip never pulls a CUDA build
# on a CPU machine). GPU users: install your CUDA torch build into .venv first, or set
# TORCH_SPEC/TORCH_INDEX_URL (e.g. TORCH_INDEX_URL=https://download.pytorch.org/whl/cu128); the
# installed torch is then pinned as a constraint for everything else.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-$(command -v python3.11 || command -v python3)}"
TORCH_SPEC="${TORCH_SPEC:-torch==2.13.0}"
EXTRAS="${THINKLAB_EXTRAS:-dev,serve,ray}"

if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
fi
if ! .venv/bin/python -c "import torch" 2>/dev/null; then
  if [ -n "${TORCH_INDEX_URL:-}" ]; then
    .venv/bin/pip install -q "$TORCH_SPEC" --index-url "$TORCH_INDEX_URL"
  else
    .venv/bin/pip install -q "$TORCH_SPEC"
  fi
fi
TORCH_VERSION="$(.venv/bin/python -c 'import torch; print(torch.__version__.split("+")[0])')"
echo "torch==${TORCH_VERSION}" > .venv/constraints.txt

# Re-install only when pyproject.toml or the extras changed.
STAMP=".venv/.thinklab-installed"
WANT="$(sha256sum pyproject.toml | cut -c1-16)-${EXTRAS}"
if [ "$(cat "$STAMP" 2>/dev/null)" != "$WANT" ]; then
  .venv/bin/pip install -q -c .venv/constraints.txt -e ".[${EXTRAS}]"
  echo "$WANT" > "$STAMP"
fi
if .venv/bin/pip list 2>/dev/null | grep -qi '^nvidia-' && ! .venv/bin/python -c "import torch,sys; sys.exit(0 if torch.version.cuda else 1)"; then
  echo "warning: CUDA packages were installed next to a CPU torch; check the install" >&2
fi
