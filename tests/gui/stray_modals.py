"""Stray modal dialogs: answered so that a run never hangs, and reported so that the test that left one fails.

A blocking dialog (``QMessageBox.exec()``) that nobody answers holds the GUI thread in its own event
loop, where pytest-timeout's signal method cannot reach it and where a test's waits never return. The
guard is a :class:`QTimer` on the GUI thread, which fires inside such a nested loop too. Every
:data:`TICK_MS` it looks at the visible modal dialogs:

- outside a test's body (fixture setup and teardown, between tests) it dismisses each one at once: a
  job that ends during teardown and reports an error must not wait for a click. A dialog the body left
  open is the exception: it is not blocking (the body returned), and fixtures or pytest-qt may close it
  in teardown;
- inside a test's body it leaves a dialog alone for :data:`BODY_GRACE_S` (tests answer their own
  boxes within milliseconds), then dismisses it.

It leaves progress dialogs alone: a job's progress dialog is shown, never ``exec()``'d, so it blocks
nothing, and it closes when its job ends (the teardown guard ends the jobs a test leaves running).

After each test, the teardown guard (:mod:`tests.gui.teardown_guard`) closes the modal dialogs still
open, progress dialogs included, and fails the test with the title and text of each dialog it closed
and each one the timer dismissed. Error boxes shown without blocking (``error_dialog.DIALOGS_BLOCK = False``, which the GUI
tests' conftest sets) are the one exception: they block nothing, tests read them from
``error_dialog.shown``, and ``error_dialog.close_open_dialogs()`` closes them quietly.
"""

from __future__ import annotations

import time
import weakref
from dataclasses import dataclass

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox, QProgressDialog

from desktop_app.jobs import error_dialog

#: How often the guard looks, in milliseconds.
TICK_MS = 100
#: How long a modal dialog may stay open in a test's body before the guard dismisses it, in seconds.
BODY_GRACE_S = 60.0
#: The phases of a test the guard tells apart, as its report words them.
BODY, TEARDOWN, BETWEEN, END = "during the test", "during teardown", "between tests", "at the end of teardown"


@dataclass(frozen=True)
class Dismissed:
    """A modal dialog the guard closed: what it said, and in which phase of the test it was open."""

    description: str
    phase: str


def describe(dialog: QDialog) -> str:
    """``QMessageBox 'Title': text`` for a dialog (a progress dialog's label is its text)."""
    if isinstance(dialog, QMessageBox):
        text = dialog.text()
    elif isinstance(dialog, QProgressDialog):
        text = dialog.labelText()
    else:
        text = ""
    return f"{type(dialog).__name__} {dialog.windowTitle()!r}: {text}".rstrip(": ")


def dismiss(dialog: QDialog) -> None:
    """Answer ``dialog`` as Escape would: a message box's escape (or reject-role) button, else its first
    button; a progress dialog is closed, which cancels its job; any other dialog is rejected."""
    if isinstance(dialog, QMessageBox):
        buttons = dialog.buttons()
        rejecting = [b for b in buttons if dialog.buttonRole(b) in (QMessageBox.ButtonRole.RejectRole,
                                                                    QMessageBox.ButtonRole.NoRole)]
        button = dialog.escapeButton() or (rejecting or buttons or [None])[0]
        if button is not None:
            button.click()
            return
    if isinstance(dialog, QProgressDialog):
        dialog.close()  # its closeEvent emits canceled: the job is asked to stop
        if not dialog.isVisible():
            return
    dialog.reject()


def open_modal_dialogs() -> list[QDialog]:
    """Visible modal dialogs (application- or window-modal), but not the error boxes shown without blocking."""
    return [w for w in QApplication.topLevelWidgets()
            if isinstance(w, QDialog) and w.isVisible() and w.isModal() and w not in error_dialog._open]


class StrayModalGuard:
    """The timer that answers stray modal dialogs; :attr:`phase` is the test's phase pytest is in."""

    def __init__(self) -> None:
        self.phase = BETWEEN
        self.dismissed: list[Dismissed] = []
        self._first_seen: dict[int, float] = {}  # id(dialog) -> when it was first seen open (monotonic s)
        self._open_after_body: list[weakref.ref] = []
        self.timer = QTimer()
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self.check)

    def start(self) -> None:
        self.timer.start()

    def set_phase(self, phase: str) -> None:
        """Enter ``phase``; leaving a test's body notes the dialogs it left open (see :meth:`check`)."""
        if self.phase == BODY and phase != BODY:
            self._open_after_body = [weakref.ref(d) for d in open_modal_dialogs()]
        elif phase == BODY:
            self._open_after_body = []
        self.phase = phase

    def check(self) -> None:
        now = time.monotonic()
        dialogs = open_modal_dialogs()
        self._first_seen = {id(d): self._first_seen.get(id(d), now) for d in dialogs}
        for dialog in dialogs:
            if isinstance(dialog, QProgressDialog):  # shown, never exec()'d: it blocks nothing, and closes with its job
                continue
            if self.phase == BODY and now - self._first_seen[id(dialog)] < BODY_GRACE_S:
                continue
            # Open when the body returned, so not in a loop of its own: a fixture or pytest-qt may close it in
            # teardown (qtbot.addWidget), and the teardown guard reports it if nothing does.
            if self.phase == TEARDOWN and any(ref() is dialog for ref in self._open_after_body):
                continue
            self.dismissed.append(Dismissed(describe(dialog), self.phase))
            dismiss(dialog)

    def take(self) -> list[Dismissed]:
        """The dialogs dismissed since the last call."""
        taken, self.dismissed = self.dismissed, []
        return taken
