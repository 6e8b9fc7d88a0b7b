"""Flow features per cell, and the no-learning flow baseline."""

from __future__ import annotations

import numpy as np
import pytest

from core.motion.baseline import flow_baseline_scores
from core.motion.flow import (
    CHANNELS,
    MOVING,
    MOVING_SPEED,
    MOVING_X,
    SPEED,
    FlowGrid,
    cell_features,
    flow_features,
    working_size,
)
from tests.core.motion.blobs import EMPTY_TOP, HEIGHT, LANE_TOP, WIDTH, blob_frames, normal_videos

GRID = FlowGrid(HEIGHT, WIDTH, cell=12)


def test_cell_features_summarise_a_known_flow():
    flow = np.zeros((24, 30, 2), np.float32)
    flow[:12, :6] = (3.0, 4.0)  # a quarter... of the first cell (12x12) moves at speed 5 to the right and down
    features = cell_features(flow, FlowGrid(24, 30, cell=12))
    assert features.shape == (2, 3, len(CHANNELS))  # partial cells at the right edge count
    first = features[0, 0]
    assert first[MOVING] == pytest.approx(0.5)
    assert first[SPEED] == pytest.approx(2.5)
    assert first[MOVING_SPEED] == pytest.approx(5.0)
    assert first[MOVING_X] == pytest.approx(3.0)
    assert features[1].max() == 0.0


def _cell_by_cell(flow: np.ndarray, grid: FlowGrid) -> np.ndarray:
    """The features computed one cell at a time, in float64, straight from the definitions."""
    rows, cols = grid.shape
    out = np.zeros((rows, cols, len(CHANNELS)))
    for r in range(rows):
        for c in range(cols):
            cell = flow[r * grid.cell:(r + 1) * grid.cell, c * grid.cell:(c + 1) * grid.cell].astype(np.float64)
            speed = np.hypot(cell[..., 0], cell[..., 1])
            moving = speed > grid.moving_speed
            out[r, c, :4] = cell[..., 0].mean(), cell[..., 1].mean(), speed.mean(), moving.mean()
            if moving.any():
                out[r, c, 4:] = speed[moving].mean(), cell[..., 0][moving].mean(), cell[..., 1][moving].mean()
    return out


@pytest.mark.parametrize(("height", "width", "cell"), [(24, 30, 12), (25, 37, 12), (13, 7, 5), (5, 5, 1), (9, 11, 20)])
def test_cell_features_match_a_cell_by_cell_computation(height, width, cell):
    flow = np.random.default_rng(height * width + cell).normal(0.0, 0.5, (height, width, 2)).astype(np.float32)
    grid = FlowGrid(height, width, cell=cell)
    features = cell_features(flow, grid)
    assert features.dtype == np.float32
    np.testing.assert_allclose(features, _cell_by_cell(flow, grid), rtol=1e-5, atol=1e-6)


def test_one_feature_array_per_frame_the_first_as_the_second():
    frames = blob_frames(6, 2.0)
    features = list(flow_features(frames, GRID))
    assert len(features) == 6 and features[0].shape == GRID.shape + (len(CHANNELS),)
    assert np.array_equal(features[0], features[1])
    lane_row = LANE_TOP // GRID.cell
    assert features[3][lane_row, :, MOVING_X].max() > 1.0  # the blob moves right
    assert features[3][EMPTY_TOP // GRID.cell, :, SPEED].max() < 0.2
    assert [f.shape for f in flow_features(frames[:1], GRID)] == [features[0].shape]


def test_working_size_is_half_by_default_and_at_least_a_cell():
    assert working_size(240, 360) == (120, 180)
    assert working_size(10, 2000, 0.5, 12) == (12, 1000)
    with pytest.raises(ValueError, match="scale"):
        working_size(240, 360, 0.0)


def test_flow_baseline_flags_speed_far_from_a_cells_normal_speed():
    normal = normal_videos()
    held_out, fast, off_lane = flow_baseline_scores(
        normal, [blob_frames(30, 2.0, start=9.0), blob_frames(12, 8.0), blob_frames(30, 1.0, top=EMPTY_TOP)],
        scale=1.0)
    assert held_out.shape == (30,) and fast.shape == (12,) and held_out.dtype == np.float32
    assert np.median(fast) > 2 * held_out.max()
    assert np.median(off_lane) > 2 * held_out.max()


def test_flow_baseline_needs_normal_footage():
    with pytest.raises(ValueError, match="at least one"):
        flow_baseline_scores([], [blob_frames(3, 1.0)])
