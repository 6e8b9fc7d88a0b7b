"""On a 1280x800 screen: the window opens inside the screen, the video keeps priority for room (the docks
give way), the Training dock's options and runs are usable, and a long events status never widens the window."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtWidgets import QApplication, QWidget

from desktop_app.shell.window_geometry import FRAME_ALLOWANCE, fitted_geometry, video_room
from desktop_app.training.panel import OPTIONS_TAB, RUNS_TAB
from tests.conftest import REPO
from tests.gui.window_driver import no_device_listing, open_and_wait

SCREEN = {"screens": [{"name": "laptop", "x": 0, "y": 0, "width": 1280, "height": 800,
                       "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}

#: Opens a window with no saved geometry, then one whose last geometry was 1440x900 at (200, 150), on the
#: screen of QT_QPA_PLATFORM; prints the screen's available area and both windows' frames as JSON.
OPEN_TWICE = """
import json, sys
from PySide6.QtCore import QRect, QSettings
from desktop_app.shell.app import create_app
from desktop_app.shell.main_window import MainWindow

app = create_app(["framewatch"])
settings = QSettings(sys.argv[1], QSettings.Format.IniFormat)
found = {}
first = MainWindow(settings=settings, autosave_interval_s=3600)
first.show()
app.processEvents()
found["available"] = first.screen().availableGeometry().getRect()
found["first"] = first.frameGeometry().getRect()
first.setGeometry(QRect(200, 150, 1440, 900))  # as if last closed on a larger screen
app.processEvents()
first.close()
second = MainWindow(settings=settings, autosave_interval_s=3600)
second.show()
app.processEvents()
found["second"] = second.frameGeometry().getRect()
second.close()
print(json.dumps(found))
"""


def inside(outer: list[int], inner: list[int]) -> bool:
    return QRect(*outer).contains(QRect(*inner))


def test_the_window_opens_inside_a_1280x800_screen_first_and_after_a_larger_one(tmp_path: Path) -> None:
    config = tmp_path / "screen.json"
    config.write_text(json.dumps(SCREEN))
    env = {**os.environ, "QT_QPA_PLATFORM": f"offscreen:configfile={config}", "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-c", OPEN_TWICE, str(tmp_path / "settings.ini")], cwd=tmp_path,
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["available"] == [0, 0, 1280, 800]
    for window in ("first", "second"):
        assert inside(found["available"], found[window]), found  # not 1440x900, off the screen's edges
        assert found[window][2] >= 1200 and found[window][3] >= 700, found  # and it uses the screen


def test_fitted_geometry_keeps_a_fitting_window_and_centres_a_shrunk_one() -> None:
    available = QRect(0, 30, 1280, 770)  # a panel along the top
    small = QSize(600, 400)
    fits = QRect(100, 100, 1000, 600)
    assert fitted_geometry(fits, available, small) == fits
    fitted = fitted_geometry(QRect(0, 0, 1440, 900), available, small)
    assert fitted.size() == available.marginsRemoved(FRAME_ALLOWANCE).size()
    assert available.contains(fitted.marginsAdded(FRAME_ALLOWANCE))
    # a minimum larger than the screen wins, at the area's corner inside the frame
    assert fitted_geometry(QRect(500, 500, 1440, 900), available, QSize(1400, 200)) == QRect(
        FRAME_ALLOWANCE.left(), 30 + FRAME_ALLOWANCE.top(), 1400, 770 - FRAME_ALLOWANCE.top()
        - FRAME_ALLOWANCE.bottom())


def bars_height(window) -> int:
    """The height of the menu, tool and status bars (the player and the bottom docks share the rest)."""
    return sum(bar.sizeHint().height() for bar in (window.menuBar(), window.statusBar(), *window._tool_bars))


def visible_in(widget: QWidget, viewport: QWidget) -> bool:
    """Whether ``widget`` lies wholly inside ``viewport``'s rectangle (not scrolled out of it)."""
    top_left = widget.mapTo(viewport, widget.rect().topLeft())
    return viewport.rect().contains(QRect(top_left, widget.size()))


def test_at_1280x800_the_video_keeps_half_the_height_and_the_training_dock_is_usable(
        qtbot, make_window, project_dir, monkeypatch) -> None:
    window = make_window()
    no_device_listing(monkeypatch, window)
    window.resize(1280, 800)
    open_and_wait(qtbot, window, project_dir)
    qtbot.waitUntil(lambda: window.width() == 1280 and window.height() == 800, timeout=5000)
    room = video_room(window.size(), bars_height(window))
    window.actions_by_key["train_model"].trigger()
    panel = window.training.panel
    qtbot.waitUntil(lambda: not panel.visibleRegion().isEmpty(), timeout=5000)
    # the Training dock asks for room and gets what the video leaves: the video keeps its share
    qtbot.waitUntil(lambda: room.height() - 2 <= window.player.height() <= room.height() + 30, timeout=5000)
    assert window.size() == QSize(1280, 800)  # nothing pushed the window past the screen
    dock = window.docks["Training"]
    assert dock.width() >= 0.6 * window.width()  # the Events dock beside it gave way
    # the options lie in columns: most boxes show without scrolling (one column showed 7 of them)
    assert panel.tabs.currentIndex() == OPTIONS_TAB and panel.form.columns >= 3
    fields = [w for w in (panel.form.task, panel.form.preset, panel.form.filters, panel.form.videos, panel.form.frames,
                          panel.form.frame_height, panel.form.grayscale, panel.form.val_fraction, panel.form.epochs,
                          panel.form.batch_size, panel.form.learning_rate, panel.form.steps, panel.form.patience,
                          panel.form.run_name, panel.form.device, panel.form.threads)]
    shown = [w for w in fields if visible_in(w, panel.options.viewport())]
    assert len(shown) >= 12, [type(w).__name__ for w in fields if w not in shown]
    # the runs table has room for four rows at least, in its tab and in any dock it fits in
    row = panel.runs.verticalHeader().defaultSectionSize()
    assert panel.runs.minimumSizeHint().height() >= panel.runs.horizontalHeader().height() + 4 * row
    panel.tabs.setCurrentIndex(RUNS_TAB)
    qtbot.waitUntil(lambda: panel.runs.isVisible(), timeout=5000)
    assert panel.runs.viewport().height() >= 4 * row


def test_a_smaller_window_takes_its_room_from_the_docks_not_the_video(qtbot, make_window, project_dir) -> None:
    window = make_window()
    window.resize(1280, 800)
    open_and_wait(qtbot, window, project_dir)
    chart = window.docks["Error chart"]
    qtbot.waitUntil(lambda: window.height() == 800, timeout=5000)
    window.resizeDocks([chart], [int(0.45 * window.height())], Qt.Orientation.Vertical)  # a tall chart
    window.resize(1280, 700)
    qtbot.waitUntil(lambda: window.height() == 700, timeout=5000)
    room = video_room(window.size(), bars_height(window))
    qtbot.waitUntil(lambda: window.player.height() >= room.height() - 2, timeout=5000)
    assert chart.height() >= chart.minimumSizeHint().height()


def test_a_long_events_status_never_widens_the_window(qtbot, make_window, project_dir) -> None:
    window = make_window()
    window.resize(1280, 800)
    open_and_wait(qtbot, window, project_dir)
    qtbot.waitUntil(lambda: window.width() == 1280, timeout=5000)
    window.review.review.status.setText("12 events · event 12: frame 10500 of 10480-10620 · " * 4)
    for _ in range(5):
        QApplication.processEvents()
    assert window.width() == 1280
    assert window.review.review.minimumSizeHint().width() < 400
