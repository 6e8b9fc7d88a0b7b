"""Synthetic moving blobs: a textured square sliding over a still, textured background (tiny gray frames).

The normal scene has one lane, rows 6-18 of a 48x96 frame, where blobs move right at 2 pixels per frame; the
bottom rows (30-42) never see motion."""

from __future__ import annotations

import numpy as np

HEIGHT, WIDTH, SIDE = 48, 96, 10
LANE_TOP, EMPTY_TOP = 7, 32


def _background() -> np.ndarray:
    rng = np.random.default_rng(0)
    noise = rng.integers(60, 110, (HEIGHT // 4, WIDTH // 4)).astype(np.uint8)
    return np.kron(noise, np.ones((4, 4), np.uint8))


def _blob() -> np.ndarray:
    rng = np.random.default_rng(1)
    return np.kron(rng.integers(150, 255, (SIDE // 2, SIDE // 2)), np.ones((2, 2))).astype(np.uint8)


def blob_frames(frames: int, speed: float, top: int = LANE_TOP, start: float | None = None) -> list[np.ndarray]:
    """``frames`` gray ``(48, 96)`` uint8 frames of one blob at rows ``top..top+10`` moving ``speed`` pixels per
    frame to the right (left when negative), from ``start`` (default: the edge it enters from)."""
    background, blob = _background(), _blob()
    x = (2.0 if speed >= 0 else WIDTH - SIDE - 2.0) if start is None else start
    out = []
    for _ in range(frames):
        frame = background.copy()
        left = int(round(x)) % (WIDTH - SIDE)
        frame[top:top + SIDE, left:left + SIDE] = blob
        out.append(frame)
        x += speed
    return out


def normal_videos(count: int = 4, frames: int = 30) -> list[list[np.ndarray]]:
    """``count`` videos of normal footage: a blob moving right along the lane at 2 pixels per frame."""
    return [blob_frames(frames, 2.0, start=2.0 + 7 * k) for k in range(count)]
