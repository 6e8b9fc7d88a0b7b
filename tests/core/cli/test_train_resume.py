"""``framewatch train --resume``: read-only model folders refused in one line, an anomaly run's error level
learned again after a cancel and a resume, and ``--steps-per-epoch`` honoured."""

from __future__ import annotations

import shutil
import threading
from contextlib import closing
from pathlib import Path

import keras
import pytest

from core.cli.main import main
from core.errors import Cancelled
from core.models.files import load_model_file
from core.project import Project
from core.runs import RunRecord
from tests.core.cli.one_line_errors import assert_one_line_error, assert_usage_error
from tests.core.inference.scoring_project import make_project

SHIPPED = Path(__file__).resolve().parents[3] / "resources" / "models" / "ped2-future-frame"
TINY = ["--size", "16", "--filters", "4,4,4", "--batch-size", "4", "--val-fraction", "0"]


def iterations(path: Path) -> int:
    return int(keras.ops.convert_to_numpy(load_model_file(path, compile=True).optimizer.iterations))


def test_the_shipped_model_and_exported_runs_are_read_only(tmp_path: Path, capsys) -> None:
    folder = make_project(tmp_path / "proj")
    demo = folder / "runs" / "ped2-future-frame"
    shutil.copytree(SHIPPED, demo)  # as the demo project holds it
    before = {path.name: path.read_bytes() for path in demo.iterdir()}
    for run in ("ped2-future-frame", str(SHIPPED)):
        assert_one_line_error(capsys, ["train", str(folder), "--resume", run],
                              "run 'ped2-future-frame' is a read-only model folder")
    assert {path.name: path.read_bytes() for path in demo.iterdir()} == before
    assert main(["runs", str(folder)]) == 0
    assert "stopped_early (read-only model folder)" in capsys.readouterr().out


def test_a_cancelled_then_resumed_anomaly_run_learns_its_error_level(tmp_path: Path, capsys) -> None:
    from core.training import events as ev
    from core.training.from_project import train_project
    from core.training.request import TrainingRequest

    folder = make_project(tmp_path / "proj")
    cancel = threading.Event()

    def progress(event) -> None:
        if isinstance(event, ev.EpochEnded):  # the first epoch is checkpointed: cancel in the second
            cancel.set()

    with closing(Project.open(folder)) as project, pytest.raises(Cancelled):
        request = TrainingRequest("anomaly", filters=(4, 4, 4), height=16, width=16, val_fraction=0.0, epochs=2,
                                  batch_size=4, steps_per_epoch=2, run_name="ff")
        train_project(project, request, progress=progress, cancel=cancel)
    run_dir = folder / "runs" / "ff"
    record = RunRecord.load(run_dir)
    assert record.status == "cancelled" and "error_level" not in record.data
    assert main(["train", str(folder), "--resume", "ff"]) == 0
    out = capsys.readouterr().out
    record = RunRecord.load(run_dir)
    assert record.status == "completed" and record.data["error_level"]["file"] == "error_level.keras"
    assert (run_dir / "error_level.keras").is_file() and "error lvl  error_level.keras" in out
    # and its motion statistics, fitted on the footage it trained on (all of it: val_fraction 0)
    assert record.data["motion"]["file"] == "motion.npz" and (run_dir / "motion.npz").is_file()
    assert record.data["motion"]["normal_frames"] == 18 + 20 and "motion     motion.npz" in out
    assert main(["score", str(folder), "--run", "ff", "--video", "test.avi"]) == 0
    assert "relative to the run's error level" in capsys.readouterr().out
    assert main(["score", str(folder), "--run", "ff", "--video", "test.avi", "--scorer", "fused"]) == 0
    assert "scorer fused (sum of prediction and motion" in capsys.readouterr().out


def test_resume_honours_steps_per_epoch_and_keeps_it(tmp_path: Path, capsys) -> None:
    folder = make_project(tmp_path / "proj")
    assert main(["train", str(folder), "--task", "anomaly", *TINY, "--epochs", "1", "--steps-per-epoch", "2",
                 "--no-error-level", "--name", "r"]) == 0
    run_dir = folder / "runs" / "r"
    assert iterations(run_dir / "last.keras") == 2
    assert main(["train", str(folder), "--resume", "r", "--epochs", "2", "--steps-per-epoch", "1",
                 "--no-error-level"]) == 0
    assert iterations(run_dir / "last.keras") == 3  # 2 steps in epoch 1, then 1 in epoch 2
    assert RunRecord.load(run_dir).config["steps_per_epoch"] == 1
    capsys.readouterr()
    assert_usage_error(capsys, ["train", str(folder), "--resume", "r", "--epochs", "3", "--steps-per-epoch",
                                "0"], "--steps-per-epoch: must be a whole number from 1")
