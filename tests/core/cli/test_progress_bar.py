"""Progress on stderr: plain lines in a log (stderr not a terminal), so an hours-long run can be followed."""

from __future__ import annotations

import pytest

from core.cli.progress_bar import ProgressBar
from core.jobs import Progress, Stage


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_log_gets_a_plain_line_at_most_every_interval_with_the_eta(capsys: pytest.CaptureFixture) -> None:
    clock = Clock()
    with ProgressBar("training", unit="batch", enabled=False, log_interval_s=60, clock=clock) as bar:
        for done in range(1, 481):
            clock.now += 15  # 15 s a batch
            bar(Progress(done, 480, f"epoch 1/1, batch {done}/480"))
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 120  # every 4th batch, one line a minute; the last batch was logged as it came
    assert lines[0] == "training: 4/480 batches (1%), 1m00s elapsed, eta 1h59m, epoch 1/1, batch 4/480"
    assert lines[-1].startswith("training: 480/480 batches (100%), 2h00m elapsed, epoch 1/1")
    assert "\r" not in "".join(lines)


def test_a_short_job_logs_nothing_and_the_end_of_a_long_one_is_logged(capsys: pytest.CaptureFixture) -> None:
    clock = Clock()
    with ProgressBar("cutting", enabled=False, clock=clock) as bar:
        for done in range(1, 11):
            clock.now += 0.1
            bar(Progress(done, 10))
    assert capsys.readouterr().err == ""
    with ProgressBar("scanning", enabled=False, log_interval_s=60, clock=clock) as bar:
        clock.now += 61
        bar(Progress(5, None))
        clock.now += 30
        bar(Progress(7, None))
    assert capsys.readouterr().err.splitlines() == ["scanning: 5 frames, 1m01s elapsed", "scanning: 7 frames, 1m31s elapsed"]


def test_the_bar_is_named_for_the_stage_the_job_is_in(capsys: pytest.CaptureFixture) -> None:
    clock = Clock()
    with ProgressBar("score", unit="frame", enabled=False, log_interval_s=60, clock=clock) as bar:
        clock.now += 61
        bar(Progress(10, 100, "train.avi", Stage.CALIBRATING))
        clock.now += 61
        bar(Progress(60, 100, "test.avi", Stage.SCORING))
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith("calibrating the threshold: 10/100 frames (10%)") and lines[0].endswith("train.avi")
    assert lines[1].startswith("scoring: 60/100 frames (60%)") and lines[1].endswith("test.avi")
