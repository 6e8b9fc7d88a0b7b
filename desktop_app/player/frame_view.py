"""A widget that shows one RGB frame scaled to fit, keeping its aspect ratio (letterboxed)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget


def rgb_to_qimage(frame: np.ndarray, copy: bool = True) -> QImage:
    """An RGB ``uint8`` ``(H, W, 3)`` (or gray ``(H, W)``) array as a QImage.

    With ``copy=False`` the image shares the array's memory: keep the array alive while it is used.
    """
    frame = np.ascontiguousarray(frame)
    h, w = frame.shape[:2]
    fmt = QImage.Format.Format_Grayscale8 if frame.ndim == 2 else QImage.Format.Format_RGB888
    image = QImage(frame.data, w, h, frame.strides[0], fmt)
    return image.copy() if copy else image


def fit_rect(image_size: QSize, area: QRect) -> QRect:
    """The largest rectangle of ``image_size``'s aspect ratio centred in ``area``."""
    if image_size.isEmpty() or area.isEmpty():
        return QRect()
    scaled = image_size.scaled(area.size(), Qt.AspectRatioMode.KeepAspectRatio)
    x = area.x() + (area.width() - scaled.width()) // 2
    y = area.y() + (area.height() - scaled.height()) // 2
    return QRect(x, y, scaled.width(), scaled.height())


class FrameView(QWidget):
    """Paints the current frame on black, scaled with the window; an optional caption sits top-left."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._image: QImage | None = None
        self._pixels: np.ndarray | None = None  # the array self._image shares
        self._overlay: QImage | None = None
        self._overlay_pixels: np.ndarray | None = None  # the array self._overlay shares
        self.caption = ""
        self.placeholder = "No video"
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(160, 120)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)  # clicking the video gives the keys back to the player

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(720, 480)

    def set_frame(self, frame: np.ndarray | None) -> None:
        self._pixels = None if frame is None else np.ascontiguousarray(frame)
        self._image = None if self._pixels is None else rgb_to_qimage(self._pixels, copy=False)
        self.update()

    def set_overlay(self, rgba: np.ndarray | None) -> None:
        """Draw an RGBA ``uint8`` ``(H, W, 4)`` image (a heat map) over the frame, stretched to it; ``None``: none."""
        if rgba is None:
            self._overlay_pixels = self._overlay = None
        else:
            self._overlay_pixels = np.ascontiguousarray(rgba, dtype=np.uint8)
            h, w = self._overlay_pixels.shape[:2]
            self._overlay = QImage(self._overlay_pixels.data, w, h, self._overlay_pixels.strides[0],
                                   QImage.Format.Format_RGBA8888)
        self.update()

    @property
    def overlay(self) -> QImage | None:
        return self._overlay

    def set_caption(self, text: str) -> None:
        if text != self.caption:
            self.caption = text
            self.update()

    @property
    def image(self) -> QImage | None:
        return self._image

    def image_rect(self) -> QRect:
        """Where the frame is drawn, in widget coordinates (empty without a frame)."""
        return fit_rect(self._image.size(), self.rect()) if self._image is not None else QRect()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#0b0d10"))
        if self._image is None:
            p.setPen(QColor("#6b7280"))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.placeholder)
            p.end()
            return
        target = self.image_rect()
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, target.width() < 2 * self._image.width())
        p.drawImage(target, self._image)
        if self._overlay is not None:
            p.drawImage(target, self._overlay)
        if self.caption:
            font = QFont(self.font())
            font.setFamily("monospace")
            font.setStyleHint(QFont.StyleHint.Monospace)
            p.setFont(font)
            metrics = p.fontMetrics()
            box = QRectF(target.left() + 8, target.top() + 8, metrics.horizontalAdvance(self.caption) + 14,
                         metrics.height() + 6)
            p.fillRect(box, QColor(0, 0, 0, 150))
            p.setPen(QColor("#f3f4f6"))
            p.drawText(box, Qt.AlignmentFlag.AlignCenter, self.caption)
        p.end()
