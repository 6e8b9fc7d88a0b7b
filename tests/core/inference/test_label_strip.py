"""The text strip drawn above (or below) a frame of an annotated video."""

from __future__ import annotations

import numpy as np
import pytest

from core.render.label_strip import (
    MIN_WIDTH,
    STRIP_BACKGROUND,
    draw_label_strip,
    enlarge,
    enlargement,
    strip_height,
)


def test_the_strip_goes_above_or_below_and_the_frame_is_kept() -> None:
    frame = np.full((48, 64, 3), 200, np.uint8)
    top = draw_label_strip(frame, "walk 0.93", (255, 0, 0))
    bottom = draw_label_strip(frame, "walk 0.93", (255, 0, 0), position="bottom")
    height = strip_height(64)
    assert top.shape == bottom.shape == (48 + height, 64, 3) and height % 2 == 0
    assert np.array_equal(top[height:], frame) and np.array_equal(bottom[:48], frame)
    strip = top[:height]
    assert np.array_equal(top[:height], bottom[48:])
    text = np.any(strip != np.array(STRIP_BACKGROUND, np.uint8), axis=2)
    assert text.any() and (strip[text][:, 0] > strip[text][:, 2]).mean() > 0.9  # red text on the dark strip
    assert not np.array_equal(strip, draw_label_strip(frame, "run 0.51")[:height])


def test_long_text_shrinks_to_fit_and_small_frames_are_enlarged_by_whole_factors() -> None:
    frame = np.zeros((40, 330, 3), np.uint8)
    strip = draw_label_strip(frame, "a rather long label that would run off 0.99")[:strip_height(330)]
    background = np.array(STRIP_BACKGROUND, np.uint8)
    assert np.any(strip[:, -40:] != background) and not np.any(strip[:, -3:] != background)  # fits, not cut
    assert enlargement(64) == 5 and enlargement(MIN_WIDTH) == 1 and enlargement(1000) == 1
    small = np.arange(12, dtype=np.uint8).reshape(2, 2, 3)
    big = enlarge(small, 3)
    assert big.shape == (6, 6, 3) and np.array_equal(big[::3, ::3], small)


def test_frames_that_are_not_rgb_uint8_are_refused() -> None:
    with pytest.raises(ValueError, match="uint8"):
        draw_label_strip(np.zeros((8, 8), np.uint8), "x")
    with pytest.raises(ValueError, match="position"):
        draw_label_strip(np.zeros((8, 8, 3), np.uint8), "x", position="left")
