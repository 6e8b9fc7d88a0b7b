"""View menu: every dock can be hidden, shown and floated, and Reset Layout puts them back."""

from __future__ import annotations

from PySide6.QtWidgets import QDockWidget

from tests.gui.window_driver import open_and_wait


def test_docks_close_float_and_reset(qtbot, make_window, project_dir) -> None:
    window = make_window()
    open_and_wait(qtbot, window, project_dir)
    toggles = {a.text(): a for a in window.view_menu.actions() if a.isCheckable()}
    assert {"Videos", "Labels", "Regularity", "Events"} <= set(toggles)
    videos, labels = window.docks["Videos"], window.docks["Labels"]
    for dock in (videos, labels):
        features = dock.features()
        assert features & QDockWidget.DockWidgetFeature.DockWidgetClosable
        assert features & QDockWidget.DockWidgetFeature.DockWidgetFloatable
    toggles["Videos"].trigger()
    qtbot.waitUntil(lambda: not videos.isVisible(), timeout=5000)
    assert not toggles["Videos"].isChecked()
    labels.setFloating(True)
    assert labels.isFloating()
    assert window.actions_by_key["reset_layout"] in window.view_menu.actions()
    window.actions_by_key["reset_layout"].trigger()
    qtbot.waitUntil(lambda: videos.isVisible() and labels.isVisible(), timeout=5000)
    assert not labels.isFloating() and toggles["Videos"].isChecked()
    assert window.dockWidgetArea(videos) != window.dockWidgetArea(labels)


def test_a_closed_dock_stays_closed_in_the_next_window(qtbot, make_window, tmp_path) -> None:
    from PySide6.QtCore import QSettings

    from desktop_app.shell.main_window import MainWindow

    settings = QSettings(str(tmp_path / "layout.ini"), QSettings.Format.IniFormat)
    first = MainWindow(settings=settings, autosave_interval_s=3600)
    qtbot.addWidget(first)
    first.show()
    qtbot.waitExposed(first)
    first.docks["Labels"].close()
    first.close()
    second = MainWindow(settings=settings, autosave_interval_s=3600)
    qtbot.addWidget(second)
    second.show()
    qtbot.waitExposed(second)
    assert not second.docks["Labels"].isVisible() and second.docks["Videos"].isVisible()
    second.reset_layout()
    qtbot.waitUntil(lambda: second.docks["Labels"].isVisible(), timeout=5000)
    second.close()
