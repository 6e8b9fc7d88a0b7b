"""``framewatch predict``: a run's model rolled out over a video, per-step metrics, side-by-side exports."""

from __future__ import annotations

import json
from pathlib import Path

import imageio.v2 as imageio
import numpy as np
import pytest

from core.cli.main import main
from core.models import build_model, make_spec
from core.models.files import save_model
from core.render.side_by_side import compose
from core.runs import RunRecord
from core.video.open import open_video
from tests.core.inference.test_rollout import tiny_predictor
from tests.video_factory import write_video

SIZE = 16


def make_run(project: Path, name: str = "r1", task: str = "predict", preset: str = "default") -> Path:
    """A run folder as training leaves it: ``run.json`` and ``best.keras`` (a tiny model, uint8 frames)."""
    run_dir = project / "runs" / name
    run_dir.mkdir(parents=True)
    if task == "predict":
        model = tiny_predictor(preset, input_dtype="uint8")
        spec = make_spec("predict", preset, frames=19, height=SIZE, width=SIZE, input_dtype="uint8")
    else:
        spec = make_spec("anomaly", "conv-ae", frames=4, height=SIZE, width=SIZE, encoder=((2, 3, 2),),
                         recurrent=(2,))
        model = build_model(spec, compile=False)
    save_model(model, run_dir / "best.keras")
    preprocess = {"height": SIZE, "width": SIZE, "grayscale": True, "interpolation": "area", "subtract_mean": False}
    RunRecord(run_id=name, task=task, preset=preset, spec=spec.to_dict(), config={},
              data={"preprocess": preprocess}, status="completed").save(run_dir)
    return run_dir


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, Path]:
    project = tmp_path / "proj"
    make_run(project)
    return project, write_video(tmp_path / "v.avi", 20, fps=10)


