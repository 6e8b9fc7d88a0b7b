"""Run a core job with a cancellable progress dialog (and the job's errors shown as dialogs).

The progress dialog closes the moment the job ends, before anything else hears of it: an error box or
a question opened by the job's callbacks is never left under a finished, window-modal progress dialog.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QProgressDialog, QWidget
from shiboken6 import isValid

from core.errors import Cancelled
from core.jobs import Progress
from desktop_app.jobs.error_dialog import show_error
from desktop_app.jobs.workers import Worker


class JobProgress(QProgressDialog):
    """A window-modal progress dialog bound to one :class:`Worker`; Cancel sets the job's event."""

    def __init__(self, worker: Worker, title: str, parent: QWidget | None = None) -> None:
        super().__init__(title, "Cancel", 0, 0, parent)
        self.worker = worker
        self.setWindowTitle(title)
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setMinimumDuration(300)
        self.setAutoClose(False)
        self.setAutoReset(False)
        self.setMinimumWidth(420)
        self.canceled.connect(worker.cancel)
        worker.progress.connect(self._on_progress)
        # Connected before any caller's slot, so it runs first: closed before an error box opens.
        worker.finished.connect(self._finish)
        worker.error.connect(self._finish)
        self._finished = False

    def _on_progress(self, event: Progress) -> None:
        if event.total:
            self.setMaximum(1000)
            self.setValue(round(1000 * (event.fraction or 0.0)))
        if event.status:  # the stage's label and the message: "scoring: walk.avi"
            self.setLabelText(event.status)

    def _finish(self, _outcome: object = None) -> None:
        if self._finished:
            return
        self._finished = True
        self.canceled.disconnect(self.worker.cancel)
        self.close()
        self.deleteLater()


def run_job(
    parent: QWidget | None,
    title: str,
    fn: Callable[..., Any],
    *args: Any,
    on_finished: Callable[[Any], None] | None = None,
    on_cancelled: Callable[[], None] | None = None,
    on_error: Callable[[BaseException], None] | None = None,
    **kwargs: Any,
) -> Worker:
    """Start ``fn(*args, progress=..., cancel=..., **kwargs)`` in a worker with a progress dialog.

    Errors are shown with :func:`show_error` (after ``on_error``, if given); a cancelled job calls
    ``on_cancelled`` and shows nothing.
    """
    worker = Worker(fn, *args, name=title, **kwargs)
    dialog = JobProgress(worker, title, parent)
    worker.dialog = dialog  # type: ignore[attr-defined]

    def failed(exc: BaseException) -> None:
        if isinstance(exc, Cancelled):
            if on_cancelled is not None:
                on_cancelled()
            return
        if on_error is not None:
            on_error(exc)
        show_error(parent, exc, title)

    def alive() -> bool:  # a job can end after its window was closed and deleted: then nobody is told
        return parent is None or isValid(parent)

    if on_finished is not None:
        worker.finished.connect(lambda result: alive() and on_finished(result))
    worker.error.connect(lambda exc: alive() and failed(exc))
    return worker.start()
