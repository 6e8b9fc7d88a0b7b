"""The labelling panel: the class picker, the In/Out span, and tables of subclips and anomaly intervals.

The panel only shows and reports: edits go out as signals and the main window turns them into project
commands (so every edit is undoable). Tables show frames as the analyst sees them, first and last frame
included; the project stores ``[start, end)``.
"""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtGui import QAction, QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QGridLayout,
    QHeaderView,
    QLabel,
    QSizePolicy,
    QStyledItemDelegate,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from core.project import SPLITS, AnomalyInterval, LabelClass, Subclip

ID_ROLE = Qt.ItemDataRole.UserRole


def swatch(color: str, size: int = 12) -> QIcon:
    pixmap = QPixmap(size, size)
    pixmap.fill(QColor(color))
    return QIcon(pixmap)


class _ChoiceDelegate(QStyledItemDelegate):
    """A combo box editor offering ``choices()`` (the first may be "" for none)."""

    def __init__(self, choices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.choices = choices

    def createEditor(self, parent, option, index):  # noqa: N802 - Qt override
        box = QComboBox(parent)
        for text in self.choices():
            box.addItem(text or "(none)", text)
        return box

    def setEditorData(self, editor, index):  # noqa: N802 - Qt override
        i = editor.findData(index.data() or "")
        editor.setCurrentIndex(max(0, i))

    def setModelData(self, editor, model, index):  # noqa: N802 - Qt override
        model.setData(index, editor.currentData())


def _item(text: str, key: str | None = None, editable: bool = True, align_right: bool = False) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    if key is not None:
        item.setData(ID_ROLE, key)
    flags = item.flags()
    item.setFlags(flags | Qt.ItemFlag.ItemIsEditable if editable else flags & ~Qt.ItemFlag.ItemIsEditable)
    if align_right:
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return item


class _EntityTable(QTableWidget):
    """Rows of entities; reports selection and cell edits by entity id.

    Every column stays in sight (no horizontal scroll bar hides the last ones in a narrow dock): each
    gets the width its contents ask for while they fit; when they do not, the :attr:`FLEXIBLE` columns
    (free text) give up width first, in order, each down to its minimum; then headers wider than their
    cells (their titles are elided before any cell is), then all columns, evenly.
    """

    FLEXIBLE: tuple[tuple[str, int], ...] = ()  # (column, narrowest width in pixels)
    MIN_COLUMN_W = 28
    TIPS = {"Len": "Frames in the range, first and last included"}

    selected = Signal(str)  # entity id ("" when cleared)
    activated = Signal(str)  # double-click: jump to it
    edited = Signal(str, str, str)  # id, column name, new text

    def __init__(self, columns: tuple[str, ...], parent: QWidget | None = None) -> None:
        super().__init__(0, len(columns), parent)
        self.columns = columns
        self.setHorizontalHeaderLabels(list(columns))
        for c, name in enumerate(columns):
            if name in self.TIPS:
                self.horizontalHeaderItem(c).setToolTip(self.TIPS[name])
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(22)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked | QAbstractItemView.EditTrigger.EditKeyPressed)
        self.setAlternatingRowColors(True)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        header.setMinimumSectionSize(self.MIN_COLUMN_W)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._filling = False
        self.itemSelectionChanged.connect(self._on_selection)
        self.itemChanged.connect(self._on_changed)
        self.cellDoubleClicked.connect(lambda r, _c: self.activated.emit(self.row_id(r)))

    def fit_columns(self) -> None:
        """Give the columns widths that add up to the visible width at most; see the class docstring."""
        header = self.horizontalHeader()
        n = self.columnCount()
        wants = [max(self.sizeHintForColumn(c), header.sectionSizeHint(c)) for c in range(n)]
        avail = self.viewport().width()
        over = sum(wants) - avail
        for name, narrowest in self.FLEXIBLE:
            if over <= 0:
                break
            c = self.columns.index(name)
            give = min(over, max(0, wants[c] - narrowest))
            wants[c] -= give
            over -= give
        for c in sorted(range(n), key=lambda c: self.sizeHintForColumn(c) - wants[c]):
            if over <= 0:
                break
            give = min(over, max(0, wants[c] - max(self.MIN_COLUMN_W, self.sizeHintForColumn(c))))
            wants[c] -= give
            over -= give
        if over > 0:
            scale = avail / sum(wants)
            wants = [max(self.MIN_COLUMN_W, int(w * scale)) for w in wants]
        for c, width in enumerate(wants):
            header.resizeSection(c, width)

    def column_visible_width(self, column: int) -> int:
        """How many pixels of ``column`` are inside the viewport (tests read this)."""
        x = self.columnViewportPosition(column)
        return max(0, min(self.viewport().width(), x + self.columnWidth(column)) - max(0, x))

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self.fit_columns()

    def row_id(self, row: int) -> str:
        item = self.item(row, 0)
        return "" if item is None else item.data(ID_ROLE)

    def ids(self) -> list[str]:
        return [self.row_id(r) for r in range(self.rowCount())]

    def select_id(self, key: str | None) -> None:
        with QSignalBlocker(self):
            self.clearSelection()
            for r in range(self.rowCount()):
                if self.row_id(r) == key:
                    self.selectRow(r)
                    self.scrollToItem(self.item(r, 0))
                    break

    def fill(self, rows: list[tuple[str, list[QTableWidgetItem]]]) -> None:
        self._filling = True
        selected = self.selected_id()
        try:
            with QSignalBlocker(self):
                self.setRowCount(len(rows))
                for r, (key, items) in enumerate(rows):
                    for c, item in enumerate(items):
                        if c == 0:
                            item.setData(ID_ROLE, key)
                        self.setItem(r, c, item)
        finally:
            self._filling = False
        self.fit_columns()
        self.select_id(selected)

    def selected_id(self) -> str | None:
        rows = {i.row() for i in self.selectedItems()}
        return self.row_id(min(rows)) if rows else None

    def _on_selection(self) -> None:
        self.selected.emit(self.selected_id() or "")

    def _on_changed(self, item: QTableWidgetItem) -> None:
        if not self._filling:
            self.edited.emit(self.row_id(item.row()), self.columns[item.column()], item.text())


