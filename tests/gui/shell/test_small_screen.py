"""The main window at 1280x800 with the dark theme: names, split, table columns, transport bar and icons."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSize
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication

from core.project import Project
from desktop_app.shell.theme import dark_palette
from tests.gui.window_driver import open_and_wait
from tests.video_factory import write_images, write_video

LONG_NAME = "training_video_01_long_name.avi"


def luminance(color: QColor) -> float:
    def lin(v: float) -> float:
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4
    return 0.2126 * lin(color.redF()) + 0.7152 * lin(color.greenF()) + 0.0722 * lin(color.blueF())


def contrast(a: QColor, b: QColor) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def icon_color(icon, size: int = 16) -> QColor:
    """The mean colour of the icon's opaque pixels."""
    image = icon.pixmap(QSize(size, size)).toImage()
    pixels = [image.pixelColor(x, y) for x in range(image.width()) for y in range(image.height())]
    solid = [p for p in pixels if p.alpha() > 200]
    assert solid, "the icon is empty"
    n = len(solid)
    return QColor(round(sum(p.red() for p in solid) / n), round(sum(p.green() for p in solid) / n),
                  round(sum(p.blue() for p in solid) / n))


@pytest.fixture
def dark_theme():
    app = QApplication.instance()
    old = app.palette()
    app.setPalette(dark_palette())
    yield
    app.setPalette(old)


@pytest.fixture
def labelled_project(tmp_path):
    project = Project.create(tmp_path / "proj", name="Small screen")
    video = project.add_video(write_video(tmp_path / LONG_NAME, 60, width=40, height=32), split="train")
    folder = tmp_path / "UCSDped2" / "Train" / "Train001"
    folder.mkdir(parents=True)
    project.add_video(write_images(folder, 12, width=40, height=32), fps=10)
    project.add_class("walk", color="#56b4e9", shortcut="1")
    project.add_subclip(video.id, 10, 30, label="walk", note="a note long enough to need more room than it has")
    project.save()
    project.close()
    return project.folder


def test_at_1280x800_everything_that_matters_is_in_sight(qtbot, make_window, labelled_project, dark_theme) -> None:
    window = make_window()
    window.resize(1280, 800)
    open_and_wait(qtbot, window, labelled_project)
    qtbot.waitUntil(lambda: window.width() == 1280, timeout=5000)
    QApplication.processEvents()
    videos = window.video_list
    # names: the row's text area leaves room for a long name, and the split and a folder's parent show
    rect = videos.visualItemRect(videos.topLevelItem(0))
    text_width = rect.width() - videos.iconSize().width() - 12
    metrics = videos.fontMetrics()
    assert text_width >= metrics.horizontalAdvance(LONG_NAME[:24]), text_width  # not "trainin…"
    texts = [videos.topLevelItem(i).text(0).splitlines() for i in range(videos.topLevelItemCount())]
    assert texts[0][0] == LONG_NAME and texts[0][2].startswith("train ·")
    assert texts[1][0] == "Train/Train001" and texts[1][2].startswith("auto split ·")
    # the Labels table: every column, Split and Note included, is inside the viewport
    table = window.label_panel.subclips
    assert table.rowCount() == 1
    for c, name in enumerate(table.columns):
        assert table.column_visible_width(c) >= 28, name
    assert table.column_visible_width(table.columns.index("Label")) >= table.sizeHintForColumn(
        table.columns.index("Label"))  # the class name itself is not elided
    assert not table.horizontalScrollBar().isVisible()
    # the transport bar: the size/fps note shows whole or not at all, never a lone "…"
    info = window.player.info_label
    assert info.visible_text() in ("", info.text()) or len(info.visible_text()) > 4
    # transport icons stand out from the dark background
    background = window.player.palette().window().color()
    for button in (window.player.first_button, window.player.play_button, window.player.last_button):
        assert contrast(icon_color(button.icon()), background) >= 4.5, button.toolTip()


def test_fit_label_shows_nothing_rather_than_a_lone_ellipsis(qtbot) -> None:
    from desktop_app.common.fit_label import FitLabel

    label = FitLabel("360x240  10 fps")
    qtbot.addWidget(label)
    label.resize(label.fontMetrics().horizontalAdvance("36…"), 20)
    assert label.visible_text() == ""
    label.resize(label.sizeHint().width() + 10, 20)
    assert label.visible_text() == "360x240  10 fps"
