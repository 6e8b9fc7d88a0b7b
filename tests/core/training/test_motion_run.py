"""The motion preset through the run machinery: fitted by train_project, scored, flagged, mapped, evaluated."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from core.inference.anomaly.error_overlay import error_heatmap, span_error_maps
from core.inference.anomaly.project_evaluation import evaluate_project
from core.inference.anomaly.project_scoring import run_model, score_project
from core.inference.errors import ScoreError
from core.jobs import Stage
from core.project import Project
from core.runs import RunRecord
from core.training.errors import TrainingError
from core.training.from_project import resume_project_run, train_project
from core.training.request import TrainingRequest
from tests.core.motion.blobs import blob_frames, normal_videos

FAST = (15, 27)  # frames of the test video where a blob races through the lane


def _folder(path: Path, frames: list[np.ndarray]) -> Path:
    path.mkdir(parents=True)
    for index, frame in enumerate(frames):
        cv2.imwrite(str(path / f"{index:03d}.png"), frame)
    return path


@pytest.fixture(scope="module")
def project_folder(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("motion")
    project = Project.create(root / "project", name="blobs")
    try:
        for number, frames in enumerate(normal_videos(count=5, frames=30)):
            project.add_video(_folder(root / f"normal{number}", frames), split="train")
        test = blob_frames(15, 2.0, start=4.0) + blob_frames(12, 8.0) + blob_frames(15, 2.0, start=30.0)
        video = project.add_video(_folder(root / "test", test), split="test")
        project.add_interval(video.id, *FAST)
        project.save()
    finally:
        project.close()
    return root / "project"


@pytest.fixture(scope="module")
def run_dir(project_folder) -> Path:
    project = Project.open(project_folder)
    try:
        events = []
        result = train_project(project, TrainingRequest("anomaly", "motion", run_name="motion"),
                               progress=events.append)
        assert [type(e).__name__ for e in events][0] == "RunStarted"
        ended = [e for e in events if type(e).__name__ == "RunEnded"]
        assert [e.status for e in ended] == ["completed"]
        counted = [e.done for e in events if e.stage is Stage.MOTION]
        assert counted[-1] == 4 * 30 and counted == sorted(counted)  # the frames of the 4 videos fitted on
        assert any(e.stage is Stage.CALIBRATING for e in events[events.index(ended[0]):])  # then the trust report
        assert [run.status for run in project.runs.values() if run.name == "motion"] == ["completed"]
    finally:
        project.close()
    return result.run_dir


def test_the_run_folder_holds_a_record_and_the_motion_statistics(run_dir):
    record = RunRecord.load(run_dir)
    assert (record.task, record.preset, record.status, record.model_path) == ("anomaly", "motion", "completed",
                                                                               "motion.npz")
    assert record.spec["family"] == "motion" and (record.spec["height"], record.spec["width"]) == (24, 48)
    motion = record.data["motion"]
    # of 5 normal videos one is held out whole (core.data.held_out); every flow of the other 4 counted once
    assert record.data["held_out"]["mode"] == "videos" and len(record.data["held_out"]["videos"]) == 1
    assert motion["frames"] == 4 * 29
    assert record.data["trust"]["false_alarms_per_minute"] is not None
    with pytest.raises(TrainingError, match="nothing to resume"):
        project = Project.open(run_dir.parent.parent)
        try:
            resume_project_run(project, run_dir)
        finally:
            project.close()


def test_size_sets_the_working_size_and_empty_footage_is_refused(project_folder, tmp_path):
    project = Project.open(project_folder)
    try:
        result = train_project(project, TrainingRequest("anomaly", "motion", run_name="sized", height=12, width=36))
        assert (result.record.spec["height"], result.record.spec["width"]) == (12, 36)
        assert result.model.grid.shape == (1, 3)
    finally:
        project.close()
    empty = Project.create(tmp_path / "empty", name="empty")
    try:
        empty.add_video(_folder(tmp_path / "test", blob_frames(5, 2.0)), split="test")
        with pytest.raises(TrainingError, match="no normal footage"):
            train_project(empty, TrainingRequest("anomaly", "motion"))
    finally:
        empty.close()


def test_scoring_flags_the_fast_blob_and_maps_where(project_folder, run_dir):
    project = Project.open(project_folder)
    try:
        scored = score_project(project, "motion", videos=["test"])
        (video,) = scored.videos
        assert video.frames == 42
        inside = video.errors[FAST[0] + 1:FAST[1] - 1]
        outside = np.concatenate([video.errors[2:FAST[0] - 1], video.errors[FAST[1] + 2:]])
        assert inside.min() > outside.max()
        assert [(e.start <= FAST[1] and e.end >= FAST[0]) for e in video.events] == [True]
        maps = span_error_maps(project, "motion", "test", 20, 22)
        assert maps.shape == (2, 2, 4)  # a map per frame, one value per 12-pixel cell of the 24x48 working size
        overlay = error_heatmap(maps[0], (48, 96))
        assert overlay.shape == (48, 96, 4) and overlay[..., 3].max() > 0
        assert run_model(project_folder, "motion").spec.scorer == "motion"
        report = evaluate_project(project, "motion").to_dict()
        assert report["auc_raw"] > 0.9
    finally:
        project.close()


def test_an_exported_motion_run_scores_as_its_run(project_folder, run_dir, tmp_path):
    from core.runs.export import MOTION_MODEL_FILE, export_run

    out = export_run(run_dir, tmp_path / "exported")
    assert sorted(p.name for p in out.iterdir()) == sorted([MOTION_MODEL_FILE, "run.json"])
    assert RunRecord.load(out).model_path == MOTION_MODEL_FILE and "project" not in RunRecord.load(out).data
    project = Project.open(project_folder)
    try:
        ours = score_project(project, "motion", videos=["test"]).videos[0].errors
        theirs = score_project(project, out, videos=["test"]).videos[0].errors
    finally:
        project.close()
    assert np.array_equal(ours, theirs)


def test_two_runs_fused_on_the_scale_of_their_held_out_footage(project_folder, run_dir):
    from core.inference.anomaly.fusion import fuse, fused_scores, held_out_scale
    from core.inference.anomaly.project_scoring import score_videos

    project = Project.open(project_folder)
    try:
        train_project(project, TrainingRequest("anomaly", "motion", run_name="motion-seed1", seed=1))
        fused = fused_scores(project, ["motion", "motion-seed1"], videos=["test"])
        test = project.video("test")
        scales = [held_out_scale(project, name) for name in ("motion", "motion-seed1")]
        series = [score_videos(project, run_model(project_folder, name), [test])[test.id]
                  for name in ("motion", "motion-seed1")]
        summed = fused_scores(project, ["motion", "motion-seed1"], videos=["test"], how="sum")
    finally:
        project.close()
    assert fused.scales == tuple(scales) and all(s > 0 for s in scales)
    expected = np.maximum(series[0] / scales[0], series[1] / scales[1])
    assert np.allclose(fused.series[test.id], expected, rtol=1e-5)
    assert np.allclose(summed.series[test.id], series[0] / scales[0] + series[1] / scales[1], rtol=1e-5)
    inside = fused.series[test.id][FAST[0] + 1:FAST[1] - 1]
    assert inside.min() > 1.0  # above the top 1% of either run's held-out normal frames
    with pytest.raises(ScoreError, match="same frames"):
        fuse([np.ones(3), np.ones(4)], [1.0, 1.0])
    with pytest.raises(ScoreError, match="positive"):
        fuse([np.ones(3)], [0.0])
