"""A ``qtbot`` whose failing waits are patient: every wait that fails on timeout allows at least :data:`WAIT_MS`.

A wait on a condition returns as soon as the condition holds, so its timeout is only the time a *failing*
test takes to say so. On a machine whose cores are all busy, a step that takes 50 ms alone (a job's
first progress report, a thumbnail, a window being laid out) can take seconds, and the 5 s that
pytest-qt allows by default (or the few seconds a test asked for) made passing tests fail. The GUI tests'
conftest hands this bot out as ``qtbot``, so no test, present or new, can wait less.

Waits that do not fail on timeout (``waitSignal(..., raising=False)``, ``qtbot.wait(ms)``,
``assertNotEmitted``) keep their time: there the time is the point. A timeout of ``None`` or 0 (no
timeout) is left as it is; pytest-timeout ends such a test.
"""

from __future__ import annotations

from pytestqt.qtbot import QtBot

#: The least time any failing wait of a GUI test allows, in milliseconds.
WAIT_MS = 60_000


def patient(timeout: int | None, raising: bool | None = True) -> int | None:
    """``timeout`` raised to :data:`WAIT_MS` when it is a finite wait that fails the test."""
    if raising is False or not timeout or timeout <= 0:
        return timeout
    return max(timeout, WAIT_MS)


class PatientQtBot(QtBot):
    def waitUntil(self, callback, *, timeout: int = WAIT_MS) -> None:
        return super().waitUntil(callback, timeout=patient(timeout))

    def waitSignal(self, signal, *, timeout: int = WAIT_MS, raising: bool | None = None,
                   check_params_cb=None):
        return super().waitSignal(signal, timeout=patient(timeout, raising), raising=raising,
                                  check_params_cb=check_params_cb)

    def waitSignals(self, signals, *, timeout: int = WAIT_MS, raising: bool | None = None,
                    check_params_cbs=None, order: str = "none"):
        return super().waitSignals(signals, timeout=patient(timeout, raising), raising=raising,
                                   check_params_cbs=check_params_cbs, order=order)

    def waitCallback(self, *, timeout: int = WAIT_MS, raising: bool | None = None):
        return super().waitCallback(timeout=patient(timeout, raising), raising=raising)

    def waitExposed(self, widget, *, timeout: int = WAIT_MS):
        return super().waitExposed(widget, timeout=patient(timeout))

    def waitActive(self, widget, *, timeout: int = WAIT_MS):
        return super().waitActive(widget, timeout=patient(timeout))
