"""One rule for a run's model file (core.runs.model), followed by scoring, rollout, export and the rest:
exported and shipped folders work everywhere, nothing outside a run folder is read, links are refused,
and a model file that does not fit its run.json is one line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from core.cli.main import main
from core.inference.anomaly.project_scoring import run_model
from core.inference.rollout.video_rollout import predict_run
from core.runs import RunError, RunFileError, RunModel, model_file
from core.runs.export import export_run
from tests.core.cli.one_line_errors import assert_one_line_error
from tests.core.inference.scoring_project import FRAMES, make_project, save_run

SHIPPED = Path(__file__).resolve().parents[3] / "resources" / "models" / "ped2-future-frame"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny project with a next-frame run ``tiny`` (best.keras, a checkpoint) and its export ``runs/exported``
    (model.keras and run.json only, as export-run writes and the app ships)."""
    folder = make_project(tmp_path_factory.mktemp("model") / "proj")
    save_run(folder, task="predict")
    export_run(folder / "runs" / "tiny", folder / "runs" / "exported")
    return folder


def edit(run_dir: Path, **changes) -> None:
    path = run_dir / "run.json"
    data = json.loads(path.read_text())
    data.update(changes)
    path.write_text(json.dumps(data))


def copy_run(project: Path, name: str, to: str) -> Path:
    target = project / "runs" / to
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(project / "runs" / name, target)
    return target


