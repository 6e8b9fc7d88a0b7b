"""Python's cyclic garbage collector, run on the GUI thread only.

Python collects reference cycles whenever allocations cross a threshold, on whatever thread is
allocating at that moment: in this app, often a training, scoring or decoding thread. A cycle that
holds a Qt object (a widget and the lambda connected to its signal, a controller and its window) is
then destroyed on that thread, which Qt forbids; it can deadlock against the GUI thread on Qt's
connection lock (seen in the GUI tests: a worker thread freeing a menu while the GUI thread disconnected
a signal). :func:`install_gui_garbage_collector` turns the automatic collector off and runs the same
generational collection from a timer on the GUI thread instead, with the interpreter's own thresholds.
Objects without cycles are unaffected: reference counting frees them at once, wherever they die
(:mod:`desktop_app.jobs.workers` makes sure a job's objects die on the GUI thread).
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QCoreApplication, QObject, QTimer

__all__ = ["GuiGarbageCollector", "install_gui_garbage_collector"]

#: How often the GUI thread checks whether a collection is due, in milliseconds.
INTERVAL_MS = 250


class GuiGarbageCollector(QObject):
    """Runs due collections on the thread it lives on (the GUI thread); see the module docstring."""

    def __init__(self, parent: QObject, interval_ms: int = INTERVAL_MS) -> None:
        super().__init__(parent)
        self.thresholds = gc.get_threshold()
        gc.disable()
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.collect_due)
        self.timer.start(interval_ms)

    def collect_due(self) -> int:
        """Collect the oldest generation whose count passed its threshold (as the interpreter would);
        returns the generation collected, or -1 for none."""
        counts = gc.get_count()
        generation = -1
        for g in range(3):
            if counts[g] > self.thresholds[g]:
                generation = g
        if generation >= 0:
            gc.collect(generation)
        return generation


def install_gui_garbage_collector(app: QCoreApplication | None = None) -> GuiGarbageCollector:
    """Move cyclic garbage collection onto the GUI thread for the life of ``app`` (once per app)."""
    app = app or QCoreApplication.instance()
    if app is None:
        raise RuntimeError("install_gui_garbage_collector needs a QApplication")
    found = app.findChild(GuiGarbageCollector)
    return found if found is not None else GuiGarbageCollector(app)
