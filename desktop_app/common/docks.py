"""Bringing a feature's widget to the front when the window has placed it in a dock."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow, QWidget


def bring_dock_to_front(widget: QWidget, room: tuple[float, float] | None = None) -> bool:
    """Show the dock that holds ``widget`` and raise it over the docks tabbed with it; ``False`` when
    ``widget`` is not in a dock (nothing is done). ``room`` ``(width share, height share)``: a docked
    dock narrower or lower than that share of its window is made that large (a panel with curves and a
    form needs more than the strip it shares with the others)."""
    dock = widget.parentWidget()
    if not isinstance(dock, QDockWidget):
        return False
    dock.show()
    dock.raise_()
    window = dock.parentWidget()
    if room is not None and isinstance(window, QMainWindow) and not dock.isFloating():
        width, height = int(window.width() * room[0]), int(window.height() * room[1])
        if dock.width() < width:
            window.resizeDocks([dock], [width], Qt.Orientation.Horizontal)
        if dock.height() < height:
            window.resizeDocks([dock], [height], Qt.Orientation.Vertical)
    return True
