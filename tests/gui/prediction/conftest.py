"""Fixtures of the prediction-folder tests: tiny runs at 16x16 saved as run folders, a tiny video, and a
helper that answers blocking dialogs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer

from core.models import build_model, make_spec
from core.models.files import save_model
from core.runs import RunRecord
from desktop_app.jobs import error_dialog
from tests.core.cli.test_predict_commands import make_run
from tests.gui.modal import press_ok_on_modal_box
from tests.video_factory import write_video

SIZE = 16
VIDEO_FRAMES = 24
CLASSES = ["dark", "bright"]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return tmp_path / "proj"


@pytest.fixture
def predict_run_dir(project: Path) -> Path:
    """A next-frame run (the ``default`` preset, a few filters, uint8 16x16 frames) with ``best.keras``."""
    return make_run(project, "next")


@pytest.fixture
def video(tmp_path: Path) -> Path:
    return write_video(tmp_path / "clip.avi", VIDEO_FRAMES, fps=10)


def window_run(project: Path, task: str, name: str | None = None) -> Path:
    """An untrained ``classify`` (two classes) or ``regress`` run of 4-frame 16x16 gray clips."""
    spec = make_spec(task, "default", frames=4, height=SIZE, width=SIZE, channels=1,
                     outputs=len(CLASSES) if task == "classify" else 1, cnn_filters=(2,), lstm_units=(2,),
                     dropout=0.0)
    run_dir = project / "runs" / (name or task)
    run_dir.mkdir(parents=True)
    save_model(build_model(spec, compile=False), run_dir / "best.keras")
    data = {"preprocess": {"height": SIZE, "width": SIZE, "grayscale": True},
            "class_names": CLASSES if task == "classify" else []}
    RunRecord(run_id=name or task, task=task, preset="default", spec=spec.to_dict(), config={}, data=data,
              status="completed", model_path="best.keras").save(run_dir)
    return run_dir


@pytest.fixture
def answer_dialogs(monkeypatch, qtbot) -> Callable[[], list[str]]:
    """Make error dialogs block (a nested event loop, as in the app) and press OK on each as it opens.

    Returns the texts of the dialogs answered so far; a dialog that could not be answered would leave
    the test stuck, which is what this guards against.
    """
    monkeypatch.setattr(error_dialog, "DIALOGS_BLOCK", True)
    answered: list[str] = []

    timer = QTimer()
    timer.setInterval(50)
    timer.timeout.connect(lambda: press_ok_on_modal_box(answered))
    timer.start()
    yield lambda: answered
    timer.stop()
