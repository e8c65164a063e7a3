#!/usr/bin/env bash
# Create .venv with rehue and its test tools. PyTorch is pinned to the CPU build that this
# project's machines carry (an unpinned torch would pull a multi-GB CUDA build); the other packages are held
# at the versions in constraints.txt, the ones CI last passed with.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  # A full disk otherwise shows as a pip traceback halfway through PyTorch's install.
  free_mb=$(df -Pk . | awk 'NR==2 {print int($4 / 1024)}')
  if [ "${free_mb:-0}" -lt 3000 ]; then
    echo "setup: only ${free_mb} MB free in $(pwd); the environment (.venv) needs about 3000 MB" >&2
    exit 1
  fi
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
.venv/bin/python -c "import torch" 2>/dev/null || .venv/bin/python -m pip install -q "torch==2.13.0"
.venv/bin/python -m pip install -q -c constraints.txt -e ".[test]"
echo "rehue installed in .venv ($(.venv/bin/rehue --version))"