class SubclipTable(_EntityTable):
    COLUMNS = ("First", "Last", "Len", "Label", "Value", "Split", "Note")
    FLEXIBLE = (("Note", 40), ("Label", 60))

    def __init__(self, classes, parent: QWidget | None = None) -> None:
        super().__init__(self.COLUMNS, parent)
        self.setItemDelegateForColumn(3, _ChoiceDelegate(lambda: ["", *classes()], self))
        self.setItemDelegateForColumn(5, _ChoiceDelegate(lambda: ["", *SPLITS], self))

    def set_subclips(self, clips: list[Subclip], classes: dict[str, LabelClass]) -> None:
        rows = []
        for s in sorted(clips, key=lambda s: (s.start, s.end)):
            label = _item(s.label or "")
            if s.label in classes:
                label.setIcon(swatch(classes[s.label].color))
            value = "" if s.value is None else f"{s.value:g}"
            rows.append((s.id, [
                _item(str(s.start), align_right=True), _item(str(s.end - 1), align_right=True),
                _item(str(s.length), editable=False, align_right=True), label,
                _item(value, align_right=True), _item(s.split or ""), _item(s.note),
            ]))
        self.fill(rows)


class IntervalTable(_EntityTable):
    COLUMNS = ("First", "Last", "Len", "Source", "Note")
    FLEXIBLE = (("Note", 40), ("Source", 56))

    def set_intervals(self, intervals: list[AnomalyInterval]) -> None:
        rows = [(iv.id, [
            _item(str(iv.start), align_right=True), _item(str(iv.end - 1), align_right=True),
            _item(str(iv.end - iv.start), editable=False, align_right=True), _item(iv.source, editable=False),
            _item(iv.note, editable=False),
        ]) for iv in intervals]
        self.fill(rows)


