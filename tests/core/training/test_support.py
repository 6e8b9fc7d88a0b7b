"""Tiny learnable toy problems for the training tests (8 frames of 32x32), and checks of the toys."""

from __future__ import annotations

import numpy as np

FRAMES, SIZE = 8, 32


def moving_squares(n: int, frames: int = FRAMES + 1, size: int = SIZE, seed: int = 0) -> np.ndarray:
    """Clips ``(n, frames, size, size, 1)`` float32 of a 6x6 white square moving 2 px/frame, bouncing."""
    rng = np.random.default_rng(seed)
    clips = np.zeros((n, frames, size, size, 1), np.float32)
    for i in range(n):
        r, c = (int(v) for v in rng.integers(0, size - 6, 2))
        dr, dc = (int(v) * 2 for v in rng.choice([-1, 1], 2))
        for t in range(frames):
            clips[i, t, r:r + 6, c:c + 6, 0] = 1.0
            if not 0 <= r + dr <= size - 6:
                dr = -dr
            if not 0 <= c + dc <= size - 6:
                dc = -dc
            r, c = r + dr, c + dc
    return clips


def shifted(clips: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return clips[:, :-1], clips[:, 1:]


def square_size_clips(n: int, channels: int = 1, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Noisy clips with a bright square wandering about: ``(x, class, size)``.

    The class (0, 1, 2) is the square's size (4, 9 or 14 px); the regression target is that size / 32,
    ``(n, 1)`` float32. Learnable by any per-frame CNN, even after global average pooling.
    """
    rng = np.random.default_rng(seed)
    x = rng.random((n, FRAMES, SIZE, SIZE, channels), dtype=np.float32) * 0.2
    labels = rng.integers(0, 3, n)
    sizes = np.array([4, 9, 14])[labels]
    for i, side in enumerate(sizes):
        for t in range(FRAMES):
            r, c = (int(v) for v in rng.integers(0, SIZE - side, 2))
            x[i, t, r:r + side, c:c + side, :] = 1.0
    return x, labels.astype(np.int32), (sizes[:, None] / SIZE).astype(np.float32)


def test_toys_are_well_formed() -> None:
    clips = moving_squares(4)
    assert clips.shape == (4, FRAMES + 1, SIZE, SIZE, 1) and clips.dtype == np.float32
    assert np.all(clips.sum(axis=(2, 3, 4)) == 36)  # one whole square in every frame
    x, y = shifted(clips)
    assert x.shape == y.shape == (4, FRAMES, SIZE, SIZE, 1)
    xq, labels, rows = square_size_clips(6, channels=3)
    assert xq.shape == (6, FRAMES, SIZE, SIZE, 3) and set(labels) <= {0, 1, 2} and rows.shape == (6, 1)
