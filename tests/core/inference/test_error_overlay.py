"""Error maps of a span of frames, and the heat-map overlay a player draws over a frame."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.inference.anomaly.error_overlay import error_heatmap, span_error_maps
from core.inference.anomaly.project_scoring import run_model
from core.inference.anomaly.scoring import score_video
from core.inference.errors import ScoreError
from core.models.files import load_model_file
from core.project import Project
from tests.core.inference.scoring_project import make_project, save_run


def test_heatmap_is_transparent_where_the_error_is_low_and_coloured_where_high() -> None:
    error_map = np.zeros((4, 4), np.float32)
    error_map[1, 2] = 0.5
    overlay = error_heatmap(error_map, (8, 8), opacity=0.5)
    assert overlay.shape == (8, 8, 4) and overlay.dtype == np.uint8
    assert overlay[0, 0, 3] == 0 and overlay[7, 7, 3] == 0
    assert overlay[2:4, 4:6, 3].max() == round(255 * 0.5)  # the hot pixel, enlarged twice
    hot = overlay[2, 4, :3].astype(int)
    assert hot.sum() > overlay[0, 0, :3].astype(int).sum()  # inferno: bright where hot, black where cold
    faint = error_heatmap(error_map, (8, 8), scale=1.0, opacity=0.5)
    assert faint[2:4, 4:6, 3].max() == round(255 * 0.25)  # half the scale: half the opacity
    assert not error_heatmap(np.zeros((3, 3)), (6, 6))[..., 3].any()


@pytest.mark.parametrize("bad", [np.zeros(4), np.full((2, 2), np.nan), np.full((2, 2), -1.0)])
def test_heatmap_refuses_what_is_not_an_error_map(bad: np.ndarray) -> None:
    with pytest.raises(ScoreError):
        error_heatmap(bad, (4, 4))


def test_span_maps_are_the_maps_a_full_scoring_run_gives(tmp_path: Path) -> None:
    folder = make_project(tmp_path / "proj")
    save_run(folder)
    project = Project.open(folder, read_only=True)
    try:
        maps = span_error_maps(project, "tiny", "test.avi", 9, 13)
        run = run_model(folder, "tiny")
        model = load_model_file(run.model_path)
        full = [s.error_map for s in score_video(model, project.video("test.avi").path, run.spec, error_maps=True)]
        assert maps.shape == (4, 16, 16)
        np.testing.assert_allclose(maps, np.stack(full[9:13]), rtol=1e-5, atol=1e-7)
        tail = span_error_maps(project, "tiny", "test.avi", 20, 22)  # inside the video's last clip
        np.testing.assert_allclose(tail, np.stack(full[20:22]), rtol=1e-5, atol=1e-7)
        with pytest.raises(ScoreError, match="go past"):
            span_error_maps(project, "tiny", "test.avi", 20, 30)
        with pytest.raises(ScoreError, match="not a span"):
            span_error_maps(project, "tiny", "test.avi", 5, 5)
    finally:
        project.close()