class LabelPanel(QWidget):
    """Class picker, In/Out span, actions and the two tables; see the module docstring."""

    class_chosen = Signal(str)

    def __init__(self, actions: dict[str, QAction], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._classes: dict[str, LabelClass] = {}
        self.current_class: str | None = None
        self.class_box = QWidget(self)
        self.class_layout = QGridLayout(self.class_box)
        self.class_layout.setContentsMargins(0, 0, 0, 0)
        self.class_layout.setSpacing(4)
        self._class_buttons: dict[str, QToolButton] = {}
        # With an empty schema the class row would be blank: say how to add classes instead.
        self.no_classes = QToolButton(self.class_box)
        self.no_classes.setObjectName("noClassesHint")
        self.no_classes.setText("No classes yet: add some (Ctrl+L)")
        self.no_classes.setToolTip("Edit > Label Schema: classes with their one-key shortcuts")
        self.no_classes.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.no_classes.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.no_classes.clicked.connect(actions["edit_schema"].trigger)
        actions["edit_schema"].changed.connect(lambda: self.no_classes.setEnabled(actions["edit_schema"].isEnabled()))
        self.no_classes.setEnabled(actions["edit_schema"].isEnabled())
        self.class_layout.addWidget(self.no_classes, 0, 0, 1, 3)
        self.span_label = QLabel("In: -   Out: -", self)
        self.span_label.setObjectName("spanLabel")
        self.span_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons = QGridLayout()
        buttons.setSpacing(4)
        self.action_buttons: dict[str, QToolButton] = {}
        for n, (key, text) in enumerate((("set_in", "In  [I]"), ("set_out", "Out  [O]"), ("create_subclip", "Subclip  [Enter]"),
                          ("mark_anomaly", "Anomaly  [A]"), ("enter_value", "Value  [V]"),
                          ("mark_normal", "Normal  [Shift+N]"))):
            action = actions[key]
            b = QToolButton(self)
            b.setText(text)
            b.setToolTip(action.toolTip())
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            b.clicked.connect(action.trigger)
            action.changed.connect(lambda b=b, a=action: b.setEnabled(a.isEnabled()))
            b.setEnabled(action.isEnabled())
            b.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            buttons.addWidget(b, n // 3, n % 3)
            self.action_buttons[key] = b
        self.subclips = SubclipTable(lambda: list(self._classes), self)
        self.intervals = IntervalTable(IntervalTable.COLUMNS, self)
        self.tabs = QTabWidget(self)
        self.tabs.addTab(self.subclips, "Subclips")
        self.tabs.addTab(self.intervals, "Anomaly intervals")
        title = QLabel("Class (press its key)", self)
        title.setObjectName("sectionTitle")
        self.setMinimumWidth(300)  # the dock opens wider; this lets 1280-wide screens fit
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(title)
        layout.addWidget(self.class_box)
        layout.addSpacing(6)
        layout.addWidget(self.span_label)
        layout.addLayout(buttons)
        layout.addWidget(self.tabs, 1)

    def set_classes(self, classes: dict[str, LabelClass]) -> None:
        gone, added = set(self._classes) - set(classes), set(classes) - set(self._classes)
        if self.current_class in gone and len(gone) == len(added) == 1:
            self.current_class = added.pop()  # the current class was renamed: it stays current
        self._classes = dict(classes)
        for b in self._class_buttons.values():
            b.deleteLater()
        self._class_buttons.clear()
        for i, cls in enumerate(classes.values()):
            b = QToolButton(self.class_box)
            b.setCheckable(True)
            b.setAutoExclusive(False)
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            b.setIcon(swatch(cls.color, 14))
            b.setText(f"{cls.shortcut}  {cls.name}" if cls.shortcut else cls.name)
            b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            b.setToolTip(cls.description or cls.name)
            b.clicked.connect(lambda _c=False, name=cls.name: self.class_chosen.emit(name))
            self.class_layout.addWidget(b, i // 3, i % 3)
            self._class_buttons[cls.name] = b
        self.no_classes.setVisible(not classes)
        if self.current_class not in classes:
            self.current_class = next(iter(classes), None)
        self.set_current_class(self.current_class)

    def set_current_class(self, name: str | None) -> None:
        self.current_class = name
        for n, b in self._class_buttons.items():
            b.setChecked(n == name)

    def set_span(self, in_point: int | None, out_end: int | None) -> None:
        a = "-" if in_point is None else str(in_point)
        b = "-" if out_end is None else str(out_end - 1)
        n = f"   ({out_end - in_point} frames)" if in_point is not None and out_end is not None else ""
        self.span_label.setText(f"In: {a}   Out: {b}{n}")
