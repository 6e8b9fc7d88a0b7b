"""A run.json is read into typed, bounded fields once: a bad field is one line naming run.json and the field,
and one bad run never hides the others from ``framewatch runs``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.cli.main import main
from core.runs import RunFileError, RunRecord, list_runs
from tests.core.cli.one_line_errors import assert_one_line_error
from tests.core.runs.test_runs import conv_ae, make_run


def good_record(folder: Path) -> Path:
    make_run(folder, status="completed")
    return folder / "run.json"


def edit(path: Path, change) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


@pytest.mark.parametrize(("change", "problem"), [
    (lambda d: d["spec"].update(frames=1e308), "spec: frames must be a whole number from 1 to 10000, not 1e+308"),
    (lambda d: d["spec"].update(height=10**12), "spec: height must be a whole number from 1 to 16384"),
    (lambda d: d["spec"].update(learning_rate="fast"), "spec: learning rate must be a positive number"),
    (lambda d: d.update(best_value="good"), "best_value is 'good', not a number"),
    (lambda d: d.update(best_value=float("inf")), "best_value is inf, not a number"),
    (lambda d: d.update(epochs_completed=-3), "epochs_completed is -3, not a whole number from 0"),
    (lambda d: d.update(duration_s="long"), "duration_s is 'long'"),
    (lambda d: d.update(process={"pid": 10**30, "host": "h"}), "process.pid is 1000000000000000000000000000000"),
    (lambda d: d.update(process={"pid": 1e30, "host": "h"}), "process.pid is 1e+30, not a whole number"),
    (lambda d: d.update(history=[1, 2]), "history is [1, 2], not a JSON list of JSON objects"),
    (lambda d: d.update(notes="none"), "notes is 'none', not a JSON list of texts"),
    (lambda d: d.update(model_path=3), "model_path is 3, not text"),
    (lambda d: d.update(status="great"), "status is 'great', not one of created, running"),
    (lambda d: d.update(task="dance"), "task is 'dance', not one of predict, anomaly"),
    (lambda d: d["config"].update(seed="x"), "config.seed is 'x', not a whole number"),
    (lambda d: d["config"].update(epochs=0), "config.epochs is 0, not a whole number from 1"),
    (lambda d: d["config"].update(steps_per_epoch=2.5), "config.steps_per_epoch is 2.5"),
    (lambda d: d["data"].update(options={"val_fraction": 7}), "data.options.val_fraction is 7"),
    (lambda d: d["data"].update(options=[]), "data.options is [], not a JSON object"),
])
def test_a_bad_field_is_one_line_naming_run_json_and_the_field(tmp_path: Path, change, problem) -> None:
    path = good_record(tmp_path / "run")
    edit(path, change)
    with pytest.raises(RunFileError) as info:
        RunRecord.load(path.parent)
    message = str(info.value)
    assert message.startswith(f"{path}: damaged run record: ") and problem in message, message
    assert "\n" not in message


def test_json_nested_too_deeply_is_a_damaged_record_not_a_recursion_error(tmp_path: Path) -> None:
    path = good_record(tmp_path / "run")
    text = path.read_text()
    path.write_text(text[:-1] + ', "deep": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(RunFileError, match="damaged run record: JSON nested too deeply"):
        RunRecord.load(path.parent)


def test_a_good_record_still_reads_and_numbers_keep_their_values(tmp_path: Path) -> None:
    path = good_record(tmp_path / "run")
    edit(path, lambda d: d.update(best_value=2, duration_s=1.5, best_epoch=0, batch_size=4))
    record = RunRecord.load(path.parent)
    assert (record.best_value, record.duration_s, record.best_epoch, record.batch_size) == (2, 1.5, 0, 4)
    assert record.spec == json.loads(json.dumps(conv_ae()))


def test_framewatch_runs_lists_every_run_and_marks_the_bad_ones(tmp_path: Path, capsys) -> None:
    from core.project import Project

    Project.create(tmp_path / "proj", name="p").close()
    runs = tmp_path / "proj" / "runs"
    good_record(runs / "a-good")
    deep = good_record(runs / "b-deep")
    deep.write_text(deep.read_text()[:-1] + ', "x": ' + "[" * 50_000 + "]" * 50_000 + "}")
    edit(good_record(runs / "c-pid"), lambda d: d.update(status="running", process={"pid": 10**30, "host": "h"}))
    edit(good_record(runs / "d-value"), lambda d: d.update(best_value="good"))
    assert [item.status for item in list_runs(tmp_path / "proj")] == ["completed", "damaged", "damaged", "damaged"]
    assert main(["runs", str(tmp_path / "proj")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("a-good  anomaly/conv-ae  completed")
    assert "b-deep  damaged:" in lines[1] and "nested too deeply" in lines[1]
    assert "c-pid  damaged:" in lines[2] and "process.pid" in lines[2]
    assert "d-value  damaged:" in lines[3] and "best_value is 'good'" in lines[3]
    assert main(["runs", str(tmp_path / "proj"), "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [row["status"] for row in rows] == ["completed", "damaged", "damaged", "damaged"]


def test_a_bad_record_is_one_line_in_the_commands_that_read_it(tmp_path: Path, capsys) -> None:
    from tests.core.inference.scoring_project import make_project, save_run

    folder = make_project(tmp_path / "proj")
    run_dir = save_run(folder, task="predict")
    edit(run_dir / "run.json", lambda d: d["spec"].update(frames=1e308))
    video = str(tmp_path / "proj-videos" / "test.avi")
    for argv in (["score", str(folder), "--run", "tiny", "--video", "test.avi"],
                 ["predict", str(folder), "--run", "tiny", "--video", video, "--start", "0"],
                 ["fit-error-level", str(folder), "--run", "tiny"],
                 ["export-run", str(folder), "--run", "tiny", "--to", str(tmp_path / "out")],
                 ["train", str(folder), "--resume", "tiny"]):
        assert_one_line_error(capsys, argv, "run.json: damaged run record: spec: frames must be a whole number")


def test_a_diverged_epoch_is_saved_as_null_not_refused_by_strict_json(tmp_path) -> None:
    record = RunRecord(run_id="r", task="anomaly", preset="conv-ae", spec=conv_ae(), config={"epochs": 3},
                       history=[{"epoch": 0, "loss": 0.5, "val_loss": float("nan")},
                                {"epoch": 1, "loss": float("inf"), "val_loss": 0.4}],
                       best_value=float("nan"))
    path = record.save(tmp_path)
    text = path.read_text()
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text)["history"] == [{"epoch": 0, "loss": 0.5, "val_loss": None},
                                           {"epoch": 1, "loss": None, "val_loss": 0.4}]
    assert json.loads(text)["best_value"] is None
    assert RunRecord.load(tmp_path).history[0]["val_loss"] is None  # and it reads back
