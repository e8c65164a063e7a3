#!/usr/bin/env bash
# Create .venv with rehue and its test tools. PyTorch is pinned to the CPU build that this
# project's machines carry (an unpinned torch would pull a multi-GB CUDA build); the other packages are held
# at the versions in constraints.txt, the ones CI last passed with.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
.venv/bin/python -c "import torch" 2>/dev/null || .venv/bin/python -m pip install -q "torch==2.13.0"
.venv/bin/python -m pip install -q -c constraints.txt -e ".[test]"
echo "rehue installed in .venv ($(.venv/bin/rehue --version))"
