"""``framewatch train`` on a UCSD Ped2 project (from the project import), ``--resume``, ``presets``, ``devices``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.cli.main import main
from core.project import Project
from core.runs import RunRecord


@pytest.fixture(scope="module")
def ped2_project(ped2: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from core.project.importers import import_ucsd

    folder = tmp_path_factory.mktemp("ped2") / "project"
    project = Project.create(folder)
    import_ucsd(project, ped2, scan=False)
    project.save()
    project.close()
    return folder


TINY = ["--size", "32", "--frames", "8", "--stride", "60", "--frame-steps", "1", "--batch-size", "8",
        "--steps-per-epoch", "3", "--filters", "4,4,4"]


def test_train_on_ped2_shows_progress_writes_checkpoints_and_records_the_run(ped2_project: Path, capsys) -> None:
    code = main(["train", str(ped2_project), "--task", "anomaly", "--preset", "default", "--epochs", "2",
                 "--name", "tiny", *TINY])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "starting epoch 1/2" in err
    assert "epoch 1/2 loss" in err and "epoch 2/2 loss" in err and "val_loss" in err and "clips/s" in err
    run = ped2_project / "runs" / "tiny"
    assert f"run        {run}" in out and "status     completed" in out and "epochs     2" in out
    assert {"run.json", "state.json", "last.keras", "best.keras"} <= {p.name for p in run.iterdir()}
    record = RunRecord.load(run)
    assert record.status == "completed" and record.epochs_completed == 2
    assert record.data["source"] == "project" and record.data["train_clips"] > 0
    assert record.spec["height"] == 32 and record.spec["frames"] == 8 and record.spec["recurrent"] == [4, 4, 4]
    assert record.spec["input_dtype"] == "uint8" and record.data["input_dtype"] == "uint8"  # frames stay uint8
    from core.models.files import load_model_file

    assert str(load_model_file(run / "best.keras").inputs[0].dtype).endswith("uint8")
    entries = [r for r in Project.open(ped2_project).runs.values() if r.name == "tiny"]
    assert len(entries) == 1 and entries[0].status == "completed"
    assert entries[0].metrics["epochs_completed"] == 2 and entries[0].checkpoint.name == "best.keras"

    # a finished run trains further with --resume and a larger epoch count
    code = main(["train", str(ped2_project), "--resume", "tiny", "--epochs", "3"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "resuming at epoch 3/3" in err and "epochs     3" in out
    assert [h["epoch"] for h in RunRecord.load(run).history] == [0, 1, 2]
    entries = [r for r in Project.open(ped2_project).runs.values() if r.name == "tiny"]
    assert len(entries) == 1 and entries[0].metrics["epochs_completed"] == 3


def test_train_errors_are_one_line(ped2_project: Path, capsys) -> None:
    assert main(["train", str(ped2_project), "--task", "anomaly", "--preset", "nope"]) == 2
    assert "no preset 'nope' for task 'anomaly'" in capsys.readouterr().err
    assert main(["train", str(ped2_project), "--resume", "missing"]) == 2
    assert "no training run 'missing'" in capsys.readouterr().err
    # Ped2 has no labelled subclips: classification has nothing to learn from
    assert main(["train", str(ped2_project), "--task", "classify", *TINY[:4]]) == 2
    assert "no classification samples" in capsys.readouterr().err


def test_presets_lists_every_task_with_references(capsys) -> None:
    assert main(["presets"]) == 0
    out = capsys.readouterr().out
    for text in ("predict:", "anomaly:", "classify:", "regress:", "keras-example", "stae", "lrcn-inceptionv3"):
        assert text in out
    assert out.count("[reference]") == 4


def test_devices_prints_what_the_backend_sees(capsys) -> None:
    assert main(["devices"]) == 0
    out = capsys.readouterr().out
    assert "backend" in out and "CPU" in out and "threads" in out
    assert main(["devices", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["backend"] and any(d["kind"] == "CPU" for d in data["devices"]) and "keras" in data["versions"]


@pytest.fixture(scope="module")
def labelled_project(bikes: Path, carphone: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two real clips, both in the train split, cut into labelled subclips with a numeric value each."""
    folder = tmp_path_factory.mktemp("labelled") / "project"
    project = Project.create(folder)
    project.add_class("bikes")
    project.add_class("phone")
    project.add_target("speed", 0.0, 1.0)
    for path, label, value in ((bikes, "bikes", 0.8), (carphone, "phone", 0.2)):
        video = project.add_video(path, split="train", scan=False)
        for start in range(0, 100, 20):
            project.add_subclip(video.id, start, start + 20, label=label, value=value, target="speed")
    project.save()
    project.close()
    return folder


