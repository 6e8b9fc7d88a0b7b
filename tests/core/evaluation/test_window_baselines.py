"""No-learning window baselines: frame difference, its window mean, the training-side threshold, the majority."""

from __future__ import annotations

import numpy as np
import pytest

from core.evaluation.errors import EvaluationError
from core.evaluation.window_baselines import (
    balanced_accuracy_of,
    best_threshold,
    frame_difference,
    frame_speed,
    majority_class,
    window_motion,
)


def test_frame_difference_is_the_largest_cell_mean_change_from_the_previous_frame() -> None:
    frames = np.zeros((3, 8, 8), np.uint8)
    frames[1, :4, :4] = 255  # one 4x4 cell turns white: that cell's mean change is 1
    frames[2, :4, :4] = 255
    frames[2, 0, 4] = 255  # one pixel of another cell: 1/16
    assert frame_difference(frames, patch=4).tolist() == [0.0, 1.0, 1 / 16]


def test_frame_speed_is_each_maps_fastest_block_in_pixels_a_frame() -> None:
    maps = np.zeros((3, 4, 6, 1), np.uint8)
    maps[1, 2, 3] = 255  # full scale: 4 pixels a frame
    maps[2, 0, 0], maps[2, 3, 5] = 51, 102  # 0.8 and 1.6
    assert np.allclose(frame_speed(maps), [0.0, 4.0, 1.6])
    assert np.allclose(frame_speed(maps[..., 0]), [0.0, 4.0, 1.6])  # without the channel axis too
    with pytest.raises(EvaluationError, match="speed maps must be"):
        frame_speed(np.zeros((0, 4, 6), np.uint8))


def test_window_motion_averages_the_differences_between_the_windows_own_frames() -> None:
    per_frame = np.array([9.0, 1.0, 2.0, 3.0, 4.0])
    # window at 0 of 3 frames: differences of frames 1 and 2 (frame 0's, from before the window, is not read)
    assert window_motion(per_frame, np.array([0, 2]), 3).tolist() == [1.5, 3.5]


def test_the_threshold_is_chosen_for_balanced_accuracy_on_the_training_side() -> None:
    scores = np.array([0.1, 0.2, 0.3, 0.9, 1.0])
    labels = np.array([0, 0, 0, 1, 1])
    threshold = best_threshold(scores, labels)
    assert 0.3 < threshold < 0.9
    assert balanced_accuracy_of(labels, (scores > threshold).astype(int)) == 1.0
    # one class only: every threshold predicting it is best; the smallest candidate predicts all positive
    assert best_threshold(np.array([0.5, 0.6]), np.array([1, 1])) < 0.5


def test_balanced_accuracy_and_majority_class() -> None:
    truth = np.array([0, 0, 0, 1])
    assert balanced_accuracy_of(truth, np.zeros(4, int)) == 0.5  # the majority scores 0.5 whatever the balance
    assert balanced_accuracy_of(truth, np.array([0, 0, 1, 1])) == pytest.approx((2 / 3 + 1) / 2)
    assert majority_class(truth) == 0 and majority_class(np.array([1, 1, 0])) == 1
    with pytest.raises(EvaluationError):
        balanced_accuracy_of(truth, np.zeros(3, int))
