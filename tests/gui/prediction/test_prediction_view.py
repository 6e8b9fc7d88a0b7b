"""The predicted-frames view driven as a user would: a next-frame run over a tiny video, its three panes,
following the player, stepping across the predicted frames and exporting the strip."""

from __future__ import annotations

from pathlib import Path

import imageio.v2 as imageio
import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from core.inference.rollout.rollout import rollout
from core.models.files import load_model_file
from core.preprocessing import PreprocessSpec
from core.preprocessing.frames import iter_resized
from core.video.open import open_video
from desktop_app.jobs import error_dialog
from desktop_app.prediction import PredictionView, error_heatmap
from tests.core.cli.test_predict_commands import make_run
from tests.gui.prediction.conftest import SIZE, VIDEO_FRAMES

WAIT_MS = 120_000  # a first rollout loads TensorFlow and traces the step: generous, never asserted on


def _pixels(image) -> np.ndarray:
    """A QImage (RGB888 or gray) as an ``(H, W, 3)`` uint8 array."""
    from PySide6.QtGui import QImage

    image = image.convertToFormat(QImage.Format.Format_RGB888)
    data = np.frombuffer(image.constBits(), np.uint8, image.sizeInBytes())
    return data.reshape(image.height(), image.bytesPerLine())[:, :image.width() * 3].reshape(
        image.height(), image.width(), 3).copy()


def _real_frames(video: Path, start: int, stop: int) -> np.ndarray:
    with open_video(video) as source:
        return np.stack(list(iter_resized(source, PreprocessSpec(height=SIZE, width=SIZE), start, stop)))


@pytest.fixture
def view(qtbot) -> PredictionView:
    widget = PredictionView()
    qtbot.addWidget(widget)
    widget.resize(720, 360)
    widget.show()
    widget.set_given(4)
    widget.set_future(3)
    yield widget
    widget.cancel()
    qtbot.waitUntil(lambda: widget.worker is None or widget.worker.is_done, timeout=WAIT_MS)


def _show(qtbot, view: PredictionView, run: Path, video: Path, start: int):
    with qtbot.waitSignal(view.rollout_finished, timeout=WAIT_MS) as finished:
        assert view.set_source(run, video, start)
    return finished.args[0]


def test_the_three_panes_fill_and_the_error_pane_is_the_absolute_difference(
        qtbot, view, predict_run_dir, video) -> None:
    result = _show(qtbot, view, predict_run_dir, video, 2)
    real = _real_frames(video, 2, 9)
    # the prediction is the rollout of the run's model from the 4 given frames
    model = load_model_file(predict_run_dir / "best.keras")
    np.testing.assert_allclose(result.predicted, rollout(model, real[:4], 3), atol=1e-5)
    assert result.predicted.shape == (3, SIZE, SIZE, 1) and result.first_future == 6
    for pane in (view.truth_pane, view.predicted_pane, view.error_pane):
        assert (pane.image.width(), pane.image.height()) == (SIZE, SIZE)
    truth = real[4] / np.float32(255)
    np.testing.assert_allclose(view.truth_frame(), truth[..., :1], atol=1e-6)
    np.testing.assert_allclose(view.error_frame(), np.abs(truth - result.predicted[0]), atol=1e-6)
    # the truth pane shows the real frame; the error pane is the heat map of that difference
    assert np.array_equal(_pixels(view.truth_pane.image)[..., 0], real[4][..., 0])
    scale = float(result.errors().max())
    assert np.array_equal(_pixels(view.error_pane.image), error_heatmap(view.error_frame(), scale))
    hottest = np.unravel_index(np.argmax(view.error_frame()[..., 0]), (SIZE, SIZE))
    heat = _pixels(view.error_pane.image).astype(int).sum(axis=2)
    assert heat[hottest] == heat.max()
    assert view.error_pane.caption == "|error|" and view.truth_pane.caption == "truth 6"


def test_the_stepper_walks_across_the_predicted_frames(qtbot, view, predict_run_dir, video) -> None:
    result = _show(qtbot, view, predict_run_dir, video, 0)
    real = _real_frames(video, 4, 7)
    with qtbot.waitSignal(view.step_changed) as step:
        qtbot.mouseClick(view.next_button, Qt.MouseButton.LeftButton)
    assert step.args == [1] and view.step == 1 and view.truth_pane.caption == "truth 5"
    np.testing.assert_allclose(view.predicted_frame(), result.predicted[1])
    np.testing.assert_allclose(view.truth_frame(), real[1] / np.float32(255), atol=1e-6)
    view.slider.setFocus()
    qtbot.keyClick(view.slider, Qt.Key.Key_End)
    assert view.step == 2 and view.step_label.text() == "+3/3  frame 6"
    qtbot.mouseClick(view.next_button, Qt.MouseButton.LeftButton)  # past the last step: stays
    assert view.step == 2
    qtbot.mouseClick(view.previous_button, Qt.MouseButton.LeftButton)
    assert view.step == 1