def test_an_exported_run_rolls_out_and_scores_with_the_file_its_record_names(project: Path, capsys) -> None:
    exported = project / "runs" / "exported"
    assert not (exported / "best.keras").exists() and not (exported / "last.keras").exists()
    assert predict_run(project, "exported").model_path == exported / "model.keras"
    assert run_model(project, "exported").model_path == exported / "model.keras"
    video = str(project.parent / "proj-videos" / "test.avi")
    assert main(["predict", str(project), "--run", "exported", "--video", video, "--start", "0", "--given",
                 str(FRAMES), "--future", "2", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["steps"]) == 2
    with pytest.raises(RunError, match="last.keras: the model file of run 'exported' is missing"):
        predict_run(project, "exported", "last")


def test_the_shipped_model_is_found_by_rollout_as_by_scoring(project: Path) -> None:
    run = predict_run(project, SHIPPED)
    assert run.model_path == SHIPPED / "model.keras" and run.spec.preprocess.height == 64
    assert run_model(project, SHIPPED).model_path == SHIPPED / "model.keras"


def test_a_record_of_an_earlier_version_names_its_model_by_a_path_in_its_own_folder(project: Path) -> None:
    moved = copy_run(project, "tiny", "moved")  # a copy under another name: its record names runs/tiny/best.keras
    assert RunModel.open(project, "moved").model_path == moved / "best.keras"
    edit(moved, model_path="/somewhere/else/runs/moved/best.keras")  # the run folder was moved with its project
    assert RunModel.open(project, "moved").model_path == moved / "best.keras"
    edit(moved, model_path="best.keras")
    assert RunModel.open(project, "moved").model_path == moved / "best.keras"


def test_a_run_that_has_not_ended_uses_its_best_checkpoint_so_far(project: Path) -> None:
    from core.runs import RunRecord

    running = copy_run(project, "tiny", "running")
    edit(running, model_path="", status="cancelled")
    assert model_file(running, RunRecord.load(running)) == running / "best.keras"
    (running / "best.keras").unlink()
    with pytest.raises(RunError, match="run 'running' has no model yet"):
        RunModel.open(project, "running")


@pytest.mark.parametrize("model_path", ["../tiny/best.keras", "../../../outside/best.keras", "/elsewhere/x.keras",
                                        "/etc", "..", "sub/last.keras", "/t/runs/crafted/../tiny/best.keras"])
def test_model_path_outside_the_run_folder_is_refused_without_looking_at_it(project: Path, tmp_path: Path,
                                                                          model_path: str, capsys) -> None:
    crafted = copy_run(project, "tiny", "crafted")
    edit(crafted, model_path=model_path)
    expected = f"{crafted / 'run.json'}: model_path names no file in the run folder: {model_path!r}"
    for load in (lambda: RunModel.open(project, "crafted"), lambda: run_model(project, "crafted"),
                 lambda: predict_run(project, "crafted"), lambda: export_run(crafted, tmp_path / "out")):
        with pytest.raises(RunFileError) as info:
            load()
        assert str(info.value).startswith(expected)
    assert not (tmp_path / "out").exists()
    assert_one_line_error(capsys, ["export-run", str(project), "--run", "crafted", "--to", str(tmp_path / "out")],
                          "model_path names no file in the run folder")


def test_the_refusal_reads_the_same_whether_an_outside_file_exists_or_not(project: Path) -> None:
    crafted = copy_run(project, "tiny", "crafted")
    messages = []
    for outside in ("tiny", "tinx"):  # runs/tiny/last.keras exists, runs/tinx/last.keras does not
        edit(crafted, model_path=str(project / "runs" / outside / "last.keras"))
        with pytest.raises(RunFileError) as info:
            RunModel.open(project, "crafted")
        messages.append(str(info.value).replace(outside, "NAME"))
    assert messages[0] == messages[1]


def test_linked_model_files_and_run_folders_are_refused(project: Path, tmp_path: Path, capsys) -> None:
    linked = copy_run(project, "tiny", "linked")
    (linked / "best.keras").unlink()
    (linked / "best.keras").symlink_to(project / "runs" / "tiny" / "best.keras")
    with pytest.raises(RunFileError, match="best.keras: is a symbolic link"):
        RunModel.open(project, "linked")
    (linked / "best.keras").unlink()
    (linked / "best.keras").symlink_to(tmp_path / "missing.keras")  # a dangling link: the same words
    with pytest.raises(RunFileError, match="best.keras: is a symbolic link; a run's folder and files must be its own"):
        RunModel.open(project, "linked")
    folder_link = project / "runs" / "folder-link"
    folder_link.unlink(missing_ok=True)
    folder_link.symlink_to(project / "runs" / "tiny", target_is_directory=True)
    with pytest.raises(RunFileError, match="folder-link: is a symbolic link"):
        run_model(project, "folder-link")
    assert_one_line_error(capsys, ["score", str(project), "--run", "folder-link", "--video", "test.avi"],
                          "folder-link: is a symbolic link")
    with pytest.raises(RunFileError, match="is a symbolic link"):
        export_run(linked, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    folder_link.unlink()
    shutil.rmtree(linked)


def test_a_model_file_that_does_not_match_its_record_is_one_line_everywhere(project: Path, tmp_path: Path,
                                                                          capsys) -> None:
    from core.models import build_model, make_spec
    from core.models.files import save_model

    other = copy_run(project, "tiny", "other")
    bigger = make_spec("predict", "default", frames=FRAMES, height=32, width=32, channels=1, filters=(4,),
                       kernels=(3,), encoder_filters=4, input_dtype="uint8")
    save_model(build_model(bigger, compile=False), other / "best.keras")
    expected = "best.keras: does not match the run's run.json: the model takes clips of 4x32x32x1"
    video = str(project.parent / "proj-videos" / "test.avi")
    for argv in (["score", str(project), "--run", "other", "--video", "test.avi"],
                 ["evaluate", str(project), "--run", "other"],
                 ["fit-error-level", str(project), "--run", "other", "--epochs", "1"],
                 ["predict", str(project), "--run", "other", "--video", video, "--start", "0"],
                 ["export-run", str(project), "--run", "other", "--to", str(tmp_path / "out")]):
        assert_one_line_error(capsys, argv, expected)
    shutil.rmtree(other)


def classify_run(project: Path, name: str, outputs: int) -> Path:
    """An untrained two-class window classifier of 16x16 clips as a run, whose model file gives ``outputs``."""
    from core.atomic_write import copy_file
    from core.models import build_model, make_spec
    from core.models.files import save_model
    from core.runs import RunRecord, write_state

    spec = make_spec("classify", "default", frames=FRAMES, height=16, width=16, channels=1, outputs=2,
                     cnn_filters=(4,), lstm_units=(4,))
    run_dir = project / "runs" / name
    run_dir.mkdir(parents=True)
    save_model(build_model(spec.replace(outputs=outputs), compile=False), run_dir / "best.keras")
    copy_file(run_dir / "best.keras", run_dir / "last.keras")
    write_state(run_dir, {"epoch": 0})
    RunRecord(run_id=name, task="classify", preset="default", spec=spec.to_dict(), config={"seed": 0},
              data={"preprocess": {"height": 16, "width": 16, "grayscale": True}, "class_names": ["a", "b"]},
              status="completed", model_path="best.keras").save(run_dir)
    return run_dir


def test_a_classifier_whose_model_file_gives_other_classes_is_one_line(project: Path, capsys) -> None:
    run_dir = classify_run(project, "three", outputs=3)
    try:
        assert_one_line_error(capsys, ["classify", str(project), "--run", "three", "--video", "test.avi"],
                              "best.keras: does not match the run's run.json: the model gives 3 per clip, not 2")
    finally:
        shutil.rmtree(run_dir)


def test_export_run_takes_a_checkpoint_by_name_from_the_run_folder_only(project: Path, tmp_path: Path) -> None:
    run_dir = project / "runs" / "tiny"
    assert export_run(run_dir, tmp_path / "a", checkpoint="last.keras") == tmp_path / "a"
    for name in ("../exported/model.keras", str(project / "runs" / "exported" / "model.keras")):
        with pytest.raises(RunError, match="not a file name of the run folder"):
            export_run(run_dir, tmp_path / "b", checkpoint=name)
    assert not (tmp_path / "b").exists()
