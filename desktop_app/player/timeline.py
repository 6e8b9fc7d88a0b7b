"""The timeline scrubber: playhead, in/out marks and coloured bands for labelled footage.

Three lanes of bands sit above the scrub track: labelled subclips (in their class colour), anomaly
intervals, and flagged events. Click or drag on the track to scrub; click a band to select it; drag
a band's body to move it or its edge to change its start or end. Frame ranges are 0-based with the
end excluded, as in the project.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QMouseEvent, QPainter, QPainterPath, QPaintEvent, QPen, QPixmap
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

LANES = ("subclip", "anomaly", "event")
LANE_TITLES = {"subclip": "Labels", "anomaly": "Anomalies", "event": "Events"}
ANOMALY_COLOR = "#e5484d"
EVENT_COLOR = "#f5a524"
EDGE_GRAB_PX = 5


@dataclass(frozen=True)
class Band:
    """One coloured interval: ``kind`` is a lane name, ``key`` identifies the entity it shows."""

    kind: str
    key: str
    start: int
    end: int  # exclusive
    color: str
    label: str = ""


class TimelineWidget(QWidget):
    """Scrubber over ``[0, frame_count)``; see the module docstring."""

    seek_requested = Signal(int)  # a frame to show
    band_selected = Signal(str, str)  # kind, key ("" when the selection is cleared)
    band_edited = Signal(str, str, int, int)  # kind, key, new start, new end (exclusive)

    LANE_H = 16
    TRACK_H = 22
    MARGIN = 8
    LABEL_W = 74

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.frame_count = 0
        self.position = 0
        self.in_point: int | None = None
        self.out_point: int | None = None
        self.bands: list[Band] = []
        self.selected: tuple[str, str] | None = None
        self._drag: tuple[str, Band, int] | None = None  # mode ("move"/"start"/"end"/"scrub"), band, press frame
        self._preview: Band | None = None
        self._static: QPixmap | None = None  # lanes, bands and ticks; the playhead is drawn over it
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumHeight(self.sizeHint().height())

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(600, self.MARGIN * 2 + self.LANE_H * len(LANES) + self.TRACK_H + 6)

    # -- state ------------------------------------------------------------------------------------
    def set_frame_count(self, count: int) -> None:
        self.frame_count = max(0, int(count))
        self._invalidate()

    def set_position(self, frame: int) -> None:
        if frame != self.position:
            self.position = frame
            self.update()

    def set_in_out(self, in_point: int | None, out_point: int | None) -> None:
        self.in_point, self.out_point = in_point, out_point
        self._invalidate()

    def set_bands(self, bands: list[Band]) -> None:
        self.bands = list(bands)
        self._preview = None
        self._invalidate()

    def select(self, kind: str, key: str) -> None:
        self.selected = (kind, key) if key else None
        self._invalidate()

    # -- geometry ---------------------------------------------------------------------------------
    def _track_left(self) -> float:
        return float(self.MARGIN + self.LABEL_W)

    def _track_width(self) -> float:
        return max(1.0, self.width() - self._track_left() - self.MARGIN)

    def x_of(self, frame: float) -> float:
        n = max(1, self.frame_count)
        return self._track_left() + self._track_width() * frame / n

    def frame_at(self, x: float) -> int:
        n = max(1, self.frame_count)
        frame = int((x - self._track_left()) / self._track_width() * n)
        return max(0, min(n - 1, frame))

    def _lane_rect(self, kind: str) -> QRectF:
        i = LANES.index(kind)
        return QRectF(self._track_left(), self.MARGIN + i * self.LANE_H, self._track_width(), self.LANE_H - 3)

    def _track_rect(self) -> QRectF:
        top = self.MARGIN + len(LANES) * self.LANE_H + 2
        return QRectF(self._track_left(), top, self._track_width(), self.TRACK_H)

    def band_rect(self, band: Band) -> QRectF:
        lane = self._lane_rect(band.kind)
        x0, x1 = self.x_of(band.start), self.x_of(band.end)
        return QRectF(x0, lane.top(), max(2.0, x1 - x0), lane.height())

    def band_at(self, pos: QPointF) -> tuple[Band, str] | None:
        """The band under ``pos`` and the part hit: "start", "end" or "move"."""
        for band in reversed(self.bands):
            rect = self.band_rect(band).adjusted(-EDGE_GRAB_PX, 0, EDGE_GRAB_PX, 0)
            if rect.contains(pos):
                inner = self.band_rect(band)
                if band.kind != "event" and abs(pos.x() - inner.left()) <= EDGE_GRAB_PX:
                    return band, "start"
                if band.kind != "event" and abs(pos.x() - inner.right()) <= EDGE_GRAB_PX:
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
        for kind in LANES:
            lane = self._lane_rect(kind)
            p.setPen(dim)
            p.drawText(
                QRectF(self.MARGIN, lane.top(), self.LABEL_W - 6, lane.height()),
                Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, LANE_TITLES[kind],
            )
            groove = QColor(text_color)
            groove.setAlpha(22)
            p.fillRect(lane, groove)
        track = self._track_rect()
        base = QColor(text_color)
        base.setAlpha(40)
        p.fillRect(track, base)
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
        for band in bands:
            rect = self.band_rect(band)
            color = QColor(band.color)
            path = QPainterPath()
            path.addRoundedRect(rect, 3, 3)
            p.fillPath(path, color)
            if self.selected == (band.kind, band.key):
                p.setPen(QPen(QColor("white"), 2))
                p.drawPath(path)
            if band.label and rect.width() > 30:
                p.setPen(QColor("white") if color.lightness() < 150 else QColor("black"))
                p.drawText(rect.adjusted(4, 0, -2, 0), Qt.AlignmentFlag.AlignVCenter, band.label)
        for mark, color in ((self.in_point, "#3dd68c"), (self.out_point, "#ff8c42")):
            if mark is not None:
                x = self.x_of(mark)
                p.setPen(QPen(QColor(color), 2))
                p.drawLine(QPointF(x, self.MARGIN), QPointF(x, track.bottom()))

    def _paint_playhead(self, p: QPainter) -> None:
        pal = self.palette()
        track = self._track_rect()
        if self.frame_count:
            x = self.x_of(self.position + 0.5) if self.frame_count < self._track_width() else self.x_of(self.position)
            p.setPen(QPen(pal.highlight().color().lighter(130), 2))
            p.drawLine(QPointF(x, self.MARGIN - 4), QPointF(x, track.bottom() + 2))
            head = QPainterPath()
            head.moveTo(x - 5, track.bottom() + 3)
            head.lineTo(x + 5, track.bottom() + 3)
            head.lineTo(x, track.bottom() - 4)
            head.closeSubpath()
            p.fillPath(head, pal.highlight().color().lighter(130))

    def _paint_ticks(self, p: QPainter, track: QRectF, color: QColor) -> None:
        n = self.frame_count
        if n <= 0:
            return
        px_per_frame = self._track_width() / n
        step = 1
        for candidate in (1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000):
            step = candidate
            if candidate * px_per_frame >= 60:
                break
        p.setPen(color)
        for k in range(0, n, step):
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
            if band.kind != "event":
                self._drag = (part, band, self.frame_at(pos.x()))
            self._invalidate()
            return
        if self.selected is not None:
            self.selected = None
            self._invalidate()
            self.band_selected.emit("", "")
        self._drag = ("scrub", Band("", "", 0, 0, ""), 0)
        self.seek_requested.emit(self.frame_at(pos.x()))

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        pos = event.position()
        if self._drag is None:
            hit = self.band_at(pos)
            if hit is not None and hit[1] in ("start", "end"):
                self.setCursor(Qt.CursorShape.SizeHorCursor)
            elif hit is not None:
                self.setCursor(Qt.CursorShape.OpenHandCursor if hit[0].kind != "event" else Qt.CursorShape.ArrowCursor)
                QToolTip.showText(event.globalPosition().toPoint(),
                                  f"{hit[0].label or hit[0].kind}: frames {hit[0].start}-{hit[0].end - 1}", self)
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

    def _edited(self, band: Band, mode: str, delta: int) -> Band:
        n = self.frame_count
        start, end = band.start, band.end
        if mode == "move":
            delta = max(-start, min(n - end, delta))
            start, end = start + delta, end + delta
        elif mode == "start":
            start = max(0, min(end - 1, start + delta))
        elif mode == "end":
            end = max(start + 1, min(n, end + delta))
        return Band(band.kind, band.key, start, end, band.color, band.label)
