"""Speed maps (:mod:`core.motion.speed`), and a video read as speed maps through the preprocessing spec."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path

import cv2
import numpy as np
import pytest

from core.data.frame_cache import frames_key
from core.motion.speed import SPEED_FULL_SCALE, block_starts, speed_frames, speed_map, speed_maps
from core.preprocessing import PreprocessSpec, iter_resized
from core.video import open_video


def _square_frames(count: int, height: int = 120, width: int = 180, step: int = 3) -> np.ndarray:
    """A textured still background with an 8-pixel square moving ``step`` pixels a frame to the right."""
    rng = np.random.default_rng(0)
    background = cv2.resize(rng.integers(60, 120, (height // 10, width // 10)).astype(np.uint8), (width, height),
                            interpolation=cv2.INTER_NEAREST)
    square = rng.integers(180, 255, (8, 8)).astype(np.uint8)
    frames = []
    for k in range(count):
        frame = background.copy()
        frame[40:48, 20 + step * k:28 + step * k] = square
        frames.append(frame)
    return np.stack(frames)


def test_a_small_fast_mover_keeps_its_speed_and_the_still_background_has_none() -> None:
    maps = speed_maps(_square_frames(6), 24, 36, scale=1.0)
    assert maps.shape == (6, 24, 36) and maps.dtype == np.uint8
    assert np.array_equal(maps[0], maps[1])  # frame 0 has no frame before: frame 1's
    moving = maps[3, 8:10, 4:10]  # the blocks the square crosses (5x5-pixel blocks of the flow)
    assert moving.max() >= 0.5 * 3.0 / SPEED_FULL_SCALE * 255  # about its speed, not a block's average of it
    assert np.median(maps[3]) <= 0.1 * 255 / SPEED_FULL_SCALE  # still background: about no speed


def test_speed_map_takes_each_blocks_largest_speed_and_saturates() -> None:
    flow = np.zeros((10, 7, 2), np.float32)
    flow[1, 1] = (0.6, 0.8)  # speed 1 in block (0, 0)
    flow[9, 6] = (30.0, 40.0)  # far past full scale, in the last block
    found = speed_map(flow, 2, 2)
    assert found[0, 0] == int(255 / SPEED_FULL_SCALE)  # speed 1
    assert found[1, 1] == 255 and found[0, 1] == 0 and found[1, 0] == 0
    assert block_starts(10, 2).tolist() == [0, 5] and block_starts(7, 2).tolist() == [0, 3]
    # a map larger than the flow repeats its pixels rather than failing
    assert speed_map(flow, 20, 14).shape == (20, 14)


def test_one_frame_gives_zeros_and_none_give_none() -> None:
    assert speed_maps(_square_frames(1), 6, 9).tolist() == np.zeros((1, 6, 9), np.uint8).tolist()
    assert speed_maps(np.zeros((0, 12, 18), np.uint8), 6, 9).shape == (0, 6, 9)
    with pytest.raises(ValueError, match="positive"):
        list(speed_frames(_square_frames(2), 0, 9))


@pytest.fixture
def square_video(tmp_path: Path) -> Path:
    folder = tmp_path / "square"
    folder.mkdir()
    for k, frame in enumerate(_square_frames(9, 96, 144, step=2)):
        cv2.imwrite(str(folder / f"{k:03d}.png"), frame)  # lossless: the frames read back exactly
    return folder


def test_a_video_read_as_speed_maps_matches_the_whole_videos_maps_from_any_start_and_step(square_video: Path) -> None:
    spec = PreprocessSpec(12, 18, signal="speed")
    whole = speed_maps(_square_frames(9, 96, 144, step=2), 12, 18)  # flow at half the source's size
    assert whole[3].max() > 0
    with open_video(square_video) as video:
        read = np.stack(list(iter_resized(video, spec)))
        assert read.shape == (9, 12, 18, 1) and np.array_equal(read[..., 0], whole)
        for start, stop, step in ((0, 1, 1), (1, None, 1), (3, 8, 2), (0, None, 4), (8, None, 1)):
            part = np.stack(list(iter_resized(video, spec, start, stop, step)))
            assert np.array_equal(part[..., 0], whole[start:stop:step]), (start, stop, step)


def test_the_signal_is_recorded_only_when_it_is_speed_so_old_records_and_caches_keep_their_names() -> None:
    frames = PreprocessSpec(24, 36)
    assert "signal" not in frames.to_dict()
    old = {k: v for k, v in asdict(frames).items() if k != "signal"}  # what a spec wrote before the field
    assert frames.key() == hashlib.sha1(json.dumps(old, sort_keys=True).encode()).hexdigest()[:12]
    assert PreprocessSpec.from_dict(old) == frames
    speed = PreprocessSpec(24, 36, signal="speed")
    assert speed.to_dict()["signal"] == "speed" and PreprocessSpec.from_dict(speed.to_dict()) == speed
    assert speed.key() != frames.key() and frames_key(speed) != frames_key(frames)
    with pytest.raises(ValueError, match="cannot be RGB"):
        PreprocessSpec(24, 36, grayscale=False, signal="speed")
    with pytest.raises(ValueError, match="input signal must be one of frames, speed"):
        PreprocessSpec(24, 36, signal="depth")