def test_predict_prints_per_step_metrics_and_writes_a_gif(setup, tmp_path: Path, capsys) -> None:
    project, video = setup
    out = tmp_path / "side.gif"
    code = main(["predict", str(project), "--run", "r1", "--video", str(video), "--start", "2", "--given", "6",
                 "--future", "4", "-o", str(out), "--error", "--json"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["rollout"].startswith("carried state")
    assert [s["frame"] for s in summary["steps"]] == [8, 9, 10, 11]
    assert all(0 <= s["mse"] <= 1 and -1 <= s["ssim"] <= 1 for s in summary["steps"])
    gif = imageio.mimread(out)
    assert len(gif) == 4
    assert gif[0].shape[1] > 3 * 128  # three panels, each enlarged to at least 128 pixels
    # the metrics are those of the rollout against the video's own frames
    from core.evaluation.frames import frame_mse
    from core.inference.rollout.rollout import reference_rollout
    from core.models.files import load_model_file
    from core.preprocessing import PreprocessSpec
    from core.preprocessing.frames import iter_resized

    with open_video(video) as source:
        frames = np.stack(list(iter_resized(source, PreprocessSpec(height=SIZE, width=SIZE), 2, 12)))
    expected = reference_rollout(load_model_file(project / "runs" / "r1" / "best.keras"), frames[:6], 4)
    np.testing.assert_allclose([s["mse"] for s in summary["steps"]], frame_mse(frames[6:], expected), atol=1e-5)


def test_predict_past_the_end_of_the_video_has_metrics_only_where_real_frames_exist(setup, tmp_path, capsys) -> None:
    project, video = setup
    out = tmp_path / "side.mp4"
    code = main(["predict", str(project), "--run", "r1", "--video", str(video), "--start", "12", "--given", "6",
                 "--future", "5", "-o", str(out)])
    assert code == 0
    text = capsys.readouterr().out
    assert "no real frames for steps 3..5" in text and f"wrote {out}" in text
    with open_video(out) as exported:
        assert exported.frame_count == 5
        assert exported.size[0] > 2 * 128


def test_an_existing_export_is_refused_unless_overwrite(setup, tmp_path: Path, capsys) -> None:
    project, video = setup
    out = tmp_path / "side.gif"
    out.write_bytes(b"mine")
    argv = ["predict", str(project), "--run", "r1", "--video", str(video), "--start", "0", "--given", "4",
            "--future", "2", "-o", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "already exists" in err and str(out) in err and len(err.strip().splitlines()) == 1
    assert out.read_bytes() == b"mine"
    assert main([*argv, "--overwrite"]) == 0
    assert len(imageio.mimread(out)) == 2


@pytest.mark.parametrize("case, expected", [
    (["--start", "15", "--given", "6"], "past the end (the video has 20 frames)"),
    (["--start", "0", "-o", "x.avi"], "unknown export format '.avi'"),
    (["--start", "0", "--run", "nope"], "no training run 'nope'"),
])
def test_bad_requests_exit_2_with_one_line(setup, case: list[str], expected: str, capsys) -> None:
    project, video = setup
    argv = ["predict", str(project), "--run", "r1", "--video", str(video), *case]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert expected in err and len(err.splitlines()) == 1 and err.startswith("framewatch: error:")


def test_a_run_that_is_not_a_next_frame_model_is_refused(tmp_path: Path, capsys) -> None:
    project = tmp_path / "proj"
    make_run(project, "ae", task="anomaly")
    video = write_video(tmp_path / "v.avi", 12, fps=10)
    assert main(["predict", str(project), "--run", "ae", "--video", str(video), "--start", "0"]) == 2
    err = capsys.readouterr().err.strip()
    assert "run 'ae' is a model for the 'anomaly' task, not next-frame prediction" in err
    assert len(err.splitlines()) == 1


def test_compose_labels_and_marks_missing_truth() -> None:
    truth = [np.full((8, 8, 1), 0.25, np.float32), None]
    predicted = [np.full((8, 8, 1), 0.75, np.float32)] * 2
    frames = compose(truth, predicted, error=True)
    assert frames.shape[0] == 2 and frames.dtype == np.uint8 and frames.shape[1] % 2 == 0
    top = 22
    panel = 128
    # truth panel shows the truth, predicted panel the prediction, error panel |0.25 - 0.75|
    assert frames[0, top + 60, 60, 0] == 64 and frames[0, top + 60, panel + 4 + 60, 0] == 191
    assert frames[0, top + 60, 2 * (panel + 4) + 60, 0] == 128
    assert frames[1, top + 60, 60].max() == 0  # no truth: a black panel
    assert frames[0, :top].max() > 0  # the label strip has text


def _evaluation_sequence(mnist: Path, index: int, frames: int, seed: int = 0) -> np.ndarray:
    """Sequence ``index`` of the evaluation stream, rendered here at 64x64 and shrunk to the run's 16x16."""
    import cv2

    from core.data.moving_mnist import mnist_digits, moving_mnist

    digits = mnist_digits(mnist, "validation")
    canvas = moving_mnist(1, frames, 64, 2, seed, digits, first=index, stream=2)[0]
    return np.stack([cv2.resize(f[:, :, 0], (SIZE, SIZE), interpolation=cv2.INTER_AREA)[:, :, None] for f in canvas])


def test_predict_on_a_moving_mnist_sequence_writes_truth_prediction_and_error(data_dir: Path, tmp_path: Path,
                                                                             capsys) -> None:
    run = make_run(tmp_path / "proj")
    mnist = data_dir / "mnist"
    out = tmp_path / "seq.gif"
    code = main(["predict", "--dataset", "moving-mnist", "--mnist", str(mnist), "--run", str(run), "--sequence", "3",
                 "--given", "5", "--future", "4", "-o", str(out), "--error", "--json"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["dataset"], summary["sequence"], summary["seed"]) == ("moving-mnist", 3, 0)
    assert [s["frame"] for s in summary["steps"]] == [5, 6, 7, 8]
    sequence = _evaluation_sequence(mnist, 3, 9)
    from core.evaluation.frames import frame_mse
    from core.inference.rollout.rollout import reference_rollout
    from core.models.files import load_model_file

    expected = reference_rollout(load_model_file(run / "best.keras"), sequence[:5], 4)
    np.testing.assert_allclose([s["mse"] for s in summary["steps"]], frame_mse(sequence[5:], expected), atol=1e-5)
    gif = imageio.mimread(out)
    assert len(gif) == 4
    scale = 128 // SIZE  # each 16x16 panel enlarged to 128 pixels; three panels with 4-pixel gaps under a label strip
    assert gif[0].shape[:2] == (22 + 128, 3 * 128 + 2 * 4)
    for k, frame in enumerate(gif):
        panels = [frame[22:, x:x + 128, 0].astype(int) for x in (0, 132, 264)]
        truth = np.kron(sequence[5 + k, :, :, 0], np.ones((scale, scale), np.uint8)).astype(int)
        guess = np.kron(np.rint(expected[k, :, :, 0] * 255), np.ones((scale, scale))).astype(int)
        assert np.abs(panels[0] - truth).max() <= 8  # GIF palettes may shift a gray a little
        assert np.abs(panels[1] - guess).max() <= 8
        assert np.abs(panels[2] - np.abs(truth - guess)).max() <= 9
    # another sequence, other frames; the text output names the sequence
    assert main(["predict", "--dataset", "moving-mnist", "--mnist", str(mnist), "--run", str(run), "--sequence", "4",
                 "--given", "5", "--future", "4"]) == 0
    assert "of moving-mnist:validation:seed 0:sequence 4" in capsys.readouterr().out


@pytest.mark.parametrize("case, expected", [
    (["--run", "r"], "PROJECT is required (or, without a project, --dataset moving-mnist --mnist PATH)"),
    (["--run", "r", "--dataset", "moving-mnist"], "--dataset moving-mnist needs --mnist"),
    (["p", "--run", "r", "--video", "v", "--start", "0", "--sequence", "2"], "--sequence predicts without a project"),
    (["p", "--run", "r", "--video", "v"], "PROJECT needs --start"),
    (["--run", "r", "--dataset", "moving-mnist", "--mnist", "m", "--video", "v"], "--video: not used with --dataset"),
    (["--run", "r", "--dataset", "moving-mnist", "--mnist", "m", "--sequence", "-1"], "argument --sequence"),
])
def test_dataset_usage_errors_exit_2(case: list[str], expected: str, capsys) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["predict", *case])
    assert caught.value.code == 2 and expected in capsys.readouterr().err


def test_dataset_bad_inputs_are_one_line_errors(data_dir: Path, tmp_path: Path, capsys) -> None:
    run = make_run(tmp_path / "proj")
    missing = tmp_path / "no-mnist.gz"
    assert main(["predict", "--dataset", "moving-mnist", "--mnist", str(missing), "--run", str(run)]) == 2
    err = capsys.readouterr().err
    assert str(missing) in err and err.count("\n") == 1
    other = make_run(tmp_path / "proj", "a1", task="anomaly")
    assert main(["predict", "--dataset", "moving-mnist", "--mnist", str(data_dir / "mnist"), "--run", str(other)]) == 2
    assert "is a model for the 'anomaly' task" in capsys.readouterr().err
