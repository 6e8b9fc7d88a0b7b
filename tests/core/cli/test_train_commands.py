"""``framewatch train`` on a UCSD Ped2 project (from the project import), ``--resume``, ``presets``, ``devices``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.cli.main import main
from core.project import Project
from core.runs import RunRecord
from tests.core.cli.one_line_errors import assert_usage_error


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
    code = main(["train", str(ped2_project), "--task", "anomaly", "--preset", "conv-ae", "--epochs", "2",
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


def test_classify_on_frame_differences_trains_a_run_that_takes_frames(labelled_project: Path, capsys) -> None:
    code = main(["train", str(labelled_project), "--task", "classify", "--differences", "--size", "16",
                 "--frames", "3", "--epochs", "1", "--batch-size", "4", "--filters", "4", "--name", "diff"])
    out, err = capsys.readouterr()
    assert code == 0, err
    run = labelled_project / "runs" / "diff"
    record = RunRecord.load(run)
    assert record.status == "completed" and record.spec["frame_differences"] is True and record.spec["frames"] == 3
    import numpy as np

    from core.models.files import load_model_file

    model = load_model_file(run / record.model_path)
    assert model.input_shape[1:4] == (3, 16, 16)
    clips = np.random.default_rng(0).integers(0, 100, (2, *model.input_shape[1:])).astype(np.uint8)
    # the model sees only the differences: the same motion in a brighter scene gives the same output
    np.testing.assert_allclose(model.predict(clips + 50, verbose=0), model.predict(clips, verbose=0), atol=1e-5)


def test_classify_on_speed_maps_caches_them_and_classify_gives_the_run_the_same_maps(
        labelled_project: Path, capsys) -> None:
    import numpy as np

    from core.models.files import load_model_file
    from core.motion.speed import speed_maps
    from core.video import open_video

    code = main(["train", str(labelled_project), "--task", "classify", "--input", "speed", "--size", "12x16",
                 "--frames", "4", "--epochs", "1", "--batch-size", "4", "--filters", "4", "--name", "speed"])
    out, err = capsys.readouterr()
    assert code == 0, err
    run = labelled_project / "runs" / "speed"
    record = RunRecord.load(run)
    assert record.status == "completed" and record.spec["channels"] == 1
    assert record.data["preprocess"]["signal"] == "speed" and record.data["options"]["signal"] == "speed"
    project = Project.open(labelled_project)
    bikes = next(v for v in project.videos.values() if v.name.startswith("bikes"))
    from core.data.frame_cache import frames_key
    from core.preprocessing import PreprocessSpec

    cached = np.load(labelled_project / "cache" / "frames"
                     / f"{bikes.fingerprint.key}-{frames_key(PreprocessSpec(12, 16, signal='speed'))}.npy")
    with open_video(bikes.path) as source:
        gray = np.stack(list(source.iter_frames(color="gray")))
    maps = speed_maps(gray, 12, 16)[..., None]
    assert np.array_equal(cached, maps)  # what it trained on: the clip's speed maps
    assert main(["classify", str(labelled_project), "--run", "speed", str(bikes.path), "--json", "--windows"]) == 0
    windows = json.loads(capsys.readouterr().out)["videos"][0]["windows"]
    clips = np.stack([maps[w["start"]:w["stop"]] for w in windows])
    model = load_model_file(run / record.model_path)
    np.testing.assert_allclose([w["probabilities"] for w in windows], model.predict(clips, verbose=0), atol=1e-5)
    assert main(["train", str(labelled_project), "--task", "anomaly", "--input", "speed"]) == 2
    err = capsys.readouterr().err
    assert "an input of speed maps is for classify and regress runs" in err, err


def test_bad_training_settings_are_one_line_errors(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "empty"
    assert main(["project", "new", str(folder)]) == 0
    capsys.readouterr()
    assert main(["train", str(folder), "--task", "anomaly", "--lr-factor", "2"]) == 2
    err = capsys.readouterr().err.strip()
    assert "learning-rate factor must be in (0, 1)" in err and len(err.splitlines()) == 1, err
    for bad, what in ((["--batch-size", "0"], "argument --batch-size: must be a whole number from 1 to 4,096, not 0"),
                      (["--epochs", "0"], "argument --epochs: must be a whole number from 1 to 100,000, not 0"),
                      (["--patience", "-1"], "argument --patience: must be a whole number from 0 to 100,000"),
                      (["--threads", "0"], "argument --threads: must be a whole number from 1 to 1,024, not 0"),
                      (["--steps-per-epoch", "0"], "argument --steps-per-epoch: must be a whole number from 1")):
        assert_usage_error(capsys, ["train", str(folder), "--task", "anomaly", *bad], what)


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


# -- bad values, damaged run files, wrong weights: one line and exit 2 ---------------------------------------

SMALL = ["--task", "anomaly", "--preset", "conv-ae", "--size", "16", "--frames", "4", "--stride", "4",
         "--frame-steps", "1", "--batch-size", "4", "--steps-per-epoch", "2", "--filters", "2,2,2",
         "--val-fraction", "0", "--epochs", "1"]


@pytest.fixture(scope="module")
def video_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One generated 40-frame video in the train split, with two labelled subclips."""
    from tests.video_factory import write_video

    root = tmp_path_factory.mktemp("small")
    project = Project.create(root / "project")
    project.add_class("a")
    project.add_class("b")
    video = project.add_video(write_video(root / "walk.avi", 40), split="train", scan=False)
    project.add_subclip(video.id, 0, 20, label="a")
    project.add_subclip(video.id, 20, 40, label="b")
    project.save()
    project.close()
    return project.folder


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("framewatch: error: "), err
    return lines[0]


