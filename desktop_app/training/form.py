"""The training panel's options: task, preset, hyperparameters, the data and the device.

:meth:`TrainingForm.request` turns what is on screen into a :class:`~core.training.request.TrainingRequest`
(:meth:`TrainingForm.resume_request` into a :class:`~core.training.request.ResumeRequest`), the request
``framewatch train`` makes of its options: a value out of range raises the request's one-line
:class:`~core.training.errors.ConfigError`, word for word what the command says of the same value. A box
left at its "preset's" value (0 or empty) means the preset's own value. Text a box cannot be read as (a
learning rate that is not a number, filters that are not whole numbers) raises ``ConfigError`` naming the box.
"""

from __future__ import annotations

import itertools
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from core.models.registry import DEFAULT_PRESET, presets
from core.tasks import TASKS
from core.training.errors import ConfigError
from core.training.frame_size import MAX_SCALE, MIN_SCALE
from core.training.options import MAX_COUNT, MAX_FRAME_SIZE, MAX_FRAMES, MAX_THREADS
from core.training.request import SIGNAL_TASKS, ResumeRequest, TrainingRequest

#: The batch size the form starts with on a CPU, and once a GPU is found.
CPU_BATCH, GPU_BATCH = 8, 32
#: CPU cores a run started from the app leaves free, for the window.
RESERVED_CORES = 1
#: The most height (pixels) the video list takes; a short list takes only its rows' height.
VIDEO_LIST_HEIGHT = 110
#: The width (pixels) of one column of option groups (:meth:`TrainingForm.fit_columns`).
COLUMN_WIDTH = 280


def balanced_columns(heights: list[int], count: int) -> list[list[int]]:
    """Indices of ``heights`` cut, in order, into ``count`` runs (1 <= count <= len(heights)) whose
    largest sum is the smallest possible: the items' places in columns of even height."""
    best: tuple[int, list[list[int]]] | None = None
    indices = list(range(len(heights)))
    for cuts in itertools.combinations(range(1, len(heights)), count - 1):
        bounds = (0, *cuts, len(heights))
        parts = [indices[a:b] for a, b in itertools.pairwise(bounds)]
        tallest = max(sum(heights[i] for i in part) for part in parts)
        if best is None or tallest < best[0]:
            best = (tallest, parts)
    return best[1]


def _spin(low: int, high: int, value: int, special: str = "") -> QSpinBox:
    box = QSpinBox()
    box.setRange(low, high)
    box.setValue(value)
    if special:
        box.setSpecialValueText(special)
    return box


