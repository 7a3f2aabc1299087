#!/usr/bin/env bash
# Retrain cstm-v0.3.0 (memory propagation) and mmsa-v0.3.0 (wall-motion scoring) on the widened
# (domain-randomised) training phantom plus the real training studies, then evaluate every method
# side by side (`cardiacmotion evaluate table`), on one GPU machine with 16 cores, in about 8 minutes.
#
#   scripts/gpu_train_v03.sh OUT DATA [tiny]
#
# OUT: where weights, models.json, logs and the evaluation table go. DATA: the folder written by
# `python scripts/prepare_gpu_data.py DATA` (real_train.npz: porcine + SCD0000201; real_eval/: every
# real study, SCD0000101 only ever evaluated). 'tiny' runs the same steps at toy size on a CPU (the
# end-to-end check of this script). Run from the repository root.
#
# CSTM and MMSA train at the same time (one GPU, the CPU cores split between their data workers);
# the MMSA training data (perturbed truth + the product's registration and memory segmentations of
# randomised phantoms) uses the bundled cstm-v0.2.0 for its memory segmentations (a snapshot of the
# models folder), so it does not depend on the CSTM run in flight. Fine-tuned from the v0.2.0 weights.
set -u
OUT=${1:?OUT}; DATA=${2:?DATA}; SCALE=${3:-full}
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1 OMP_NUM_THREADS=1 CARDIACMOTION_CACHE=/tmp/cm-cache
PY=${PYTHON:-python3}
T0=$(date +%s)
log() { echo "[$(( $(date +%s) - T0 )) s] $*"; }
L=/tmp/run-logs  # logs stay out of OUT (few files come back): tarred into OUT/logs.tgz at the end
rm -rf $L && mkdir -p $L

if [ "$SCALE" = tiny ]; then
  DEV=cpu; CSTM="--iterations 3 --batch 2 --mr-phantoms 2 --echo-phantoms 1 --workers 0 --eval-mr 0 --eval-echo 0 --minutes 2"
  MMSA="--train-seeds 0-1 --val-seeds 5000 --epochs 1 --workers 0 --max-minutes 2"
  EVAL="--phantom-cases 1 --independent-cases 1 --real SCD0000101 --small --workers 2"
else
  DEV=cuda
  CSTM="--iterations 2600 --batch 32 --mr-phantoms 56 --echo-phantoms 12 --workers 7 --eval-mr 2 --eval-echo 1 --minutes 2.5"
  MMSA="--train-seeds 0-99 --val-seeds 5000-5007 --epochs 14 --workers 8 --max-minutes 1.2"
  EVAL="--phantom-cases 3 --independent-cases 20 --real SCD0000101,SCD0000201,porcine --workers 15"
fi
# wall-clock caps (seconds from the start) so the evaluation always runs and the call ends in time
TRAIN_CAP=${TRAIN_CAP:-330}; END_CAP=${END_CAP:-520}

log "smoke: imports and device"
$PY - <<'PY' || { echo "smoke failed"; exit 3; }
import numpy, scipy, cv2, torch
import cardiacmotion.training.train_propagation, cardiacmotion.training.train_scoring, cardiacmotion.evaluation.table
import cardiacmotion.independent, cardiacmotion.phantom.randomize
print("torch", torch.__version__, "cuda", torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else "-",
      "numpy", numpy.__version__, "cv2", cv2.__version__)
PY
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null | tee "$L/gpu.txt"

rm -rf /tmp/models-v02 && cp -r Resources/Models /tmp/models-v02

log "CSTM and MMSA training (in parallel)"
( timeout $TRAIN_CAP $PY -m cardiacmotion train propagation --device $DEV --arch small --size 128 --lr 0.0007 --seed 3 --threads 2 \
    --randomize 0.75 --sunnybrook SCD0000201 --real-fraction 0.3 --real-cache "$DATA/real_train.npz" \
    --init /tmp/models-v02/cstm-v0.2.0.pt --model-id cstm-v0.3.0 --out Resources/Models/cstm-v0.3.0.pt \
    --work-dir "$L/cstm" $CSTM > "$L/cstm.log" 2>&1; echo "cstm exit $?" >> "$L/cstm.log" ) &
( CARDIACMOTION_MODELS=/tmp/models-v02 timeout $TRAIN_CAP $PY -m cardiacmotion train scoring --device $DEV --threads 2 --fast-phantoms \
    --randomize --segmentation perturbed,registration,memory --batch 8 --lr 0.0015 --seed 3 \
    --init /tmp/models-v02/mmsa-v0.2.0.pt --progress none -o Resources/Models/mmsa-v0.3.0.pt $MMSA \
    > "$L/mmsa.log" 2>&1; echo "mmsa exit $?" >> "$L/mmsa.log" ) &
wait
log "training done"; tail -n 3 "$L/cstm.log" "$L/mmsa.log"
cp Resources/Models/cstm-v0.3.0.pt Resources/Models/mmsa-v0.3.0.pt Resources/Models/models.json "$OUT/" 2>/dev/null
# a model that did not finish is evaluated as its v0.2.0 predecessor (said in the log)
CW=Resources/Models/cstm-v0.3.0.pt; MW=Resources/Models/mmsa-v0.3.0.pt
[ -f $CW ] || { log "no cstm-v0.3.0: evaluating cstm-v0.2.0"; CW=/tmp/models-v02/cstm-v0.2.0.pt; }
[ -f $MW ] || { log "no mmsa-v0.3.0: evaluating mmsa-v0.2.0"; MW=/tmp/models-v02/mmsa-v0.2.0.pt; }
EDEV=$DEV; [ "$DEV" = cuda ] || EDEV=cpu

log "evaluation: every method side by side"
timeout $(( END_CAP - ($(date +%s) - T0) )) $PY -m cardiacmotion evaluate table --device $EDEV --progress none $EVAL \
    --real-cache "$DATA/real_eval" --cstm-weights $CW --mmsa-weights $MW \
    --rows-jsonl "$L/eval_rows.jsonl" --markdown "$OUT/eval.md" --json "$OUT/eval.json" 2> "$L/eval.err"
log "evaluation exit $?"
tail -n 5 "$L/eval.err"
tar czf "$OUT/logs.tgz" -C /tmp run-logs && log "done"
