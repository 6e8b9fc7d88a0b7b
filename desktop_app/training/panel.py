"""The training panel: options, Start / Cancel, live loss curves, progress, and the project's runs.

:class:`TrainingPanel` is a plain widget with a public API for the controller that places it in the main
window: :meth:`~TrainingPanel.set_project`, :meth:`~TrainingPanel.start`, :meth:`~TrainingPanel.cancel`,
:meth:`~TrainingPanel.resume_selected`, :meth:`~TrainingPanel.score_selected`,
:meth:`~TrainingPanel.delete_selected`, and the signals below. Training runs on a
:class:`~desktop_app.jobs.Worker` (see :mod:`desktop_app.training.job` for why a thread); the panel
reads only the :mod:`core.training.events` the run sends. Every error that ends a job (a bad option,
out of memory, a NaN loss, bad data) is shown with :func:`~desktop_app.jobs.show_error`;
cancelling is not an error, and the run stays resumable.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QThreadPool, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from core.errors import Cancelled
from core.jobs import Progress, Stage
from core.runs import RESUMABLE, RunError, RunListing, delete_run, model_file, resume_refusal
from core.training import events as ev
from core.training.errors import ConfigError
from desktop_app.jobs import Worker, show_error
from desktop_app.training.curves import LossCurves
from desktop_app.training.form import TrainingForm
from desktop_app.training.job import (
    DeviceSummary,
    detect_devices,
    resume_in_background,
    train_in_background,
)
from desktop_app.training.runs_table import RunsTable, format_seconds

#: The Resume button's tooltip when the selected run can be resumed.
RESUME_TIP = ("Continue the selected run from its last finished epoch (to the epoch count beside it, if set); "
              "an anomaly run learns its error level again when it ends")
#: The panel's tabs, in order.
OPTIONS_TAB, CURVES_TAB, RUNS_TAB = range(3)


class OptionsArea(QScrollArea):
    """The training form in a vertical scroll box, its option groups in as many columns as its width
    holds; the form is never cut at the side (labels go above their boxes when a column is narrow)."""

    def __init__(self, form: TrainingForm, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setWidget(form)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

    def minimumSizeHint(self):  # noqa: N802 - Qt override
        hint = super().minimumSizeHint()
        # the form's single column with the scroll bar beside it: nothing is ever cut off at the side
        hint.setWidth(self.widget().minimumSizeHint().width() + self.verticalScrollBar().sizeHint().width()
                      + 2 * self.frameWidth())
        return hint

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        # the columns follow the box's width less a scroll bar's, whether one shows or not, so that the
        # bar coming and going does not change the count
        self.widget().fit_columns(event.size().width() - self.verticalScrollBar().sizeHint().width())
        super().resizeEvent(event)


def fresh_thread() -> QThreadPool:
    """A pool of one new thread for one training run.

    The thread lowers its priority for the backend, so it is not shared with other jobs; and it is not
    reused by the next run: Keras keeps per-thread state that a run stopped by an exception (cancel, a
    NaN loss) can leave behind, and a second run on the same thread then hung or crashed while building
    its data pipeline. A new thread per run starts clean.
    """
    pool = QThreadPool()
    pool.setMaxThreadCount(1)
    return pool


def progress_text(event: ev.TrainingEvent) -> str:
    """``epoch 2/10 · batch 5/40 · 12.5 clips/s · ETA 1 min 05 s``: the line under the progress bar."""
    parts = [f"epoch {event.epoch + 1}/{event.epochs}"]
    if isinstance(event, ev.BatchEnded | ev.EpochEnded):
        if isinstance(event, ev.BatchEnded):
            parts.append(f"batch {event.batch + 1}" + (f"/{event.batches}" if event.batches else ""))
        else:
            loss = f"loss {event.loss:.4g}" + (f", val_loss {event.val_loss:.4g}" if event.val_loss is not None else "")
            parts.append(loss)
        if event.samples_per_s:
            parts.append(f"{event.samples_per_s:.1f} clips/s")
        if event.eta_s is not None:
            parts.append(f"ETA {format_seconds(event.eta_s)}")
    return " · ".join(parts)


def cancelled_text(run_dir: Path | None) -> str:
    """What the status line says when a run was cancelled: whether it can resume, and (an anomaly run that was to
    learn its error level) that the level is learned when the resumed run ends."""
    from core.runs import RunRecord, has_checkpoint
    from core.training.from_project import wants_error_level

    if run_dir is None or not has_checkpoint(run_dir):
        return "cancelled before the first epoch ended: no checkpoint to resume from; start a new run"
    text = "cancelled: resume the run to continue from its last finished epoch"
    try:
        record = RunRecord.load(run_dir)
    except RunError:
        return text
    if wants_error_level(record):
        text += "; its error level is learned again when it ends"
    return text


class TrainingPanel(QWidget):
    """Train a model on the open project, watch it, stop it, resume it; list, score and delete runs.

    Signals: ``run_started(run_dir)``, ``run_ended(run_dir, status)`` (``completed``, ``stopped_early``,
    ``cancelled``, ``failed``), ``event_received(event)`` for every training event,
    ``score_requested(run_dir)`` ("Score this run"), ``runs_changed()`` after a run is deleted, and
    ``job_started(worker)`` as soon as a run's :class:`~desktop_app.jobs.Worker` starts (before its first event).
    """

    job_started = Signal(object)  # Worker
    run_started = Signal(object)
    run_ended = Signal(object, str)
    event_received = Signal(object)
    score_requested = Signal(object)
    runs_changed = Signal()

    def __init__(self, parent: QWidget | None = None, detect: bool = True) -> None:
        super().__init__(parent)
        self.project: Any = None
        self.worker: Worker | None = None
        self._pool: QThreadPool | None = None
        self.run_dir: Path | None = None
        self.last_status = ""
        self.ended_message = ""
        self.events_seen = 0
        #: asks a yes/no question (a blocking message box); tests may answer it
        self.confirm: Callable[[str, str], bool] = self._confirm

        self.form = TrainingForm()
        self.start_button = QPushButton("Start training")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setFormat("")
        self.status = QLabel("no run")
        self.status.setWordWrap(True)
        self.curves = LossCurves()
        self.runs = RunsTable()
        self.resume_epochs = QSpinBox()
        self.resume_epochs.setRange(0, 100000)
        self.resume_epochs.setSpecialValueText("run's own")
        self.resume_epochs.setPrefix("to ")
        self.resume_epochs.setSuffix(" epochs")
        self.resume_button = QPushButton("Resume")
        self.score_button = QPushButton("Score this run")
        self.delete_button = QPushButton("Delete run")
        self._layout()

        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.resume_button.clicked.connect(self.resume_selected)
        self.score_button.clicked.connect(self.score_selected)
        self.delete_button.clicked.connect(self.delete_selected)
        self.runs.selection_changed.connect(lambda _run: self._update_buttons())
        self.form.val_fraction.valueChanged.connect(lambda _v: self._fill_videos())
        self.form.changed.connect(self.show_frame_size)
        self.form.task.currentTextChanged.connect(lambda _t: self._fill_videos())  # shows the frame size too
        self.form.videos.itemChanged.connect(lambda _i: self.show_frame_size())
        self._update_buttons()
        if detect:
            self.detect_devices()

    def _layout(self) -> None:
        """Start / Cancel beside the progress bar, the status line, then three tabs: the options (in as
        many columns as the width holds), the loss curves, and the runs with their buttons. Each tab gets
        the dock's whole width and height, which on a laptop screen is a strip below the video."""
        self.options = OptionsArea(self.form)
        top = QHBoxLayout()
        top.addWidget(self.start_button)
        top.addWidget(self.cancel_button)
        top.addWidget(self.progress, 1)

        run_buttons = QHBoxLayout()
        for widget in (self.resume_epochs, self.resume_button, self.score_button, self.delete_button):
            run_buttons.addWidget(widget)
        run_buttons.addStretch(1)
        runs_page = QWidget()
        runs_layout = QVBoxLayout(runs_page)
        runs_layout.setContentsMargins(0, 2, 0, 0)
        runs_layout.addWidget(self.runs, 1)
        runs_layout.addLayout(run_buttons)

        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.options, "Options")
        self.tabs.addTab(self.curves, "Curves")
        self.tabs.addTab(runs_page, "Runs")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.setSpacing(4)
        layout.addLayout(top)
        layout.addWidget(self.status)
        layout.addWidget(self.tabs, 1)

    # -- project ----------------------------------------------------------------------------------
    def set_project(self, project: Any) -> None:
        """Show ``project``'s videos and runs (``None``: nothing); refused while a run trains on another project."""
        if self.is_training and project is not self.project:
            raise RuntimeError("a run is training on the open project: cancel it first")
        self.project = project
        self._fill_videos()
        self.refresh_runs()

    def refresh_videos(self) -> None:
        """List the project's videos again with the split each trains in (after a split or normal span edit)."""
        if not self.is_training:
            self._fill_videos()

    def _fill_videos(self) -> None:
        if self.project is None:
            self.form.set_videos([])
            return
        from core.data.splits import assign_splits, window_splits
        from core.project.errors import DatasetError

        data = self.project.data
        fraction = self.form.val_fraction.value()
        windows = self.form.task.currentText() in ("predict", "anomaly")  # they hold out normal footage
        try:
            splits = window_splits(data, fraction) if windows else assign_splits(data, fraction)
        except DatasetError as exc:  # subclips of one video in two splits: shown, and training will say so too
            splits = dict.fromkeys(data.videos, f"split problem: {exc}")
        time_held = windows and fraction > 0 and "val" not in splits.values()  # time blocks inside each are held out
        spanned = {span.video_id for span in data.normal_spans.values()} if windows else set()
        for ident, split in splits.items():
            if ident in spanned and split == "val":  # normal spans train whatever the split; the rest is scored
                splits[ident] = "val: its normal spans held out"
            elif ident in spanned and split in ("train", "test"):
                held = f", {fraction:.0%} of their time held out" if time_held else ""
                splits[ident] = f"{split}: its normal spans train{held}, the rest is scored"
            elif time_held and split == "train":
                splits[ident] = f"train, {fraction:.0%} of its time held out"
        self.form.set_videos([(v.id, v.name, splits.get(v.id, "")) for v in data.videos.values()])
        self.show_frame_size()

    def show_frame_size(self) -> None:
        """Under the frame size boxes: the size a new run would train at, and why (the footage's aspect ratio,
        the preset's size, or the boxes'), or what is wrong with the boxes."""
        from core.training.frame_size import request_frame_size

        if self.project is None:
            self.form.frame_size_text.setText("")
            return
        try:
            request = self.form.request()
            size = request_frame_size(self.project.data, request, request.spec())
        except ConfigError as exc:
            self.form.frame_size_text.setText(str(exc))
            return
        note = size.aspect.note() if size.aspect is not None else ""
        self.form.frame_size_text.setText(size.text()[0].upper() + size.text()[1:] + (f" ({note})" if note else ""))

    def refresh_runs(self) -> None:
        self.runs.refresh(self.project.folder if self.project is not None else None)
        self.tabs.setTabText(RUNS_TAB, f"Runs ({self.runs.rowCount()})")
        self._update_buttons()

    # -- state ------------------------------------------------------------------------------------
    @property
    def is_training(self) -> bool:
        return self.worker is not None and not self.worker.is_done

    def _update_buttons(self) -> None:
        training = self.is_training
        self.start_button.setEnabled(not training and self.project is not None)
        self.cancel_button.setEnabled(training)
        self.form.setEnabled(not training)
        listing = self.runs.selected_listing()
        record = listing.record if listing is not None else None
        idle_run = listing is not None and not (training and listing.run_dir == self.run_dir)
        refusal = self._resume_refusal(listing) if not training else ""
        self.resume_button.setEnabled(not training and record is not None and not refusal)
        self.resume_button.setToolTip(refusal or RESUME_TIP)
        self.score_button.setEnabled(idle_run and record is not None and self._has_model(listing))
        self.delete_button.setEnabled(idle_run and listing.status != "running")

    @staticmethod
    def _resume_refusal(listing: RunListing | None) -> str:
        """Why the selected run cannot be resumed (``""``: it can): none selected, a damaged record, a status
        that does not resume, or no checkpoint to continue from (a read-only model folder, no epoch finished)."""
        if listing is None or listing.record is None:
            return "Select a run to resume" if listing is None else f"Cannot resume: {listing.problem}"
        if listing.status not in (*RESUMABLE, "completed", "stopped_early"):
            return f"Cannot resume: the run is {listing.status}"
        refusal = resume_refusal(listing.run_dir, listing.record)
        return f"Cannot resume: {refusal}" if refusal else ""

    @staticmethod
    def _has_model(listing: RunListing) -> bool:
        """The run has a model to score with (:func:`~core.runs.model_file`, the rule scoring itself follows)."""
        try:
            model_file(listing.run_dir, listing.record)
        except RunError:
            return False
        return True

    # -- devices ----------------------------------------------------------------------------------
    def detect_devices(self) -> Worker:
        """Ask the backend what it sees, off the GUI thread; the form's device defaults follow the answer."""
        worker = Worker(detect_devices, progress=False, cancel=False, name="devices")
        worker.finished.connect(self._on_devices)
        worker.error.connect(lambda exc: self.form.device_text.setText(f"cannot list devices: {exc}"))
        return worker.start()

    def _on_devices(self, found: DeviceSummary) -> None:
        self.form.set_devices(found.summary, found.gpu, found.threads, found.gpus)

    # -- training ---------------------------------------------------------------------------------
    def start(self) -> Worker | None:
        """Start a new run with the form's options; a bad option shows a dialog and starts nothing."""
        if self.is_training or self.project is None:
            return None
        try:
            request = self.form.request()
        except ConfigError as exc:  # a value out of range: said in the status line and a dialog
            self._refuse(exc)
            return None
        self.curves.clear()
        return self._run(Worker(train_in_background, self.project, request, name="training"),
                         f"preparing {request.task}/{request.preset}...")

    def resume_selected(self) -> Worker | None:
        """Continue the selected run (to the epoch count in the box, if set); its past curve is drawn first."""
        listing = self.runs.selected_listing()
        if self.is_training or self.project is None or listing is None or listing.record is None:
            return None
        refusal = self._resume_refusal(listing)
        if refusal:  # the button is disabled then; said again for a call from elsewhere
            self.status.setText(refusal)
            return None
        try:
            request = self.form.resume_request(listing.run_dir, self.resume_epochs.value() or None)
        except ConfigError as exc:
            self._refuse(exc)
            return None
        self.curves.show_history(listing.record.history)
        return self._run(Worker(resume_in_background, self.project, request, name="training"),
                         f"resuming {listing.name}...")

    def _refuse(self, exc: ConfigError) -> None:
        """A request the form cannot make: its one line under the progress bar, and in a dialog."""
        self.status.setText(f"not started: {exc}")
        show_error(self, exc, "Training")

    def _run(self, worker: Worker, message: str) -> Worker:
        self.worker = worker
        self.run_dir = None
        self.last_status = ""
        self.events_seen = 0
        self.progress.setValue(0)
        self.progress.setFormat("")
        self.status.setText(message)
        self.tabs.setCurrentIndex(CURVES_TAB)  # the options are locked while it runs: the curves grow
        worker.progress.connect(self._on_event)
        worker.finished.connect(self._on_finished)
        worker.error.connect(self._on_error)
        worker.done.connect(self._on_done)
        self._pool = fresh_thread()  # the previous run's pool (its thread done) is let go
        worker.start(self._pool)
        self._update_buttons()
        self.job_started.emit(worker)
        return worker

    def cancel(self) -> None:
        """Stop the run within one batch; it stays resumable from its last finished epoch."""
        if self.is_training:
            self.worker.cancel()
            self.status.setText("cancelling after this batch...")

    # -- events (GUI thread) ----------------------------------------------------------------------
    def _on_event(self, event: Progress) -> None:
        self.events_seen += 1
        if event.stage is not Stage.TRAINING:  # preparing the data, or (after the run) fitting its error level
            self._show_fraction(event)
            self.status.setText(event.status or f"{event.done:g}")
            return
        if isinstance(event, ev.RunStarted):
            self.run_dir = Path(event.run_dir)
            self.progress.setRange(0, 0)  # busy until the first batch: the data stage's 100% is over
            self.status.setText(event.message)
            self.refresh_runs()
            self.runs.select_run(self.run_dir)
            self.run_started.emit(self.run_dir)
        elif isinstance(event, ev.RunNote):
            self.status.setText(event.message)
        elif isinstance(event, ev.BatchEnded):
            self.curves.add_batch(event.epoch, event.batch, event.batches, event.loss)
            self._show_fraction(event)
            self.status.setText(progress_text(event))
        elif isinstance(event, ev.EpochEnded):
            self.curves.add_epoch(event.epoch, event.val_loss)
            self._show_fraction(event)
            self.status.setText(progress_text(event))
            self.refresh_runs()
        elif isinstance(event, ev.RunEnded):
            self.last_status = event.status
            self.ended_message = event.message
            self.status.setText(event.message)
        self.event_received.emit(event)  # after the panel shows it

    def _show_fraction(self, event: Progress) -> None:
        fraction = event.fraction
        if fraction is None:
            self.progress.setRange(0, 0)  # busy
            return
        self.progress.setRange(0, 1000)
        self.progress.setValue(int(round(fraction * 1000)))
        self.progress.setFormat(f"{fraction:.0%}")

    def _on_finished(self, result: Any) -> None:
        self.last_status = result.status
        self.run_dir = Path(result.run_dir)
        from core.inference.anomaly.trust import trust_report

        text = self.ended_message
        level = result.record.data.get("error_level")
        if isinstance(level, dict):  # fitted after the run ended: say so after the run's own last line
            text += f"; error level learned from {level.get('windows')} windows of held-out normal footage"
        trust = trust_report(result.record)  # an anomaly run measured on its held-out footage
        if trust is not None:
            text += f"\nTrust: {trust.summary()}"
            if trust.warning():
                text += f"\nWarning: {trust.warning()}"
        if text != self.ended_message:
            self.status.setText(text)

    def _on_error(self, exc: BaseException) -> None:
        if isinstance(exc, Cancelled):
            self.last_status = "cancelled"
            self.status.setText(cancelled_text(self.run_dir))
            return
        self.last_status = "failed"
        self.status.setText(f"failed: {exc}")
        show_error(self, exc, "Training")

    def _on_done(self) -> None:
        self.progress.setRange(0, 1000)
        self.refresh_runs()
        if self.run_dir is not None:
            self.runs.select_run(self.run_dir)
            self.run_ended.emit(self.run_dir, self.last_status)

    # -- runs -------------------------------------------------------------------------------------
    def score_selected(self) -> None:
        """Emit ``score_requested`` with the selected run's folder (a run with a model file)."""
        listing = self.runs.selected_listing()
        if listing is not None and listing.record is not None and self._has_model(listing):
            self.score_requested.emit(listing.run_dir)

    def delete_selected(self) -> bool:
        """Delete the selected run's folder and its project entry, after asking; ``True`` if deleted."""
        run_dir = self.runs.selected_run()
        if run_dir is None or (self.is_training and run_dir == self.run_dir):
            return False
        if not self.confirm("Delete run", f"Delete the run {run_dir.name} and its model files?\n{run_dir}"):
            return False
        try:
            delete_run(run_dir)
        except RunError as exc:
            show_error(self, exc, "Delete run")
            return False
        if self.project is not None:
            ids = [r.id for r in self.project.runs.values() if (r.config or {}).get("run_dir") == str(run_dir)]
            if ids:
                self.project.remove_runs(ids)
        self.refresh_runs()
        self.runs_changed.emit()
        return True

    def _confirm(self, title: str, text: str) -> bool:
        answer = QMessageBox.question(self, title, text, QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                      QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes
