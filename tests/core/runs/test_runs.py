"""Run records and run folders: damaged files give one line, a run whose process is gone is interrupted."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.runs import (
    RunError,
    RunFileError,
    RunRecord,
    list_runs,
    mark_interrupted_runs,
    read_state,
    write_state,
)
from core.runs.process import ProcessId, is_alive, this_process


def dead_process() -> ProcessId:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    me = this_process()
    child.wait()
    return ProcessId(child.pid, me.host, "")


def conv_ae() -> dict:
    """A real model spec (the records here are read as training writes them), without building a model."""
    from core.models import make_spec

    return make_spec("anomaly", "conv-ae").to_dict()


def make_run(folder: Path, status: str = "running", process: ProcessId | None = None) -> Path:
    record = RunRecord(run_id=folder.name, task="anomaly", preset="conv-ae", spec=conv_ae(), config={"epochs": 3},
                       status=status, process=process.to_dict() if process else None)
    folder.mkdir(parents=True)
    record.save(folder)
    return folder


def checkpoint(run_dir: Path) -> Path:
    """The trainer's checkpoint files in ``run_dir`` (what resuming needs; their contents are not read here)."""
    (run_dir / "last.keras").write_bytes(b"model")
    write_state(run_dir, {"epoch": 0})
    return run_dir


def test_this_process_is_alive_and_a_finished_one_is_not() -> None:
    assert is_alive(this_process()) is True
    assert is_alive(dead_process()) is False
    assert is_alive(ProcessId(os.getpid(), "another-host")) is None  # cannot tell: shown as running


def test_a_reused_pid_is_not_taken_for_the_run() -> None:
    me = this_process()
    assert me.started  # Linux: boot id and start time
    assert is_alive(dataclasses.replace(me, started=me.started + "0")) is False


def test_a_running_run_whose_process_is_gone_is_interrupted(tmp_path: Path) -> None:
    make_run(tmp_path / "runs" / "a-live", process=this_process())
    checkpoint(make_run(tmp_path / "runs" / "b-dead", process=dead_process()))
    make_run(tmp_path / "runs" / "c-done", status="completed", process=dead_process())
    (tmp_path / "runs" / "d-bad").mkdir()
    (tmp_path / "runs" / "d-bad" / "run.json").write_text("{not json")
    make_run(tmp_path / "runs" / "e-first-epoch", process=dead_process())  # killed before a checkpoint
    listing = {item.name: item for item in list_runs(tmp_path)}
    assert listing["a-live"].status == "running" and listing["c-done"].status == "completed"
    assert listing["b-dead"].status_text() == "interrupted (resumable with --resume b-dead)"
    assert listing["e-first-epoch"].status_text() == "interrupted" and not listing["e-first-epoch"].resumable
    assert listing["d-bad"].status == "damaged" and "not valid JSON" in listing["d-bad"].problem


def test_project_entries_of_dead_or_ended_runs_are_brought_up_to_date(tmp_path: Path) -> None:
    @dataclasses.dataclass(frozen=True)
    class Entry:
        status: str
        config: dict

    dead, live = make_run(tmp_path / "dead", process=dead_process()), make_run(tmp_path / "live", process=this_process())
    # framewatch train lets go of the project while it trains: a run may end with the project locked
    ended = make_run(tmp_path / "ended", status="completed", process=dead_process())
    runs = {"1": Entry("running", {"run_dir": str(dead)}), "2": Entry("running", {"run_dir": str(live)}),
            "3": Entry("running", {"run_dir": str(tmp_path / "never"), "process": dead_process().to_dict()}),
            "4": Entry("cancelled", {"run_dir": str(dead)}), "5": Entry("running", {"run_dir": str(ended)})}
    assert mark_interrupted_runs(runs) == ["1", "3", "5"]
    assert [runs[k].status for k in "12345"] == ["interrupted", "running", "interrupted", "cancelled", "completed"]


@pytest.mark.parametrize(("text", "problem"), [
    ("{not json", "damaged run record: not valid JSON (line 1, column 2"),
    ("[1, 2]", "damaged run record: a JSON list, not an object"),
    ('{"run_id": "r"}', "damaged run record: no task, preset, spec, config"),
    (b"\xff\xfe", "damaged run record: not UTF-8 text"),
])
def test_a_damaged_run_record_names_the_file_and_what_to_do(tmp_path: Path, text, problem) -> None:
    (tmp_path / "run.json").write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(RunFileError) as info:
        RunRecord.load(tmp_path)
    message = str(info.value)
    assert message.startswith(f"{tmp_path / 'run.json'}: {problem}") and "start a new run" in message
    assert "\n" not in message


@pytest.mark.parametrize(("text", "problem"), [
    ("", "damaged resume state: not valid JSON"),
    ('{"epoch": "two"}', "damaged resume state: 'epoch' is 'two', not an epoch number"),
    ('{"epoch": -1}', "'epoch' is -1"),
    ('{"epoch": 1, "plateau": 3}', "'plateau' is not a JSON object"),
])
def test_a_damaged_state_file_names_the_file_and_what_to_do(tmp_path: Path, text, problem) -> None:
    (tmp_path / "state.json").write_text(text)
    with pytest.raises(RunFileError, match="This run cannot be resumed: start a new run") as info:
        read_state(tmp_path)
    assert str(info.value).startswith(str(tmp_path / "state.json")) and problem in str(info.value)
    write_state(tmp_path, {"epoch": 2, "plateau": {}})
    assert read_state(tmp_path)["epoch"] == 2


def test_a_folder_without_a_record_is_not_a_run(tmp_path: Path) -> None:
    with pytest.raises(RunError, match="not a training run folder"):
        RunRecord.load(tmp_path)


def test_delete_run_removes_a_finished_or_damaged_run_and_refuses_the_rest(tmp_path: Path) -> None:
    from core.runs import delete_run

    def run(name: str, status: str, process: dict | None = None) -> Path:
        folder = tmp_path / name
        folder.mkdir()
        RunRecord(run_id=name, task="anomaly", preset="conv-ae", spec=conv_ae(), config={}, status=status,
                  process=process).save(folder)
        (folder / "best.keras").write_bytes(b"model")
        return folder

    done = run("done", "completed")
    delete_run(done)
    assert not done.exists()
    training = run("training", "running", this_process().to_dict())  # this process is alive
    with pytest.raises(RunError, match="still training"):
        delete_run(training)
    assert (training / "best.keras").is_file()
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(RunError, match="not a training run folder.*nothing was deleted"):
        delete_run(plain)
    assert plain.is_dir()
    damaged = run("damaged", "completed")
    (damaged / "run.json").write_text("{not json")
    delete_run(damaged)
    assert not damaged.exists()
