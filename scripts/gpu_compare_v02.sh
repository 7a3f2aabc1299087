#!/usr/bin/env bash
# Second GPU call after scripts/gpu_train_v03.sh: the same evaluation table with the v0.2.0 weights
# (before/after on the same cases), and `cardiacmotion benchmark` of memory (v0.3.0 and v0.2.0) against
# registration on the GPU, in one run.
#   scripts/gpu_compare_v02.sh OUT DATA     (Resources/Models holds cstm-v0.3.0 and the v0.2.0 files)
set -u
OUT=${1:?OUT}; DATA=${2:?DATA}
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1 OMP_NUM_THREADS=1
PY=${PYTHON:-python3}
T0=$(date +%s)
log() { echo "[$(( $(date +%s) - T0 )) s] $*"; }
nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null
log "evaluation table with cstm-v0.2.0 + mmsa-v0.2.0"
timeout 300 $PY -m cardiacmotion evaluate table --device cuda --progress none --phantom-cases 3 --independent-cases 20 \
    --real SCD0000101,SCD0000201,porcine --workers 15 --real-cache "$DATA/real_eval" \
    --cstm-weights Resources/Models/cstm-v0.2.0.pt --mmsa-weights Resources/Models/mmsa-v0.2.0.pt \
    --markdown "$OUT/eval_v02.md" --json "$OUT/eval_v02.json" 2> /tmp/eval_v02.err
log "evaluation exit $?"; tail -n 3 /tmp/eval_v02.err
for v in 0.3.0 0.2.0; do
  log "benchmark memory cstm-v$v vs registration"
  timeout 120 $PY -m cardiacmotion benchmark --device cuda --cases 2 --methods registration memory \
      --weights Resources/Models/cstm-v$v.pt --progress none --json "$OUT/bench_v$v.json" 2>&1 | tail -n 8
done
log done
