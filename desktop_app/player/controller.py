"""The player feature: the video player with its timeline, the Playback actions and the frame readout.

It shows ``state.video``, publishes the playhead (``state.position``, ``state.frame_count``), answers
seek, pause and focus requests, and draws the state's timeline lanes (every lane of ``state.lanes``),
the selection, the In/Out span and the frame overlay (``state.frame_overlay``, over the frame shown).
Bands clicked or dragged on the timeline go back to the state (``set_selection``,
``band_edit_requested``); what they mean is up to the feature that owns the lane.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QLabel, QWidget

from desktop_app.common.actions import build_actions
from desktop_app.jobs import show_error
from desktop_app.player.goto_dialog import GoToDialog
from desktop_app.player.player import PlayerWidget
from desktop_app.player.timeline import EDITABLE_KINDS
from desktop_app.state import SHARED_LANE_KINDS, TIMELINE_LANES, AppState


class PlayerController(QObject):
    """Owns :attr:`player` (the central widget), :attr:`status_label` and the Playback actions."""

    def __init__(self, state: AppState, window: QWidget) -> None:
        super().__init__(window)
        self.state = state
        self.window = window
        self.player = PlayerWidget(window)
        self.status_label = QLabel("", window)
        self.status_label.setObjectName("statusPosition")
        p = self.player
        self.actions = build_actions(window, {
            "play_pause": p.toggle_play,
            "step_back": lambda: p.step(-1),
            "step_forward": lambda: p.step(1),
            "step_back_10": lambda: p.step(-10),
            "step_forward_10": lambda: p.step(10),
            "go_first": p.go_first,
            "go_last": p.go_last,
            "slower": p.slower,
            "faster": p.faster,
            "normal_speed": lambda: p.set_speed(1.0),
            "go_to": self.go_to,
            "zoom_in": lambda: p.timeline.zoom_by(2.0, p.timeline.zoom_anchor()),
            "zoom_out": lambda: p.timeline.zoom_by(0.5, p.timeline.zoom_anchor()),
            "zoom_fit": lambda: p.timeline.set_zoom(1.0),
        })
        p.position_changed.connect(self._on_position)
        p.frame_count_changed.connect(state.set_frame_count)
        p.speed_changed.connect(lambda _s: self._show_position(p.position))
        p.load_failed.connect(lambda exc: show_error(window, exc, "Video"))
        p.timeline.band_selected.connect(self._on_band_selected)
        p.timeline.band_edited.connect(state.band_edit_requested)
        state.project_changed.connect(lambda _project: p.unload())
        state.video_changed.connect(self._on_video)
        state.seek_requested.connect(lambda frame: p.step(frame - p.position))
        state.pause_requested.connect(p.pause)
        state.player_focus_requested.connect(lambda: p.view.setFocus())
        state.lane_changed.connect(lambda _name: self._draw_lanes())
        state.frame_overlay_changed.connect(p.view.set_overlay)
        state.selection_changed.connect(self._on_selection)
        state.span_changed.connect(lambda span: p.timeline.set_in_out(*span))

    def go_to(self) -> None:
        p = self.player
        if not p.has_video:
            return
        dialog = GoToDialog(p.fps, p.frame_count, p.position, self.window)
        if dialog.exec() and dialog.frame() is not None:
            p.step(dialog.frame() - p.position)

    def _on_video(self, _video_id: str) -> None:
        video = self.state.video
        if video is None:
            self.player.unload()
            return
        self.player.load(video.path, fps=video.fps if video.kind == "image_sequence" else None,
                         frame_count=video.frame_count)
        self.player.view.setFocus()

    def _on_position(self, frame: int) -> None:
        self.state.set_position(frame)
        self._show_position(frame)

    def _show_position(self, frame: int) -> None:
        video = self.state.video
        name = video.name if video else ""
        if not self.player.has_video:  # opening, or it could not be opened: no frame numbers of another video
            self.status_label.setText(name)
            return
        self.status_label.setText(f"{name}   frame {frame} / {max(0, self.player.frame_count - 1)}   "
                                  f"{self.player.speed:g}x")

    def _draw_lanes(self) -> None:
        """Every lane of the state: the :data:`TIMELINE_LANES` first (always shown), then the others in
        the order they were first set; a band of another lane has the lane's name as its kind, and a band
        whose own kind the lane may carry (:data:`~desktop_app.state.SHARED_LANE_KINDS`) keeps it."""
        lanes = [(name, TIMELINE_LANES.get(name, name))
                 for name in [*TIMELINE_LANES, *(n for n in self.state.lanes if n not in TIMELINE_LANES)]]
        bands = [b if SHARED_LANE_KINDS.get(b.kind) == kind else replace(b, kind=kind)
                 for name, kind in lanes for b in self.state.lanes.get(name, [])]
        timeline = self.player.timeline
        timeline.bands = []  # the lanes change first; the bands are stacked once, with them
        timeline.set_lanes(lanes)
        timeline.set_bands(bands)

    def _on_selection(self, selection: tuple[str, str] | None) -> None:
        kind, key = selection if selection else ("", "")
        self.player.timeline.select(kind, key)

    def _on_band_selected(self, kind: str, key: str) -> None:
        if kind in EDITABLE_KINDS or not key:
            self.state.set_selection((kind, key) if key else None)
