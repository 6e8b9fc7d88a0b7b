"""The timeline scrubber: playhead, in/out marks and lanes of coloured bands, with zoom and scrolling.

Lanes of bands sit above the scrub track: by default labelled subclips (in their class colour),
anomaly intervals and flagged events; :meth:`TimelineWidget.set_lanes` adds more (e.g. classified
segments). Bands of one lane that overlap are stacked in sub-rows, so a lane is as tall as the
most bands that overlap in it. Click or drag on the track to scrub; click a band to select it; drag
a subclip or interval by its body to move it or by an edge to change its start or end.

The widget shows the frames ``[view_start, view_start + view_frames)``: Ctrl+wheel zooms around the
mouse, the wheel scrolls a zoomed view, :meth:`zoom_by` zooms around a frame, and at most
:data:`MAX_PX_PER_FRAME` pixels per frame are shown. ``view_changed`` tells a scroll bar or zoom
slider (:class:`~desktop_app.player.timeline_zoom.TimelineZoomBar`). Frame ranges are 0-based with
the end excluded, as in the project.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
    QPixmap,
    QWheelEvent,
)
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from desktop_app.state import SHARED_LANE_KINDS, LaneBand

#: The default lanes, top to bottom: ``(title, kind)``; a band's ``kind`` names its lane.
DEFAULT_LANES = (("Labels", "subclip"), ("Anomalies", "anomaly"), ("Events", "event"))
#: LaneBand kinds the analyst may move and resize by dragging.
EDITABLE_KINDS = ("subclip", "anomaly", "normal")
ANOMALY_COLOR = "#e5484d"
EVENT_COLOR = "#f5a524"
EDGE_GRAB_PX = 5
#: The closest zoom: this many pixels per frame.
MAX_PX_PER_FRAME = 24.0
TICK_STEPS = (1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000)


def lane_kind(band: LaneBand) -> str:
    """The kind of the lane ``band`` is drawn in: its own, or the one :data:`SHARED_LANE_KINDS` names."""
    return SHARED_LANE_KINDS.get(band.kind, band.kind)


def stack_rows(bands: list[LaneBand]) -> tuple[dict[tuple[str, str], int], int]:
    """Sub-rows for the bands of one lane so that no two in a row overlap: ``({(kind, key): row}, rows)``.

    Bands are placed in order of start, each in the first row whose last band has ended by then.
    """
    ends: list[int] = []  # per row: the end of its last band
    rows: dict[tuple[str, str], int] = {}
    for band in sorted(bands, key=lambda b: (b.start, b.end)):
        row = next((r for r, end in enumerate(ends) if end <= band.start), len(ends))
        if row == len(ends):
            ends.append(0)
        ends[row] = band.end
        rows[(band.kind, band.key)] = row
    return rows, max(1, len(ends))


class TimelineWidget(QWidget):
    """Scrubber over ``[0, frame_count)``; see the module docstring."""

    seek_requested = Signal(int)  # a frame to show
    band_selected = Signal(str, str)  # kind, key ("" when the selection is cleared)
    band_edited = Signal(str, str, int, int)  # kind, key, new start, new end (exclusive)
    view_changed = Signal()  # the zoom or the scroll position changed

    LANE_H = 16  # one row of a lane
    TRACK_H = 22
    MARGIN = 8
    LABEL_W = 74

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.frame_count = 0
        self.position = 0
        self.in_point: int | None = None
        self.out_point: int | None = None
        self.bands: list[LaneBand] = []
        self.lanes: list[tuple[str, str]] = list(DEFAULT_LANES)
        self.selected: tuple[str, str] | None = None
        self.view_start = 0.0  # first frame shown (fractional while zoomed)
        self.view_frames = 1.0  # frames across the track
        self._rows: dict[tuple[str, str], int] = {}  # (kind, key) -> sub-row in its lane
        self._lane_rows: dict[str, int] = {}  # kind -> rows
        self._drag: tuple[str, LaneBand, int] | None = None  # mode ("move"/"start"/"end"/"scrub"), band, press frame
        self._preview: LaneBand | None = None
        self._static: QPixmap | None = None  # lanes, bands and ticks; the playhead is drawn over it
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self._restack()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        rows = sum(self._lane_rows.get(kind, 1) for _title, kind in self.lanes)
        return QSize(600, self.MARGIN * 2 + self.LANE_H * rows + self.TRACK_H + 6)

    # -- state ------------------------------------------------------------------------------------
    def set_frame_count(self, count: int) -> None:
        self.frame_count = max(0, int(count))
        self.view_start, self.view_frames = 0.0, float(max(1, self.frame_count))
        self._invalidate()
        self.view_changed.emit()

    def set_position(self, frame: int) -> None:
        """Move the playhead; a zoomed view scrolls to keep it in sight."""
        if frame == self.position:
            return
        self.position = frame
        if self.is_zoomed and not (self.view_start < frame + 1 and frame < self.view_start + self.view_frames):
            self.set_view(frame - self.view_frames * 0.1, self.view_frames)  # it comes in near the left edge
        self.update()

    def set_in_out(self, in_point: int | None, out_point: int | None) -> None:
        self.in_point, self.out_point = in_point, out_point
        self._invalidate()

    def set_lanes(self, lanes: list[tuple[str, str]]) -> None:
        """The lanes to draw, top to bottom: ``(title, kind)``."""
        self.lanes = list(lanes)
        self._restack()

    def set_bands(self, bands: list[LaneBand]) -> None:
        self.bands = list(bands)
        self._preview = None
        self._restack()

    def select(self, kind: str, key: str) -> None:
        self.selected = (kind, key) if key else None
        self._invalidate()

    def lane_rows(self, kind: str) -> int:
        """How many sub-rows the lane of ``kind`` has (the most of its bands that overlap; at least 1)."""
        return self._lane_rows.get(kind, 1)

    def band_row(self, band: LaneBand) -> int:
        return self._rows.get((band.kind, band.key), 0)

    def _restack(self) -> None:
        self._rows.clear()
        self._lane_rows.clear()
        for _title, kind in self.lanes:
            rows, count = stack_rows([b for b in self.bands if lane_kind(b) == kind])
            self._rows.update(rows)
            self._lane_rows[kind] = count
        height = self.sizeHint().height()
        if height != self.minimumHeight():
            self.setMinimumHeight(height)
            self.updateGeometry()
        self._invalidate()

    # -- zoom and scrolling -----------------------------------------------------------------------
    @property
    def zoom(self) -> float:
        """How many times the whole video's width the track shows it at (1: all of it)."""
        return max(1, self.frame_count) / self.view_frames

    @property
    def is_zoomed(self) -> bool:
        return self.view_frames < max(1, self.frame_count) - 1e-6

    def max_zoom(self) -> float:
        """The zoom at which a frame is :data:`MAX_PX_PER_FRAME` pixels wide (at least 1)."""
        return max(1.0, max(1, self.frame_count) * MAX_PX_PER_FRAME / self._track_width())

    def set_view(self, start: float, frames: float) -> None:
        """Show frames ``[start, start + frames)``, clamped to the video and to the closest zoom."""
        n = float(max(1, self.frame_count))
        frames = max(n / self.max_zoom(), min(n, float(frames)))
        start = max(0.0, min(n - frames, float(start)))
        if (start, frames) == (self.view_start, self.view_frames):
            return
        self.view_start, self.view_frames = start, frames
        self._invalidate()
        self.view_changed.emit()

    def set_zoom(self, zoom: float, anchor: float | None = None) -> None:
        """Zoom to ``zoom`` keeping frame ``anchor`` (default: the middle of the view) where it is."""
        if anchor is None:
            anchor = self.view_start + self.view_frames / 2
        frames = max(1, self.frame_count) / max(1.0, min(self.max_zoom(), zoom))
        share = (anchor - self.view_start) / self.view_frames  # where the anchor is across the track
        self.set_view(anchor - share * frames, frames)

    def zoom_by(self, factor: float, anchor: float | None = None) -> None:
        self.set_zoom(self.zoom * factor, anchor)

    def zoom_anchor(self) -> float:
        """The frame zoom keys centre on: under the mouse when it is over the track, else the playhead."""
        x = self.mapFromGlobal(self.cursor().pos()).x()
        if self.underMouse() and self._track_left() <= x <= self._track_left() + self._track_width():
            return self.frame_at_float(x)
        return self.position + 0.5

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 - Qt override
        """Ctrl+wheel zooms around the mouse; the wheel (either direction) scrolls a zoomed view."""
        steps = (event.angleDelta().y() or event.angleDelta().x()) / 120.0
        if not self.frame_count or not steps:
            event.ignore()
            return
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.zoom_by(1.25 ** steps, self.frame_at_float(event.position().x()))
        elif self.is_zoomed:
            self.set_view(self.view_start - steps * self.view_frames / 10, self.view_frames)
        else:
            event.ignore()
            return
        event.accept()

    # -- geometry ---------------------------------------------------------------------------------
    def _track_left(self) -> float:
        return float(self.MARGIN + self.LABEL_W)

    def _track_width(self) -> float:
        return max(1.0, self.width() - self._track_left() - self.MARGIN)

    def x_of(self, frame: float) -> float:
        return self._track_left() + self._track_width() * (frame - self.view_start) / self.view_frames

    def frame_at_float(self, x: float) -> float:
        return self.view_start + (x - self._track_left()) / self._track_width() * self.view_frames

    def frame_at(self, x: float) -> int:
        n = max(1, self.frame_count)
        return max(0, min(n - 1, int(self.frame_at_float(x))))

    def _lane_top(self, kind: str) -> float:
        top = float(self.MARGIN)
        for _title, k in self.lanes:
            if k == kind:
                return top
            top += self.LANE_H * self.lane_rows(k)
        raise KeyError(kind)

    def _lane_rect(self, kind: str) -> QRectF:
        """The whole lane of ``kind`` (all its rows) across the track."""
        return QRectF(self._track_left(), self._lane_top(kind), self._track_width(),
                      self.LANE_H * self.lane_rows(kind) - 3)

    def _row_rect(self, kind: str, row: int) -> QRectF:
        return QRectF(self._track_left(), self._lane_top(kind) + row * self.LANE_H, self._track_width(),
                      self.LANE_H - 3)

    def _track_rect(self) -> QRectF:
        top = self.MARGIN + sum(self.lane_rows(k) for _t, k in self.lanes) * self.LANE_H + 2
        return QRectF(self._track_left(), top, self._track_width(), self.TRACK_H)

    def band_rect(self, band: LaneBand) -> QRectF:
        row = self._row_rect(lane_kind(band), self.band_row(band))
        x0, x1 = self.x_of(band.start), self.x_of(band.end)
        return QRectF(x0, row.top(), max(2.0, x1 - x0), row.height())

    def band_at(self, pos: QPointF) -> tuple[LaneBand, str] | None:
        """The band under ``pos`` and the part hit: "start", "end" or "move"."""
        if not self._track_left() <= pos.x() <= self._track_left() + self._track_width():
            return None
        kinds = {k for _t, k in self.lanes}
        for band in reversed(self.bands):
            if lane_kind(band) not in kinds:
                continue
            rect = self.band_rect(band).adjusted(-EDGE_GRAB_PX, 0, EDGE_GRAB_PX, 0)
            if rect.contains(pos):
                inner = self.band_rect(band)
                editable = band.kind in EDITABLE_KINDS
                if editable and abs(pos.x() - inner.left()) <= EDGE_GRAB_PX:
                    return band, "start"
                if editable and abs(pos.x() - inner.right()) <= EDGE_GRAB_PX:
                    return band, "end"
                return band, "move"
        return None

    # -- painting ---------------------------------------------------------------------------------
    def _invalidate(self) -> None:
        self._static = None
        self.update()

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        self._static = None
        super().resizeEvent(event)
        if self.frame_count:
            self.set_view(self.view_start, self.view_frames)  # the closest zoom depends on the width

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt override
        self._static = None  # palette or font changed
        super().changeEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        """Lanes, bands and ticks come from a cached picture (redrawn only when they change), so
        moving the playhead during playback costs one blit and a line, however many bands there are."""
        ratio = self.devicePixelRatioF()
        if self._static is None or self._static.size() != self.size() * ratio:
            self._static = QPixmap(self.size() * ratio)
            self._static.setDevicePixelRatio(ratio)
            painter = QPainter(self._static)
            self._paint_static(painter)
            painter.end()
        p = QPainter(self)
        p.drawPixmap(0, 0, self._static)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        self._paint_playhead(p)
        p.end()

    def _paint_static(self, p: QPainter) -> None:
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        pal = self.palette()
        p.fillRect(self.rect(), pal.window())
        small = QFont(self.font())
        small.setPointSizeF(max(7.0, small.pointSizeF() - 1.5))
        p.setFont(small)
        text_color = pal.text().color()
        dim = QColor(text_color)
        dim.setAlpha(150)
        groove = QColor(text_color)
        groove.setAlpha(22)
        for title, kind in self.lanes:
            lane = self._lane_rect(kind)
            p.setPen(dim)
            p.drawText(
                QRectF(self.MARGIN, lane.top(), self.LABEL_W - 6, self.LANE_H - 3),
                Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                p.fontMetrics().elidedText(title, Qt.TextElideMode.ElideRight, self.LABEL_W - 6),
            )
            p.fillRect(lane, groove)
        track = self._track_rect()
        base = QColor(text_color)
        base.setAlpha(40)
        p.fillRect(track, base)
        # Bands, marks and ticks of a zoomed view stop at the track's ends (the lane titles stay clear).
        p.setClipRect(QRectF(self._track_left(), 0, self._track_width(), self.height()))
        if self.in_point is not None or self.out_point is not None:
            a = self.in_point if self.in_point is not None else 0
            b = self.out_point if self.out_point is not None else self.frame_count
            if b > a:
                sel = QColor(pal.highlight().color())
                sel.setAlpha(90)
                full = QRectF(self.x_of(a), self.MARGIN, self.x_of(b) - self.x_of(a), track.bottom() - self.MARGIN)
                p.fillRect(full, sel)
        self._paint_ticks(p, track, dim)
        bands = [b for b in self.bands if self._preview is None or (b.kind, b.key) != (self._preview.kind,
                                                                                        self._preview.key)]
        if self._preview is not None:
            bands.append(self._preview)
        kinds = {k for _t, k in self.lanes}
        view_end = self.view_start + self.view_frames
        for band in bands:
            if lane_kind(band) not in kinds or band.end <= self.view_start or band.start >= view_end:
                continue
            rect = self.band_rect(band)
            color = QColor(band.color)
            path = QPainterPath()
            path.addRoundedRect(rect, 3, 3)
            p.fillPath(path, color)
            if self.selected == (band.kind, band.key):
                p.setPen(QPen(QColor("white"), 2))
                p.drawPath(path)
            shown = rect.intersected(QRectF(self._track_left(), rect.top(), self._track_width(), rect.height()))
            if band.text and shown.width() > 30:  # the label stays in sight while the band is scrolled
                p.setPen(QColor("white") if color.lightness() < 150 else QColor("black"))
                p.drawText(shown.adjusted(4, 0, -2, 0), Qt.AlignmentFlag.AlignVCenter, band.text)
        for mark, color in ((self.in_point, "#3dd68c"), (self.out_point, "#ff8c42")):
            if mark is not None:
                x = self.x_of(mark)
                p.setPen(QPen(QColor(color), 2))
                p.drawLine(QPointF(x, self.MARGIN), QPointF(x, track.bottom()))
        p.setClipping(False)

    def _paint_playhead(self, p: QPainter) -> None:
        pal = self.palette()
        track = self._track_rect()
        if not self.frame_count:
            return
        px_per_frame = self._track_width() / self.view_frames
        x = self.x_of(self.position + 0.5) if px_per_frame > 1 else self.x_of(self.position)
        if not self._track_left() - 1 <= x <= self._track_left() + self._track_width() + 1:
            return  # scrolled out of the view
        p.setPen(QPen(pal.highlight().color().lighter(130), 2))
        p.drawLine(QPointF(x, self.MARGIN - 4), QPointF(x, track.bottom() + 2))
        head = QPainterPath()
        head.moveTo(x - 5, track.bottom() + 3)
        head.lineTo(x + 5, track.bottom() + 3)
        head.lineTo(x, track.bottom() - 4)
        head.closeSubpath()
        p.fillPath(head, pal.highlight().color().lighter(130))

    def tick_step(self) -> int:
        """Frames between labelled ticks: the smallest step at least 60 pixels wide."""
        px_per_frame = self._track_width() / self.view_frames
        for candidate in TICK_STEPS:
            if candidate * px_per_frame >= 60:
                return candidate
        return TICK_STEPS[-1]

    def _paint_ticks(self, p: QPainter, track: QRectF, color: QColor) -> None:
        n = self.frame_count
        if n <= 0:
            return
        step = self.tick_step()
        first = int(self.view_start) // step * step
        last = min(n, int(self.view_start + self.view_frames) + 1)
        p.setPen(color)
        for k in range(first, last, step):
            x = self.x_of(k)
            p.drawLine(QPointF(x, track.bottom() - 6), QPointF(x, track.bottom()))
            p.drawText(QPointF(x + 3, track.bottom() - 6), str(k))

    # -- mouse ------------------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        if event.button() != Qt.MouseButton.LeftButton or not self.frame_count:
            return
        pos = event.position()
        hit = self.band_at(pos)
        if hit is not None and pos.y() < self._track_rect().top():
            band, part = hit
            self.selected = (band.kind, band.key)
            self.band_selected.emit(band.kind, band.key)
            if band.kind in EDITABLE_KINDS:
                self._drag = (part, band, self.frame_at(pos.x()))
            self._invalidate()
            return
        if self.selected is not None:
            self.selected = None
            self._invalidate()
            self.band_selected.emit("", "")
        self._drag = ("scrub", LaneBand(0, 0, ""), 0)
        self.seek_requested.emit(self.frame_at(pos.x()))

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        pos = event.position()
        if self._drag is None:
            hit = self.band_at(pos)
            if hit is not None and hit[1] in ("start", "end"):
                self.setCursor(Qt.CursorShape.SizeHorCursor)
            elif hit is not None:
                editable = hit[0].kind in EDITABLE_KINDS
                self.setCursor(Qt.CursorShape.OpenHandCursor if editable else Qt.CursorShape.ArrowCursor)
                QToolTip.showText(event.globalPosition().toPoint(),
                                  f"{hit[0].text or hit[0].kind}: frames {hit[0].start}-{hit[0].end - 1}", self)
            else:
                self.unsetCursor()
            return
        mode, band, pressed = self._drag
        frame = self.frame_at(pos.x())
        if mode == "scrub":
            self.seek_requested.emit(frame)
            return
        self._preview = self._edited(band, mode, frame - pressed)
        self._invalidate()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        drag, self._drag = self._drag, None
        preview, self._preview = self._preview, None
        if drag is None or drag[0] == "scrub":
            return
        if preview is not None and (preview.start, preview.end) != (drag[1].start, drag[1].end):
            self.band_edited.emit(preview.kind, preview.key, preview.start, preview.end)
        self._invalidate()

    def _edited(self, band: LaneBand, mode: str, delta: int) -> LaneBand:
        n = self.frame_count
        start, end = band.start, band.end
        if mode == "move":
            delta = max(-start, min(n - end, delta))
            start, end = start + delta, end + delta
        elif mode == "start":
            start = max(0, min(end - 1, start + delta))
        elif mode == "end":
            end = max(start + 1, min(n, end + delta))
        return replace(band, start=start, end=end)
