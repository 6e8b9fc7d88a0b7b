"""The regularity chart: one video's per-frame scores, the threshold, flagged events and ground truth.

The curve is the frame error e(t) smoothed as the calibrated threshold smooths it
(:meth:`~core.inference.regularity.Threshold.smooth`): the series events are flagged on, so the threshold
line means exactly what it flags. (sr(t) = 1 - sa(t) is normalised over the whole video and moves while
frames arrive; a line drawn on it could not keep its meaning during live scoring.)

* :meth:`RegularityChart.append` grows the curve while a scoring job runs; :meth:`set_scores` shows a
  whole series at once (cached scores).
* The threshold line starts at the calibrated value and can be dragged: each move re-flags the events at
  once with :func:`core.inference.events.flag_events` (``min_run``, ``merge_gap``) and emits
  ``threshold_changed(float)`` and ``events_changed(list)``; events are drawn as red bands.
* Ground-truth anomaly intervals are shaded green, and with ground truth of both kinds among the frames
  scored the frame-level ROC AUC of the curve (:func:`core.evaluation.roc.roc_auc`) is shown.
* A cursor line follows :meth:`set_position`; a click on the plot emits ``seek_requested(frame)``.

The curve uses pyqtgraph's peak downsampling and clip-to-view, so 100k frames stay smooth.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from core.evaluation.inputs import as_intervals
from core.evaluation.intervals import labels_from_intervals
from core.evaluation.roc import roc_auc
from core.inference.events import Event, flag_events
from core.inference.regularity import Threshold

CURVE_PEN = pg.mkPen((90, 200, 255), width=1)
THRESHOLD_PEN = pg.mkPen((255, 200, 0), width=2)
THRESHOLD_HOVER_PEN = pg.mkPen((255, 230, 120), width=3)
CURSOR_PEN = pg.mkPen((255, 255, 255), width=1)
EVENT_BRUSH = pg.mkBrush(230, 50, 50, 70)
TRUTH_BRUSH = pg.mkBrush(60, 200, 90, 45)


class RegularityChart(QWidget):
    """A live chart of one video's scores with a draggable threshold (see the module doc)."""

    seek_requested = Signal(int)
    threshold_changed = Signal(float)
    events_changed = Signal(list)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.video_id = ""
        self.min_run = 1
        self.merge_gap = 0
        self._threshold: Threshold | None = None
        self._errors = np.zeros(0, np.float32)  # the raw errors; frames not yet scored are not stored
        self._frames = 0
        self._truth: list[tuple[int, int]] = []
        self._events: list[Event] = []
        self._truth_items: list[pg.LinearRegionItem] = []
        self._auc: float | None = None
        self._version = 0  # bumped whenever the errors change
        self._smoothed = np.zeros(0)
        self._smoothed_key: tuple | None = None

        self.plot = pg.PlotWidget()
        self.plot.setMenuEnabled(False)
        self.plot.setLabel("bottom", "frame")
        self.plot.setLabel("left", "error")
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        # the plot item hands its own downsampling and clipping modes to the curves added to it
        self.plot.getPlotItem().setDownsampling(auto=True, mode="peak")
        self.plot.getPlotItem().setClipToView(True)
        self.curve = pg.PlotDataItem(pen=CURVE_PEN)
        self.curve.setSkipFiniteCheck(True)
        self.plot.addItem(self.curve)
        # every event band is one rectangle of a single item: thousands of events cost one draw
        self.event_bands = pg.BarGraphItem(x0=[], x1=[], y0=[], y1=[], brush=EVENT_BRUSH, pen=pg.mkPen(None))
        self.event_bands.setZValue(-10)
        self.plot.addItem(self.event_bands, ignoreBounds=True)
        self.threshold_line = pg.InfiniteLine(angle=0, movable=True, pen=THRESHOLD_PEN, hoverPen=THRESHOLD_HOVER_PEN)
        self.threshold_line.setZValue(10)
        self.threshold_line.setVisible(False)
        self.threshold_line.sigPositionChanged.connect(self._on_threshold_dragged)
        self.plot.addItem(self.threshold_line, ignoreBounds=True)
        self.cursor = pg.InfiniteLine(angle=90, movable=False, pen=CURSOR_PEN)
        self.cursor.setZValue(11)
        self.plot.addItem(self.cursor, ignoreBounds=True)
        self.plot.scene().sigMouseClicked.connect(self._on_click)

        self.summary = QLabel()
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.summary)
        layout.addWidget(self.plot, 1)
        self._update_summary()

    # -- what is shown ------------------------------------------------------------------------------
    @property
    def frames(self) -> int:
        """Frames scored so far (the curve's length)."""
        return self._frames

    @property
    def errors(self) -> np.ndarray:
        """The raw per-frame errors shown, float32 ``(frames,)`` (a copy)."""
        return self._errors[:self._frames].copy()

    @property
    def threshold(self) -> float | None:
        """The threshold now, in error units (``None`` until one is set)."""
        return None if self._threshold is None else self._threshold.value

    @property
    def current_threshold(self) -> Threshold | None:
        """The threshold flagged with now, smoothing included; a dragged one is of kind ``"manual"``."""
        return self._threshold

    @property
    def events(self) -> list[Event]:
        """The events flagged at the threshold now, in frame order."""
        return list(self._events)

    @property
    def auc(self) -> float | None:
        """Frame-level ROC AUC of the curve against the ground truth (``None`` without both kinds of frame)."""
        return self._auc

    @property
    def position(self) -> int:
        return int(round(self.cursor.value()))

    def smoothed(self) -> np.ndarray:
        """The curve's values: the errors smoothed as the threshold smooths them (float64; do not modify).

        Kept until the errors or the smoothing change: a threshold move only re-flags."""
        smoothing = None if self._threshold is None else (self._threshold.window, self._threshold.smoothing)
        key = (self._version, smoothing)
        if self._smoothed_key != key:
            errors = self._errors[:self._frames]
            self._smoothed = self._threshold.smooth(errors) if self._threshold is not None else errors.astype(np.float64)
            self._smoothed_key = key
        return self._smoothed

    # -- feeding it -------------------------------------------------------------------------------
    def clear(self, video_id: str = "") -> None:
        """Forget the scores, events and ground truth; the chart then shows video ``video_id``."""
        self.video_id = video_id
        self._errors = np.zeros(0, np.float32)
        self._frames = 0
        self._version += 1
        self._truth = []
        self._refresh()

    def set_error_unit(self, relative: bool) -> None:
        """The y axis says whether errors are squared errors or multiples of the run's normal error level."""
        self.plot.setLabel("left", "error (x normal)" if relative else "error")

    def set_flagging(self, threshold: Threshold | None, min_run: int = 1, merge_gap: int = 0) -> None:
        """Flag with ``threshold`` (its value and smoothing), ``min_run`` and ``merge_gap``; the line moves there."""
        self.min_run, self.merge_gap = int(min_run), int(merge_gap)
        self._threshold = threshold
        self.threshold_line.setVisible(threshold is not None)
        if threshold is not None:
            self._move_line(threshold.value)
        self._refresh()

    def set_scores(self, errors: Any, threshold: Threshold | None = None, ground_truth: Iterable[Any] | None = None,
                   video_id: str | None = None) -> None:
        """Show a whole series of errors (one per frame, frame ``t`` at index ``t``) at once.

        ``threshold`` replaces the one flagged with (``None`` keeps it); ``ground_truth`` is the video's
        anomaly intervals (``(start, end)`` pairs or interval entities; ``None`` keeps them).
        """
        values = np.asarray(errors, np.float32).reshape(-1)
        if video_id is not None:
            self.video_id = video_id
        self._errors = values.copy()
        self._frames = values.shape[0]
        self._version += 1
        if ground_truth is not None:
            self._set_truth(ground_truth)
        if threshold is not None:
            self.set_flagging(threshold, self.min_run, self.merge_gap)
        else:
            self._refresh()

    def append(self, first_frame: int, values: Any) -> None:
        """Add the errors of frames ``first_frame ..`` (a scoring job's latest frames) and redraw."""
        values = np.asarray(values, np.float32).reshape(-1)
        end = int(first_frame) + values.shape[0]
        if end > self._errors.shape[0]:  # grow by doubling: appends cost O(1) per frame
            grown = np.zeros(max(end, 2 * self._errors.shape[0], 256), np.float32)
            grown[:self._frames] = self._errors[:self._frames]
            self._errors = grown
        self._errors[int(first_frame):end] = values
        self._frames = max(self._frames, end)
        self._version += 1
        self._refresh()

    def set_ground_truth(self, intervals: Iterable[Any]) -> None:
        """Shade these anomaly intervals (``(start, end)`` pairs or interval entities) and measure the AUC."""
        self._set_truth(intervals)
        self._refresh()

    def set_threshold(self, value: float) -> None:
        """Move the threshold line to ``value`` (error units): events are re-flagged as for a drag."""
        if self._threshold is None:
            raise ValueError("the chart has no calibrated threshold yet: call set_flagging first")
        self._move_line(float(value))

    def set_position(self, frame: int) -> None:
        """Put the cursor on ``frame`` (the player's frame)."""
        self.cursor.setValue(int(frame))

    # -- internals ----------------------------------------------------------------------------------
    def _set_truth(self, intervals: Iterable[Any]) -> None:
        self._truth = as_intervals(intervals, "ground truth")
        for item in self._truth_items:
            self.plot.removeItem(item)
        self._truth_items = []
        for start, end in self._truth:
            item = pg.LinearRegionItem((start, end), movable=False, brush=TRUTH_BRUSH, pen=pg.mkPen(None))
            item.setZValue(-20)
            self.plot.addItem(item, ignoreBounds=True)
            self._truth_items.append(item)

    def _move_line(self, value: float) -> None:
        self.threshold_line.blockSignals(True)
        self.threshold_line.setValue(value)
        self.threshold_line.blockSignals(False)
        self._on_threshold_dragged()

    def _on_threshold_dragged(self, *_: Any) -> None:
        if self._threshold is None:
            return
        value = float(self.threshold_line.value())
        changed = value != self._threshold.value
        if changed:
            self._threshold = dataclasses.replace(self._threshold, value=value, kind="manual")
        self._reflag()
        self._update_summary()
        self.threshold_changed.emit(value)

    def _refresh(self) -> None:
        values = self.smoothed()
        if values.size:
            self.curve.setData(np.arange(values.size, dtype=np.float64), values)
        else:
            self.curve.setData([], [])
        self._auc = self._measure_auc(values)
        self._reflag()
        self._update_summary()

    def _measure_auc(self, values: np.ndarray) -> float | None:
        if not self._truth or values.size == 0:
            return None
        labels = labels_from_intervals(values.size, self._truth)
        if labels.all() or not labels.any():
            return None
        return roc_auc(values, labels)

    def _reflag(self) -> None:
        events: list[Event] = []
        if self._threshold is not None and self._frames:
            events = flag_events(self.smoothed(), self._threshold.value, self.min_run, self.merge_gap, self.video_id)
        changed = events != self._events
        self._events = events
        self._draw_events()
        if changed:
            self.events_changed.emit(list(events))

    def _draw_events(self) -> None:
        values = self.smoothed()
        low = min(float(values.min()), 0.0) if values.size else 0.0
        high = max(float(values.max()) if values.size else 1.0, self.threshold or 0.0)
        high += 0.05 * (high - low or 1.0)
        count = len(self._events)
        self.event_bands.setOpts(x0=np.array([e.start for e in self._events], np.float64),
                                 x1=np.array([e.end for e in self._events], np.float64),
                                 y0=np.full(count, low), y1=np.full(count, high))

    def _update_summary(self) -> None:
        parts = [f"{self._frames} frames scored"]
        if self._threshold is not None:
            parts.append(f"threshold {self._threshold.value:.6g}")
            parts.append(f"{len(self._events)} event{'s' if len(self._events) != 1 else ''}")
        if self._auc is not None:
            parts.append(f"AUC {self._auc:.3f}")
        self.summary.setText(" · ".join(parts))

    def _on_click(self, event: Any) -> None:
        if event.button() != Qt.MouseButton.LeftButton or self._frames == 0:
            return
        view = self.plot.getPlotItem().vb
        if not view.sceneBoundingRect().contains(event.scenePos()):
            return
        x = view.mapSceneToView(event.scenePos()).x()
        self.seek_requested.emit(int(min(max(round(x), 0), self._frames - 1)))
