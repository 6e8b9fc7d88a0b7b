"""The training thread lowers its own scheduling priority, and only its own (the GUI tests turn this off:
see ``_training_at_the_tests_priority`` in conftest.py)."""

from __future__ import annotations

import os
import sys
import threading

import pytest

from desktop_app.training.job import NICE_INCREMENT, lower_thread_priority  # the real one, bound at import


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice is a Linux feature")
def test_lowering_the_priority_lowers_the_calling_thread_only() -> None:
    main_before = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    seen: dict[str, int | bool] = {}

    def on_a_thread() -> None:
        tid = threading.get_native_id()
        seen["before"] = os.getpriority(os.PRIO_PROCESS, tid)
        seen["lowered"] = lower_thread_priority()
        seen["after"] = os.getpriority(os.PRIO_PROCESS, tid)

    thread = threading.Thread(target=on_a_thread)
    thread.start()
    thread.join(timeout=60)
    assert seen["lowered"] is True
    assert seen["after"] == min(19, seen["before"] + NICE_INCREMENT)
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == main_before
