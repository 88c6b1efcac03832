#!/usr/bin/env bash
# The GPU figures of issue 15 in one run, under 8 minutes: ResNet-50 training images/s
# (float32 and mixed precision, XLA off and on) and inference images/s (inference-optimized
# vs not), each against keras.applications, with the ratios.
#
#   bash benchmarks/gpu.sh [LOG]      # LOG: also written there [default: $OUT/gpu.log if
#                                     # $OUT is set, else stdout only]
#   GPU_SH_SMOKE=1 bash benchmarks/gpu.sh   # tiny sizes: checks the script end to end on a CPU
#
# Every step runs under `timeout`, given at most what is left of the total budget
# (GPU_SH_BUDGET seconds, 460 by default, the header included), so the whole cannot pass
# 8 minutes. A step cut short still leaves what it printed (both benchmarks print as they
# go). PYTHON picks the interpreter (default python3); TensorFlow with CUDA must be
# importable there.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
PYTHON=${PYTHON:-python3}
SMOKE=${GPU_SH_SMOKE:-0}
BUDGET=${GPU_SH_BUDGET:-460}

LOG=${1:-}
if [[ -z $LOG && -n ${OUT:-} ]]; then
    LOG=$OUT/gpu.log
fi
if [[ -n $LOG ]]; then
    mkdir -p "$(dirname "$LOG")"
    exec > >(tee "$LOG") 2>&1
fi

START=$SECONDS
left() { echo $((BUDGET - (SECONDS - START))); }

# step SECONDS TITLE COMMAND...: run COMMAND for at most SECONDS (and what is left of BUDGET)
step() {
    local want=$1 title=$2
    shift 2
    local limit
    limit=$(left)
    ((want < limit)) && limit=$want
    echo
    echo "=== $title (at most ${limit}s; $(left)s of ${BUDGET}s left) ==="
    if ((limit < 10)); then
        echo "skipped: the time budget is spent"
        return 0
    fi
    local t0=$SECONDS rc=0
    timeout --kill-after=10 "$limit" "$@" || rc=$?
    if ((rc == 124 || rc == 137)); then
        echo "!!! cut short after ${limit}s: the figures above are what it reached"
    elif ((rc != 0)); then
        echo "!!! failed with exit status $rc"
    fi
    echo "--- ${title}: $((SECONDS - t0))s"
    return 0
}

echo "benchmarks/gpu.sh, $(date -u +%Y-%m-%dT%H:%M:%SZ), smoke=$SMOKE"
echo "=== machine ==="
if command -v nvidia-smi >/dev/null; then
    nvidia-smi -L
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
else
    echo "no nvidia-smi on this machine"
fi
echo "CPUs: $(nproc)"
timeout 120 "$PYTHON" - <<'EOF' || { echo "!!! TensorFlow does not import: stopping"; exit 1; }
import os, platform
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import keras, tensorflow as tf
print(f"Python {platform.python_version()}, TensorFlow {tf.__version__}, Keras {keras.__version__}")
print("TensorFlow built with CUDA:", tf.test.is_built_with_cuda(),
      "| GPUs TensorFlow sees:", [d.name for d in tf.config.list_physical_devices("GPU")])
EOF

if [[ $SMOKE == 1 ]]; then
    TRAIN=(--size 32 --batch 4 --steps 1 --repeats 1)  # 4 images: one per class
    INFER=(--size 32 --models ResNet50 --calls 1 1)
else
    # 224×224 as keras.applications; 1,600 images an epoch, 4 timed epochs per model/setting
    TRAIN=(--size 224 --batch 64 --steps 25 --repeats 4)
    INFER=(--size 224 --models ResNet50 MobileNet DenseNet121 --calls 50 20)
fi

# Training: four settings (float32 / mixed_float16, XLA off / on), ours vs keras.applications,
# one GPU (default strategy), with a summary table of ratios and speed-ups at the end.
step 330 "training, ResNet-50: archc vs keras.applications" \
    "$PYTHON" benchmarks/bench_train.py "${TRAIN[@]}" --settings all

# Inference: bench_optimize.py keeps to the CPU unless CUDA_VISIBLE_DEVICES is set (it sets
# it to "" by default, and its header says CPU); here it is given the GPU.
step 120 "inference, optimized vs keras.applications (on the GPU: CUDA_VISIBLE_DEVICES=${CUDA_VISIBLE_DEVICES:-0})" \
    env CUDA_VISIBLE_DEVICES="${CUDA_VISIBLE_DEVICES:-0}" \
    "$PYTHON" benchmarks/bench_optimize.py "${INFER[@]}"

echo
echo "=== done in $((SECONDS - START))s${LOG:+; log: $LOG} ==="
