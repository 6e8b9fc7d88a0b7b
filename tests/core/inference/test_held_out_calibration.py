"""The threshold and the error level are fitted on the normal footage a run held out of its training, never
on frames the model learned from; a run recorded before runs held out time keeps the old rule."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

import numpy as np
import pytest

from core.inference.anomaly.project_scoring import (
    calibration_footage,
    run_model,
    score_key,
    score_project,
)
from core.inference.anomaly.score_cache import CachedScores, ScoreCache
from core.project import Project
from core.runs import RunRecord
from core.training.error_level import fit_error_level
from tests.core.inference.scoring_project import FRAMES, make_project, save_run

#: The held-out and trained spans of the project's first train video (60 frames), a gap of FRAMES between.
HELD = [[20, 40]]
TRAINED = [[0, 16], [44, 60]]


def record_held_out(project: Project, run_dir: Path, held: list | None = HELD) -> None:
    """Give the run a ``data["held_out"]`` as training records it: time blocks of ``train0.avi``."""
    video = project.video("train0.avi")
    record = RunRecord.load(run_dir)
    entry = {"name": video.name, "content": video.fingerprint.key}
    record.data["held_out"] = {"mode": "time", "gap": FRAMES, "videos": [{**entry, "spans": held}] if held else [],
                               "trained": [{**entry, "spans": TRAINED}]}
    record.save(run_dir)


def cache_errors(project: Project, run_dir: Path, errors: np.ndarray) -> None:
    """``train0.avi``'s scores in the run's score cache, as if scored already (no model runs)."""
    run = run_model(project.folder, run_dir)
    video = project.video("train0.avi")
    ScoreCache(project.folder).write(CachedScores(score_key(run, video), errors.astype(np.float32), len(errors),
                                                  None, video.id))


@pytest.fixture
def project(tmp_path: Path):
    folder = make_project(tmp_path / "proj", frames=(60,))
    with closing(Project.open(folder)) as opened:
        yield opened


def calibrated(project: Project, run_dir: Path, huge_at: int) -> float:
    errors = np.ones(60)
    errors[huge_at] = 1000.0
    cache_errors(project, run_dir, errors)
    return score_project(project, run_dir, ["train0.avi"], percentile=100, smoothing=1).threshold.value


def test_huge_errors_on_held_out_frames_move_the_threshold_and_on_trained_frames_do_not(project: Project) -> None:
    run_dir = save_run(project.folder)
    assert calibrated(project, run_dir, 5) == 1000.0  # an old run: the whole train-split video calibrates
    record_held_out(project, run_dir)
    assert calibration_footage(project, run_model(project.folder, run_dir)) == [
        (project.video("train0.avi"), [(20, 40)])]
    assert calibrated(project, run_dir, 25) == 1000.0  # held out: it calibrates
    for trained in (5, 50, 17):  # trained, and in the gap: never
        assert calibrated(project, run_dir, trained) == 1.0
    result = score_project(project, run_dir, ["train0.avi"], percentile=100)
    assert result.threshold.frames == 20 and result.threshold.videos == 1
    assert len(result.videos[0].errors) == 60  # the video is still scored (and cached) whole


def test_a_project_without_the_held_out_footage_calibrates_on_footage_the_run_never_trained_on(
        project: Project, tmp_path: Path) -> None:
    from tests.video_factory import write_video

    run_dir = save_run(project.folder)
    record_held_out(project, run_dir)
    record = RunRecord.load(run_dir)
    record.data["held_out"]["videos"][0]["content"] = "footage-not-here"
    record.save(run_dir)
    run = run_model(project.folder, run_dir)
    assert calibration_footage(project, run) == []  # its only train video is footage the run trained on
    other = project.add_video(write_video(tmp_path / "unseen.avi", 30), split="train")
    assert calibration_footage(project, run) == [(other, None)]


def test_the_error_level_learns_only_from_windows_inside_the_held_out_spans(project: Project) -> None:
    run_dir = save_run(project.folder, task="predict")
    record_held_out(project, run_dir, held=[[10, 30], [40, 55]])
    fit = fit_error_level(project, run_dir, epochs=1)
    # windows whose FRAMES input frames and predicted frame lie inside one span: (30-10-4) + (55-40-4)
    assert fit.videos == 1 and fit.windows == (30 - 10 - FRAMES) + (55 - 40 - FRAMES)
    record_held_out(project, run_dir, held=None)  # the project holds none of what the run held out
    with pytest.raises(Exception, match="holds none of the footage"):
        fit_error_level(project, run_dir, epochs=1)
