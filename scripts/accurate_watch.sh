#!/bin/bash
# Copy each checkpoint of a running `scripts/train_accurate.py --recipe cpu` run to RUN/curve/,
# for scripts/accurate_curve.py's learning curve (the run itself keeps only its latest checkpoint).
#   scripts/accurate_watch.sh runs/accurate-cpu &
set -u
RUN=${1:?usage: accurate_watch.sh RUN}
mkdir -p "$RUN/curve"
while true; do
  if [ -f "$RUN/work/CHECKPOINT" ]; then
    c=$(cat "$RUN/work/CHECKPOINT"); n=${c#checkpoint-}
    if [ ! -f "$RUN/curve/batch-$n.safetensors" ]; then
      sleep 20  # the pointer is written after the folder, but let the disk settle
      cp "$RUN/work/$c/model.safetensors" "$RUN/curve/batch-$n.tmp" && mv "$RUN/curve/batch-$n.tmp" "$RUN/curve/batch-$n.safetensors"
    fi
  fi
  [ -f "$RUN/full/training.json" ] && exit 0
  sleep 30
done
