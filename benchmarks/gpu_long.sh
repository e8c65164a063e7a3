#!/bin/bash
# The GPU runs of docs/model-card.md, "Trained on a GPU, 18 times longer": the shipped independent recipe
# (seeds 0-2) beside four runs of width 32 or 16, batch 64, each stopped after LONG seconds. Needs the copy
# of benchmarks/device_copy.py in .gpu/data; the models come back as a tar split into 15 MB parts in $OUT.
# LONG: seconds each long run may take; DEV: cuda there, cpu for a dry run.
LONG=${LONG:-450}; SHORT=${SHORT:-100}; DEV=${DEV:-cuda}; EPOCHS=${EPOCHS:-400}; CE=${CE:-14}
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1 OMP_NUM_THREADS=2 MKL_NUM_THREADS=2
PY=${PY:-python3}
OUTDIR=${OUT:-/tmp/out}; mkdir -p "$OUTDIR"
R=/tmp/gpuruns; rm -rf $R; mkdir -p $R
{ date; nvidia-smi -L 2>&1; nproc; $PY -c "import torch, numpy, cv2; print(torch.__version__, torch.cuda.is_available(), numpy.__version__, cv2.__version__)"; } > $R/env.txt 2>&1
C="--size 128 --generator gen2 --discriminator patch --disc-width 16 --val-images 16 --no-progress --device $DEV --colour-jitter 0.3 --crop-min 0.7 --workers 2 --steps-per-epoch 50"
tr() { local name=$1 lim=$2; shift 2; local t0=$(date +%s)
  timeout -s KILL $lim $PY -m rehue.cli train .gpu/data --out $R/$name $C "$@" > $R/$name.log 2>&1
  echo "$name rc $? $(( $(date +%s) - t0 )) s" >> $R/done.txt; }
( tr control-s1 $SHORT --width 16 --batch-size 16 --lr-g 5e-4 --seed 1 --epochs $CE --ema 0.995
  tr control-s2 $SHORT --width 16 --batch-size 16 --lr-g 5e-4 --seed 2 --epochs $CE --ema 0.995
  tr control-s0 $SHORT --width 16 --batch-size 16 --lr-g 5e-4 --seed 0 --epochs $CE --ema 0.995 ) &
tr w32-long-s1 $LONG --width 32 --batch-size 64 --lr-g 5e-4 --seed 1 --epochs $EPOCHS --ema 0.999 --steps-per-epoch 100 &
tr w32-long-s2 $LONG --width 32 --batch-size 64 --lr-g 5e-4 --seed 2 --epochs $EPOCHS --ema 0.999 --steps-per-epoch 100 &
tr w16-long-s1 $LONG --width 16 --batch-size 64 --lr-g 5e-4 --seed 1 --epochs $EPOCHS --ema 0.999 --steps-per-epoch 100 &
tr w32-thesis-s1 $LONG --width 32 --batch-size 64 --lr-g 2e-4 --seed 1 --epochs $EPOCHS --ema 0.999 --steps-per-epoch 100 &
wait
date >> $R/env.txt; nvidia-smi >> $R/env.txt 2>&1
cd $R && for d in */; do d=${d%/}; last=$(ls $d/samples 2>/dev/null | tail -1)
  mkdir -p keep/$d; cp $d/model.safetensors $d/model.json $d/metrics.csv keep/$d/ 2>/dev/null
  [ -n "$last" ] && cp $d/samples/$last keep/$d/; done
cp *.log done.txt env.txt keep/
tar cf all.tar -C keep . && split -b 15M -d all.tar "$OUTDIR/part" && ls -l "$OUTDIR"; cat done.txt
