"""Shared fixtures: paths to the real reference data and small generated videos."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Ray starts its workers at nice 15: beside busy cores (CI with both cores loaded) they get a few percent of a
# core and a scoring test crawls towards its timeout. The tests' local Rays (and the clusters they start with
# `ray start`, which inherit this environment) run their workers at normal priority instead.
os.environ.setdefault("RAY_worker_niceness", "0")

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """``../shared/data`` beside the repository; tests that need it skip loudly if it is missing."""
    if not DATA.is_dir():
        pytest.skip(f"reference data not found at {DATA}")
    return DATA


@pytest.fixture(scope="session")
def bikes(data_dir: Path) -> Path:
    return data_dir / "clips" / "bikes.mp4"


@pytest.fixture(scope="session")
def carphone(data_dir: Path) -> Path:
    return data_dir / "clips" / "carphone_pristine.mp4"


@pytest.fixture(scope="session")
def ped2(data_dir: Path) -> Path:
    return data_dir / "ucsd_ped2"
