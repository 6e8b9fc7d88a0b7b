"""Forward a project's change events to the GUI thread as a Qt signal.

:meth:`core.project.Project.subscribe` calls back on whatever thread made the change (an import worker,
the autosave thread); widgets must only be touched on the GUI thread, so :class:`ProjectEvents` re-emits
each :class:`~core.project.ProjectEvent` through a queued signal.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from core.project import Project, ProjectEvent


class ProjectEvents(QObject):
    """``changed(ProjectEvent)`` on the GUI thread for every event of the attached project."""

    changed = Signal(object)
    _incoming = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.project: Project | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._incoming.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    def attach(self, project: Project | None) -> None:
        self.detach()
        self.project = project
        if project is not None:
            self._unsubscribe = project.subscribe(self._on_event)

    def detach(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        self._unsubscribe = None
        self.project = None

    def _on_event(self, event: ProjectEvent) -> None:
        if QThread.currentThread() is self.thread():
            self._deliver(event)  # edits made on the GUI thread refresh at once
        else:
            self._incoming.emit(event)

    @Slot(object)
    def _deliver(self, event: ProjectEvent) -> None:
        self.changed.emit(event)
