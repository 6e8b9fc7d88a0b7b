"""``framewatch train --dataset moving-mnist``: a run without a project, resumable, and its usage errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.cli.main import main
from core.runs import RunRecord

TINY = ["--size", "16", "--filters", "4,4", "--sequences", "8", "--batch-size", "4", "--steps-per-epoch", "2"]


def test_trains_on_moving_mnist_in_runs_dir_and_resumes(data_dir: Path, tmp_path: Path, capsys) -> None:
    runs = tmp_path / "runs"
    code = main(["train", "--dataset", "moving-mnist", "--mnist", str(data_dir / "mnist"), "--runs-dir", str(runs),
                 "--task", "predict", "--preset", "default", "--epochs", "1", "--name", "mm", "--seed", "7",
                 "--val-fraction", "0.25", *TINY])
    out, err = capsys.readouterr()
    assert code == 0, err
    run = runs / "mm"
    assert f"run        {run}" in out and "status     completed" in out and "val_loss" in err
    assert {"run.json", "state.json", "last.keras", "best.keras"} <= {p.name for p in run.iterdir()}
    record = RunRecord.load(run)
    assert record.data["source"] == "moving-mnist" and record.data["seed"] == 7
    assert record.data["sequences"] == 8 and record.data["validation_sequences"] == 2  # --val-fraction 0.25
    assert record.data["frames"] == 20 and Path(record.data["mnist"]).is_absolute()
    assert record.spec["frames"] == 19 and record.spec["height"] == 16 and record.spec["input_dtype"] == "uint8"
    assert record.spec["filters"] == [4, 4]

    code = main(["train", "--runs-dir", str(runs), "--resume", "mm", "--epochs", "2"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "resuming at epoch 2/2" in err and "epochs     2" in out
    resumed = RunRecord.load(run)
    assert [h["epoch"] for h in resumed.history] == [0, 1] and resumed.data == record.data


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--task", "predict"], "PROJECT is required (or, without a project, --dataset moving-mnist"),
        (["--dataset", "moving-mnist", "--runs-dir", "r", "--mnist", "m"], "missing --task"),
        (["--dataset", "moving-mnist", "--task", "predict", "--runs-dir", "r"], "needs --mnist"),
        (["--dataset", "moving-mnist", "--task", "anomaly", "--runs-dir", "r", "--mnist", "m"], "use --task predict"),
        (["--dataset", "moving-mnist", "--task", "predict", "--runs-dir", "r", "--mnist", "m", "--rgb"],
         "--rgb: not used with --dataset"),
        (["proj", "--dataset", "moving-mnist", "--task", "predict"], "give either PROJECT or them"),
    ],
)
def test_usage_errors_exit_2_before_training(args: list[str], message: str, capsys) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["train", *args])
    assert caught.value.code == 2 and message in capsys.readouterr().err


def test_bad_data_and_unknown_runs_are_one_line_errors(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "images.gz"
    bad.write_bytes(b"not gzip at all")
    code = main(["train", "--dataset", "moving-mnist", "--mnist", str(bad), "--runs-dir", str(tmp_path / "runs"),
                 "--task", "predict", *TINY])
    err = capsys.readouterr().err
    assert code == 2 and f"framewatch: error: {bad}: not a gzip file" in err and err.count("\n") == 1
    assert not (tmp_path / "runs").exists()  # nothing is created for a run that cannot start
    assert main(["train", "--runs-dir", str(tmp_path), "--resume", "nope"]) == 2
    assert "no training run 'nope'" in capsys.readouterr().err


def test_a_block_preset_trains_on_given_and_future_frames_resumes_evaluates_and_predicts(
        data_dir: Path, tmp_path: Path, capsys) -> None:
    runs, mnist = tmp_path / "runs", str(data_dir / "mnist")
    code = main(["train", "--dataset", "moving-mnist", "--mnist", mnist, "--runs-dir", str(runs), "--task", "predict",
                 "--preset", "convlstm-patch", "--frames", "3", "--epochs", "1", "--name", "block", "--size", "16",
                 "--filters", "4", "--sequences", "4", "--batch-size", "2", "--steps-per-epoch", "2"])
    _, err = capsys.readouterr()
    assert code == 0, err
    record = RunRecord.load(runs / "block")
    # 3 given + the preset's 10 future frames per sequence; the model reads 3 and writes 10
    assert record.data["frames"] == 13 and record.data["given"] == 3
    assert record.data["validation_sequences"] == 0  # without --val-fraction: 5% of the 4 sequences
    assert record.spec["frames"] == 3 and record.spec["future"] == 10 and record.spec["recurrent"] == [4]
    assert main(["train", "--runs-dir", str(runs), "--resume", "block", "--epochs", "2"]) == 0
    assert RunRecord.load(runs / "block").epochs_completed == 2
    capsys.readouterr()
    assert main(["evaluate", "--dataset", "moving-mnist", "--mnist", mnist, "--run", str(runs / "block"),
                 "--sequences", "2", "--given", "4", "--future", "12"]) == 0  # more than one block
    assert "4 given, 12 predicted at 16x16" in capsys.readouterr().out
    assert main(["predict", "--dataset", "moving-mnist", "--mnist", mnist, "--run", str(runs / "block"),
                 "--given", "3", "--future", "2", "-o", str(tmp_path / "p.gif")]) == 0
    assert (tmp_path / "p.gif").is_file()
