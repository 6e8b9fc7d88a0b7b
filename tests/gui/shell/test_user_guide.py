"""Help > User Guide opens the guide with the desktop's program for it, or says where the guide is."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QUrl

from desktop_app.common import resource_files
from desktop_app.shell import help as help_menu
from tests.conftest import REPO


def test_help_user_guide_opens_the_guide_of_the_checkout(make_window) -> None:
    window = make_window()
    opened: list[QUrl] = []
    window.state.open_url = lambda url: opened.append(url) or True  # type: ignore[method-assign]
    action = window.actions_by_key["user_guide"]
    help_menu_actions = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help").actions()
    assert action in help_menu_actions
    action.trigger()
    assert len(opened) == 1 and opened[0].isLocalFile()
    guide = Path(opened[0].toLocalFile())
    assert guide == REPO / "docs" / "user-guide.md" and guide.is_file()
    assert guide.read_text(encoding="utf-8").startswith("# Framewatch user guide")


def test_without_a_program_for_markdown_it_says_where_the_guide_is(make_window) -> None:
    window = make_window()
    said: list[str] = []
    window.state.open_url = lambda url: False  # type: ignore[method-assign]
    window.state.ask = lambda title, text, *a: said.append(text)  # type: ignore[method-assign]
    window.actions_by_key["user_guide"].trigger()
    assert len(said) == 1 and str(REPO / "docs" / "user-guide.md") in said[0]


def test_a_copy_without_the_guide_says_where_it_lives(make_window, monkeypatch, tmp_path) -> None:
    window = make_window()
    opened: list[QUrl] = []
    said: list[str] = []
    window.state.open_url = lambda url: opened.append(url) or True  # type: ignore[method-assign]
    window.state.ask = lambda title, text, *a: said.append(text)  # type: ignore[method-assign]
    monkeypatch.setattr(resource_files, "running_from_checkout", lambda: False)
    monkeypatch.setattr(resource_files, "resources_dir", lambda: tmp_path / "framewatch_resources")
    assert resource_files.user_guide() == tmp_path / "framewatch_resources" / "guide" / "user-guide.md"
    monkeypatch.setattr(help_menu, "user_guide", resource_files.user_guide)
    window.actions_by_key["user_guide"].trigger()
    assert opened == [] and len(said) == 1 and "docs/user-guide.md" in said[0]
