"""Progress reports carry the stage of the job they belong to, so consumers need not read their words."""

from __future__ import annotations

from core.jobs import Progress, Stage, report, with_stage
from core.training import events as ev


def test_a_job_marks_a_helpers_reports_with_its_stage_and_keeps_the_stages_they_have() -> None:
    heard: list[Progress] = []
    preparing = with_stage(heard.append, Stage.PREPARING)
    report(preparing, 3, 10, "caching walk.avi")
    preparing(ev.BatchEnded(done=1, total=4, message="epoch 1/1"))
    report(heard.append, 1, 2, "epoch 1/16", Stage.ERROR_LEVEL)
    assert [event.stage for event in heard] == [Stage.PREPARING, Stage.TRAINING, Stage.ERROR_LEVEL]
    assert (heard[0].done, heard[0].total, heard[0].message) == (3, 10, "caching walk.avi")
    assert isinstance(heard[1], ev.BatchEnded)  # the record itself, not a plain copy
    assert with_stage(None, Stage.SCORING) is None


def test_the_status_line_is_the_stage_label_and_the_message() -> None:
    assert Progress(1, 16, "epoch 1/16", Stage.ERROR_LEVEL).status == "error level: epoch 1/16"
    assert Progress(1, None, "", Stage.CALIBRATING).status == "calibrating the threshold"
    assert Progress(1, None, "reading a.avi").status == "reading a.avi"
    assert Stage.ERROR_LEVEL == "error-level" and {s.value for s in Stage} >= {"training", "scoring", "writing"}