@pytest.mark.parametrize(("option", "message"), [
    (["--size=-8"], "frame height must be a whole number from 8 to 4096, not -8"),
    (["--size", "0"], "frame height must be a whole number from 8 to 4096, not 0"),
    (["--size", "100000"], "frame height must be a whole number from 8 to 4096, not 100000"),
    (["--size", "16x16x16"], "--size takes a frame size H or HxW in pixels, e.g. 64 or 64x96, not '16x16x16'"),
    (["--size", "big"], "--size takes a frame size H or HxW in pixels, e.g. 64 or 64x96, not 'big'"),
    (["--frames", "0"], "frames per clip must be a whole number from 2 to 1000, not 0"),
    (["--frames", "1"], "frames per clip must be a whole number from 2 to 1000, not 1"),
    (["--stride", "0"], "clip stride must be a whole number"),
    (["--frame-steps", "0"], "each frame step must be a whole number from 1 to 1000, not 0"),
    (["--val-fraction", "nan"], "validation fraction must be in [0, 1), not nan"),
    (["--lr", "nan"], "learning rate must be a positive number, not nan"),
    (["--lr", "inf"], "learning rate must be a positive number, not inf"),
    (["--lr-factor", "nan"], "learning-rate factor must be in (0, 1), not nan"),
    (["--filters", "0,2"], "filters must be whole numbers >= 1, not 0,2"),
    (["--device", "tpu"], "device must be auto, cpu, gpu or gpu:N, not 'tpu'"),
    (["--device", "gpu:99"], "device gpu:99: the backend sees"),
])
def test_bad_values_are_refused_in_one_line_never_replaced_by_defaults(video_project: Path, capsys, option,
                                                                       message) -> None:
    assert main(["train", str(video_project), *SMALL, *option, "--name", "bad"]) == 2
    assert message in one_line_error(capsys)
    assert not (video_project / "runs" / "bad").exists()


@pytest.mark.parametrize(("option", "field", "value"), [
    (["--lr", "nan"], "learning_rate", float("nan")),
    (["--lr=-0.01"], "learning_rate", -0.01),
    (["--frames", "1"], "frames", 1),
    (["--size", "4"], "height", 4),
    (["--filters", "0,4"], "filters", (0, 4)),
])
def test_the_command_says_what_the_request_says(video_project: Path, capsys, option, field, value) -> None:
    from core.training.errors import ConfigError
    from core.training.request import TrainingRequest

    with pytest.raises(ConfigError) as caught:
        TrainingRequest("anomaly", **{field: value})
    assert main(["train", str(video_project), *SMALL, *option, "--name", "bad"]) == 2
    assert one_line_error(capsys) == f"framewatch: error: {caught.value}"
    assert not (video_project / "runs" / "bad").exists()


def test_a_resume_is_checked_before_tensorflow_is_imported(video_project: Path) -> None:
    import subprocess
    import sys

    code = ("import sys\nfrom core.cli.main import main\n"
            f"code = main(['train', {str(video_project)!r}, '--resume', 'any', '--lr', 'nan'])\n"
            "print(code, 'tensorflow' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "2 False", done.stderr
    assert done.stderr == "framewatch: error: learning rate must be a positive number, not nan\n"


def test_damaged_run_files_under_resume_are_one_line(video_project: Path, capsys) -> None:
    assert main(["train", str(video_project), *SMALL, "--name", "damaged"]) == 0
    capsys.readouterr()
    run = video_project / "runs" / "damaged"
    state = (run / "state.json").read_text()
    (run / "state.json").write_text(state[: len(state) // 2])
    assert main(["train", str(video_project), "--resume", "damaged", "--epochs", "2"]) == 2
    line = one_line_error(capsys)
    assert f"{run / 'state.json'}: damaged resume state: not valid JSON" in line
    assert "This run cannot be resumed: start a new run" in line

    (run / "state.json").write_text(state)
    (run / "run.json").write_text("")  # e.g. a full disk when it was copied
    assert main(["train", str(video_project), "--resume", "damaged", "--epochs", "2"]) == 2
    line = one_line_error(capsys)
    assert f"{run / 'run.json'}: damaged run record: not valid JSON" in line and "start a new run" in line


def test_a_file_that_is_not_backbone_weights_is_one_line_without_keras_warnings(video_project: Path, tmp_path: Path,
                                                                               capsys) -> None:
    from core.models import build_model, make_spec

    other = tmp_path / "other_model.keras"
    build_model(make_spec("anomaly", "conv-ae", frames=4, height=16, width=16)).save(other)
    text = tmp_path / "notes.h5"
    text.write_text("not weights")
    base = ["train", str(video_project), "--task", "classify", "--preset", "lrcn-mobilenetv2", "--size", "32",
            "--frames", "2", "--epochs", "1", "--val-fraction", "0"]
    capsys.readouterr()
    assert main([*base, "--weights", str(other), "--name", "w1"]) == 2
    line = one_line_error(capsys)
    assert f"{other}: not MobileNetV2 weights (without the top):" in line and "another model's weights" in line
    assert main([*base, "--weights", str(text), "--name", "w2"]) == 2
    assert f"{text}: not a weights file: not HDF5" in one_line_error(capsys)


def test_when_one_clip_does_not_fit_in_memory_one_line_says_so(video_project: Path, capsys, monkeypatch) -> None:
    from core.training import memory

    monkeypatch.setattr(memory, "host_available", lambda: 1000)  # 1 kB
    assert main(["train", str(video_project), *SMALL, "--name", "huge"]) == 2
    line = one_line_error(capsys)
    assert "not enough memory to train even one clip of 4x16x16x1 at a time: the estimate for batch 1 is" in line
    assert RunRecord.load(video_project / "runs" / "huge").status == "failed"
