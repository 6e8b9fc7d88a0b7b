"""A one-video project trains with a validation split of held-out time, and the run records what it held out."""

from __future__ import annotations

from pathlib import Path

from core.cli.train_commands import _summary
from core.data.datasets import plan_hold_out
from core.preprocessing import PreprocessSpec
from core.project import Project
from core.training.from_project import train_project
from core.training.request import TrainingRequest
from tests.video_factory import write_video


def test_a_one_video_run_validates_on_held_out_time_and_records_the_spans(tmp_path: Path) -> None:
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
        summary = _summary(result)
        assert "trust      " in summary and "false alarms a minute" in summary
    finally:
        project.close()