def test_moving_the_position_cancels_the_running_rollout_and_starts_a_new_one(
        qtbot, view, predict_run_dir, video) -> None:
    started: list[int] = []
    view.rollout_started.connect(started.append)
    shown: list[int] = []
    view.rollout_finished.connect(lambda result: shown.append(result.start))
    view.set_source(predict_run_dir, video, 0)
    old = view.worker
    assert old is not None and not old.is_done and started == [0]
    # the player moves three times before the debounce runs out: one new rollout, from the last position
    for frame in (3, 4, 5):
        view.set_position(frame)
    assert old.cancel_event.is_set()
    with qtbot.waitSignal(view.rollout_finished, timeout=WAIT_MS) as finished:
        pass
    assert finished.args[0].start == 5 and started == [0, 5] and shown == [5]
    qtbot.waitUntil(lambda: old.is_done, timeout=WAIT_MS)
    assert view.result.start == 5 and view.truth_pane.caption == "truth 9"
    assert view.models.loads == 1  # the model is loaded once and kept for the next rollout
    assert error_dialog.shown == []  # a cancelled rollout is not an error


def test_a_position_too_near_the_end_says_so_without_a_job(qtbot, view, predict_run_dir, video) -> None:
    _show(qtbot, view, predict_run_dir, video, 0)
    view.set_position(VIDEO_FRAMES - 2)
    view.refresh()  # what the debounce timer calls
    assert view.worker is None
    assert "fewer than 4 frames left" in view.message.text() and "clip.avi" in view.message.text()


def test_steps_past_the_end_of_the_video_have_no_truth_and_no_error(qtbot, view, predict_run_dir, video) -> None:
    result = _show(qtbot, view, predict_run_dir, video, VIDEO_FRAMES - 5)
    assert len(result.truth) == 1
    view.set_step(2)
    assert view.truth_pane.image is None and view.error_pane.image is None
    assert view.predicted_pane.image is not None and "past the end" in view.truth_pane.placeholder


def test_a_run_that_is_not_a_next_frame_model_gets_a_message(qtbot, view, project, video) -> None:
    run = make_run(project, "ae", task="anomaly")
    assert not view.set_source(run, video, 0)
    assert "is a model for the 'anomaly' task, not next-frame prediction" in view.message.text()
    assert view.worker is None and view.predicted_pane.image is None and not view.export_button.isEnabled()
    assert error_dialog.shown == []


@pytest.mark.parametrize("suffix", [".gif", ".mp4"])
def test_export_writes_the_strip_with_one_frame_per_predicted_frame(
        qtbot, view, predict_run_dir, video, tmp_path, suffix) -> None:
    _show(qtbot, view, predict_run_dir, video, 1)
    assert view.export_button.isEnabled()
    out = tmp_path / f"strip{suffix}"
    with qtbot.waitSignal(view.export_finished, timeout=WAIT_MS) as finished:
        view.export(out)
    assert finished.args == [out]
    if suffix == ".gif":
        frames = imageio.mimread(out)
        assert len(frames) == 3 and frames[0].shape[1] > 3 * 128  # truth, prediction, |error|
    else:
        with open_video(out) as exported:
            assert exported.frame_count == 3


def test_an_existing_export_is_refused_in_a_dialog_that_one_click_dismisses(
        qtbot, view, predict_run_dir, video, tmp_path, answer_dialogs) -> None:
    _show(qtbot, view, predict_run_dir, video, 0)
    out = tmp_path / "strip.gif"
    out.write_bytes(b"mine")
    worker = view.export(out)
    qtbot.waitUntil(lambda: worker.is_done and bool(answer_dialogs()), timeout=WAIT_MS)
    assert "already exists" in answer_dialogs()[0] and out.read_bytes() == b"mine"
    assert not view.cancel_button.isEnabled() and view.isVisible()
    assert QApplication.activeModalWidget() is None  # the one click closed it


def test_a_rollout_that_fails_ends_in_a_dialog(qtbot, view, predict_run_dir, video, answer_dialogs) -> None:
    view.set_source(predict_run_dir, video, VIDEO_FRAMES - 1)  # 4 given frames from the last frame
    qtbot.waitUntil(lambda: bool(answer_dialogs()), timeout=WAIT_MS)
    assert "past the end (the video has 24 frames)" in answer_dialogs()[0]
    assert view.worker is None and view.result is None and "failed" in view.message.text()
    assert QApplication.activeModalWidget() is None


def test_a_moving_mnist_project_video_shows_its_predicted_frames(qtbot, view, tmp_path: Path, data_dir: Path) -> None:
    """A test video of `project import-moving-mnist` in the dock: its frames are the held-out sequence's."""
    import cv2

    from core.data.moving_mnist import mnist_digits, moving_mnist
    from core.project import Project
    from core.project.importers.moving_mnist import import_moving_mnist

    folder = tmp_path / "mm"
    project = Project.create(folder)
    import_moving_mnist(project, data_dir / "mnist", 3, seed=2, frames=8)
    project.save()
    run = make_run(folder, "next")
    test_video = next(v for v in Project.open(folder, read_only=True).videos.values() if v.split == "test")
    result = _show(qtbot, view, run, test_video.path, 0)
    sequence = moving_mnist(1, 8, 64, 2, 2, mnist_digits(data_dir / "mnist", "validation"), first=0, stream=2)[0]
    small = np.stack([cv2.resize(f[:, :, 0], (SIZE, SIZE), interpolation=cv2.INTER_AREA) for f in sequence])
    assert (result.start, result.given, result.future) == (0, 4, 3)
    np.testing.assert_array_equal(np.rint(result.truth[..., 0] * 255).astype(np.uint8), small[4:7])
    expected = rollout(load_model_file(run / "best.keras"), small[:4, :, :, None], 3)
    np.testing.assert_allclose(result.predicted, expected, atol=1e-5)
