"""Bringing a feature's widget to the front when the window has placed it in a dock."""

from __future__ import annotations

from PySide6.QtWidgets import QDockWidget, QWidget


def bring_dock_to_front(widget: QWidget) -> bool:
    """Show the dock that holds ``widget`` and raise it over the docks tabbed with it; ``False`` when
    ``widget`` is not in a dock (nothing is done)."""
    dock = widget.parentWidget()
    if not isinstance(dock, QDockWidget):
        return False
    dock.show()
    dock.raise_()
    return True
