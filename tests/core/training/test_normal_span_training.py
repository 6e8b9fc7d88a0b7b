"""'Train on the first part, score the rest' on one file: a run of a one-video project with a normal span
trains and validates inside the span, calibrates on the time it held out there, and scores the whole video."""

from __future__ import annotations

from pathlib import Path

from core.inference.anomaly.project_evaluation import evaluate_project
from core.inference.anomaly.project_scoring import calibration_footage, run_model, score_project, split_videos
from core.project import Project
from core.training.from_project import train_project
from core.training.request import TrainingRequest
from tests.video_factory import write_video


def test_one_long_video_trains_on_its_span_and_is_scored_whole(tmp_path: Path) -> None:
    project = Project.create(tmp_path / "proj")
    try:
        video = project.add_video(write_video(tmp_path / "long.avi", 1000, fps=25))
        project.add_normal_span(video.id, 0, 600)
        project.add_interval(video.id, 800, 850)  # ground truth in the scored part
        result = train_project(project, TrainingRequest(
            "anomaly", "conv-ae", run_name="span", error_level=False, filters=(4, 4, 4), height=16, width=16,
            grayscale=True, frames=4, stride=4, frame_steps=(1, 2), epochs=1, batch_size=4, steps_per_epoch=2,
            seed=1))
        record = result.record
        assert record.data["train_clips"] > 0 and record.data["validation_clips"] > 0
        held = record.data["held_out"]
        assert held["mode"] == "time"
        for entry in (*held["videos"], *held["trained"]):  # every held-out and trained frame is inside [0, 600)
            assert entry["name"] == "long.avi" and all(end <= 600 for _start, end in entry["spans"])
        assert 0 < held["held_frames"] < held["trained_frames"] <= 600
        assert record.data["splits"] == {"train": [], "val": []}  # the video itself is test footage
        run = run_model(project.folder, result.run_dir)
        assert split_videos(project, run, "test") == [project.videos[video.id]]
        ((calibrated, spans),) = calibration_footage(project, run)
        assert calibrated.id == video.id and spans == [tuple(s) for s in held["videos"][0]["spans"]]
        scores = score_project(project, result.run_dir)
        (scored,) = scores.videos
        assert scored.video_id == video.id and len(scored.errors) == 1000  # the whole video is scored
        assert scores.threshold.frames == held["held_frames"]  # calibrated on the held-out time alone
        evaluation = evaluate_project(project, result.run_dir)  # measured on the rest, not the trained span
        assert (evaluation.frame_level.frames, evaluation.frame_level.abnormal_frames) == (400, 50)
        assert evaluation.events.seconds == 400 / 25
    finally:
        project.close()
