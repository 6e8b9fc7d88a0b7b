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


def clip(k: int, frames: int = 38) -> list[np.ndarray]:
    """Normal clip ``k``: the camera aimed 3 pixels further right than for clip ``k - 1``."""
    return [np.roll(frame, 3 * k, axis=1) for frame in blob_frames(frames, 2.0, start=2.0 + 2 * k)]


def joined_recording(segments: int = 4) -> list[np.ndarray]:
    """Normal clips joined into one recording: at each join (a cut) the whole picture jumps, the way one file
    made of several recordings does."""
    return [frame for k in range(segments) for frame in clip(k)]


def test_a_robust_fit_leaves_the_cuts_of_a_joined_recording_out():
    recording = joined_recording()
    plain, robust = MotionFit(GRID), MotionFit(GRID, robust=True)
    for fit in (plain, robust):
        fit.add_frames(recording)
    plain_model, robust_model = plain.model(), robust.model()
    assert plain_model.frames == len(recording) - 1 and plain_model.trimmed == 0
    assert robust_model.trimmed == 3  # the three joins, and nothing else
    assert robust_model.frames == len(recording) - 1 - 3
    assert robust_model.describe()["trimmed"] == 3
    # the cuts inflated every cell's spread of speed: a blob twice as fast as normal stands out more without them
    fast = blob_frames(20, 4.0)
    assert np.median(scores(robust_model, fast)) > 1.3 * np.median(scores(plain_model, fast))
    # and the same clips fitted one by one (no cut to leave out) give the robust fit's statistics
    separate = MotionFit(GRID, robust=True)
    for k in range(4):
        separate.add_frames(clip(k))
    clean = separate.model()
    assert clean.trimmed == 0
    assert np.allclose(clean.speed_mean, robust_model.speed_mean, atol=0.05)


def test_far_out_frames_are_few_rare_and_the_most_unusual_first():
    from core.motion.model import MAX_TRIMMED_SHARE, MIN_FRAMES_TO_TRIM, MIN_OUTLIER_NATS, far_out_frames

    rng = np.random.default_rng(0)
    usual = rng.gamma(2.0, 0.5, 1000)
    assert far_out_frames(usual).size == 0  # a long tail of ordinary frames is not far out
    assert far_out_frames(np.zeros(500)).size == 0  # still footage: nothing is
    spiked = usual.copy()
    spiked[[10, 500, 900]] = [300.0, 900.0, 40.0]
    assert far_out_frames(spiked).tolist() == [500, 10, 900]
    assert far_out_frames(spiked[:MIN_FRAMES_TO_TRIM - 1]).size == 0  # too few frames to tell
    # far out, but under MIN_OUTLIER_NATS: an unremarkable frame of footage that barely moves
    quiet = np.full(1000, 0.01)
    quiet[3] = MIN_OUTLIER_NATS / 2
    assert far_out_frames(quiet).size == 0
    many = usual.copy()
    many[:100] = np.linspace(100.0, 200.0, 100)  # a tenth of the footage: a pattern, not a glitch
    found = far_out_frames(many)
    assert found.size == int(MAX_TRIMMED_SHARE * many.size)
    assert found.tolist() == list(range(99, 99 - found.size, -1))


def test_the_trimmed_count_is_saved_and_old_files_read_as_untrimmed(tmp_path):
    fit = MotionFit(GRID, robust=True)
    fit.add_frames(joined_recording())
    model = fit.model()
    path = tmp_path / "motion.npz"
    save_motion_model(model, path)
    assert load_motion_model(path).trimmed == model.trimmed == 3
    with np.load(path, allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files if name != "trimmed"}
    np.savez(path, **arrays)  # a file written before fits were trimmed
    old = load_motion_model(path)
    assert old.trimmed == 0 and old.frames == model.frames
