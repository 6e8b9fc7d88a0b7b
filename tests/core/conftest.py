"""Fixtures shared by the tests of several core packages."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def window_runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder whose ``runs/`` holds tiny trained ``classify`` and ``regress`` runs (dark or bright footage,
    see :mod:`tests.core.inference.window_runs`): trained once for the inference and the CLI tests."""
    from tests.core.inference.window_runs import train_run

    folder = tmp_path_factory.mktemp("window-runs")
    train_run(folder, "classify")
    train_run(folder, "regress")
    return folder
