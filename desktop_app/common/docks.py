"""Bringing a feature's widget to the front when the window has placed it in a dock."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow, QWidget


def bring_dock_to_front(widget: QWidget, room: tuple[float, float] | None = None) -> bool:
    """Show the dock that holds ``widget`` and raise it over the docks tabbed with it; ``False`` when
    ``widget`` is not in a dock (nothing is done). ``room`` ``(width share, height share)``: a docked
    dock narrower or lower than that share of its window is made that large, the docks beside it giving
    way (a panel with curves and a form needs more than the strip it shares with the others)."""
    dock = widget.parentWidget()
    if not isinstance(dock, QDockWidget):
        return False
    dock.show()
    dock.raise_()
    window = dock.parentWidget()
    if room is not None and isinstance(window, QMainWindow) and not dock.isFloating():
        width, height = int(window.width() * room[0]), int(window.height() * room[1])
        if dock.width() < width:
            _resize_in_line(window, dock, width, Qt.Orientation.Horizontal)
        if dock.height() < height:
            _resize_in_line(window, dock, height, Qt.Orientation.Vertical)
    return True


def _resize_in_line(window: QMainWindow, dock: QDockWidget, size: int, orientation: Qt.Orientation) -> None:
    """Make ``dock`` ``size`` pixels wide (or high) and the shown docks in line with it in its dock area
    (beside it, or above and below it) share what is left in proportion to their sizes, so that its
    neighbours, not the window, give way: Qt's ``resizeDocks`` with ``dock`` alone spreads the change
    over them and the dock falls short of ``size``."""
    horizontal = orientation == Qt.Orientation.Horizontal

    def along(d: QDockWidget) -> int:
        return d.width() if horizontal else d.height()

    def in_line(d: QDockWidget) -> bool:  # overlapping spans across the line: beside (or above) one another
        a, b = (dock.y(), dock.y() + dock.height()) if horizontal else (dock.x(), dock.x() + dock.width())
        c, e = (d.y(), d.y() + d.height()) if horizontal else (d.x(), d.x() + d.width())
        return c < b and a < e

    area = window.dockWidgetArea(dock)
    others = [d for d in window.findChildren(QDockWidget) if d is not dock and window.dockWidgetArea(d) == area
              and d.isVisible() and not d.isFloating() and not d.visibleRegion().isEmpty() and in_line(d)]
    left = sum(along(d) for d in others)
    rest = along(dock) + left - size
    if not others or left <= 0 or rest <= 0:
        window.resizeDocks([dock], [size], orientation)
        return
    window.resizeDocks([dock, *others], [size, *(max(1, along(d) * rest // left) for d in others)], orientation)
