"""The label schema editor: classes (name, colour, key, description) and numeric targets.

Every change is a project command, so Ctrl+Z in the main window takes it back. Bad input (a key used
twice, a duplicate name, a range with min >= max) is refused by the project with a message.
"""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Qt
from PySide6.QtGui import QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QColorDialog,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.errors import FramewatchError
from core.project import Project
from core.project.errors import ProjectValidationError
from desktop_app.common.actions import ACTIONS
from desktop_app.jobs import show_error
from desktop_app.labelling.label_panel import swatch


def reserved_keys() -> dict[str, str]:
    """Single keys (no modifier) that app actions use, upper-cased, with the action's name."""
    return {k.upper(): s.text.replace("&", "").rstrip(".") for s in ACTIONS for k in s.shortcuts if len(k) == 1}


class SchemaEditor(QDialog):
    """Edit ``project``'s label schema in place (each edit undoable)."""

    CLASS_COLUMNS = ("Name", "Colour", "Key", "Description", "Subclips")
    TARGET_COLUMNS = ("Name", "Minimum", "Maximum", "Unit", "Subclips")

    def __init__(self, project: Project, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.project = project
        self.setWindowTitle("Label Schema")
        self.resize(640, 520)
        self.classes = self._table(self.CLASS_COLUMNS)
        self.targets = self._table(self.TARGET_COLUMNS)
        self.classes.itemChanged.connect(self._class_edited)
        self.classes.cellDoubleClicked.connect(self._maybe_pick_color)
        self.targets.itemChanged.connect(self._target_edited)
        add_class = QPushButton("Add Class", self)
        add_class.clicked.connect(self.add_class)
        remove_class = QPushButton("Remove Class", self)
        remove_class.clicked.connect(self.remove_selected_class)
        color = QPushButton("Colour...", self)
        color.clicked.connect(lambda: self._maybe_pick_color(self.classes.currentRow(), 1))
        add_target = QPushButton("Add Numeric Target", self)
        add_target.clicked.connect(self.add_target)
        remove_target = QPushButton("Remove Target", self)
        remove_target.clicked.connect(self.remove_selected_target)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        close.rejected.connect(self.reject)
        # The main window's Undo/Redo keys do not reach a modal dialog: the editor has its own.
        for keys, fn in ((("Ctrl+Z",), project.undo), (("Ctrl+Shift+Z", "Ctrl+Y"), project.redo)):
            for k in keys:
                QShortcut(QKeySequence(k), self, activated=lambda fn=fn: self._apply(fn))

        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("<b>Classes</b> — double-click a cell to edit; the key labels footage in one press; "
                                "Ctrl+Z undoes", self))
        layout.addWidget(self.classes, 2)
        row = QHBoxLayout()
        for b in (add_class, color, remove_class):
            row.addWidget(b)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addWidget(QLabel("<b>Numeric targets</b> — values typed with V (e.g. a rating)", self))
        layout.addWidget(self.targets, 1)
        row = QHBoxLayout()
        for b in (add_target, remove_target):
            row.addWidget(b)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addWidget(close)
        self.refresh()

    def _table(self, columns: tuple[str, ...]) -> QTableWidget:
        table = QTableWidget(0, len(columns), self)
        table.setHorizontalHeaderLabels(list(columns))
        table.verticalHeader().setVisible(False)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        table.horizontalHeader().setStretchLastSection(True)
        return table

    # -- view -------------------------------------------------------------------------------------
    def refresh(self) -> None:
        p = self.project
        used: dict[str, int] = {}
        by_target: dict[str, int] = {}
        for s in p.subclips.values():
            if s.label:
                used[s.label] = used.get(s.label, 0) + 1
            if s.target:
                by_target[s.target] = by_target.get(s.target, 0) + 1
        with QSignalBlocker(self.classes):
            self.classes.setRowCount(len(p.classes))
            for r, cls in enumerate(p.classes.values()):
                color = QTableWidgetItem(cls.color)
                color.setIcon(swatch(cls.color, 14))
                color.setFlags(color.flags() & ~Qt.ItemFlag.ItemIsEditable)
                color.setToolTip("Double-click to choose a colour")
                count = QTableWidgetItem(str(used.get(cls.name, 0)))
                count.setFlags(count.flags() & ~Qt.ItemFlag.ItemIsEditable)
                for c, item in enumerate((QTableWidgetItem(cls.name), color, QTableWidgetItem(cls.shortcut),
                                          QTableWidgetItem(cls.description), count)):
                    item.setData(Qt.ItemDataRole.UserRole, cls.name)
                    self.classes.setItem(r, c, item)
        with QSignalBlocker(self.targets):
            self.targets.setRowCount(len(p.targets))
            for r, t in enumerate(p.targets.values()):
                count = QTableWidgetItem(str(by_target.get(t.name, 0)))
                count.setFlags(count.flags() & ~Qt.ItemFlag.ItemIsEditable)
                name = QTableWidgetItem(t.name)
                name.setFlags(name.flags() & ~Qt.ItemFlag.ItemIsEditable)
                for c, item in enumerate((name, QTableWidgetItem(f"{t.minimum:g}"), QTableWidgetItem(f"{t.maximum:g}"),
                                          QTableWidgetItem(t.unit), count)):
                    item.setData(Qt.ItemDataRole.UserRole, t.name)
                    self.targets.setItem(r, c, item)

    def _apply(self, fn, *args, **kwargs) -> bool:
        try:
            fn(*args, **kwargs)
        except FramewatchError as exc:
            show_error(self, exc, "Label schema")
            self.refresh()
            return False
        self.refresh()
        return True

    # -- classes ----------------------------------------------------------------------------------
    def add_class(self, name: str | None = None) -> bool:
        existing = set(self.project.classes)
        n = len(existing) + 1
        name = name or next(f"class {k}" for k in range(n, n + 1000) if f"class {k}" not in existing)
        used = {c.shortcut for c in self.project.classes.values()}
        key = next((k for k in "123456789" if k not in used), "")
        return self._apply(self.project.add_class, name, shortcut=key)

    def remove_selected_class(self) -> bool:
        item = self.classes.item(self.classes.currentRow(), 0)
        if item is None:
            return False
        return self._apply(self.project.remove_class, item.data(Qt.ItemDataRole.UserRole), unlabel=True)

    def _class_edited(self, item: QTableWidgetItem) -> None:
        name = item.data(Qt.ItemDataRole.UserRole)
        column = self.CLASS_COLUMNS[item.column()]
        text = item.text().strip()
        if column == "Name" and text != name:
            self._apply(self.project.rename_class, name, text)
        elif column == "Key":
            self._apply(self.set_class_key, name, text)
        elif column == "Description":
            self._apply(self.project.update_class, name, description=text)

    def set_class_key(self, name: str, key: str) -> None:
        """Give a class its one-key shortcut; keys the app's own actions use are refused."""
        reserved = reserved_keys()
        if key and key.upper() in reserved:
            raise ProjectValidationError(
                f"key {key!r} is taken by '{reserved[key.upper()]}'; free keys include 1-9 and most letters")
        self.project.update_class(name, shortcut=key)

    def set_class_color(self, name: str, color: str) -> bool:
        return self._apply(self.project.update_class, name, color=color)

    def _maybe_pick_color(self, row: int, column: int) -> None:
        item = self.classes.item(row, 0)
        if item is None or column != 1:
            return
        name = item.data(Qt.ItemDataRole.UserRole)
        color = QColorDialog.getColor(QColor(self.project.classes[name].color), self, f"Colour of {name}")
        if color.isValid():
            self.set_class_color(name, color.name())

    # -- targets ----------------------------------------------------------------------------------
    def add_target(self, name: str | None = None, minimum: float = 0.0, maximum: float = 10.0) -> bool:
        existing = set(self.project.targets)
        name = name or next(f"rating {k}" if k else "rating" for k in range(1000)
                            if (f"rating {k}" if k else "rating") not in existing)
        return self._apply(self.project.add_target, name, minimum, maximum)

    def remove_selected_target(self) -> bool:
        item = self.targets.item(self.targets.currentRow(), 0)
        if item is None:
            return False
        return self._apply(self.project.remove_target, item.data(Qt.ItemDataRole.UserRole))

    def _target_edited(self, item: QTableWidgetItem) -> None:
        name = item.data(Qt.ItemDataRole.UserRole)
        column = self.TARGET_COLUMNS[item.column()]

        def edit() -> None:
            if column == "Unit":
                self.project.update_target(name, unit=item.text().strip())
                return
            try:
                value = float(item.text().replace(",", "."))
            except ValueError:
                raise ProjectValidationError(f"{column.lower()} of {name!r} must be a number, not {item.text()!r}") from None
            self.project.update_target(name, **{"minimum" if column == "Minimum" else "maximum": value})

        self._apply(edit)
