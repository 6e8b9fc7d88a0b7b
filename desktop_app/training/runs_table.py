"""The project's training runs as a table: name, model, status, epochs, best metric, duration, device.

Rows come from :func:`core.runs.list_runs` (the run folders under ``<project>/runs/``), so a run trained
by ``framewatch train`` shows too, and a run whose process is gone shows as ``interrupted``.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem, QWidget

from core.runs import RunListing, list_runs

COLUMNS = ("Run", "Model", "Status", "Epochs", "Best", "Duration", "Device")
#: Rows the table always has room for (its minimum height), beside its header and a horizontal scroll bar.
MIN_ROWS = 4


def format_seconds(seconds: float) -> str:
    """``42 s``, ``3 min 05 s``, ``2 h 10 min``: durations and ETAs."""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def row_texts(item: RunListing) -> tuple[str, ...]:
    """The cells of one run's row, in :data:`COLUMNS` order."""
    record = item.record
    if record is None:
        return (item.name, "", item.status, "", "", "", item.problem)
    epochs = f"{record.epochs_completed}/{record.config.get('epochs', '?')}"
    best = f"{record.monitor} {record.best_value:.4g}" if record.best_value is not None else ""
    device = str(record.device.get("summary", "")) if record.device else ""
    status = f"{item.status} (read-only)" if item.read_only else item.status
    return (item.name, f"{record.task}/{record.preset}", status, epochs, best, format_seconds(record.duration_s),
            device)


class RunsTable(QTableWidget):
    """One row per run of the project; ``selection_changed(run_dir or None)`` when the selected run changes."""

    selection_changed = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.listings: list[RunListing] = []
        self.setHorizontalHeaderLabels(COLUMNS)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.verticalHeader().hide()
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.itemSelectionChanged.connect(lambda: self.selection_changed.emit(self.selected_run()))

    def minimumSizeHint(self):  # noqa: N802 - Qt override
        hint = super().minimumSizeHint()
        hint.setHeight(self.horizontalHeader().sizeHint().height() + MIN_ROWS * self.verticalHeader().defaultSectionSize()
                       + self.horizontalScrollBar().sizeHint().height() + 2 * self.frameWidth())
        return hint

    def refresh(self, project_folder: Path | None) -> None:
        """Reread the runs of ``project_folder`` (none: empty), keeping the selected run selected."""
        selected = self.selected_run()
        self.listings = list_runs(project_folder) if project_folder is not None else []
        self.blockSignals(True)
        self.setRowCount(len(self.listings))
        for row, item in enumerate(self.listings):
            for column, text in enumerate(row_texts(item)):
                cell = QTableWidgetItem(text)
                cell.setToolTip(item.record.error if item.record is not None and item.record.error else text)
                if column in (3, 5):
                    cell.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.setItem(row, column, cell)
        self.blockSignals(False)
        if selected is not None:
            self.select_run(selected)
        self.selection_changed.emit(self.selected_run())

    def row_of(self, run_dir: Path) -> int | None:
        for row, item in enumerate(self.listings):
            if item.run_dir == Path(run_dir):
                return row
        return None

    def select_run(self, run_dir: Path) -> bool:
        row = self.row_of(run_dir)
        if row is None:
            return False
        self.selectRow(row)
        return True

    def selected_listing(self) -> RunListing | None:
        rows = self.selectionModel().selectedRows()
        if not rows or rows[0].row() >= len(self.listings):
            return None
        return self.listings[rows[0].row()]

    def selected_run(self) -> Path | None:
        item = self.selected_listing()
        return item.run_dir if item is not None else None

    def status_of(self, run_dir: Path) -> str | None:
        row = self.row_of(run_dir)
        return self.listings[row].status if row is not None else None
