"""Fixtures of the project tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.video_factory import write_video


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 40-frame lossless clip whose frames show their index."""
    return write_video(tmp_path_factory.mktemp("v") / "clip.avi", 40)
