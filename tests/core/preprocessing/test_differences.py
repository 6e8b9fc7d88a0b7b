"""Clips as frame differences: a model that pools over space still sees how far things moved."""

from __future__ import annotations

import numpy as np
import pytest

from core.preprocessing.differences import clip_input, frame_differences


def test_differences_are_the_absolute_change_between_consecutive_frames() -> None:
    clips = np.zeros((1, 3, 2, 2, 1), np.uint8)
    clips[0, 1, 0, 0] = 200
    clips[0, 2, 0, 0] = 50  # a fall is a positive difference too, with no uint8 wrap-around
    out = frame_differences(clips)
    assert out.shape == (1, 2, 2, 2, 1) and out.dtype == np.uint8
    assert out[0, :, 0, 0, 0].tolist() == [200, 150] and out[0, :, 1].sum() == 0


def test_a_dot_moving_faster_leaves_more_changed_pixels() -> None:
    def dot_clip(speed: int) -> np.ndarray:
        clip = np.zeros((1, 2, 16, 16, 1), np.uint8)
        clip[0, 0, 4:8, 2:6] = 255
        clip[0, 1, 4:8, 2 + speed : 6 + speed] = 255
        return clip

    changed = [int((frame_differences(dot_clip(v)) > 0).sum()) for v in (1, 2, 4)]
    assert changed == [8, 16, 32]


def test_frames_pass_unchanged_and_bad_input_is_refused() -> None:
    clips = np.ones((2, 4, 3, 3, 1), np.uint8)
    assert clip_input(clips, "frames") is clips
    assert clip_input(clips, "differences").shape == (2, 3, 3, 3, 1)
    with pytest.raises(ValueError, match="one of frames, differences"):
        clip_input(clips, "flow")
    with pytest.raises(ValueError, match="frames >= 2"):
        frame_differences(clips[:, :1])
