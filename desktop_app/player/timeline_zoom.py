"""The timeline's zoom slider and scroll bar: one thin row under the timeline, kept in step with it.

The slider is logarithmic: its left end shows the whole video, its right end the closest zoom
(:data:`~desktop_app.player.timeline.MAX_PX_PER_FRAME` pixels per frame); moving it zooms around the
playhead. The scroll bar moves a zoomed view; it counts frames.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QSignalBlocker, Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QScrollBar, QSlider, QWidget

from desktop_app.player.timeline import TimelineWidget

SLIDER_STEPS = 1000


class TimelineZoomBar(QWidget):
    """Scroll bar and zoom slider bound to ``timeline``."""

    def __init__(self, timeline: TimelineWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.timeline = timeline
        self.scroll = QScrollBar(Qt.Orientation.Horizontal, self)
        self.scroll.setObjectName("timelineScroll")
        self.scroll.setToolTip("Scroll the zoomed timeline (or the mouse wheel over it)")
        self.scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        self.slider.setObjectName("timelineZoom")
        self.slider.setRange(0, SLIDER_STEPS)
        self.slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.slider.setToolTip("Timeline zoom (Ctrl+wheel over the timeline, + and - keys)")
        self.slider.setFixedWidth(120)
        self.zoom_label = QLabel("1x", self)
        self.zoom_label.setObjectName("timelineZoomLabel")
        self.zoom_label.setMinimumWidth(40)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(TimelineWidget.MARGIN + TimelineWidget.LABEL_W, 0, TimelineWidget.MARGIN, 0)
        layout.setSpacing(6)
        layout.addWidget(self.scroll, 1)
        layout.addWidget(QLabel("Zoom", self))
        layout.addWidget(self.slider)
        layout.addWidget(self.zoom_label)
        self.scroll.valueChanged.connect(lambda v: timeline.set_view(v, timeline.view_frames))
        self.slider.valueChanged.connect(self._on_slider)
        timeline.view_changed.connect(self.sync)
        self.sync()

    def _on_slider(self, value: int) -> None:
        t = self.timeline
        t.set_zoom(math.exp(math.log(t.max_zoom()) * value / SLIDER_STEPS), t.position + 0.5)

    def sync(self) -> None:
        """Show the timeline's view (called when it changes)."""
        t = self.timeline
        n = max(1, t.frame_count)
        visible = max(1, round(t.view_frames))
        with QSignalBlocker(self.scroll):
            self.scroll.setRange(0, max(0, n - visible))
            self.scroll.setPageStep(visible)
            self.scroll.setSingleStep(max(1, visible // 10))
            self.scroll.setValue(round(t.view_start))
        self.scroll.setEnabled(t.is_zoomed)
        top = math.log(t.max_zoom())
        with QSignalBlocker(self.slider):
            self.slider.setValue(round(SLIDER_STEPS * math.log(t.zoom) / top) if top > 0 else 0)
        self.slider.setEnabled(t.frame_count > 0 and top > 0)
        self.zoom_label.setText(f"{t.zoom:.3g}x")
