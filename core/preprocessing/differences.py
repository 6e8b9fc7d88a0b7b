"""Clips as the changes between their frames: what moved, and how far, with the scene's look taken out."""

from __future__ import annotations

import numpy as np

#: What a clip model can be given: the frames themselves or the differences between consecutive ones.
CLIP_INPUTS = ("frames", "differences")


def frame_differences(clips: np.ndarray) -> np.ndarray:
    """``(n, frames, h, w, c)`` uint8 -> ``(n, frames - 1, h, w, c)`` uint8: ``|frame t+1 - frame t|`` per pixel.

    A digit or a cyclist moving ``v`` pixels a frame leaves a band about ``v`` pixels wide along its edges, so
    a model that pools over space (an LRCN's per-frame CNN ends in global average pooling) still sees how far
    things moved, which it cannot from the frames themselves.
    """
    clips = np.asarray(clips)
    if clips.ndim != 5 or clips.shape[1] < 2 or clips.dtype != np.uint8:
        raise ValueError(f"clips must be uint8 (n, frames >= 2, height, width, channels), not {clips.dtype} {clips.shape}")
    return np.abs(np.diff(clips.astype(np.int16), axis=1)).astype(np.uint8)


def clip_input(clips: np.ndarray, kind: str) -> np.ndarray:
    """``clips`` as a model of input ``kind`` (one of :data:`CLIP_INPUTS`) sees them."""
    if kind not in CLIP_INPUTS:
        raise ValueError(f"input must be one of {', '.join(CLIP_INPUTS)}, not {kind!r}")
    return clips if kind == "frames" else frame_differences(clips)
