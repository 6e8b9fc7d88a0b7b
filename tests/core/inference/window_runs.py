"""Tiny trained clip models saved as runs, and videos to classify with them: dark footage and bright footage.

The classifier learns, in a few epochs on 16x16 gray clips of 4 frames, whether a clip is dark (class
``dark``) or bright (``bright``); the regressor learns the clip's mean brightness. Both are trained by the
real trainer, so their run folders are what ``framewatch train`` leaves (``run.json``, ``best.keras``).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

FRAMES, SIZE = 4, 16
#: Background levels (0..255) of the dark and bright footage.
DARK, BRIGHT = 30, 220


def _frame(level: int, t: int, width: int, height: int) -> np.ndarray:
    """A gray ``level`` BGR frame with a mid-gray square moving 3 px a frame."""
    frame = np.full((height, width, 3), level, np.uint8)
    side = max(4, height // 4)
    x = (3 * t) % (width - side)
    frame[height // 3:height // 3 + side, x:x + side] = 128
    return frame


def write_levels(path: Path, levels: list[int], fps: float = 25.0, width: int = 64, height: int = 48) -> Path:
    """A video (MJPG .avi) whose frame ``t`` has background ``levels[t]``."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (width, height))
    assert writer.isOpened(), f"cannot write {path}"
    for t, level in enumerate(levels):
        writer.write(_frame(level, t, width, height))
    writer.release()
    return path


def dark_then_bright(path: Path, dark: int, bright: int) -> Path:
    return write_levels(path, [DARK] * dark + [BRIGHT] * bright)


def _clips(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n`` clips ``(n, 4, 16, 16, 1)`` float32 in [0, 1], alternately dark and bright (levels jittered),
    with their class (0 dark, 1 bright) and mean level in [0, 1]."""
    rng = np.random.default_rng(seed)
    classes = np.arange(n) % 2
    clips = np.empty((n, FRAMES, SIZE, SIZE, 1), np.float32)
    for i, cls in enumerate(classes):
        level = int(np.clip((BRIGHT if cls else DARK) + rng.integers(-20, 21), 0, 255))
        start = int(rng.integers(0, 20))
        for t in range(FRAMES):
            frame = cv2.resize(_frame(level, start + t, 64, 48), (SIZE, SIZE), interpolation=cv2.INTER_AREA)
            clips[i, t, :, :, 0] = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) / 255.0
    return clips, classes.astype(np.int32), clips.mean(axis=(1, 2, 3, 4))[:, None].astype(np.float32)


def train_run(project_folder: Path, task: str, name: str | None = None) -> Path:
    """Train a tiny ``classify`` or ``regress`` run into ``<project>/runs/<name>`` and return its folder."""
    from core.models import make_spec
    from core.training.data import TrainingData
    from core.training.trainer import TrainingConfig, train

    x, classes, levels = _clips(32)
    outputs = 2 if task == "classify" else 1
    spec = make_spec(task, "default", frames=FRAMES, height=SIZE, width=SIZE, channels=1, outputs=outputs,
                     cnn_filters=(4,), lstm_units=(4,), dropout=0.0, learning_rate=3e-2)
    description = {"source": "test", "preprocess": {"height": SIZE, "width": SIZE, "grayscale": True},
                   "class_names": ["dark", "bright"] if task == "classify" else []}
    run_dir = project_folder / "runs" / (name or task)
    data = TrainingData(x, classes if task == "classify" else levels, description=description)
    train(spec, data, run_dir, config=TrainingConfig(epochs=12, batch_size=8, patience=0, lr_patience=0))
    return run_dir
