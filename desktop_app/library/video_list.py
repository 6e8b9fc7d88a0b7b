"""The project's videos: thumbnail, name, frames, size and frame rate, split and label counts.

Each row is three short lines beside the thumbnail (name; frames, duration, size, fps; split and
counts), so that a 1280-wide window shows what matters: a long name is elided in the middle (its
start and its number both stay), an image folder shows its parent folder too ("Train/Train001"),
and the split is always in sight.

Thumbnails (:func:`core.video.thumbnails.video_thumbnail`) are decoded in workers, never on the GUI
thread, and cached per video id; the counts come from :func:`core.project.summary.counts_per_video`.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QMenu, QTreeWidget, QTreeWidgetItem, QWidget
from shiboken6 import isValid

from core.project import SPLITS, Project, Video
from core.project.summary import counts_per_video
from core.video.thumbnails import video_thumbnail
from desktop_app.jobs import Worker
from desktop_app.player import rgb_to_qimage

THUMB = QSize(64, 44)


def _duration(video: Video) -> str:
    seconds = video.known_frame_count / video.fps if video.fps else 0
    return f"{int(seconds // 60)}:{seconds % 60:04.1f}"


def display_name(video: Video) -> str:
    """The name shown: an image folder named after its folder gets its parent too ("Train/Train001")."""
    if video.kind == "image_sequence" and video.name == video.path.name and video.path.parent.name:
        return f"{video.path.parent.name}/{video.name}"
    return video.name


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


class VideoList(QTreeWidget):
    """One row per video; ``video_activated(id)`` when the selection moves to a video."""

    video_activated = Signal(str)
    #: From the context menu: remove these videos from the project / point this one at another file.
    remove_requested = Signal(list)
    relink_requested = Signal(str)
    #: From the context menu: edit this video's name, split and frame rate / set these videos' split.
    edit_requested = Signal(str)
    split_requested = Signal(list, object)  # video ids, split (None: automatic)
    COLUMNS = ("Video",)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.project: Project | None = None
        self._thumbs: dict[str, QIcon] = {}
        self._pending: set[str] = set()
        self.setColumnCount(len(self.COLUMNS))
        self.setHeaderLabels(list(self.COLUMNS))
        self.setHeaderHidden(True)
        self.setRootIsDecorated(False)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.setIconSize(THUMB)
        self.setAlternatingRowColors(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.setMinimumWidth(220)  # the dock opens wider; this lets 1280-wide screens fit
        self.setUniformRowHeights(False)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.currentItemChanged.connect(self._on_current)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._show_context_menu)

    def set_project(self, project: Project | None) -> None:
        self.project = project
        self._thumbs.clear()
        self.refresh()

    def video_ids(self) -> list[str]:
        return [self.topLevelItem(i).data(0, Qt.ItemDataRole.UserRole) for i in range(self.topLevelItemCount())]

    def current_video_id(self) -> str | None:
        item = self.currentItem()
        return None if item is None else item.data(0, Qt.ItemDataRole.UserRole)

    def selected_video_ids(self) -> list[str]:
        return [item.data(0, Qt.ItemDataRole.UserRole) for item in self.selectedItems()]

    def select_video(self, video_id: str) -> None:
        for i in range(self.topLevelItemCount()):
            item = self.topLevelItem(i)
            if item.data(0, Qt.ItemDataRole.UserRole) == video_id:
                self.setCurrentItem(item)
                return

    def refresh(self) -> None:
        """Rebuild the rows from the project (keeps the current video)."""
        current = self.current_video_id()
        self.blockSignals(True)
        try:
            self.clear()
            project = self.project
            if project is None:
                return
            counts = counts_per_video(project)
            for video in list(project.videos.values()):
                details = (f"{video.known_frame_count:,} frames · {_duration(video)} · {video.width}x{video.height}"
                           f" · {video.fps:g} fps")
                n = counts[video.id]
                labels = (f"{video.split or 'auto split'} · {_plural(n.subclips, 'subclip')} · "
                          f"{_plural(n.intervals, 'anomaly')}".replace("anomalys", "anomalies"))
                if n.normal_spans:
                    labels += f" · {_plural(n.normal_spans, 'normal span')}"
                item = QTreeWidgetItem([f"{display_name(video)}\n{details}\n{labels}"])
                item.setData(0, Qt.ItemDataRole.UserRole, video.id)
                kind = "image folder" if video.kind == "image_sequence" else (video.codec or "video")
                split = f"split {video.split}" if video.split else "split chosen when a dataset is built"
                item.setToolTip(0, f"{video.name}\n{video.path}\n{kind}, {video.known_frame_count} frames, "
                                   f"{video.fps:g} fps, {split}")
                if not video.path.exists():
                    item.setForeground(0, QColor("#e5484d"))
                    item.setToolTip(0, f"Missing: {video.path}")
                self.addTopLevelItem(item)
                self._apply_thumbnail(item, video)
        finally:
            self.blockSignals(False)
        if current is not None:
            self.select_video(current)

    def _apply_thumbnail(self, item: QTreeWidgetItem, video: Video) -> None:
        icon = self._thumbs.get(video.id)
        if icon is not None:
            item.setIcon(0, icon)
            return
        placeholder = QPixmap(THUMB)
        placeholder.fill(QColor("#1f2329"))
        item.setIcon(0, QIcon(placeholder))
        if video.id in self._pending or not video.path.exists():
            return
        self._pending.add(video.id)
        fps = video.fps if video.kind == "image_sequence" else None
        worker = Worker(video_thumbnail, video.path, fps, max_size=THUMB.width() * 2, progress=False, cancel=False,
                        name="thumbnail")
        # The list may be gone (project closed, window deleted) by the time the thumbnail arrives.
        worker.finished.connect(lambda frame, vid=video.id: isValid(self) and self._on_thumbnail(vid, frame))
        worker.error.connect(lambda _exc, vid=video.id: self._pending.discard(vid))
        worker.start()

    def _on_thumbnail(self, video_id: str, frame: np.ndarray) -> None:
        self._pending.discard(video_id)
        pixmap = QPixmap.fromImage(rgb_to_qimage(frame)).scaled(
            THUMB, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
        self._thumbs[video_id] = QIcon(pixmap)
        for i in range(self.topLevelItemCount()):
            item = self.topLevelItem(i)
            if item.data(0, Qt.ItemDataRole.UserRole) == video_id:
                item.setIcon(0, self._thumbs[video_id])

    def context_menu(self, video_ids: list[str]) -> QMenu:
        """The right-click menu for ``video_ids`` (the selected rows); its actions are named (``objectName``)
        "editVideo", "removeVideos", "relinkVideo", and "setSplit" is its submenu."""
        menu = QMenu(self)
        n = len(video_ids)
        edit = menu.addAction("Edit Name, Split and Frame Rate...")
        edit.setObjectName("editVideo")
        edit.setEnabled(n == 1)
        edit.triggered.connect(lambda: self.edit_requested.emit(video_ids[0]))
        splits = menu.addMenu(f"Set Split of {n} Videos" if n > 1 else "Set Split")
        splits.setObjectName("setSplit")
        for split in (None, *SPLITS):
            choice = splits.addAction(split or "automatic")
            choice.triggered.connect(lambda _c=False, s=split: self.split_requested.emit(list(video_ids), s))
        menu.addSeparator()
        remove = menu.addAction(f"Remove {n} Videos from Project" if n > 1 else "Remove from Project")
        remove.setObjectName("removeVideos")
        remove.setToolTip("With their subclips, anomaly intervals and verdicts; Ctrl+Z brings them back")
        remove.triggered.connect(lambda: self.remove_requested.emit(list(video_ids)))
        relink = menu.addAction("Relink...")
        relink.setObjectName("relinkVideo")
        relink.setToolTip("Point the video at its file's new place (moved or renamed)")
        relink.setEnabled(n == 1)
        relink.triggered.connect(lambda: self.relink_requested.emit(video_ids[0]))
        return menu

    def _show_context_menu(self, pos: QPoint) -> None:
        item = self.itemAt(pos)
        if item is None:
            return
        if not item.isSelected():
            self.setCurrentItem(item)
        ids = self.selected_video_ids() or [item.data(0, Qt.ItemDataRole.UserRole)]
        self.context_menu(ids).exec(self.viewport().mapToGlobal(pos))

    def has_thumbnail(self, video_id: str) -> bool:
        return video_id in self._thumbs

    def _on_current(self, current: QTreeWidgetItem | None, _previous: QTreeWidgetItem | None) -> None:
        if current is not None:
            self.video_activated.emit(current.data(0, Qt.ItemDataRole.UserRole))
