"""The error chart (the "Error chart" dock): one video's per-frame error, the threshold, events, ground truth.

The chart draws a :class:`~core.inference.anomaly.flagging_session.FlaggingSession` it does not own the state of:
the curve is the session's smoothed error e(t) (smoothed as the threshold smooths it, the series events
are flagged on, so the threshold line means exactly what it flags; sr(t) = 1 - sa(t) is normalised over
the whole video and moves while frames arrive, so a line drawn on it could not keep its meaning during live
scoring). It redraws what each :class:`~core.inference.anomaly.flagging_session.SessionChange` names.

* :meth:`ErrorChart.append` grows the curve while a scoring job runs; :meth:`set_scores` shows a
  whole series at once (cached scores). Both hand the frames to the session, which flags only the tail.
* The threshold line starts at the calibrated value and can be dragged: each move sets the session's
  threshold by hand (:meth:`~core.inference.anomaly.flagging_session.FlaggingSession.move_threshold`), which
  re-flags the events at once; the chart emits ``threshold_changed(float)`` and ``events_changed(list)``
  and draws events as red bands.
* Ground-truth anomaly intervals are shaded green, and with ground truth of both kinds among the frames
  scored the session's frame-level ROC AUC of the curve is shown.
* A cursor line follows :meth:`set_position`; a click on the plot emits ``seek_requested(frame)``.
* A new video (:meth:`clear`) shows its whole length again: the x range a zoom left is not kept.

The curve uses pyqtgraph's peak downsampling and clip-to-view, so 100k frames stay smooth.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from core.inference.anomaly.events import Event
from core.inference.anomaly.flagging_session import Flagging, FlaggingSession, SessionChange
from core.inference.anomaly.regularity import Threshold

CURVE_PEN = pg.mkPen((90, 200, 255), width=1)
THRESHOLD_PEN = pg.mkPen((255, 200, 0), width=2)
THRESHOLD_HOVER_PEN = pg.mkPen((255, 230, 120), width=3)
CURSOR_PEN = pg.mkPen((255, 255, 255), width=1)
EVENT_BRUSH = pg.mkBrush(230, 50, 50, 70)
TRUTH_BRUSH = pg.mkBrush(60, 200, 90, 45)


class ErrorChart(QWidget):
    """A live chart of one video's error with a draggable threshold, drawing a flagging session (module doc)."""

    seek_requested = Signal(int)
    threshold_changed = Signal(float)
    events_changed = Signal(list)

    def __init__(self, parent: QWidget | None = None, session: FlaggingSession | None = None) -> None:
        super().__init__(parent)
        self.session = session if session is not None else FlaggingSession()
        self._truth_items: list[pg.LinearRegionItem] = []
        self._x = np.zeros(0, np.float64)  # frame numbers of the curve, grown by doubling

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
        stop_listening = self.session.subscribe(self._on_session)
        self.destroyed.connect(lambda *_: stop_listening())
        self._on_session(SessionChange(series_from=0, events=True, flagging=True, truth=True, video=True))

    # -- what is shown (the session's) -------------------------------------------------------------------
    @property
    def video_id(self) -> str:
        return self.session.video_id

    @property
    def min_run(self) -> int:
        return self.session.min_run

    @property
    def merge_gap(self) -> int:
        return self.session.merge_gap

    @property
    def frames(self) -> int:
        """Frames scored so far (the curve's length)."""
        return self.session.frames

    @property
    def errors(self) -> np.ndarray:
        """The raw per-frame errors shown, float32 ``(frames,)`` (a copy)."""
        return self.session.errors

    @property
    def threshold(self) -> float | None:
        """The threshold now, in error units (``None`` until one is set)."""
        threshold = self.session.threshold
        return None if threshold is None else threshold.value

    @property
    def current_threshold(self) -> Threshold | None:
        """The threshold flagged with now, smoothing included; a dragged one is of kind ``"manual"``."""
        return self.session.threshold

    @property
    def events(self) -> list[Event]:
        """The events flagged at the threshold now, in frame order."""
        return self.session.events

    @property
    def auc(self) -> float | None:
        """Frame-level ROC AUC of the curve against the ground truth (``None`` without both kinds of frame)."""
        return self.session.auc

    @property
    def position(self) -> int:
        return int(round(self.cursor.value()))

    def smoothed(self) -> np.ndarray:
        """The curve's values: the errors smoothed as the threshold smooths them (float64; do not modify)."""
        return self.session.smoothed

    # -- feeding it (each call changes the session, which the chart then draws) -----------------------------
    def clear(self, video_id: str = "") -> None:
        """Forget the scores, events and ground truth; the chart then shows video ``video_id``."""
        self.session.clear(video_id)

    def set_error_unit(self, relative: bool) -> None:
        """The y axis says whether errors are squared errors or multiples of the run's normal error level."""
        self.plot.setLabel("left", "error (x normal)" if relative else "error")

    def set_flagging(self, threshold: Threshold | None, min_run: int = 1, merge_gap: int = 0) -> None:
        """Flag with ``threshold`` (its value and smoothing), ``min_run`` and ``merge_gap``; the line moves there."""
        self.session.set_flagging(None if threshold is None else Flagging(threshold, min_run, merge_gap))

    def set_scores(self, errors: Any, threshold: Threshold | None = None, ground_truth: Iterable[Any] | None = None,
                   video_id: str | None = None) -> None:
        """Show a whole series of errors (one per frame, frame ``t`` at index ``t``) at once.

        ``threshold`` replaces the one flagged with (``None`` keeps it); ``ground_truth`` is the video's
        anomaly intervals (``(start, end)`` pairs or interval entities; ``None`` keeps them).
        """
        if video_id is not None and video_id != self.session.video_id:
            self.session.clear(video_id)
        if ground_truth is not None:
            self.session.set_ground_truth(ground_truth)
        if threshold is not None:
            self.session.set_threshold(threshold)
        self.session.set_errors(errors)

    def append(self, first_frame: int, values: Any) -> None:
        """Add the errors of frames ``first_frame ..`` (a scoring job's latest frames) and redraw."""
        self.session.append(first_frame, values)

    def set_ground_truth(self, intervals: Iterable[Any]) -> None:
        """Shade these anomaly intervals (``(start, end)`` pairs or interval entities) and measure the AUC."""
        self.session.set_ground_truth(intervals)

    def set_threshold(self, value: float) -> None:
        """Move the threshold line to ``value`` (error units): events are re-flagged as for a drag."""
        if self.session.threshold is None:
            raise ValueError("the chart has no calibrated threshold yet: call set_flagging first")
        self.session.move_threshold(float(value))

    def set_position(self, frame: int) -> None:
        """Put the cursor on ``frame`` (the player's frame)."""
        self.cursor.setValue(int(frame))

    # -- drawing the session ---------------------------------------------------------------------------
    def _on_session(self, change: SessionChange) -> None:
        if change.video:
            self.plot.getPlotItem().enableAutoRange(x=True, y=True)  # a new video: its whole length
        if change.truth:
            self._draw_truth()
        if change.series_from is not None:
            self._draw_curve()
        if change.flagging:
            self._draw_line()
        if change.events or change.flagging or change.series_from is not None:
            self._draw_events()
        if change.events:
            self.events_changed.emit(self.session.events)
        self._update_summary()

    def _draw_curve(self) -> None:
        values = self.session.smoothed
        n = values.size
        if n > self._x.size:
            self._x = np.arange(max(n, 2 * self._x.size, 256), dtype=np.float64)
        if n:
            self.curve.setData(self._x[:n], values)
        else:
            self.curve.setData([], [])

    def _draw_truth(self) -> None:
        for item in self._truth_items:
            self.plot.removeItem(item)
        self._truth_items = []
        for start, end in self.session.ground_truth:
            item = pg.LinearRegionItem((start, end), movable=False, brush=TRUTH_BRUSH, pen=pg.mkPen(None))
            item.setZValue(-20)
            self.plot.addItem(item, ignoreBounds=True)
            self._truth_items.append(item)

    def _draw_line(self) -> None:
        threshold = self.session.threshold
        self.threshold_line.setVisible(threshold is not None)
        if threshold is None:
            return
        self.threshold_line.blockSignals(True)
        self.threshold_line.setValue(threshold.value)
        self.threshold_line.blockSignals(False)
        self.threshold_changed.emit(threshold.value)

    def _on_threshold_dragged(self, *_: Any) -> None:
        if self.session.threshold is None:
            return
        self.session.move_threshold(float(self.threshold_line.value()))

    def _draw_events(self) -> None:
        events = self.session.events
        values = self.session.smoothed
        low = min(float(values.min()), 0.0) if values.size else 0.0
        high = max(float(values.max()) if values.size else 1.0, self.threshold or 0.0)
        high += 0.05 * (high - low or 1.0)
        count = len(events)
        self.event_bands.setOpts(x0=np.array([e.start for e in events], np.float64),
                                 x1=np.array([e.end for e in events], np.float64),
                                 y0=np.full(count, low), y1=np.full(count, high))

    def _update_summary(self) -> None:
        session = self.session
        parts = [f"{session.frames} frames scored"]
        if session.threshold is not None:
            count = len(session.events)
            parts.append(f"threshold {session.threshold.value:.6g}")
            parts.append(f"{count} event{'s' if count != 1 else ''}")
        if session.auc is not None:
            parts.append(f"AUC {session.auc:.3f}")
        self.summary.setText(" · ".join(parts))

    def _on_click(self, event: Any) -> None:
        if event.button() != Qt.MouseButton.LeftButton or self.frames == 0:
            return
        view = self.plot.getPlotItem().vb
        if not view.sceneBoundingRect().contains(event.scenePos()):
            return
        x = view.mapSceneToView(event.scenePos()).x()
        self.seek_requested.emit(int(min(max(round(x), 0), self.frames - 1)))
