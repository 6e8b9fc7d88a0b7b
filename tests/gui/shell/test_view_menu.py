"""View menu: every dock can be hidden, shown and floated, and Reset Layout puts them back."""

from __future__ import annotations

from PySide6.QtWidgets import QDockWidget

from tests.gui.window_driver import open_and_wait


def test_docks_close_float_and_reset(qtbot, make_window, project_dir) -> None:
    window = make_window()
    open_and_wait(qtbot, window, project_dir)
    toggles = {a.text(): a for a in window.view_menu.actions() if a.isCheckable()}
    assert {"Videos", "Labels", "Error chart", "Events"} <= set(toggles)
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


def dock_tab_bars(window) -> list[tuple[str, ...]]:
    """The tab groups of the window's shown dock tab bars; none may lie over a shown dock."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QTabBar

    docks = [d.geometry() for d in window.docks.values() if d.isVisible() and not d.isFloating()]
    shown = [bar for bar in window.findChildren(QTabBar, options=Qt.FindChildOption.FindDirectChildrenOnly)
             if bar.isVisible()]
    assert not [bar for bar in shown if any(bar.geometry().intersects(rect) for rect in docks)], "a bar over a dock"
    return sorted(tuple(bar.tabText(i) for i in range(bar.count())) for bar in shown)


def test_one_tab_bar_per_tab_group_after_start_reset_and_restart(qtbot, tmp_path) -> None:
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from desktop_app.shell.main_window import MainWindow

    expected = [("Error chart", "Training"), ("Labels", "Predicted frames")]  # sorted, as the bars are listed
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    for run in range(2):  # the second window restores the first one's layout from the settings
        window = MainWindow(settings=settings, autosave_interval_s=3600)
        qtbot.addWidget(window)
        window.resize(1440, 860)
        window.show()  # as the app shows it: stale bars showed there, not in windows the tests wait on
        for _ in range(5):
            QApplication.processEvents()
        assert dock_tab_bars(window) == expected, run
        assert window.docks["Videos"].width() >= 340, run  # the clean-up keeps the docks' sizes
        window.actions_by_key["reset_layout"].trigger()
        for _ in range(5):
            QApplication.processEvents()
        assert dock_tab_bars(window) == expected, run  # no stale copy on top of a real bar
        window.close()
