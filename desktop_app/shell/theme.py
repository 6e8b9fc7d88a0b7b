"""The look: Fusion style with a dark palette and ``resources/style.qss``."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from desktop_app.common.resource_files import resource

STYLE_SHEET = resource("style.qss")


def dark_palette() -> QPalette:
    p = QPalette()
    role = QPalette.ColorRole
    colors = {
        role.Window: "#22272e", role.WindowText: "#cdd9e5", role.Base: "#15191e", role.AlternateBase: "#1a1f25",
        role.ToolTipBase: "#2d333b", role.ToolTipText: "#e6edf3", role.Text: "#cdd9e5", role.Button: "#2d333b",
        role.ButtonText: "#cdd9e5", role.BrightText: "#ff6b6b", role.Highlight: "#4184e4",
        role.HighlightedText: "#ffffff", role.Link: "#6cb6ff", role.PlaceholderText: "#636e7b", role.Mid: "#545d68",
    }
    for r, c in colors.items():
        p.setColor(r, QColor(c))
    for r in (role.WindowText, role.Text, role.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, r, QColor("#545d68"))
    return p


def apply_theme(app: QApplication) -> None:
    app.setStyle("Fusion")
    app.setPalette(dark_palette())
    if STYLE_SHEET.is_file():
        app.setStyleSheet(STYLE_SHEET.read_text(encoding="utf-8"))
