"""Per-frame backbone features cached on disk, for training only the LSTM head of a frozen LRCN.

Features of clips ``(n, frames, height, width, channels)`` are ``(n, frames, features)`` float32,
stored as ``.npy`` (read back memory-mapped) under ``cache_dir``, keyed by backbone, weights, frame
spec and a digest of the clips, so a second run on the same data skips the backbone entirely.
"""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path
from typing import Any

import numpy as np

from core.atomic_write import atomic_output
from core.jobs import ProgressCallback, check_cancelled, report
from core.models.specs import LRCNSpec


def _weights_identity(weights: str | None) -> str:
    if weights in (None, "", "none", "None", "imagenet"):
        return str(weights)
    path = Path(weights)
    if path.is_file():
        stat = path.stat()
        return f"{path.resolve()}:{stat.st_size}:{int(stat.st_mtime)}"
    return str(weights)


def cache_key(spec: LRCNSpec, clips: np.ndarray, seed: int) -> str:
    """A stable key: backbone + weights + frame spec (+ seed for random weights) + digest of ``clips``."""
    digest = hashlib.sha1()
    digest.update(str(clips.shape).encode() + str(clips.dtype).encode())
    digest.update(memoryview(np.ascontiguousarray(clips)).cast("B"))
    parts: dict[str, Any] = {
        "backbone": spec.backbone, "weights": _weights_identity(spec.weights),
        "frame": [spec.height, spec.width, spec.channels], "cnn_filters": list(spec.cnn_filters),
        "data": digest.hexdigest(),
    }
    if spec.weights in (None, "", "none", "None"):
        parts["seed"] = seed
    return hashlib.sha1(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


def encode_clips(
    encoder: Any,
    clips: np.ndarray,
    batch_frames: int = 64,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Run the per-frame ``encoder`` over every frame of ``clips``; returns ``(n, frames, features)``."""
    n, frames = clips.shape[:2]
    flat = clips.reshape(n * frames, *clips.shape[2:])
    features = int(encoder.output.shape[-1])
    if out is None:
        out = np.empty((n, frames, features), np.float32)
    flat_out = out.reshape(n * frames, features)
    for start in range(0, len(flat), batch_frames):
        check_cancelled(cancel, "feature caching")
        stop = min(len(flat), start + batch_frames)
        flat_out[start:stop] = np.asarray(encoder(flat[start:stop], training=False), np.float32)
        report(progress, stop, len(flat), f"caching backbone features: {stop}/{len(flat)} frames")
    return out


def cached_features(
    spec: LRCNSpec,
    encoder: Any,
    clips: np.ndarray,
    cache_dir: Path,
    seed: int = 0,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> np.ndarray:
    """Features of ``clips``, from ``cache_dir`` when present, else computed and saved there (atomically)."""
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    path = cache_dir / f"{spec.backbone}-{cache_key(spec, clips, seed)}.npy"
    if path.is_file():
        return np.load(path, mmap_mode="r")
    features = int(encoder.output.shape[-1])
    with atomic_output(path) as tmp:
        out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=(*clips.shape[:2], features))
        try:
            encode_clips(encoder, clips, progress=progress, cancel=cancel, out=out)
            out.flush()
        finally:
            del out
    return np.load(path, mmap_mode="r")


def cached_sequence_features(
    spec: LRCNSpec,
    encoder: Any,
    batches: Any,
    key: str,
    cache_dir: Path,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Features and targets of a batch sequence (``len(batches)``, ``batches[i] -> (x, y)``, fixed order).

    Clips are encoded one batch at a time, so memory stays flat however many clips there are. ``key``
    identifies the clips (the caller derives it from the videos and the sample table); the features go
    to ``<backbone>-<key>.npy`` and the targets beside them, both read back memory-mapped.
    """
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    parts = {"backbone": spec.backbone, "weights": _weights_identity(spec.weights), "data": key,
             "frame": [spec.height, spec.width, spec.channels], "cnn_filters": list(spec.cnn_filters)}
    name = f"{spec.backbone}-{hashlib.sha1(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]}"
    path, targets_path = cache_dir / f"{name}.npy", cache_dir / f"{name}.targets.npy"
    if path.is_file() and targets_path.is_file():
        return np.load(path, mmap_mode="r"), np.load(targets_path, mmap_mode="r")
    count = len(batches)
    features = int(encoder.output.shape[-1])
    targets: list[np.ndarray] = []
    with atomic_output(path) as tmp:
        out = None
        try:
            row = 0
            total = None
            for i in range(count):
                check_cancelled(cancel, "feature caching")
                x, y = batches[i]
                x = np.asarray(x)
                if out is None:
                    total = getattr(batches, "num_samples", None) or count * len(x)
                    out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32,
                                                    shape=(total, x.shape[1], features))
                encode_clips(encoder, x, out=out[row:row + len(x)])
                targets.append(np.asarray(y))
                row += len(x)
                report(progress, i + 1, count, f"caching backbone features: batch {i + 1}/{count}")
            if out is None or row != total:
                raise ValueError(f"the batches gave {row} clips, expected {total}")
            out.flush()
        finally:
            del out
        with atomic_output(targets_path) as targets_tmp, open(targets_tmp, "wb") as f:
            np.save(f, np.concatenate(targets))
    return np.load(path, mmap_mode="r"), np.load(targets_path, mmap_mode="r")
