"""Clip windows over frame sequences, and shifted pairs for next-frame prediction.

Shapes follow Keras: a clip batch is ``(clips, frames, height, width, channels)``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator

import numpy as np


def window_starts(num_frames: int, length: int, stride: int = 1, frame_step: int = 1) -> range:
    """First-frame indices of every window of ``length`` frames taken ``frame_step`` apart.

    A window starting at ``s`` covers frames ``s, s+k, ..., s+(length-1)*k``; windows start every
    ``stride`` frames. Returns an empty range when the footage is shorter than one window.
    """
    if length < 1 or stride < 1 or frame_step < 1:
        raise ValueError(f"length, stride and frame_step must be >= 1, not {length}, {stride}, {frame_step}")
    span = (length - 1) * frame_step + 1
    return range(0, max(0, num_frames - span + 1), stride)


def window_count(num_frames: int, length: int, stride: int = 1, frame_step: int = 1) -> int:
    """Number of windows :func:`clip_windows` gives for ``num_frames`` frames."""
    return len(window_starts(num_frames, length, stride, frame_step))


def clip_windows(frames: np.ndarray, length: int, stride: int = 1, frame_step: int = 1) -> np.ndarray:
    """Windows over ``frames`` ``(T, H, W, C)`` -> ``(clips, length, H, W, C)``.

    The result is a read-only strided *view* (no copy); call ``np.ascontiguousarray`` to own it.
    """
    frames = np.asarray(frames)
    if frames.ndim != 4:
        raise ValueError(f"frames must be (T, H, W, C), got shape {frames.shape}")
    starts = window_starts(len(frames), length, stride, frame_step)
    n = len(starts)
    st = frames.strides
    return np.lib.stride_tricks.as_strided(
        frames,
        shape=(n, length, *frames.shape[1:]),
        strides=(st[0] * stride, st[0] * frame_step, *st[1:]),
        writeable=False,
    )


def iter_clip_windows(frames: Iterable[np.ndarray], length: int, stride: int = 1, frame_step: int = 1) -> Iterator[np.ndarray]:
    """Streaming :func:`clip_windows`: yields ``(length, H, W, C)`` arrays, holding only one window span."""
    span = (length - 1) * frame_step + 1
    window_starts(span, length, stride, frame_step)  # validates arguments
    buffer: deque[np.ndarray] = deque(maxlen=span)
    next_start = 0
    for index, frame in enumerate(frames):
        buffer.append(frame)
        start = index - span + 1
        if start >= 0 and start == next_start:
            yield np.stack([buffer[i] for i in range(0, span, frame_step)])
            next_start += stride


def shifted_pairs(clips: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Next-frame pairs: ``x = clips[:, :-1]``, ``y = clips[:, 1:]`` (both ``(N, L-1, H, W, C)``)."""
    clips = np.asarray(clips)
    if clips.ndim != 5 or clips.shape[1] < 2:
        raise ValueError(f"clips must be (N, L>=2, H, W, C), got shape {clips.shape}")
    return clips[:, :-1], clips[:, 1:]
