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
for pair in numpy:numpy cv2:opencv-python-headless keras:keras tqdm:tqdm moviepy:moviepy \
            imageio_ffmpeg:imageio-ffmpeg "$KERAS_BACKEND:$KERAS_BACKEND"; do
    module="${pair%%:*}"; package="${pair#*:}"
    "$PYTHON" -c "import $module" 2>/dev/null || missing+=("$package")
done
if ((${#missing[@]})); then
    echo "installing missing packages: ${missing[*]}"
    "$PYTHON" -m pip install --quiet "${missing[@]}" || echo "could not install ${missing[*]}" >&2
fi
# the check needs these; moviepy and imageio-ffmpeg only for some video files (Ped2 is JPEG frames)
"$PYTHON" -c "import numpy, cv2, keras, tqdm, $KERAS_BACKEND" || {
    echo "missing dependencies: install numpy opencv-python-headless keras tqdm $KERAS_BACKEND (no TensorFlow) and run again" >&2
    exit 1; }
exec timeout "${CHECK_TIMEOUT_S:-570}" "$PYTHON" bench/device_check.py "$@"
