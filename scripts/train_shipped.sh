#!/usr/bin/env bash
# The exact commands that made the models shipped in src/rehue/weights (see docs/model-card.md).
# Needs the demo set: .venv/bin/rehue data demo --out data/demo
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-runs}
COMMON=(--size 128 --generator gen2 --width 16 --discriminator patch --disc-width 16 --batch-size 16
        --lr-g 5e-4 --val-images 16 --no-progress)
# 1. The independent model the dependent one starts from and learns to follow: the previous round's
# shipped independent model (weights averaged; chroma and hue of each crop jittered; no cut-outs pasted).
.venv/bin/rehue train data/demo --out "$RUNS/feed-independent" "${COMMON[@]}" --seed 0 --epochs 14 \
  --steps-per-epoch 50 --ema 0.995 --colour-jitter 0.3 "$@"
# 2. The dependent model learns from the colours a video will feed it: that independent model's output for
# the previous frame (30% of batches), its own fed back 1-24 times (50%: a still shot, so it learns not to
# drift), degraded truth (the rest); weights averaged (EMA). It also follows the shipped independent model
# of step 3 without drifting (docs/model-card.md, "The dependent model").
.venv/bin/rehue train data/demo --out "$RUNS/dependent" "${COMMON[@]}" --seed 0 --dependent --epochs 8 \
  --steps-per-epoch 50 --init "$RUNS/feed-independent/model.safetensors" --independent-feed 0.3 --self-feed 0.5 \
  --self-feed-steps 24 --ema 0.99 "$@"
# 3. The shipped independent model: step 1's recipe with crops of 70-100% of a photo's short side instead of
# 35-100%; seed 1, the better of two seeds on the tuning photos (docs/model-card.md "What moved the numbers").
.venv/bin/rehue train data/demo --out "$RUNS/independent" "${COMMON[@]}" --seed 1 --epochs 14 \
  --steps-per-epoch 50 --ema 0.995 --colour-jitter 0.3 --crop-min 0.7 "$@"
