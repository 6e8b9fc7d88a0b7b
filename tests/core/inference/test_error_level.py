"""The error-level model: fitted on a run's train-split errors, dividing them at scoring, carried by export."""

from __future__ import annotations

import json
import shutil
import threading
from contextlib import closing
from pathlib import Path

import numpy as np
import pytest

from core.cli.main import main
from core.errors import Cancelled
from core.inference.anomaly.project_scoring import run_model, score_key, score_project
from core.inference.anomaly.scoring import frame_error, score_video
from core.inference.errors import ScoreError
from core.models.error_level import (
    SCORE_FLOOR,
    build_error_level_model,
    compile_error_level,
    expected_squared_error,
)
from core.models.files import load_model_file
from core.preprocessing import iter_resized
from core.project import Project
from core.runs import RunRecord
from core.runs.export import export_run
from core.training.error_level import ERROR_LEVEL_FILE, fit_error_level
from core.video.open import open_video
from tests.core.cli.one_line_errors import assert_usage_error
from tests.core.inference.scoring_project import FRAMES, make_project, save_run


@pytest.fixture(scope="module")
def fitted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny project whose next-frame run ``tiny`` has an error level (2 epochs)."""
    folder = make_project(tmp_path_factory.mktemp("level") / "proj")
    save_run(folder, task="predict")
    with closing(Project.open(folder, read_only=True)) as project:
        fit = fit_error_level(project, "tiny", epochs=2)
    assert fit.path == folder / "runs" / "tiny" / ERROR_LEVEL_FILE and fit.path.is_file()
    return folder


def test_the_loss_teaches_the_network_the_mean_squared_error_it_sees() -> None:
    import keras

    keras.utils.set_random_seed(0)
    model = compile_error_level(build_error_level_model(2, 8, 8, mean_error=1e-3), learning_rate=1e-2)
    clips = np.random.default_rng(0).integers(0, 256, (64, 2, 8, 8, 1), dtype=np.uint8)
    squared = np.full((64, 8, 8, 1), 4e-3, np.float32)
    squared[:, :, 4:] = 4e-2  # errors ten times larger on the right half, whatever the input
    model.fit(clips, squared, batch_size=16, epochs=60, verbose=0)
    level = expected_squared_error(model, clips[:4]) - SCORE_FLOOR
    assert level[:, :, :4].mean() == pytest.approx(4e-3, rel=0.15)
    assert level[:, :, 4:].mean() == pytest.approx(4e-2, rel=0.15)


def test_fitting_records_the_model_and_scoring_divides_each_error_map_by_its_level(fitted: Path) -> None:
    record = RunRecord.load(fitted / "runs" / "tiny")
    entry = record.data["error_level"]
    # 18 + 20 frames of train-split video, 4 frames of history each: 14 + 16 windows
    assert entry["file"] == ERROR_LEVEL_FILE and entry["windows"] == 30 and entry["videos"] == 2
    run = run_model(fitted, "tiny")
    assert run.error_level_path == fitted / "runs" / "tiny" / ERROR_LEVEL_FILE
    assert run.spec.error_level and run.spec.params(1)["error_level"] == run.spec.error_level
    model, level = run.load_models(load_model_file)
    with closing(Project.open(fitted, read_only=True)) as project:
        path = project.video("test.avi").path
    scores = list(score_video(model, path, run.spec, error_maps=True, error_level=level))
    plain = list(score_video(model, path, run.spec, error_maps=True))
    with open_video(path) as source:
        frames = np.stack(list(iter_resized(source, run.spec.preprocess)))
    t = 10
    expected = expected_squared_error(level, frames[t - FRAMES:t][None])[0]
    assert np.allclose(scores[t].error_map, plain[t].error_map / expected, rtol=1e-5)
    assert scores[t].error == pytest.approx(frame_error(scores[t].error_map))
    assert not np.allclose([s.error for s in scores], [s.error for s in plain])


def test_scores_with_and_without_the_level_are_cached_apart_and_the_project_scores_with_it(
        fitted: Path, tmp_path: Path) -> None:
    run = run_model(fitted, "tiny")
    with closing(Project.open(fitted, read_only=True)) as project:
        video = project.video("test.avi")
        bare = RunRecord.load(fitted / "runs" / "tiny")
        bare.data = {k: v for k, v in bare.data.items() if k != "error_level"}
        plain_dir = fitted / "runs" / "plain"
        plain_dir.mkdir(exist_ok=True)
        shutil.copyfile(run.model_path, plain_dir / "best.keras")  # a run's model is a file of its own folder
        bare.model_path = "best.keras"
        bare.save(plain_dir)
        plain = run_model(fitted, "plain")
        assert score_key(run, video) != score_key(plain, video)
        result = score_project(project, "tiny", ["test.avi"])
        model, level = run.load_models(load_model_file)
        direct = [s.error for s in score_video(model, video.path, run.spec, error_level=level)]
    assert np.allclose(result.videos[0].errors, direct, rtol=1e-5)


def test_export_carries_the_error_level_and_a_missing_file_is_named(fitted: Path, tmp_path: Path) -> None:
    out = export_run(fitted / "runs" / "tiny", tmp_path / "exported")
    assert (out / ERROR_LEVEL_FILE).is_file()
    exported = run_model(fitted, out)
    assert exported.error_level_path == out / ERROR_LEVEL_FILE
    assert exported.spec.error_level != ""  # a weights-only copy: a file of its own, a fingerprint of its own
    (out / ERROR_LEVEL_FILE).unlink()
    with pytest.raises(ScoreError, match=f"{ERROR_LEVEL_FILE}: the error-level model of run 'exported' is missing"):
        run_model(fitted, out)


def test_a_reconstruction_run_has_no_error_level(tmp_path: Path) -> None:
    folder = make_project(tmp_path / "proj")
    save_run(folder, task="anomaly")
    with closing(Project.open(folder, read_only=True)) as project:
        with pytest.raises(ScoreError, match="next-frame predictors; run 'tiny' is a anomaly model|is a anomaly"):
            fit_error_level(project, "tiny", epochs=1)
        run = run_model(folder, "tiny")
        model = load_model_file(run.model_path)
        level = build_error_level_model(FRAMES, 16, 16)
        with pytest.raises(ScoreError, match="applies to next-frame prediction models"):
            next(score_video(model, project.video("test.avi").path, run.spec, error_level=level))
    assert not (folder / "runs" / "tiny" / ERROR_LEVEL_FILE).exists()


def test_cancel_stops_the_fit_and_writes_nothing(tmp_path: Path) -> None:
    folder = make_project(tmp_path / "proj")
    save_run(folder, task="predict")
    cancel = threading.Event()
    seen = []

    def progress(event) -> None:
        seen.append(event)
        if "epoch" in event.message:
            cancel.set()

    with closing(Project.open(folder, read_only=True)) as project, pytest.raises(Cancelled):
        fit_error_level(project, "tiny", epochs=5, progress=progress, cancel=cancel)
    assert seen and not (folder / "runs" / "tiny" / ERROR_LEVEL_FILE).exists()
    assert "error_level" not in RunRecord.load(folder / "runs" / "tiny").data


def test_the_command_fits_and_says_what_it_learned_from(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = make_project(tmp_path / "proj")
    run_dir = save_run(folder, task="predict")
    record = RunRecord.load(run_dir)
    record.data["options"]["val_fraction"] = 0.5  # one of the two normal videos validated the run
    record.save(run_dir)
    assert main(["fit-error-level", str(folder), "--run", "tiny", "--epochs", "1", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    # both normal videos (train and val split) are learned from: 14 + 16 windows
    assert data["windows"] == 30 and data["videos"] == 2 and data["epochs"] == 1 and Path(data["path"]).is_file()
    assert data["events_set_aside"] is None
    assert main(["score", str(folder), "--run", "tiny", "--video", "test.avi"]) == 0
    assert "relative to the run's error level" in capsys.readouterr().out
    # fitting again: the events flagged with the old level are set aside, the next score flags anew
    assert (run_dir / "events.json").is_file()
    assert main(["fit-error-level", str(folder), "--run", "tiny", "--epochs", "1"]) == 0
    assert "events.before-error-level.json; score again" in capsys.readouterr().out
    assert not (run_dir / "events.json").exists() and (run_dir / "events.before-error-level.json").is_file()
    assert_usage_error(capsys, ["fit-error-level", str(folder), "--run", "tiny", "--epochs", "0"],
                       "argument --epochs: must be a whole number from 1 to 100,000, not 0")


def test_training_the_default_anomaly_preset_fits_its_error_level(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    folder = make_project(tmp_path / "proj")
    tiny = ["--task", "anomaly", "--size", "16", "--filters", "4,4,4", "--epochs", "1", "--steps-per-epoch", "2",
            "--batch-size", "4", "--val-fraction", "0"]
    assert main(["train", str(folder), *tiny, "--name", "ff"]) == 0
    out = capsys.readouterr().out
    assert (folder / "runs" / "ff" / ERROR_LEVEL_FILE).is_file() and "error lvl  error_level.keras" in out
    assert run_model(folder, "ff").error_level_path is not None
    assert main(["train", str(folder), *tiny, "--name", "plain", "--no-error-level"]) == 0
    assert not (folder / "runs" / "plain" / ERROR_LEVEL_FILE).exists()
    assert run_model(folder, "plain").error_level_path is None


def test_long_footage_is_sampled_evenly_within_the_memory_cap(tmp_path: Path, monkeypatch) -> None:
    import core.training.error_level as error_level

    folder = make_project(tmp_path / "proj")
    save_run(folder, task="predict")
    per_window = FRAMES * 16 * 16 + 16 * 16 * 4  # a uint8 clip and its float32 error map
    monkeypatch.setattr(error_level, "MAX_BYTES", 10 * per_window)
    with closing(Project.open(folder, read_only=True)) as project:
        fit = fit_error_level(project, "tiny", epochs=1)
    # 30 windows, every third kept (ceil(30 / 10)): 10, from both videos
    assert fit.windows == 10 and fit.videos == 2


def test_an_error_level_made_for_another_model_is_refused_with_the_video_named(fitted: Path) -> None:
    run = run_model(fitted, "tiny")
    model = load_model_file(run.model_path)
    other = build_error_level_model(FRAMES, 32, 32)  # the run's clips are 16x16
    with closing(Project.open(fitted, read_only=True)) as project:
        path = project.video("test.avi").path
    with pytest.raises(ScoreError, match="the error-level model does not take this model's clips"):
        next(score_video(model, path, run.spec, error_level=other))


def test_a_record_whose_error_level_names_no_file_of_the_run_is_refused(tmp_path: Path) -> None:
    from core.runs import RunFileError

    folder = make_project(tmp_path / "proj")
    run_dir = save_run(folder, task="predict")
    record = RunRecord.load(run_dir)
    record.data["error_level"] = {"file": "../elsewhere.keras"}
    record.save(run_dir)
    with pytest.raises(RunFileError, match="the error_level entry names no file in the run folder"):
        run_model(folder, "tiny")
    with pytest.raises(RunFileError, match="names no file"):
        export_run(run_dir, tmp_path / "out")
