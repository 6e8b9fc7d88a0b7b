"""The GUI tests' teardown guard: what a test leaves behind fails that test, and never hangs the run.

After every fixture's teardown it ends the jobs the test left running (:mod:`tests.gui.left_jobs`), then
closes the modal dialogs left open; the stray-modal timer (:mod:`tests.gui.stray_modals`) answers those
that block meanwhile. The test fails, naming each job that would not end and each dialog closed.

A pytest plugin module: ``tests/gui/conftest.py`` imports its fixture and hooks, and a check can load it
with ``-p tests.gui.teardown_guard``.
"""

from __future__ import annotations

import pytest

from desktop_app.jobs import error_dialog
from tests.gui import left_jobs
from tests.gui.stray_modals import (
    BETWEEN,
    BODY,
    END,
    TEARDOWN,
    Dismissed,
    StrayModalGuard,
    describe,
    dismiss,
    open_modal_dialogs,
)

_guard: StrayModalGuard | None = None


@pytest.fixture(autouse=True, scope="session")
def stray_modal_guard(qapp) -> StrayModalGuard:
    """The one stray-modal timer of the session, started with the application."""
    global _guard
    if _guard is None:
        _guard = StrayModalGuard()
        _guard.start()
    return _guard


def _set_phase(phase: str) -> None:
    if _guard is not None:
        _guard.set_phase(phase)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    _set_phase(BODY)
    try:
        return (yield)
    finally:
        _set_phase(TEARDOWN)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_teardown(item, nextitem):
    """Outermost, so it runs after every fixture's teardown and pytest-qt's last event processing."""
    _set_phase(TEARDOWN)
    try:
        result = yield
    finally:
        running = left_jobs.end_left_jobs()
        error_dialog.close_open_dialogs()
        left = open_modal_dialogs()
        for dialog in left:
            dismiss(dialog)
        found = _guard.take() if _guard is not None else []
        found += [Dismissed(describe(d), END) for d in left]
        _set_phase(BETWEEN)
    problems = []
    if running:
        problems.append(f"job(s) still running {left_jobs.JOB_END_LIMIT_S:.0f} s after being cancelled: {', '.join(running)}")
    if found:
        lines = "\n".join(f"  {d.description}  (closed {d.phase})" for d in found)
        problems.append(f"modal dialog(s) left open, closed by the stray-modal guard:\n{lines}")
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)
    return result
