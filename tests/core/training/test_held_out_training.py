"""A one-video project trains with a validation split of held-out time, and the run records what it held out."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.cli.train_commands import _summary
from core.data.datasets import plan_hold_out
from core.inference.anomaly.trust import TrustReport
from core.preprocessing import PreprocessSpec
from core.project import Project
from core.training.from_project import resume_project_run, train_project
from core.training.request import TrainingRequest
from tests.video_factory import write_video


def test_a_one_video_run_validates_on_held_out_time_and_records_the_spans(tmp_path: Path, monkeypatch) -> None:
    project = Project.create(tmp_path / "proj")
    try:
        video = project.add_video(write_video(tmp_path / "walk.avi", 120, fps=10), split="train")
        result = train_project(project, TrainingRequest(
            "anomaly", "conv-ae", run_name="one", error_level=False, filters=(4, 4, 4), height=16, width=16,
            grayscale=True, frames=4, stride=2, frame_steps=(1, 2), epochs=2, batch_size=4, steps_per_epoch=2,
            seed=1))
        record = result.record
        assert record.monitor == "val_loss" and all(h.get("val_loss") is not None for h in record.history)
        assert record.data["validation_clips"] > 0 and record.data["train_clips"] > 0
        held = record.data["held_out"]
        assert held["mode"] == "time" and held["gap"] == 6  # a 4-frame window of step 2 reads 7 frames
        planned, _ = plan_hold_out(project, PreprocessSpec(height=16, width=16, grayscale=True), length=4,
                                   frame_steps=(1, 2), seed=1)
        assert held["videos"] == [{"name": "walk.avi", "content": video.fingerprint.key,
                                   "spans": [list(span) for span in planned.held[video.id]]}]
        assert held["trained"][0]["spans"] == [list(span) for span in planned.train[video.id]]
        assert 0 < held["held_frames"] < held["trained_frames"]
        assert record.data["splits"] == {"train": [{"name": "walk.avi", "content": video.fingerprint.key}], "val": []}
        # an anomaly run ends by measuring itself on its held-out footage, and framewatch train prints it
        trust = record.data["trust"]
        assert trust["held_out_frames"] == held["held_frames"] and trust["blocks"] == len(held["videos"][0]["spans"])
        assert trust["false_alarms_per_minute"] is not None and trust["error_ratio"] is not None
        assert trust["false_alarms_per_minute"] == pytest.approx(trust["events"] / trust["minutes"])
        assert trust["upper_95"] > trust["false_alarms_per_minute"] and trust["error"] == "mse"
        summary = _summary(result)
        assert f"trust      {TrustReport.from_entry(trust).summary()}" in summary and "at 95%" in summary
        # scoring calibrates its threshold on exactly the held-out frames
        from core.inference.anomaly.project_scoring import score_project

        scored = score_project(project, result.run_dir, [video.id])
        assert scored.threshold.frames == held["held_frames"] and scored.videos[0].frames == 120

        # resumed, it keeps the spans it recorded (planning anew could move the blocks onto trained frames)
        import core.data.datasets

        def replanned(*args, **kwargs):
            raise AssertionError("a resumed run planned its hold-out anew")

        monkeypatch.setattr(core.data.datasets, "plan_hold_out", replanned)
        resumed = resume_project_run(project, result.run_dir, epochs=3)
        assert resumed.record.epochs_completed == 3 and resumed.record.data["held_out"] == held
        assert resumed.record.history[-1]["val_loss"] is not None
    finally:
        project.close()


def test_a_run_recorded_before_runs_held_out_time_keeps_training_on_what_it_trained_on_when_resumed(
        tmp_path: Path) -> None:
    from core.inference.anomaly.project_scoring import score_project
    from core.runs import RunRecord

    project = Project.create(tmp_path / "proj")
    try:
        video = project.add_video(write_video(tmp_path / "walk.avi", 80, fps=10), split="train")
        result = train_project(project, TrainingRequest(
            "anomaly", "conv-ae", run_name="old", error_level=False, filters=(4, 4, 4), height=16, width=16,
            grayscale=True, frames=4, stride=2, epochs=1, batch_size=4, steps_per_epoch=2, seed=1))
        record = RunRecord.load(result.run_dir)
        del record.data["held_out"]  # as a run trained before runs held out time: its one video trained whole
        record.data.pop("trust", None)
        record.save(result.run_dir)
        resumed = resume_project_run(project, result.run_dir, epochs=2)
        # no time held out now (the frames are ones it trained on): no validation, as before, and no record
        assert resumed.record.epochs_completed == 2 and resumed.record.history[-1].get("val_loss") is None
        assert "held_out" not in resumed.record.data
        scored = score_project(project, result.run_dir, [video.id])
        assert scored.threshold.kind == "percentile" and scored.threshold.frames == 80  # the old rule, as before
    finally:
        project.close()
