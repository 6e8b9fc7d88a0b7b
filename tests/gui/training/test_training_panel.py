"""The training panel driven as a user would: a tiny autoencoder (4 filters, 16x16 frames, 4-frame clips,
3 batches an epoch) on a project of two short generated videos."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from core.inference.anomaly.trust import TrustReport
from core.jobs import Progress, Stage
from core.project import Project
from core.runs import RunRecord
from core.training import events as ev
from desktop_app.jobs import error_dialog
from desktop_app.training import TrainingPanel
from tests.video_factory import write_video

RUN_TIMEOUT_MS = 180_000


@pytest.fixture
def project(tmp_path: Path):
    project = Project.create(tmp_path / "proj", name="training")
    for k in range(2):  # two videos: a block of each one's time is held out for validation
        project.add_video(write_video(tmp_path / f"walk{k}.avi", 40 + 4 * k))
    project.save()
    yield project
    project.close()


@pytest.fixture
def panel(qtbot, project) -> TrainingPanel:
    panel = TrainingPanel(detect=False)
    qtbot.addWidget(panel)
    panel.resize(1100, 800)
    panel.show()
    panel.set_project(project)
    return panel


def tiny(panel: TrainingPanel, epochs: int = 2, lr: str = "", preset: str = "conv-ae") -> None:
    form = panel.form
    form.task.setCurrentText("anomaly")
    form.preset.setCurrentIndex(form.preset.findData(preset))
    form.filters.setText("4,4,4")
    form.frame_height.setValue(16)
    form.frame_width.setValue(16)
    form.frames.setValue(4)
    form.epochs.setValue(epochs)
    form.steps.setValue(3)
    form.batch_size.setValue(4)
    form.learning_rate.setText(lr)


def click(qtbot, button) -> None:
    assert button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


class ModalAnswerer:
    """Answers the next modal message boxes (blocking dialogs) with ``buttons`` in turn, recording their texts."""

    def __init__(self, *buttons: QMessageBox.StandardButton) -> None:
        self.buttons = list(buttons)
        self.texts: list[str] = []
        self.timer = QTimer()
        self.timer.setInterval(50)
        self.timer.timeout.connect(self._poll)
        self.timer.start()

    def _poll(self) -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox) and self.buttons:
            self.texts.append(box.text())
            box.button(self.buttons.pop(0)).click()


def test_training_streams_events_into_the_curve_and_progress_then_lists_the_run(qtbot, panel, project) -> None:
    tiny(panel, epochs=2)
    curve_lengths: list[int] = []
    panel.event_received.connect(
        lambda e: curve_lengths.append(len(panel.curves.loss_x)) if isinstance(e, ev.BatchEnded) else None)
    with qtbot.waitSignal(panel.run_started, timeout=RUN_TIMEOUT_MS):
        click(qtbot, panel.start_button)
        assert panel.is_training and not panel.start_button.isEnabled() and panel.cancel_button.isEnabled()
    with qtbot.waitSignal(panel.run_ended, timeout=RUN_TIMEOUT_MS) as ended:
        pass
    run_dir, status = ended.args
    assert status == "completed" and error_dialog.shown == []
    # the curve grew batch by batch while the run trained: one point per batch, 3 batches x 2 epochs
    assert curve_lengths == [1, 2, 3, 4, 5, 6]
    assert len(panel.curves.val_y) == 2  # a validation loss per epoch (on the held-out time)
    assert panel.progress.value() == 1000 and "completed after 2 epochs" in panel.status.text()
    row = panel.runs.row_of(run_dir)
    cells = [panel.runs.item(row, c).text() for c in range(panel.runs.columnCount())]
    assert cells[0] == run_dir.name and cells[1] == "anomaly/conv-ae" and cells[2] == "completed"
    assert cells[3] == "2/2" and cells[4].startswith("val_loss ") and "CPU" in cells[6]
    record = RunRecord.load(run_dir)
    assert record.spec["recurrent"] == [4, 4, 4] and record.spec["height"] == 16
    assert record.config["reserve_cores"] == 1  # a core is left to the GUI
    assert [r.status for r in project.runs.values()] == ["completed"]
    # "score this run" hands the run to whoever scores
    assert panel.runs.selected_run() == run_dir
    with qtbot.waitSignal(panel.score_requested) as scored:
        click(qtbot, panel.score_button)
    assert scored.args == [run_dir]


def test_cancel_keeps_the_run_resumable_and_resume_continues_it(qtbot, panel) -> None:
    tiny(panel, epochs=50)
    with qtbot.waitSignal(panel.event_received, timeout=RUN_TIMEOUT_MS,
                          check_params_cb=lambda e: isinstance(e, ev.EpochEnded)):
        click(qtbot, panel.start_button)
    with qtbot.waitSignal(panel.run_ended, timeout=RUN_TIMEOUT_MS) as ended:
        click(qtbot, panel.cancel_button)
    run_dir, status = ended.args
    assert status == "cancelled" and error_dialog.shown == []  # cancelling is not an error
    assert "resume" in panel.status.text() and panel.start_button.isEnabled()
    done = RunRecord.load(run_dir).epochs_completed
    assert done >= 1 and panel.runs.status_of(run_dir) == "cancelled"

    assert panel.runs.selected_run() == run_dir and panel.resume_button.isEnabled()
    panel.resume_epochs.setValue(done + 1)
    with qtbot.waitSignal(panel.run_ended, timeout=RUN_TIMEOUT_MS) as ended:
        click(qtbot, panel.resume_button)
        assert len(panel.curves.val_y) == done  # the run's past epochs are drawn first
    assert ended.args == [run_dir, "completed"]
    record = RunRecord.load(run_dir)
    assert record.epochs_completed == done + 1 and [h["epoch"] for h in record.history] == list(range(done + 1))
    assert len(panel.curves.val_y) == done + 1 and panel.runs.status_of(run_dir) == "completed"


def test_a_bad_option_is_a_dialog_and_starts_nothing(qtbot, panel, project) -> None:
    tiny(panel, lr="fast")
    click(qtbot, panel.start_button)
    assert panel.worker is None
    assert [e.text for e in error_dialog.shown] == ["Learning rate: 'fast' is not a number (e.g. 0.001, or empty for "
                                                    "the preset's)"]
    # a value out of range: refused by the request on the spot, in the command's words, and nothing starts
    tiny(panel)
    panel.form.frames.setValue(1)
    click(qtbot, panel.start_button)
    assert panel.worker is None and not project.runs and not any(project.runs_dir.iterdir())
    assert error_dialog.shown[-1].text == "frames per clip must be a whole number from 2 to 1000, not 1"
    assert panel.status.text() == "not started: frames per clip must be a whole number from 2 to 1000, not 1"
    assert panel.start_button.isEnabled() and panel.form.isEnabled()


@pytest.mark.parametrize(("fill", "field", "value"), [
    (lambda form: form.learning_rate.setText("nan"), "learning_rate", float("nan")),
    (lambda form: form.learning_rate.setText("-0.01"), "learning_rate", -0.01),
    (lambda form: form.frames.setValue(1), "frames", 1),
    (lambda form: form.frame_height.setValue(4), "height", 4),
    (lambda form: form.filters.setText("0,4"), "filters", (0, 4)),
])
def test_the_form_says_what_the_request_and_the_command_say(qtbot, panel, fill, field, value) -> None:
    from core.training.errors import ConfigError
    from core.training.request import TrainingRequest

    with pytest.raises(ConfigError) as caught:
        TrainingRequest("anomaly", **{field: value})
    tiny(panel)
    fill(panel.form)
    click(qtbot, panel.start_button)
    assert panel.worker is None
    assert [e.text for e in error_dialog.shown] == [str(caught.value)]
    assert panel.status.text() == f"not started: {caught.value}"


def test_resume_checks_the_form_by_the_same_request_rules(qtbot, panel, project) -> None:
    tiny(panel, epochs=1)
    with qtbot.waitSignal(panel.run_ended, timeout=RUN_TIMEOUT_MS):
        click(qtbot, panel.start_button)
    panel.resume_epochs.setValue(2)
    panel.form.learning_rate.setText("nan")
    click(qtbot, panel.resume_button)
    assert panel.worker is not None and panel.worker.is_done  # the first run's: no new job
    assert error_dialog.shown[-1].text == "learning rate must be a positive number, not nan"
    assert panel.status.text() == "not started: learning rate must be a positive number, not nan"


def test_a_nan_loss_ends_in_a_dialog_that_one_click_dismisses(qtbot, panel, monkeypatch) -> None:
    monkeypatch.setattr(error_dialog, "DIALOGS_BLOCK", True)  # a real modal box, as users get it
    tiny(panel, epochs=2, lr="1e30")
    answerer = ModalAnswerer(QMessageBox.StandardButton.Ok)
    with qtbot.waitSignal(panel.run_ended, timeout=RUN_TIMEOUT_MS) as ended:
        click(qtbot, panel.start_button)
    qtbot.waitUntil(lambda: not answerer.buttons, timeout=10_000)
    run_dir, status = ended.args
    assert status == "failed"
    assert len(answerer.texts) == 1 and "became nan" in answerer.texts[0] and "lower learning rate" in answerer.texts[0]
    assert QApplication.activeModalWidget() is None and panel.start_button.isEnabled()
    assert panel.runs.status_of(run_dir) == "failed"


def test_out_of_memory_is_a_dialog(qtbot, panel, monkeypatch) -> None:
    from core.training import memory

    monkeypatch.setattr(memory, "host_available", lambda: 1000)  # 1 kB
    tiny(panel)
    click(qtbot, panel.start_button)
    qtbot.waitUntil(lambda: not panel.is_training, timeout=RUN_TIMEOUT_MS)
    assert panel.last_status == "failed"
    assert "not enough memory to train even one clip of 4x16x16x1" in error_dialog.shown[-1].text


def fake_run(project: Project, name: str, status: str = "completed") -> Path:
    """A run folder with a record (as ``framewatch train`` leaves one), listed in the project."""
    run_dir = project.runs_dir / name
    run_dir.mkdir(parents=True)
    from core.models import make_spec

    RunRecord(run_id=name, task="anomaly", preset="conv-ae", spec=make_spec("anomaly", "conv-ae").to_dict(),
              config={"epochs": 3}, status=status,
              epochs_completed=3, best_value=0.125, duration_s=75.0,
              device={"summary": "tensorflow on CPU, 1 threads"}).save(run_dir)
    (run_dir / "best.keras").write_bytes(b"model")
    project.add_run(name, "anomaly", config={"run_dir": str(run_dir)}, status=status)
    return run_dir


def test_delete_run_asks_first_with_a_blocking_question(qtbot, panel, project) -> None:
    run_dir = fake_run(project, "old")
    panel.refresh_runs()
    assert [panel.runs.item(0, c).text() for c in range(7)] == [
        "old", "anomaly/conv-ae", "completed", "3/3", "val_loss 0.125", "1 min 15 s", "tensorflow on CPU, 1 threads"]
    panel.runs.select_run(run_dir)
    answerer = ModalAnswerer(QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes)
    click(qtbot, panel.delete_button)  # "No": nothing is deleted
    assert run_dir.is_dir() and panel.runs.rowCount() == 1
    with qtbot.waitSignal(panel.runs_changed):
        click(qtbot, panel.delete_button)  # "Yes"
    assert len(answerer.texts) == 2 and "Delete the run old" in answerer.texts[1]
    assert not run_dir.exists() and panel.runs.rowCount() == 0 and not project.runs
    assert not panel.delete_button.isEnabled()


def test_devices_are_detected_off_the_gui_thread_and_set_the_defaults(qtbot) -> None:
    panel = TrainingPanel()
    qtbot.addWidget(panel)
    qtbot.waitUntil(lambda: "tensorflow on" in panel.form.device_text.text(), timeout=RUN_TIMEOUT_MS)
    import os

    assert panel.form.threads.value() == max(1, (os.cpu_count() or 1) - 1)
    assert panel.form.mixed_precision.isEnabled() == panel.form.gpu
    assert not panel.start_button.isEnabled()  # no project yet


def test_frame_size_and_device_choices_reach_the_request(qtbot, panel) -> None:
    form = panel.form
    form.set_devices("tensorflow on 1 GPU (H200)", True, 3, ("H200",))
    assert [form.device.itemData(i) for i in range(form.device.count())] == ["auto", "cpu", "gpu:0"]
    assert form.device.itemText(2) == "GPU 0: H200" and form.mixed_precision.isEnabled()
    form.mixed_precision.setChecked(True)
    form.device.setCurrentIndex(1)  # the CPU, though a GPU is there: no mixed precision
    assert not form.mixed_precision.isEnabled() and not form.mixed_precision.isChecked()
    form.frame_height.setValue(48)
    request = form.request()
    assert (request.height, request.width, request.device) == (48, 48, "cpu")  # one side set: square
    form.frame_width.setValue(72)
    form.device.setCurrentIndex(2)
    request = form.request()
    assert (request.height, request.width, request.device, form.mixed_precision.isEnabled()) == (48, 72, "gpu:0", True)
    form.frame_height.setValue(0)
    form.frame_width.setValue(0)
    assert (form.request().height, form.request().width) == (None, None)  # the preset's


def test_a_batch_reads_as_its_place_in_the_epoch_under_the_bar_and_on_the_curve(qtbot, panel) -> None:
    from desktop_app.training.panel import progress_text

    last = ev.BatchEnded(done=4, total=12, epoch=0, epochs=3, batch=3, batches=4, loss=0.5)
    assert progress_text(last).startswith("epoch 1/3 · batch 4/4")
    panel.curves.clear()
    panel.curves.add_batch(0, 0, 1, 0.9)  # an epoch of one batch: its point at the epoch's end
    panel.curves.add_batch(1, 0, 1, 0.8)
    assert panel.curves.loss_x == [1.0, 2.0]


def test_model_sees_speed_maps_only_for_classify_and_regress_runs_and_they_are_gray(qtbot, panel) -> None:
    form = panel.form
    form.task.setCurrentText("anomaly")
    assert not form.signal.isEnabled() and form.request().signal == "frames"
    form.task.setCurrentText("classify")
    form.grayscale.setCurrentText("color")
    assert form.signal.isEnabled() and form.request().grayscale is False
    form.signal.setCurrentIndex(form.signal.findData("speed"))
    assert not form.grayscale.isEnabled()
    request = form.request()
    assert (request.signal, request.grayscale) == ("speed", None)  # gray, whatever the Colour box held
    form.task.setCurrentText("predict")  # a task that learns from frames: back to them
    assert form.signal.currentData() == "frames" and form.grayscale.isEnabled() and form.request().signal == "frames"
    # the speed preset is made for speed maps: choosing it chooses them, another preset the frames again
    form.task.setCurrentText("regress")
    form.preset.setCurrentIndex(form.preset.findData("speed"))
    assert form.signal.currentData() == "speed" and form.request().data_options().signal == "speed"
    form.preset.setCurrentIndex(form.preset.findData("default"))
    assert form.signal.currentData() == "frames"


def test_the_frame_size_line_follows_the_footage_the_scale_and_the_boxes(qtbot, panel) -> None:
    form = panel.form
    form.task.setCurrentText("anomaly")
    form.preset.setCurrentIndex(form.preset.findData("future-frame"))
    text = form.frame_size_text.text
    assert text().startswith("Frame size 68x92: the aspect ratio of the training videos, 64x48 (4:3)")  # 64x48 clips
    form.frame_scale.setValue(1.5)
    assert text().startswith("Frame size 100x136") and form.request().scale == 1.5
    form.frame_height.setValue(48)
    assert text().startswith("Frame size 72x72: as given x 1.5")  # one side: square, scaled
    form.frame_scale.setValue(1.0)
    assert form.request().scale is None
    form.task.setCurrentText("classify")
    form.frame_height.setValue(0)
    assert text().startswith("Frame size 64x64: the preset's")


def test_a_gpu_the_backend_does_not_see_ends_in_a_dialog_that_one_click_dismisses(qtbot, panel, monkeypatch,
                                                                                   project) -> None:
    from core.training.devices import list_devices

    if any(d.kind == "GPU" for d in list_devices()):
        pytest.skip("this machine has a GPU")
    monkeypatch.setattr(error_dialog, "DIALOGS_BLOCK", True)
    tiny(panel)
    panel.form.set_devices("tensorflow on 1 GPU (gone)", True, 1, ("gone",))  # seen once, not any more
    panel.form.device.setCurrentIndex(2)
    answerer = ModalAnswerer(QMessageBox.StandardButton.Ok)
    click(qtbot, panel.start_button)
    qtbot.waitUntil(lambda: not answerer.buttons, timeout=RUN_TIMEOUT_MS)
    qtbot.waitUntil(lambda: not panel.is_training, timeout=RUN_TIMEOUT_MS)
    assert len(answerer.texts) == 1 and "device gpu:0: the backend sees no GPU" in answerer.texts[0]
    assert QApplication.activeModalWidget() is None and panel.start_button.isEnabled() and not project.runs


def test_the_gui_stall_benchmark_fills_the_form_the_panel_has(qtbot, panel) -> None:
    from bench.bench_gui_training import set_small_run

    set_small_run(panel.form)  # the benchmark drives these boxes: a renamed one must fail here, not there
    request = panel.form.request()
    assert (request.task, request.preset, request.height, request.width, request.filters) == (
        "anomaly", "conv-ae", 32, 32, (8, 8, 8))


def test_an_anomaly_run_of_the_default_preset_learns_its_error_level_in_the_same_job(qtbot, panel) -> None:
    tiny(panel, epochs=1, preset="future-frame")
    texts: list[str] = []
    show = panel.status.setText
    panel.status.setText = lambda text: (texts.append(text), show(text))
    click(qtbot, panel.start_button)
    with qtbot.waitSignal(panel.run_ended, timeout=RUN_TIMEOUT_MS) as ended:
        pass
    run_dir, status = ended.args
    assert status == "completed" and error_dialog.shown == []
    assert (run_dir / "error_level.keras").is_file() and RunRecord.load(run_dir).data["error_level"]["windows"] > 0
    assert any(text.startswith("error level: epoch") for text in texts)  # its progress, after the run's epochs
    assert "completed after 1 epoch" in panel.status.text() and "error level learned from" in panel.status.text()
    # then how far to trust it, measured on the footage it held out
    trust = TrustReport.from_entry(RunRecord.load(run_dir).data["trust"])
    assert f"\nTrust: {trust.summary()}" in panel.status.text() and "at 95%" in panel.status.text()


def test_read_only_model_folders_score_but_never_resume_and_the_tooltip_says_why(qtbot, panel, project) -> None:
    import shutil

    from core.runs import write_state

    shipped = Path(__file__).resolve().parents[3] / "resources" / "models" / "ped2-future-frame"
    demo = project.runs_dir / "ped2-future-frame"
    shutil.copytree(shipped, demo)  # as the demo project holds the shipped model: model.keras, no checkpoint
    resumable = fake_run(project, "resumable", status="cancelled")
    (resumable / "last.keras").write_bytes(b"model")
    write_state(resumable, {"epoch": 1})
    never = fake_run(project, "never", status="cancelled")  # cancelled before its first epoch ended
    (never / "best.keras").unlink()
    panel.refresh_runs()
    assert panel.runs.item(panel.runs.row_of(demo), 2).text() == "stopped_early (read-only)"

    panel.runs.select_run(demo)
    assert panel.score_button.isEnabled() and not panel.resume_button.isEnabled()
    assert "ped2-future-frame' is a read-only model folder" in panel.resume_button.toolTip()
    with qtbot.waitSignal(panel.score_requested) as scored:
        click(qtbot, panel.score_button)
    assert scored.args == [demo]
    panel.runs.select_run(never)
    assert not panel.resume_button.isEnabled() and not panel.score_button.isEnabled()
    assert "has no checkpoint to resume from" in panel.resume_button.toolTip()
    assert panel.resume_selected() is None and "no checkpoint to resume from" in panel.status.text()
    panel.runs.select_run(resumable)
    assert panel.resume_button.isEnabled() and panel.resume_button.toolTip().startswith("Continue the selected run")


def test_the_status_line_follows_the_stage_of_each_report_not_its_words(qtbot, panel, monkeypatch) -> None:
    from core.errors import Cancelled
    from core.jobs import Stage, report
    from desktop_app.training import panel as panel_module

    def staged_job(project, request, progress=None, cancel=None):
        report(progress, 2, 10, "caching walk0.avi", Stage.PREPARING)
        report(progress, 3, 16, "epoch 1/16", Stage.ERROR_LEVEL)  # no "error level" in its words
        report(progress, 4, 16, "error level: words, not the stage", Stage.PREPARING)
        raise Cancelled("training cancelled")

    monkeypatch.setattr(panel_module, "train_in_background", staged_job)
    texts: list[str] = []
    show = panel.status.setText
    panel.status.setText = lambda text: (texts.append(text), show(text))
    tiny(panel)
    click(qtbot, panel.start_button)
    qtbot.waitUntil(lambda: panel.worker.is_done and len(texts) == 5, timeout=RUN_TIMEOUT_MS)
    assert texts[1:4] == ["preparing data: caching walk0.avi", "error level: epoch 1/16",
                          "preparing data: error level: words, not the stage"]
    assert texts[4].startswith("cancelled") and error_dialog.shown == []


def test_the_bar_leaves_the_data_stage_full_bar_when_the_run_starts(panel, tmp_path) -> None:
    from core.jobs import Stage
    from core.training import events as ev

    panel._on_event(Progress(3, 3, "walk0.avi", Stage.PREPARING))
    assert panel.progress.value() == panel.progress.maximum() == 1000  # the data are ready: 100%
    panel._on_event(ev.RunStarted(0, None, "starting epoch 1/2", run_dir=str(tmp_path / "r"), epochs=2))
    assert panel.progress.maximum() == 0  # busy, not "100%", until the first batch ends
    assert panel.status.text() == "starting epoch 1/2"


def test_the_motion_preset_fits_in_one_job_and_is_listed_scorable_not_resumable(qtbot, panel, project) -> None:
    form = panel.form
    form.task.setCurrentText("anomaly")
    form.preset.setCurrentIndex(form.preset.findData("motion"))
    assert form.preset_text.text().startswith("pairs of gray frames at 0.5 of the video's size")
    texts: list[str] = []
    show = panel.status.setText
    panel.status.setText = lambda text: (texts.append(text), show(text))
    click(qtbot, panel.start_button)
    with qtbot.waitSignal(panel.run_ended, timeout=RUN_TIMEOUT_MS) as ended:
        pass
    run_dir, status = ended.args
    assert status == "completed" and error_dialog.shown == []
    assert (run_dir / "motion.npz").is_file() and RunRecord.load(run_dir).model_path == "motion.npz"
    row = panel.runs.row_of(run_dir)
    assert [panel.runs.item(row, c).text() for c in (1, 2)] == ["anomaly/motion", "completed (read-only)"]
    assert any(text.startswith(Stage.MOTION.label) for text in texts), texts  # the frames read, as their own stage
    panel.runs.select_run(run_dir)
    assert panel.score_button.isEnabled() and not panel.resume_button.isEnabled()
    assert "is a motion run" in panel.resume_button.toolTip()
    assert [r.status for r in project.runs.values()] == ["completed"]


def test_the_data_list_says_what_a_run_holds_out(qtbot, panel) -> None:
    texts = lambda: [panel.form.videos.item(i).text() for i in range(panel.form.videos.count())]  # noqa: E731
    panel.form.task.setCurrentText("anomaly")  # two videos: time inside each is held out, no whole video
    assert texts() and all(text.endswith("(train, 20% of its time held out)") for text in texts())
    panel.form.task.setCurrentText("classify")  # clip tasks hold out whole videos
    assert sorted(text.rsplit("(", 1)[1] for text in texts()) == ["train)", "val)"]
