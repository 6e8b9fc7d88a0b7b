"""Preprocessing: resize, gray, [0, 1] float32, mean frame, clip windows and shifted pairs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.preprocessing import (
    PreprocessSpec,
    clip_windows,
    compute_mean_frame,
    iter_clip_windows,
    iter_preprocessed,
    preprocess_frame,
    shifted_pairs,
    window_count,
    window_starts,
)
from core.video import open_video
from tests.video_factory import write_images


def test_preprocess_frame_gray_and_rgb() -> None:
    frame = np.full((240, 360), 255, np.uint8)
    out = preprocess_frame(frame, PreprocessSpec(64, 96))
    assert out.shape == (64, 96, 1) and out.dtype == np.float32
    assert np.allclose(out, 1.0)
    rgb = np.zeros((10, 20, 3), np.uint8)
    rgb[..., 0] = 51
    out = preprocess_frame(rgb, PreprocessSpec(5, 10, grayscale=False))
    assert out.shape == (5, 10, 3)
    assert np.allclose(out[..., 0], 0.2) and np.allclose(out[..., 1:], 0.0)


def test_spec_round_trip_and_key() -> None:
    spec = PreprocessSpec(32, 48, grayscale=False, interpolation="linear", subtract_mean=True)
    assert PreprocessSpec.from_dict(spec.to_dict()) == spec
    assert spec.key() == PreprocessSpec.from_dict(spec.to_dict()).key() != PreprocessSpec().key()
    assert spec.frame_shape == (32, 48, 3) and spec.color == "rgb"
    with pytest.raises(ValueError):
        PreprocessSpec(0, 10)
    with pytest.raises(ValueError):
        PreprocessSpec(interpolation="magic")


def test_iter_preprocessed_on_ped2(ped2: Path) -> None:
    source = open_video(ped2 / "training" / "01")
    spec = PreprocessSpec(64, 64)
    frames = list(iter_preprocessed(source, spec, stop=20, step=2))
    assert len(frames) == 10
    assert all(f.shape == (64, 64, 1) and f.dtype == np.float32 for f in frames)
    stacked = np.stack(frames)
    assert stacked.min() >= 0.0 and stacked.max() <= 1.0 and stacked.std() > 0.01


def test_mean_frame_and_subtraction(tmp_path: Path) -> None:
    folder = write_images(tmp_path / "seq", 10)
    spec = PreprocessSpec(48, 64, subtract_mean=True)
    source = open_video(folder)
    mean = compute_mean_frame([source], spec)
    assert mean.shape == (48, 64, 1) and mean.dtype == np.float32
    frames = np.stack(list(iter_preprocessed(source, spec, mean_frame=mean)))
    assert np.abs(frames.mean(axis=0)).max() < 1e-5  # centred on the footage it was computed from
    assert frames.min() >= -1.0 and frames.max() <= 1.0
    with pytest.raises(ValueError):
        compute_mean_frame([], spec)


@pytest.mark.parametrize(("n", "length", "stride", "step"), [(20, 4, 3, 2), (10, 10, 1, 1), (9, 10, 1, 1), (30, 5, 5, 3)])
def test_clip_windows(n: int, length: int, stride: int, step: int) -> None:
    frames = np.arange(n, dtype=np.float32).reshape(n, 1, 1, 1) * np.ones((1, 2, 3, 1), np.float32)
    clips = clip_windows(frames, length, stride, step)
    starts = list(window_starts(n, length, stride, step))
    assert clips.shape == (len(starts), length, 2, 3, 1) == (window_count(n, length, stride, step), length, 2, 3, 1)
    for clip, start in zip(clips, starts, strict=True):
        assert list(clip[:, 0, 0, 0]) == [start + i * step for i in range(length)]
    streamed = list(iter_clip_windows(iter(frames), length, stride, step))
    assert len(streamed) == len(clips)
    if streamed:
        assert np.array_equal(np.stack(streamed), clips)


def test_clip_windows_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError):
        clip_windows(np.zeros((5, 2, 2)), 2)
    with pytest.raises(ValueError):
        window_starts(10, 0)


def test_shifted_pairs() -> None:
    clips = np.arange(2 * 5).reshape(2, 5, 1, 1, 1).astype(np.float32)
    x, y = shifted_pairs(clips)
    assert x.shape == y.shape == (2, 4, 1, 1, 1)
    assert np.array_equal(x[:, 1:], y[:, :-1])
    assert list(y[0, :, 0, 0, 0]) == [1, 2, 3, 4]
    with pytest.raises(ValueError):
        shifted_pairs(np.zeros((2, 1, 1, 1, 1)))
