"""The player feature: :class:`PlayerController` (the player widget, its timeline, Playback actions).

Also public: :class:`PlayerWidget`, :class:`TimelineWidget` (which draws :class:`~desktop_app.state.LaneBand` records), :class:`FrameView` (a
frame drawn to fit, for other features' panes), :func:`rgb_to_qimage`
(an RGB frame as a QImage, for thumbnails) and :func:`parse_position`.
"""

from desktop_app.player.controller import PlayerController
from desktop_app.player.frame_view import FrameView, rgb_to_qimage
from desktop_app.player.goto_dialog import parse_position
from desktop_app.player.player import PlayerWidget
from desktop_app.player.timeline import ANOMALY_COLOR, EVENT_COLOR, TimelineWidget

__all__ = ["ANOMALY_COLOR", "EVENT_COLOR", "FrameView", "PlayerController", "PlayerWidget", "TimelineWidget",
           "parse_position", "rgb_to_qimage"]
