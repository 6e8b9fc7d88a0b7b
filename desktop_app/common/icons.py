"""Icons in the palette's text colour: the style's standard icons are dark grey, invisible on a dark theme."""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtGui import QColor, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import QStyle, QWidget

ICON_SIZES = (16, 24, 32)


def tinted(pixmap: QPixmap, color: QColor) -> QPixmap:
    """``pixmap``'s shape (its alpha) filled with ``color``."""
    out = QPixmap(pixmap.size())
    out.setDevicePixelRatio(pixmap.devicePixelRatio())
    out.fill(QColor(0, 0, 0, 0))
    painter = QPainter(out)
    painter.drawPixmap(0, 0, pixmap)
    painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_SourceIn)
    painter.fillRect(out.rect(), color)
    painter.end()
    return out


def standard_icon(widget: QWidget, which: QStyle.StandardPixmap) -> QIcon:
    """The style's ``which`` icon drawn in ``widget``'s button-text colour (dimmed when disabled)."""
    source = widget.style().standardIcon(which)
    palette = widget.palette()
    normal = palette.color(QPalette.ColorGroup.Active, QPalette.ColorRole.ButtonText)
    disabled = palette.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText)
    icon = QIcon()
    for side in ICON_SIZES:
        pixmap = source.pixmap(QSize(side, side))
        icon.addPixmap(tinted(pixmap, normal), QIcon.Mode.Normal)
        icon.addPixmap(tinted(pixmap, disabled), QIcon.Mode.Disabled)
    return icon
