"""``framewatch evaluate --dataset moving-mnist``: per-step next-frame metrics of a run, and its usage errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.cli.main import main
from core.runs import RunRecord

TINY = ["--size", "16", "--filters", "4,4", "--sequences", "8", "--batch-size", "4", "--steps-per-epoch", "2"]


@pytest.fixture(scope="module")
def run(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny Moving MNIST run stopped by a time budget shorter than one batch."""
    runs = tmp_path_factory.mktemp("runs")
    code = main(["train", "--dataset", "moving-mnist", "--mnist", str(data_dir / "mnist"), "--runs-dir", str(runs),
                 "--task", "predict", "--preset", "default", "--epochs", "3", "--name", "mm",
                 "--max-minutes", "1e-9", *TINY])
    assert code == 0
    return runs / "mm"


def test_a_time_budget_from_the_command_line_stops_the_run_with_a_note(run: Path) -> None:
    record = RunRecord.load(run)
    assert record.status == "stopped_early" and record.epochs_completed == 1
    assert record.config["max_minutes"] == 1e-9
    assert "time budget of 1e-09 minutes reached in epoch 1/3 after 1 of 2 batches" in record.notes[-1]


def test_evaluate_prints_per_step_metrics_and_the_baseline(run: Path, data_dir: Path, capsys) -> None:
    common = ["evaluate", "--dataset", "moving-mnist", "--mnist", str(data_dir / "mnist"), "--run", str(run),
              "--sequences", "3", "--given", "4", "--future", "3"]
    assert main([*common, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["sequences"], data["given"], data["future"], data["frame_size"]) == (3, 4, 3, [16, 16])
    assert data["run"] == "mm" and data["preset"] == "default" and data["epochs_completed"] == 1
    assert set(data["beats_baselines"]) == {"mse", "ssim"}
    for figures in (data["model"], data["blank_frame"], data["copy_last_frame"]):
        assert [s["step"] for s in figures["steps"]] == [1, 2, 3]
        steps = figures["steps"]
        assert figures["mean"]["sse"] == pytest.approx(sum(s["sse"] for s in steps) / 3)
        assert all(s["sse"] == pytest.approx(s["mse"] * 16 * 16) for s in steps)  # summed over 16x16 pixels
        assert all(-1 <= s["ssim"] <= 1 and s["sse"] > 0 for s in steps)
    # the same seed gives the same sequences: the text table shows the same figures
    assert main(common) == 0
    out = capsys.readouterr().out
    assert "3 Moving MNIST sequences of validation digits (seed 0), 4 given, 3 predicted at 16x16" in out
    mean_row = next(line for line in out.splitlines() if line.startswith("mean"))
    assert f"{data['model']['mean']['sse']:.2f}" in mean_row
    assert f"{data['copy_last_frame']['mean']['sse']:.2f}" in mean_row
    assert f"{data['blank_frame']['mean']['sse']:.2f}" in mean_row
    beats = data["beats_baselines"]
    assert (f"model beats both baselines: on MSE {'yes' if beats['mse'] else 'no'}, "
            f"on SSIM {'yes' if beats['ssim'] else 'no'}") in out
    # another seed, other sequences
    assert main([*common, "--json", "--seed", "1"]) == 0
    other = json.loads(capsys.readouterr().out)
    assert other["copy_last_frame"]["mean"]["sse"] != data["copy_last_frame"]["mean"]["sse"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--run", "r"], "PROJECT is required (or, without a project, --dataset moving-mnist --mnist PATH)"),
        (["--run", "r", "--dataset", "moving-mnist"], "--dataset moving-mnist needs --mnist"),
        (["proj", "--run", "r", "--dataset", "moving-mnist"], "--dataset evaluates without a project"),
        (["proj", "--run", "r", "--sequences", "3"], "--sequences evaluates without a project"),
        (["--run", "r", "--dataset", "moving-mnist", "--mnist", "m", "--smooth", "3"],
         "--smooth: not used with --dataset"),
        (["--run", "r", "--dataset", "moving-mnist", "--mnist", "m", "--smooth", "1", "--error", "mse"],
         "--smooth, --error: not used with --dataset"),
        (["--run", "r", "--dataset", "moving-mnist", "--mnist", "m", "--sequences", "0"],
         "argument --sequences: must be a whole number from 1 to 10,000, not 0"),
    ],
)
def test_usage_errors_exit_2(args: list[str], message: str, capsys) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["evaluate", *args])
    assert caught.value.code == 2 and message in capsys.readouterr().err


def test_runs_it_cannot_evaluate_are_one_line_errors(run: Path, data_dir: Path, tmp_path: Path, capsys) -> None:
    mnist = str(data_dir / "mnist")
    assert main(["evaluate", "--dataset", "moving-mnist", "--mnist", mnist, "--run", str(tmp_path)]) == 2
    assert f"{tmp_path}: not a training run folder" in capsys.readouterr().err
    other = RunRecord.load(run)
    other.task = "anomaly"
    other.save(tmp_path)
    assert main(["evaluate", "--dataset", "moving-mnist", "--mnist", mnist, "--run", str(tmp_path)]) == 2
    assert "is a model for the 'anomaly' task, not next-frame prediction" in capsys.readouterr().err
    other.task = "predict"
    other.save(tmp_path)
    assert main(["evaluate", "--dataset", "moving-mnist", "--mnist", mnist, "--run", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "best.keras: the model file of run" in err and "is missing" in err and err.count("\n") == 1
    assert main(["evaluate", "--dataset", "moving-mnist", "--mnist", str(tmp_path / "none"), "--run", str(run)]) == 2
    assert "framewatch: error:" in capsys.readouterr().err


def test_a_step_budget_from_the_command_line_stops_the_run_with_a_note(data_dir: Path, tmp_path: Path) -> None:
    code = main(["train", "--dataset", "moving-mnist", "--mnist", str(data_dir / "mnist"), "--runs-dir", str(tmp_path),
                 "--task", "predict", "--preset", "default", "--epochs", "3", "--name", "steps", "--max-steps", "3",
                 *TINY])
    assert code == 0
    record = RunRecord.load(tmp_path / "steps")
    assert record.status == "stopped_early" and record.epochs_completed == 2 and record.config["max_steps"] == 3
    assert "step budget of 3 steps reached in epoch 2/3 after 1 of 2 batches" in record.notes[-1]


@pytest.mark.parametrize(("extra", "message"), [
    (["--max-steps", "0"], "argument --max-steps: must be a whole number from 1"),
    (["--resume", "mm", "--max-steps", "5"], "--max-steps sets a new run's step budget"),
])
def test_train_refuses_a_step_budget_that_is_not_a_whole_number_or_on_a_resume(extra, message, capsys) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["train", "--runs-dir", "r", *(["--dataset", "moving-mnist", "--mnist", "m", "--task", "predict"]
                                            if "--resume" not in extra else []), *extra])
    assert caught.value.code == 2 and message in capsys.readouterr().err


def test_train_refuses_a_budget_that_is_not_a_positive_number(capsys) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["train", "--dataset", "moving-mnist", "--mnist", "m", "--runs-dir", "r", "--task", "predict",
              "--max-minutes", "0"])
    assert caught.value.code == 2 and "argument --max-minutes: must be a number more than 0 and at most 525,600, not 0" in \
        capsys.readouterr().err
