"""A 10 ms QTimer probe of the GUI thread: how late each tick fires is how long the GUI was stalled.

Start it, let the app work (processing events), stop it, read :meth:`StallProbe.figures`: a stall is a
tick's interval minus the 10 ms asked for (never negative), in milliseconds.
"""

from __future__ import annotations

import time

import numpy as np

INTERVAL_MS = 10


class StallProbe:
    def __init__(self) -> None:
        from PySide6.QtCore import QTimer

        self.ticks: list[float] = []
        self.timer = QTimer()
        self.timer.setInterval(INTERVAL_MS)
        self.timer.timeout.connect(lambda: self.ticks.append(time.perf_counter()))

    def start(self) -> None:
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def figures(self) -> dict[str, float]:
        """``probe_ticks``, ``stall_p50_ms``, ``stall_p99_ms``, ``stall_max_ms``."""
        intervals = np.diff(np.asarray(self.ticks)) * 1000.0
        stalls = np.maximum(0.0, intervals - INTERVAL_MS) if len(intervals) else np.zeros(1)
        return {
            "probe_ticks": len(self.ticks),
            "stall_p50_ms": float(np.percentile(stalls, 50)),
            "stall_p99_ms": float(np.percentile(stalls, 99)),
            "stall_max_ms": float(stalls.max()),
        }
