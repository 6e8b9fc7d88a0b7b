#!/usr/bin/env bash
# The GPU check (docs/benchmarks.md, "Device check"): device, Moving MNIST training and quality, Ped2
# training and scoring throughput, each beside the reference CPU's figure. Under 8 minutes on a GPU.
#
#   bench/device_check.sh [--minutes 3] [--data DIR] [--out DIR] ...   (options of bench/device_check.py)
#
# KERAS_BACKEND defaults to jax (set torch for PyTorch); TensorFlow is not needed. Results go to
# $OUT/device_check.json when OUT is set. Only the missing pip dependencies are installed (never
# TensorFlow, never the Qt GUI's), and only when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
export KERAS_BACKEND="${KERAS_BACKEND:-jax}"
export PYTHONUNBUFFERED=1
PYTHON="${PYTHON:-python3}"

missing=()
for pair in numpy:numpy cv2:opencv-python-headless moviepy:moviepy imageio_ffmpeg:imageio-ffmpeg keras:keras \
            tqdm:tqdm "$KERAS_BACKEND:$KERAS_BACKEND"; do
    module="${pair%%:*}"; package="${pair#*:}"
    "$PYTHON" -c "import $module" 2>/dev/null || missing+=("$package")
done
if ((${#missing[@]})); then
    echo "installing missing packages: ${missing[*]}"
    "$PYTHON" -m pip install --quiet "${missing[@]}" || {
        echo "could not install ${missing[*]}: install them (without TensorFlow) and run again" >&2; exit 1; }
fi
exec timeout "${CHECK_TIMEOUT_S:-570}" "$PYTHON" bench/device_check.py "$@"
