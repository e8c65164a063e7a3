#!/usr/bin/env bash
# The exact commands that made the models shipped in src/rehue/weights (see docs/model-card.md).
# Needs the demo set: .venv/bin/rehue data demo --out data/demo
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-runs}
COMMON=(--size 128 --generator gen2 --width 16 --discriminator patch --disc-width 16 --batch-size 16
        --lr-g 5e-4 --val-images 16 --seed 0 --no-progress)
# weights averaged (EMA); chroma and hue of each crop jittered; no cut-outs pasted (docs/model-card.md
# "What moved the numbers")
.venv/bin/rehue train data/demo --out "$RUNS/independent" "${COMMON[@]}" --epochs 14 --steps-per-epoch 50 --ema 0.995 \
  --colour-jitter 0.3 "$@"
# the dependent model learns from the colours a video will feed it: the independent model's output for the
# previous frame (30% of batches), its own fed back 1-24 times (50%: a still shot, so it learns not to
# drift), degraded truth (the rest); weights averaged (EMA)
.venv/bin/rehue train data/demo --out "$RUNS/dependent" "${COMMON[@]}" --dependent --epochs 8 --steps-per-epoch 50 \
  --init "$RUNS/independent/model.safetensors" --independent-feed 0.3 --self-feed 0.5 --self-feed-steps 24 \
  --ema 0.99 "$@"
