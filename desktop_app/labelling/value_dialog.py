"""Ask for a numeric target value (Label > Enter Numeric Value, V)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLineEdit, QWidget


class ValueDialog(QDialog):
    """Ask for a numeric value of a target (range shown, checked by the project on apply)."""

    def __init__(self, targets: list[tuple[str, float, float, str]], parent: QWidget | None = None,
                 current: float | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Numeric Value")
        self.targets = targets
        self.target_box = QComboBox(self)
        for name, lo, hi, unit in targets:
            self.target_box.addItem(f"{name}  [{lo:g}, {hi:g}]{' ' + unit if unit else ''}", name)
        self.edit = QLineEdit("" if current is None else f"{current:g}", self)
        self.edit.setAlignment(Qt.AlignmentFlag.AlignRight)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("Target:", self.target_box)
        form.addRow("Value:", self.edit)
        form.addRow(buttons)
        self.edit.setFocus()

    def value(self) -> tuple[str, float] | None:
        try:
            return self.target_box.currentData(), float(self.edit.text().replace(",", "."))
        except (TypeError, ValueError):
            return None
