"""Edit a video's name, split and frame rate (Videos list > Edit Video...).

The dialog only gathers the analyst's choices; :meth:`VideoDialog.changes` returns the fields that
differ from the video, which the library turns into one undoable
:meth:`core.project.Project.update_video`. The frame rate can be set only for an image folder (a video
file's rate is read from the file).
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QWidget,
)

from core.project import SPLITS, Video

AUTO_SPLIT = "automatic (train or val, chosen when a dataset is built)"


class VideoDialog(QDialog):
    """Name, split and frames per second of one video."""

    def __init__(self, video: Video, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.video = video
        self.setWindowTitle(f"Edit Video {video.name}")
        self.name_edit = QLineEdit(video.name, self)
        self.split_box = QComboBox(self)
        self.split_box.addItem(AUTO_SPLIT, None)
        for split in SPLITS:
            self.split_box.addItem(split, split)
        self.split_box.setCurrentIndex(max(0, self.split_box.findData(video.split)))
        self.fps_spin = QDoubleSpinBox(self)
        self.fps_spin.setRange(0.1, 1000.0)
        self.fps_spin.setDecimals(3)
        self.fps_spin.setValue(video.fps)
        self.fps_spin.setSuffix(" fps")
        folder = video.kind == "image_sequence"
        self.fps_spin.setEnabled(folder)
        self.fps_spin.setToolTip("Frames per second of the image folder: sets its times and durations" if folder
                                 else "A video file's frame rate is read from the file")
        path = QLabel(str(video.path), self)
        path.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.buttons = buttons
        form = QFormLayout(self)
        form.addRow("Path:", path)
        form.addRow("Name:", self.name_edit)
        form.addRow("Split:", self.split_box)
        form.addRow("Frame rate:", self.fps_spin)
        form.addRow(buttons)
        self.name_edit.setFocus()
        self.name_edit.selectAll()

    def changes(self) -> dict[str, object]:
        """The fields the analyst changed: some of ``name``, ``split``, ``fps``."""
        changes: dict[str, object] = {}
        if self.name_edit.text().strip() != self.video.name:
            changes["name"] = self.name_edit.text()
        if self.split_box.currentData() != self.video.split:
            changes["split"] = self.split_box.currentData()
        if self.fps_spin.isEnabled() and abs(self.fps_spin.value() - self.video.fps) > 1e-9:
            changes["fps"] = self.fps_spin.value()
        return changes
