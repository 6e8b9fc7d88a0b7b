"""A progress bar and a Cancel button for the background jobs of one view.

A view tracks each job it starts (:meth:`JobBar.track`); the bar follows the progress of the tracked jobs
(and names the stage a job's reports are in, :class:`~core.jobs.Stage`),
Cancel is enabled while one of them runs and cancels them all, and a finished job is forgotten. A view
that replaces a job (a rollout made stale by a new position) passes the old one as ``replaces`` so that
its last progress reports no longer move the bar.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QProgressBar, QPushButton, QWidget

from core.jobs import Progress
from desktop_app.jobs.workers import Worker


class JobBar(QWidget):
    """Progress of the tracked jobs and a Cancel button for them; ``cancelled`` when Cancel is pressed."""

    cancelled = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workers: list[Worker] = []
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.progress, 1)
        layout.addWidget(self.cancel_button)
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.clicked.connect(self.cancelled.emit)

    def track(self, worker: Worker, replaces: Worker | None = None) -> Worker:
        """Follow ``worker`` (connect before it starts), forgetting ``replaces``; returns ``worker``."""
        if replaces in self.workers:
            self.workers.remove(replaces)
        self.workers.append(worker)
        worker.progress.connect(lambda event, w=worker: self._on_progress(w, event))
        worker.done.connect(lambda w=worker: self._forget(w))
        self._update()
        return worker

    @property
    def busy(self) -> bool:
        return any(not w.is_done for w in self.workers)

    def cancel(self) -> None:
        """Ask every tracked job to stop."""
        for worker in self.workers:
            worker.cancel()

    def _on_progress(self, worker: Worker, event: Progress) -> None:
        if worker not in self.workers:
            return
        if event.stage is not None:  # the part of the job it is in, on the bar: "calibrating the threshold 40%"
            self.progress.setFormat(f"{event.stage.label} %p%")
            self.progress.setTextVisible(True)
        if event.fraction is not None:
            self.progress.setValue(round(1000 * event.fraction))

    def _forget(self, worker: Worker) -> None:
        if worker in self.workers:
            self.workers.remove(worker)
        self._update()

    def _update(self) -> None:
        self.cancel_button.setEnabled(self.busy)
        if not self.busy:
            self.progress.setValue(0)
            self.progress.setTextVisible(False)
