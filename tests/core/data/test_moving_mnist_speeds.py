"""Moving MNIST with a speed per sequence: the target is the generator's own speed, in pixels per frame."""

from __future__ import annotations

import numpy as np
import pytest

from core.data.moving_mnist import DIGIT_SIZE, moving_mnist_speeds

#: A "digit" that is one white pixel at its top-left corner: where it lands is where the digit's corner is.
DOT = np.zeros((1, DIGIT_SIZE, DIGIT_SIZE), np.uint8)
DOT[0, 0, 0] = 255


def _corners(clip: np.ndarray) -> np.ndarray:
    """``(frames, 2)`` row, column of the single white pixel of each frame."""
    return np.array([np.argwhere(frame[:, :, 0] == 255)[0] for frame in clip], float)


@pytest.mark.parametrize("speed", [1.5, 4.0])
def test_a_known_speed_is_the_distance_a_digit_moves_each_frame(speed: float) -> None:
    clips, speeds = moving_mnist_speeds(60, DOT, speed_range=(speed, speed), frames=6, size=64, digits=1)
    assert clips.shape == (60, 6, 64, 64, 1) and speeds.tolist() == [speed] * 60
    straight = 0
    for clip in clips:
        corners = _corners(clip)
        steps = np.diff(corners, axis=0)
        if (corners[:, 0] % 36 == 0).any() or (corners[:, 1] % 36 == 0).any() or \
                (np.sign(steps) != np.sign(steps[0])).any():
            continue  # it touched a wall (a bounce shortens that frame's step): not a straight run
        straight += 1
        # corners are rounded down to whole pixels: over 5 frames the path is 5 * speed within a pixel per axis
        assert np.hypot(*(corners[-1] - corners[0])) == pytest.approx(5 * speed, abs=1.5)
    assert straight >= 5


def test_speeds_are_drawn_in_the_range_seeded_and_the_same_in_any_chunking() -> None:
    images = np.random.default_rng(0).integers(0, 256, (5, DIGIT_SIZE, DIGIT_SIZE)).astype(np.uint8)
    clips, speeds = moving_mnist_speeds(6, images, speed_range=(0.5, 6.0), frames=4, seed=3)
    assert speeds.min() >= 0.5 and speeds.max() <= 6.0 and len(set(speeds.tolist())) == 6
    tail, tail_speeds = moving_mnist_speeds(2, images, speed_range=(0.5, 6.0), frames=4, seed=3, first=4)
    assert np.array_equal(tail, clips[4:]) and np.array_equal(tail_speeds, speeds[4:])
    other, other_speeds = moving_mnist_speeds(6, images, speed_range=(0.5, 6.0), frames=4, seed=3, stream=1)
    assert not np.array_equal(other_speeds, speeds)
    with pytest.raises(ValueError, match="speed_range"):
        moving_mnist_speeds(1, images, speed_range=(3.0, 1.0))