class TrainingForm(QWidget):
    """The option boxes; ``changed()`` when any of them changes."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.gpu = False
        # model
        self.task = QComboBox()
        self.task.addItems(TASKS)
        self.task.setCurrentText("anomaly")
        self.preset = QComboBox()
        self.preset_text = QLabel()
        self.preset_text.setWordWrap(True)
        self.filters = QLineEdit()
        self.filters.setPlaceholderText("preset's (e.g. 16,16)")
        # data
        self.videos = QListWidget()
        self.videos.setMaximumHeight(VIDEO_LIST_HEIGHT)
        self.frames = _spin(0, MAX_FRAMES, 0, "preset's")
        self.frame_height = _spin(0, MAX_FRAME_SIZE, 0, "auto")
        self.frame_width = _spin(0, MAX_FRAME_SIZE, 0, "auto")
        for box, what in ((self.frame_height, "height"), (self.frame_width, "width")):
            box.setSuffix(" px")
            box.setToolTip(f"Frame {what} in pixels (\"auto\": a predict or anomaly run keeps the training videos' "
                           "aspect ratio at about the preset's pixel count, other runs the preset's size; one of "
                           "the two set: square frames)")
        self.frame_scale = QDoubleSpinBox()
        self.frame_scale.setRange(MIN_SCALE, MAX_SCALE)
        self.frame_scale.setDecimals(2)
        self.frame_scale.setSingleStep(0.25)
        self.frame_scale.setValue(1.0)
        self.frame_scale.setPrefix("x ")
        self.frame_scale.setToolTip("Multiply both sides of the frame size by this (e.g. 1.5 for small or fast "
                                    "movers; training and scoring take longer in proportion to the pixels)")
        self.frame_size_text = QLabel()
        self.frame_size_text.setWordWrap(True)
        self.frame_size = QWidget()
        size_rows = QVBoxLayout(self.frame_size)
        size_rows.setContentsMargins(0, 0, 0, 0)
        size_row = QHBoxLayout()
        size_row.addWidget(self.frame_height, 1)
        size_row.addWidget(QLabel("x"))
        size_row.addWidget(self.frame_width, 1)
        size_row.addWidget(self.frame_scale, 1)
        size_rows.addLayout(size_row)
        size_rows.addWidget(self.frame_size_text)
        self.grayscale = QComboBox()
        self.grayscale.addItems(["preset's", "gray", "color"])
        self.signal = QComboBox()
        self.signal.addItem("the frames", "frames")
        self.signal.addItem("optical-flow speed", "speed")
        self.signal.setToolTip("What a classify or regress model sees of each frame: the frame itself, or how fast "
                               "each part of it moved since the frame before (its optical-flow speed map, one "
                               "channel), so it learns motion rather than looks")
        self.val_fraction = QDoubleSpinBox()
        self.val_fraction.setRange(0.0, 0.9)
        self.val_fraction.setSingleStep(0.05)
        self.val_fraction.setValue(0.2)
        # training
        self.epochs = _spin(1, MAX_COUNT, TrainingRequest.__dataclass_fields__["epochs"].default)
        self.batch_size = _spin(1, MAX_COUNT, CPU_BATCH)
        self.learning_rate = QLineEdit()
        self.learning_rate.setPlaceholderText("preset's")
        self.steps = _spin(0, MAX_COUNT, 0, "whole set")
        self.patience = _spin(0, MAX_COUNT, TrainingRequest.__dataclass_fields__["patience"].default, "off")
        self.run_name = QLineEdit()
        self.run_name.setPlaceholderText("date-time-task-preset")
        # device
        self.device_text = QLabel("looking for devices...")
        self.device_text.setWordWrap(True)
        self.device = QComboBox()
        self.device.setToolTip("Where the model trains: the backend's choice (its first GPU if it sees one), "
                               "the CPU (leaving a GPU free), or one GPU")
        self.threads = _spin(1, MAX_THREADS, 1)
        self.mixed_precision = QCheckBox("mixed precision (GPU only)")
        self.mixed_precision.setEnabled(False)
        self._fill_devices(())

        self.groups: list[QGroupBox] = []
        for title, rows in (
            ("Model", [("Task", self.task), ("Preset", self.preset), ("Filters", self.filters), ("", self.preset_text)]),
            ("Data", [("Videos", self.videos), ("Clip length", self.frames), ("Frame size (H x W, scale)", self.frame_size),
                      ("Colour", self.grayscale), ("Model sees", self.signal),
                      ("Validation share", self.val_fraction)]),
            ("Training", [("Epochs", self.epochs), ("Batch size", self.batch_size),
                          ("Learning rate", self.learning_rate), ("Steps per epoch", self.steps),
                          ("Early-stop patience", self.patience), ("Run name", self.run_name)]),
            ("Device", [("Backend sees", self.device_text), ("Train on", self.device), ("CPU threads", self.threads),
                        ("", self.mixed_precision)]),
        ):
            group = QGroupBox(title)
            form = QFormLayout(group)
            form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)  # labels above boxes when narrow
            for label, widget in rows:
                form.addRow(label, widget)
            self.groups.append(group)
        self.columns = 0
        self._columns = QHBoxLayout(self)
        self._columns.setContentsMargins(0, 0, 0, 0)
        self.set_columns(1)
        self.task.currentTextChanged.connect(self._fill_presets)
        self.signal.currentIndexChanged.connect(self._signal_allowed)
        self.preset.currentTextChanged.connect(self._describe_preset)
        self._fill_presets(self.task.currentText())
        self.device.currentIndexChanged.connect(self._device_chosen)
        for box in (self.frames, self.frame_height, self.frame_width, self.epochs, self.batch_size, self.steps, self.patience, self.threads):
            box.valueChanged.connect(self.changed)
        self.val_fraction.valueChanged.connect(self.changed)
        self.frame_scale.valueChanged.connect(self.changed)
        self.preset.currentTextChanged.connect(self.changed)

    # -- layout ---------------------------------------------------------------------------------
    def fit_columns(self, width: int) -> None:
        """As many columns as ``width`` pixels hold at :data:`COLUMN_WIDTH` each (1 to 4)."""
        self.set_columns(width // COLUMN_WIDTH)

    def set_columns(self, count: int) -> None:
        """Lay the option groups (Model, Data, Training, Device) out in ``count`` columns (1 to 4), in
        reading order and as even in height as that order allows: in a wide, low dock (a laptop screen,
        where the video keeps half the height) every box shows at once instead of a few in a scroll box."""
        count = max(1, min(int(count), len(self.groups)))
        if count == self.columns:
            return
        while self._columns.count():
            column = self._columns.takeAt(0).layout()
            while column.count():
                column.takeAt(0)
            column.deleteLater()
        for part in balanced_columns([group.sizeHint().height() for group in self.groups], count):
            column = QVBoxLayout()
            for index in part:
                column.addWidget(self.groups[index])
            column.addStretch(1)
            self._columns.addLayout(column, 1)
        self.columns = count

    def _preset_signal(self) -> None:
        """"Model sees" starts at what the chosen preset is made for (the ``speed`` preset: speed maps)."""
        name = self.preset.currentData()
        wanted = presets(self.task.currentText())[name].signal if name else "frames"
        self.signal.setCurrentIndex(max(0, self.signal.findData(wanted)))
        self._signal_allowed()

    def _signal_allowed(self, *_: object) -> None:
        """"Model sees" is a choice for the tasks that may learn from speed maps; speed maps are gray."""
        allowed = self.task.currentText() in SIGNAL_TASKS
        if not allowed:
            self.signal.setCurrentIndex(0)
        self.signal.setEnabled(allowed)
        self.grayscale.setEnabled(self.signal.currentData() != "speed")
        self.changed.emit()

    # -- presets and devices --------------------------------------------------------------------
    def _fill_presets(self, task: str) -> None:
        self.preset.blockSignals(True)
        self.preset.clear()
        for name, preset in presets(task).items():
            self.preset.addItem(name + (" [reference]" if preset.reference else ""), name)
        self.preset.setCurrentIndex(max(0, self.preset.findData(DEFAULT_PRESET[task])))
        self.preset.blockSignals(False)
        self._describe_preset()

    def _describe_preset(self, *_: object) -> None:
        name = self.preset.currentData()
        if not name:
            return
        self._preset_signal()
        preset = presets(self.task.currentText())[name]
        spec = preset.spec
        if spec.family == "motion":  # no clips: the flow of consecutive frames at a share of the video's size
            self.preset_text.setText(f"pairs of gray frames at {spec.scale:g} of the video's size: "
                                     f"{preset.description}")
            return
        self.preset_text.setText(f"{spec.frames} frames of {spec.height}x{spec.width}x{spec.channels}: "
                                 f"{preset.description}")

    def set_devices(self, summary: str, gpu: bool, threads: int, gpus: tuple[str, ...] = ()) -> None:
        """Show what the backend sees and set the defaults that suit it: CPU threads (all cores but one),
        and on a GPU a larger batch (unless the batch box was changed) and mixed precision on offer;
        ``gpus`` (their names) fill the "Train on" choices."""
        self.gpu = gpu
        self.device_text.setText(summary)
        self._fill_devices(gpus)
        self.threads.setValue(threads)
        if gpu and self.batch_size.value() == CPU_BATCH:
            self.batch_size.setValue(GPU_BATCH)

    def _fill_devices(self, gpus: tuple[str, ...]) -> None:
        self.device.blockSignals(True)
        self.device.clear()
        self.device.addItem("automatic (" + ("first GPU" if gpus else "CPU") + ")", "auto")
        self.device.addItem("CPU", "cpu")
        for index, name in enumerate(gpus):
            self.device.addItem(f"GPU {index}: {name}", f"gpu:{index}")
        self.device.blockSignals(False)
        self._device_chosen()

    def _device_chosen(self, *_: object) -> None:
        on_gpu = self.gpu and self.device.currentData() != "cpu"
        self.mixed_precision.setEnabled(on_gpu)
        if not on_gpu:
            self.mixed_precision.setChecked(False)
        self.changed.emit()

    # -- data -------------------------------------------------------------------------------------
    def set_videos(self, videos: list[tuple[str, str, str]]) -> None:
        """``(id, name, split)`` per project video, each checked (train on it) unless it was unchecked before."""
        unchecked = {self.videos.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.videos.count())
                     if self.videos.item(i).checkState() != Qt.CheckState.Checked}
        self.videos.clear()
        for ident, name, split in videos:
            item = QListWidgetItem(f"{name}  ({split})")
            item.setData(Qt.ItemDataRole.UserRole, ident)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked if ident in unchecked else Qt.CheckState.Checked)
            self.videos.addItem(item)
        row = self.videos.sizeHintForRow(0) if self.videos.count() else self.videos.fontMetrics().height() + 4
        self.videos.setMaximumHeight(min(VIDEO_LIST_HEIGHT, max(2, self.videos.count()) * row
                                         + 2 * self.videos.frameWidth()))

    def chosen_videos(self) -> tuple[str, ...] | None:
        """Ids of the checked videos; ``None`` when all are checked (train on the whole project)."""
        items = [self.videos.item(i) for i in range(self.videos.count())]
        chosen = tuple(i.data(Qt.ItemDataRole.UserRole) for i in items if i.checkState() == Qt.CheckState.Checked)
        return None if len(chosen) == len(items) else chosen

    # -- the request ------------------------------------------------------------------------------
    def learning_rate_value(self) -> float | None:
        """The Learning rate box as a number (``None`` when empty: the preset's); its range is the request's."""
        text = self.learning_rate.text().strip()
        if not text:
            return None
        try:
            return float(text)
        except ValueError:
            raise ConfigError(f"Learning rate: {text!r} is not a number (e.g. 0.001, or empty for the preset's)") from None

    def filters_value(self) -> tuple[int, ...] | None:
        """The Filters box as whole numbers (``None`` when empty: the preset's); their range is the request's."""
        text = self.filters.text().strip()
        if not text:
            return None
        try:
            return tuple(int(v) for v in text.replace(" ", "").split(",") if v)
        except ValueError:
            raise ConfigError(f"Filters: {text!r} is not a list of whole numbers (e.g. 16,16)") from None

    def request(self) -> TrainingRequest:
        """The new run the form asks for; :class:`ConfigError` (one line) for a value out of range."""
        signal = str(self.signal.currentData() or "frames")
        gray = None if signal == "speed" else {"gray": True, "color": False}.get(self.grayscale.currentText())
        return TrainingRequest(
            task=self.task.currentText(), preset=str(self.preset.currentData()), epochs=self.epochs.value(),
            batch_size=self.batch_size.value(), learning_rate=self.learning_rate_value(),
            frames=self.frames.value() or None, height=(self.frame_height.value() or self.frame_width.value()) or None,
            width=(self.frame_width.value() or self.frame_height.value()) or None, grayscale=gray,
            scale=None if self.frame_scale.value() == 1 else self.frame_scale.value(),
            filters=self.filters_value(), videos=self.chosen_videos(), val_fraction=self.val_fraction.value(),
            steps_per_epoch=self.steps.value() or None, patience=self.patience.value(),
            cpu_threads=self.threads.value(), reserve_cores=RESERVED_CORES,
            mixed_precision=self.mixed_precision.isChecked(), run_name=self.run_name.text().strip() or None,
            device=str(self.device.currentData() or "auto"), signal=signal,
        )

    def resume_request(self, run_dir: Path, epochs: int | None) -> ResumeRequest:
        """Resume ``run_dir`` (to ``epochs`` in all; ``None``: its own) with the form's learning rate and device;
        :class:`ConfigError` (one line) for a value out of range."""
        return ResumeRequest(run_dir, epochs=epochs, learning_rate=self.learning_rate_value(),
                             cpu_threads=self.threads.value(), reserve_cores=RESERVED_CORES,
                             mixed_precision=self.mixed_precision.isChecked())
