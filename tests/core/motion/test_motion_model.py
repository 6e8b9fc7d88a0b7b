"""The learned motion scorer on synthetic blobs: fast, against the lane and off the lane are flagged, normal not."""

from __future__ import annotations

import numpy as np
import pytest

from core.models.errors import ModelFileError
from core.motion.flow import FlowGrid
from core.motion.model import FORMAT_VERSION, MotionFit, MotionSettings, load_motion_model, save_motion_model
from tests.core.motion.blobs import EMPTY_TOP, HEIGHT, WIDTH, blob_frames, normal_videos

GRID = FlowGrid(HEIGHT, WIDTH, cell=12)


@pytest.fixture(scope="module")
def model():
    fit = MotionFit(GRID, MotionSettings())
    for video in normal_videos():
        fit.add_frames(video)
    return fit.model()


def scores(model, frames) -> np.ndarray:
    return np.array([score for score, _ in model.score_frames(frames)])


def test_fit_counts_each_flow_once(model):
    assert model.frames == 4 * 29  # 30 frames give 29 flows per video; the first frame only starts the flow
    assert model.counts.sum() == model.frames * np.prod(GRID.shape)


@pytest.fixture(scope="module")
def normal_level(model):
    """The highest score of normal footage the model did not see (another start position)."""
    return float(scores(model, blob_frames(30, 2.0, start=5.0)).max())


def test_a_normal_speed_blob_in_the_lane_is_not_flagged(model, normal_level):
    held_out = scores(model, blob_frames(30, 2.0, start=9.0))
    fast = scores(model, blob_frames(12, 8.0))
    assert held_out.max() < 0.5 * np.median(fast)


@pytest.mark.parametrize("what, frames", [
    ("fast", lambda: blob_frames(12, 8.0)),
    ("against the lane", lambda: blob_frames(30, -2.0)),
    ("where nothing moves", lambda: blob_frames(30, 1.0, top=EMPTY_TOP)),
])
def test_unusual_motion_is_flagged(model, normal_level, what, frames):
    unusual = scores(model, frames())
    # at least e**2 (7.4) times less likely than the least likely frame of unseen normal footage
    assert np.median(unusual) > normal_level + 2.0, what


def test_the_heat_map_points_at_the_unusual_cell(model):
    frames = blob_frames(20, 1.0, top=EMPTY_TOP)
    _, cell_map = list(model.score_frames(frames))[10]
    row, col = np.unravel_index(np.argmax(cell_map), cell_map.shape)
    assert cell_map.shape == GRID.shape
    assert row * GRID.cell >= EMPTY_TOP - GRID.cell  # the blob's rows, not the lane's
    assert (cell_map >= 0).all() and np.isfinite(cell_map).all()
    still = blob_frames(3, 0.0)  # nothing moves: every cell is still and scores 0
    assert all(float(m.max()) == 0.0 for _, m in model.score_frames(still))


def test_saved_and_loaded_without_pickle(model, tmp_path):
    path = tmp_path / "motion.npz"
    save_motion_model(model, path)
    with np.load(path, allow_pickle=False) as data:
        assert int(data["format_version"]) == FORMAT_VERSION
    loaded = load_motion_model(path)
    frames = blob_frames(12, 8.0)
    assert np.allclose(scores(loaded, frames), scores(model, frames))
    assert loaded.grid == model.grid and loaded.settings == model.settings


def test_damaged_or_foreign_files_are_refused_naming_the_file(model, tmp_path):
    path = tmp_path / "motion.npz"
    path.write_bytes(b"not a zip")
    with pytest.raises(ModelFileError, match="motion.npz"):
        load_motion_model(path)
    np.savez(path, counts=np.zeros(3))
    with pytest.raises(ModelFileError, match="not a Framewatch motion model"):
        load_motion_model(path)
    save_motion_model(model, path)
    with np.load(path, allow_pickle=False) as data:
        arrays = dict(data)
    arrays["format_version"] = np.array(FORMAT_VERSION + 1)
    np.savez(path, **arrays)
    with pytest.raises(ModelFileError, match="format"):
        load_motion_model(path)
    arrays["format_version"] = np.array(FORMAT_VERSION)
    arrays["counts"] = arrays["counts"][:, :1]
    np.savez(path, **arrays)
    with pytest.raises(ModelFileError, match="damaged"):
        load_motion_model(path)


def test_fitting_nothing_is_refused():
    fit = MotionFit(GRID)
    fit.add_frames(blob_frames(1, 2.0))
    with pytest.raises(ValueError, match="no normal motion"):
        fit.model()
