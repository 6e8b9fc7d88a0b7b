"""The flagging bar above the error chart: threshold, minimum run and merge gap, kept for the run.

The bar draws and edits a :class:`~core.inference.anomaly.flagging_session.FlaggingSession` (:meth:`FlaggingBar.follow`),
the one the chart draws, so the threshold box follows the chart's threshold line both ways (a drag moves
the number, a typed number moves the line). ``Min run`` is the number of consecutive frames above the threshold an event needs, and
``Merge gap`` the number of normal frames two events may be apart and still count as one: both re-flag the
chart at once. What the bar shows is not stored until **Keep** is pressed: then every video the run has
scored is flagged again with these values and the run's ``events.json`` replaced
(:func:`~core.inference.anomaly.project_scoring.reflag_project`, a job the bar's owner runs); **Revert** goes back
to what is stored (:meth:`~core.inference.anomaly.flagging_session.FlaggingSession.revert`). The bar says which of
the two the chart shows ("kept" or "not kept": the session's stored vs current flagging).

Signals: ``threshold_edited(float)`` when the analyst types a threshold, ``flagging_edited(int, int)`` for
a new min run or merge gap, ``keep_requested()`` and ``revert_requested()`` (a followed session hears the
edits and Revert itself).
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QWidget,
)

from core.inference.anomaly.flagging_session import FlaggingSession, SessionChange
from core.inference.anomaly.regularity import Threshold
from desktop_app.common.fit_label import FitLabel

MAX_FRAMES = 1_000_000


class FlaggingBar(QWidget):
    """Threshold, min run and merge gap of the chart, with Keep and Revert (see the module doc)."""

    threshold_edited = Signal(float)
    flagging_edited = Signal(int, int)
    keep_requested = Signal()
    revert_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.threshold_box = QDoubleSpinBox()
        self.threshold_box.setObjectName("thresholdBox")
        self.threshold_box.setDecimals(7)
        self.threshold_box.setRange(0.0, 1e9)
        self.threshold_box.setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
        self.threshold_box.setKeyboardTracking(False)  # one re-flag per typed number, not per digit
        self.threshold_box.setToolTip("Frames whose (smoothed) error is above this are flagged; drag the red line "
                                      "on the chart or type a value")
        self.min_run_box = QSpinBox()
        self.min_run_box.setObjectName("minRunBox")
        self.min_run_box.setRange(1, MAX_FRAMES)
        self.min_run_box.setToolTip("An event needs this many consecutive frames above the threshold")
        self.merge_gap_box = QSpinBox()
        self.merge_gap_box.setObjectName("mergeGapBox")
        self.merge_gap_box.setRange(0, MAX_FRAMES)
        self.merge_gap_box.setToolTip("Events at most this many normal frames apart are merged into one")
        for box in (self.min_run_box, self.merge_gap_box):
            box.setKeyboardTracking(False)
            box.setMaximumWidth(70)
        self.threshold_box.setMaximumWidth(110)
        self.origin = FitLabel()  # elided: the bar never widens the window
        self.keep_button = QPushButton("Keep")
        self.keep_button.setToolTip("Flag every video this run has scored with these values and save the events "
                                    "with the run")
        self.revert_button = QPushButton("Revert")
        self.revert_button.setToolTip("Go back to the threshold and flagging kept with the run")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for text, widget in (("Threshold", self.threshold_box), ("Min run", self.min_run_box),
                             ("Merge gap", self.merge_gap_box)):
            label = QLabel(text)
            label.setBuddy(widget)
            layout.addWidget(label)
            layout.addWidget(widget)
        layout.addWidget(self.origin, 1)
        layout.addWidget(self.revert_button)
        layout.addWidget(self.keep_button)

        self.threshold_box.valueChanged.connect(lambda value: self.threshold_edited.emit(float(value)))
        self.min_run_box.valueChanged.connect(self._emit_flagging)
        self.merge_gap_box.valueChanged.connect(self._emit_flagging)
        self.keep_button.clicked.connect(self.keep_requested)
        self.revert_button.clicked.connect(self.revert_requested)
        self.show_values(None)

    def follow(self, session: FlaggingSession) -> None:
        """Show ``session``'s flagging from now on, and set its threshold (by hand), min run and merge gap
        when the analyst edits them; Revert reverts it."""
        def show(change: SessionChange) -> None:
            if change.flagging:
                self.show_values(session.threshold, session.min_run, session.merge_gap, kept=session.kept)

        def typed(value: float) -> None:
            if session.threshold is not None:
                session.move_threshold(value)

        def edited(min_run: int, merge_gap: int) -> None:
            if session.threshold is not None:
                session.set_run_and_gap(min_run, merge_gap)

        stop = session.subscribe(show)
        self.destroyed.connect(lambda *_: stop())
        self.threshold_edited.connect(typed)
        self.flagging_edited.connect(edited)
        self.revert_requested.connect(session.revert)
        show(SessionChange(flagging=True))

    @property
    def min_run(self) -> int:
        return self.min_run_box.value()

    @property
    def merge_gap(self) -> int:
        return self.merge_gap_box.value()

    def show_values(self, threshold: Threshold | None, min_run: int | None = None, merge_gap: int | None = None,
                    kept: bool = True) -> None:
        """Show these values without emitting anything (``None`` keeps a box as it is); ``threshold``
        ``None`` disables the threshold box until scores and a threshold exist. ``kept``: whether they are
        the values stored with the run (Keep and Revert are enabled when not)."""
        self.threshold_box.setEnabled(threshold is not None)
        boxes = [(self.threshold_box, None if threshold is None else threshold.value),
                 (self.min_run_box, min_run), (self.merge_gap_box, merge_gap)]
        for box, value in boxes:
            if value is not None:
                box.blockSignals(True)
                box.setValue(value)
                box.blockSignals(False)
        if threshold is None:
            origin = "no threshold yet: score the video"
        elif threshold.kind == "manual":
            origin = "set by hand"
        elif threshold.kind == "rate":
            origin = f"calibrated: about {threshold.rate:g} false alarms a minute"  # the rest is in the tooltip
        else:
            origin = "calibrated"  # the percentile and the smoothing are in the tooltip
        if threshold is not None:
            origin += " · kept" if kept else " · not kept"
        self.origin.setText(origin)
        self.origin.setToolTip(f"Threshold {threshold.describe()}" if threshold is not None else "")
        self.keep_button.setEnabled(threshold is not None and not kept)
        self.revert_button.setEnabled(threshold is not None and not kept)

    def _emit_flagging(self, *_: int) -> None:
        self.flagging_edited.emit(self.min_run, self.merge_gap)
