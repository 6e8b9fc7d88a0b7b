"""A classify or regress run's window labels (or values) over a video, as coloured segments.

:class:`SegmentsView` classifies a video window by window with a run's clip model
(:func:`core.inference.labelling.windows.classify_video`) in a :class:`~desktop_app.jobs.Worker`, shows the
merged segments as coloured bands (:func:`~desktop_app.prediction.segment_bands.segment_bands`) and writes
the annotated copy of the video (:func:`core.render.window_video.write_window_video`) in another worker.
Its public API, for a controller to put the bands on the timeline:

* :meth:`SegmentsView.set_source` ``(run, video_path, class_colors=None)``: a run folder and a video (and
  the project's class colours); a run that gives no result per window shows a message, not an exception.
* :meth:`SegmentsView.classify` ``(stride=None, min_confidence=None, bin_width=None)``,
  :meth:`SegmentsView.export_annotated` ``(path, overwrite=False)``, :meth:`SegmentsView.cancel`,
  :meth:`SegmentsView.clear` ``(message)``.
* Signals: ``segments_ready(VideoWindows)``, ``bands_changed(list[LaneBand])``, ``export_finished(path)``.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path

from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from core.errors import FramewatchError
from core.inference.clip_input import DEFAULT_BATCH_SIZE
from core.inference.labelling.windows import VideoWindows, WindowModel, classify_video, window_model
from core.jobs import ProgressCallback
from core.models.model_cache import ModelCache
from core.render.window_video import write_window_video
from desktop_app.jobs import JobBar, Worker, show_error
from desktop_app.prediction.segment_bands import segment_bands
from desktop_app.state import LaneBand


def _classify_job(models: ModelCache, run: WindowModel, video: Path, stride: int | None,
                  min_confidence: float | None, bin_width: float | None,
                  progress: ProgressCallback, cancel: threading.Event) -> VideoWindows:
    model = run.check_model(models.get(run.model_path))
    return classify_video(model, video, run, stride, min_confidence, bin_width, DEFAULT_BATCH_SIZE,
                          progress=progress, cancel=cancel)


class SegmentStrip(QWidget):
    """The bands across the video's frames, each filled in its colour with its text where it fits."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bands: list[LaneBand] = []
        self.frame_count = 0
        self.setMinimumHeight(28)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(480, 32)

    def set_bands(self, bands: list[LaneBand], frame_count: int) -> None:
        self.bands, self.frame_count = list(bands), frame_count
        self.setToolTip("\n".join(f"[{b.start}, {b.end})  {b.text}" for b in self.bands))
        self.update()

    def band_rect(self, band: LaneBand) -> QRectF:
        scale = self.width() / max(1, self.frame_count)
        return QRectF(band.start * scale, 0, max(1.0, (band.end - band.start) * scale), self.height())

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#1f2329"))
        for band in self.bands:
            rect = self.band_rect(band)
            p.fillRect(rect, QColor(band.color))
            if p.fontMetrics().horizontalAdvance(band.text) + 6 <= rect.width():
                p.setPen(QColor("#111111"))
                p.drawText(rect, Qt.AlignmentFlag.AlignCenter, band.text)
        p.end()


