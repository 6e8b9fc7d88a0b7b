"""``framewatch train`` in a real process: SIGTERM ends the run cancelled and resumable; a SIGKILLed run
shows as interrupted in ``framewatch runs`` and in the project, and resumes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from core.cli.main import main
from core.project import Project
from core.runs import RunRecord
from tests.conftest import REPO
from tests.video_factory import write_video

TINY = ["--task", "anomaly", "--preset", "conv-ae", "--size", "16", "--frames", "4", "--stride", "4",
        "--frame-steps", "1", "--batch-size", "4", "--steps-per-epoch", "2", "--filters", "2,2,2",
        "--val-fraction", "0", "--threads", "1"]


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    project = Project.create(folder)
    project.add_video(write_video(tmp_path / "walk.avi", 40), split="train", scan=False)
    project.save()
    project.close()
    return folder


class Training:
    """``python -m core.cli.main train ...`` in a child process, its stderr collected as it comes."""

    def __init__(self, args: list[str]) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen([sys.executable, "-m", "core.cli.main", "train", *args], cwd=REPO, env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.err = ""
        self.seen = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        while chunk := os.read(self.proc.stderr.fileno(), 4096):
            with self.seen:
                self.err += chunk.decode(errors="replace")
                self.seen.notify_all()

    def wait_for(self, text: str, timeout: float = 300) -> None:
        with self.seen:
            found = self.seen.wait_for(lambda: text in self.err or self.proc.poll() is not None, timeout)
        assert found and text in self.err, f"never printed {text!r}:\n{self.err}"

    def finish(self) -> int:
        code = self.proc.wait(timeout=300)
        self.reader.join(timeout=10)
        return code


def test_sigterm_ends_the_run_cancelled_with_its_checkpoint_and_resume_continues(project: Path, capsys) -> None:
    run = Training([str(project), *TINY, "--epochs", "1000", "--name", "termed"])
    run.wait_for("epoch 1/1000 loss")
    run.proc.send_signal(signal.SIGTERM)
    code = run.finish()
    assert code == 130, run.err
    assert "SIGTERM received" in run.err and "Traceback" not in run.err
    run_dir = project / "runs" / "termed"
    record = RunRecord.load(run_dir)
    assert record.status == "cancelled" and record.epochs_completed >= 1
    assert (run_dir / "last.keras").is_file() and (run_dir / "state.json").is_file()
    assert [r.status for r in Project.open(project).runs.values()] == ["cancelled"]

    done = record.epochs_completed
    assert main(["train", str(project), "--resume", "termed", "--epochs", str(done + 1)]) == 0
    out, err = capsys.readouterr()
    assert f"resuming at epoch {done + 1}/{done + 1}" in err and "status     completed" in out
    assert [h["epoch"] for h in RunRecord.load(run_dir).history] == list(range(done + 1))


def test_a_killed_run_shows_as_interrupted_and_resumes(project: Path, capsys) -> None:
    run = Training([str(project), *TINY, "--epochs", "1000", "--name", "killed"])
    run.wait_for("epoch 1/1000 loss")
    run.proc.send_signal(signal.SIGKILL)
    assert run.finish() == -signal.SIGKILL
    run_dir = project / "runs" / "killed"
    record = RunRecord.load(run_dir)
    assert record.status == "running" and record.process["pid"] == run.proc.pid  # what the dead process left
    assert record.effective_status() == "interrupted"

    assert main(["runs", str(project)]) == 0
    out = capsys.readouterr().out
    assert "killed  anomaly/conv-ae  interrupted (resumable with --resume killed)" in out
    assert [r.status for r in Project.open(project).runs.values()] == ["interrupted"]

    done = RunRecord.load(run_dir).epochs_completed
    assert main(["train", str(project), "--resume", "killed", "--epochs", str(done + 1)]) == 0
    assert "status     completed" in capsys.readouterr().out
    assert RunRecord.load(run_dir).effective_status() == "completed"
    assert [r.status for r in Project.open(project).runs.values()] == ["completed"]


def test_a_cli_run_lets_go_of_the_project_while_it_trains_and_records_its_end(project: Path, capsys) -> None:
    """Hours of training must not lock analysts out of their project: labels added meanwhile are kept,
    and the run's end is recorded beside them."""
    run = Training([str(project), *TINY, "--epochs", "1000", "--name", "long"])
    run.wait_for("epoch 1/1000 loss")
    assert main(["project", "label", str(project), "--video", "walk.avi", "--start", "0", "--end", "10",
                 "--anomaly", "--wait", "0"]) == 0, capsys.readouterr().err
    run.proc.send_signal(signal.SIGTERM)
    assert run.finish() == 130, run.err
    reopened = Project.open(project)
    assert [(i.start, i.end) for i in reopened.intervals.values()] == [(0, 10)]
    assert [r.status for r in reopened.runs.values()] == ["cancelled"]

