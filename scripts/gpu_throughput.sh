#!/usr/bin/env bash
# One prepared GPU call for the measurements a CPU session cannot make (issues 23 and 24):
#   - cohort throughput: frames/s of the memory method with 1 / 8 / 32 / 64 studies batched (MR and echo);
#   - echo speed: PKEcho-Net model-only / end-to-end / bare encoder beside SSCF and TAN, on the GPU;
#   - the same on the CPU cores of that machine, in the same run, for the ratios.
# Usage on the device machine (from the repository root, with the venv or wheels carried):
#   scripts/gpu_throughput.sh OUT            # about 4-6 minutes on one H100
set -u
OUT=${1:?OUT}
mkdir -p "$OUT"
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
PY=${PYTHON:-python3}
T0=$(date +%s)
log() { echo "[$(( $(date +%s) - T0 )) s] $*"; }
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null | tee "$OUT/card.txt"
log "studies batched on the GPU"
timeout 240 $PY -m cardiacmotion benchmark --device cuda --studies 1 8 32 64 --progress none \
    --json "$OUT/studies_cuda.json" 2>&1 | tail -n 12
log "echo speed on the GPU"
timeout 120 $PY -m cardiacmotion benchmark --device cuda --echo --progress none --json "$OUT/echo_cuda.json" 2>&1 | tail -n 12
log "echo speed on 2 CPU threads of the same machine"
timeout 120 $PY -m cardiacmotion benchmark --device cpu --echo --threads 2 --progress none \
    --json "$OUT/echo_cpu2.json" 2>&1 | tail -n 12
log done