class SegmentsView(QWidget):
    """Classify a video with a classify/regress run and show its segments as bands (module doc)."""

    segments_ready = Signal(object)  # VideoWindows
    bands_changed = Signal(list)  # list[LaneBand]
    export_finished = Signal(object)  # Path

    def __init__(self, parent: QWidget | None = None, models: ModelCache | None = None) -> None:
        super().__init__(parent)
        self.models = models or ModelCache()
        self.run: WindowModel | None = None
        self.video: Path | None = None
        self.class_colors: Mapping[str, str] | None = None
        self.result: VideoWindows | None = None
        self.bands: list[LaneBand] = []
        self.worker: Worker | None = None
        self.export_worker: Worker | None = None

        self.message = QLabel("Choose a classify or regress run and a video.")
        self.message.setWordWrap(True)
        self.strip = SegmentStrip()
        self.classify_button = QPushButton("Classify")
        self.classify_button.setEnabled(False)
        self.export_button = QPushButton("Export annotated video...")
        self.export_button.setEnabled(False)
        self.jobs = JobBar()
        self.progress, self.cancel_button = self.jobs.progress, self.jobs.cancel_button
        buttons = QHBoxLayout()
        buttons.addWidget(self.classify_button)
        buttons.addWidget(self.export_button)
        buttons.addWidget(self.jobs, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addWidget(self.strip)
        layout.addLayout(buttons)
        self.classify_button.clicked.connect(lambda: self.classify())
        self.export_button.clicked.connect(self._ask_export)

    # -- public API ---------------------------------------------------------------------------------
    def set_source(self, run: str | Path, video_path: str | Path,
                   class_colors: Mapping[str, str] | None = None) -> bool:
        """Use run ``run`` (its folder) on ``video_path``; False, with the reason shown, for an unusable run."""
        self.cancel()
        self.video, self.class_colors = Path(video_path), class_colors
        self._show(None)
        try:
            self.run = window_model(Path(run).parent, Path(run))
        except FramewatchError as exc:
            self.run = None
            self.message.setText(f"No segments: {exc}")
            self.classify_button.setEnabled(False)
            return False
        self.message.setText(f"{self.run.run_id}: a {self.run.spec.task} run, windows of {self.run.spec.frames} "
                             f"frames. Press Classify to label {self.video.name}.")
        self.classify_button.setEnabled(True)
        return True

    def clear(self, message: str) -> None:
        """No run: cancel the jobs, drop the segments and show ``message``."""
        self.cancel()
        self.run = None
        self._show(None)
        self.message.setText(message)
        self.classify_button.setEnabled(False)

    def classify(self, stride: int | None = None, min_confidence: float | None = None,
                 bin_width: float | None = None) -> Worker | None:
        """Classify the video's windows in a worker (cancelling a running classification)."""
        if self.run is None or self.video is None:
            return None
        previous = self.worker
        if previous is not None:
            previous.cancel()
        worker = Worker(_classify_job, self.models, self.run, self.video, stride, min_confidence, bin_width,
                        name="classify")
        worker.finished.connect(lambda result, w=worker: self._on_result(w, result))
        worker.error.connect(lambda exc, w=worker: self._on_error(w, exc))
        self.worker = self.jobs.track(worker, replaces=previous)
        self.message.setText(f"Classifying {self.video.name} with {self.run.run_id}...")
        return worker.start()

    def export_annotated(self, path: str | Path, overwrite: bool = False) -> Worker | None:
        """Write the annotated copy of the classified video to ``path`` (``.mp4``) in a worker."""
        if self.result is None or self.video is None:
            return None
        worker = Worker(write_window_video, self.video, Path(path), self.result.windows, overwrite,
                        name="export annotated video")
        worker.finished.connect(self.export_finished.emit)
        worker.error.connect(lambda exc, w=worker: self._on_error(w, exc))
        self.export_worker = self.jobs.track(worker)
        return worker.start()

    def cancel(self) -> None:
        """Cancel the running classification and export, if any."""
        self.jobs.cancel()

    # -- internals ------------------------------------------------------------------------------------
    def _show(self, result: VideoWindows | None) -> None:
        self.result = result
        if result is None:
            self.bands = []
            self.strip.set_bands([], 0)
        else:
            names = self.run.class_names if self.run is not None else ()
            self.bands = segment_bands(result.segments, names, self.class_colors)
            self.strip.set_bands(self.bands, result.frames)
        self.export_button.setEnabled(result is not None)

    def _on_result(self, worker: Worker, result: VideoWindows) -> None:
        if worker is not self.worker:
            return
        self.worker = None
        self._show(result)
        self.message.setText(f"{result.path.name}: {len(result.segments)} segments from {len(result.windows)} "
                             f"windows of {self.run.spec.frames if self.run else '?'} frames.")
        self.segments_ready.emit(result)
        self.bands_changed.emit(list(self.bands))

    def _on_error(self, worker: Worker, exc: BaseException) -> None:
        if worker is self.worker:
            self.worker = None
            self.message.setText("Classification cancelled." if worker.cancelled else "Classification failed.")
        elif worker is not self.export_worker:
            return  # a replaced classification
        show_error(self, exc, "Segments")  # shows nothing for Cancelled

    def _ask_export(self) -> None:
        name = self.video.stem if self.video else "video"
        path, _ = QFileDialog.getSaveFileName(self, "Export annotated video", f"{name}.annotated.mp4",
                                              "MP4 video (*.mp4)")
        if path:
            self.export_annotated(path, overwrite=True)  # the file dialog has asked before replacing a file