def test_classify_with_a_frozen_backbone_and_cached_features(labelled_project: Path, capsys) -> None:
    code = main(["train", str(labelled_project), "--task", "classify", "--preset", "lrcn-mobilenetv2",
                 "--weights", "none", "--size", "32", "--frames", "4", "--epochs", "2", "--batch-size", "4",
                 "--val-fraction", "0", "--name", "cls"])
    out, err = capsys.readouterr()
    assert code == 0, err
    run = labelled_project / "runs" / "cls"
    record = RunRecord.load(run)
    assert record.status == "completed" and record.spec["outputs"] == 2 and record.spec["channels"] == 3
    assert record.data["class_names"] == ["bikes", "phone"] and record.data["train_clips"] == 10
    assert record.monitor == "loss"  # --val-fraction 0: no validation videos
    assert (run / "model.keras").is_file() and record.model_path.endswith("model.keras")
    assert list((labelled_project / "cache" / "features").glob("mobilenet_v2-*.npy"))


def test_regress_with_the_default_lrcn(labelled_project: Path, capsys) -> None:
    code = main(["train", str(labelled_project), "--task", "regress", "--size", "32", "--frames", "4",
                 "--epochs", "2", "--batch-size", "4", "--filters", "4,8", "--name", "reg"])
    out, err = capsys.readouterr()
    assert code == 0, err
    record = RunRecord.load(labelled_project / "runs" / "reg")
    assert record.status == "completed" and record.spec["family"] == "lrcn" and record.spec["cnn_filters"] == [4, 8]
    assert record.history[-1]["mae"] >= 0


def test_bad_training_settings_are_one_line_errors(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "empty"
    assert main(["project", "new", str(folder)]) == 0
    capsys.readouterr()
    for bad, what in ((["--batch-size", "0"], "batch_size must be >= 1"), (["--epochs", "0"], "epochs must be >= 1"),
                      (["--lr-factor", "2"], "lr_factor must be in (0, 1)"), (["--patience", "-1"], "patience must be"),
                      (["--threads", "0"], "cpu_threads must be >= 1"),
                      (["--steps-per-epoch", "0"], "steps_per_epoch must be >= 1")):
        assert main(["train", str(folder), "--task", "anomaly", *bad]) == 2, bad
        err = capsys.readouterr().err.strip()
        assert what in err and len(err.splitlines()) == 1, err


def test_an_empty_project_is_a_one_line_error(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "empty"
    assert main(["project", "new", str(folder)]) == 0
    capsys.readouterr()
    assert main(["train", str(folder), "--task", "anomaly"]) == 2
    err = capsys.readouterr().err.strip()
    assert "has no videos" in err and len(err.splitlines()) == 1, err


def test_a_taken_run_name_is_refused_without_listing_a_run(ped2_project: Path, capsys) -> None:
    taken = ped2_project / "runs" / "taken"
    taken.mkdir(parents=True)
    RunRecord("taken", "anomaly", "default", {}, {}).save(taken)
    assert main(["train", str(ped2_project), "--task", "anomaly", "--name", "taken", "--epochs", "1", *TINY]) == 2
    err = capsys.readouterr().err.strip()
    assert "already has a run named 'taken'" in err and len(err.splitlines()) == 1, err
    assert not [r for r in Project.open(ped2_project).runs.values() if r.name == "taken"]
