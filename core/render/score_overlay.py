"""Drawing scores onto video frames with OpenCV: a score-curve panel with a cursor, and an alert border.

All images are ``(height, width, 3)`` RGB ``uint8`` and colours RGB triples. A curve panel is drawn once
per video (:func:`curve_panel`: the whole series, a threshold line, shaded spans, ticks under marked
frames) and a moving cursor is drawn on a copy of it per frame (:func:`draw_cursor`), so a long video
costs one chart, not one per frame. Frame ``t`` of ``n`` sits at column :func:`frame_x` of the plot area.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

FONT = cv2.FONT_HERSHEY_SIMPLEX
BACKGROUND = (24, 24, 28)
GRID = (60, 60, 68)
CURVE = (90, 200, 255)
THRESHOLD = (255, 200, 0)
SPAN = (110, 28, 36)
TICK = (255, 140, 0)
CURSOR = (255, 255, 255)
TEXT = (220, 220, 220)
ALERT = (230, 30, 30)
WARNING = (255, 140, 0)
#: Pixels between the panel's edges and the plot area (room for the labels above, the ticks below).
TOP, BOTTOM, SIDE = 16, 6, 4


def frame_x(frame: int, frames: int, width: int) -> int:
    """The column of frame ``frame`` of ``frames`` in a panel ``width`` pixels wide (first frame left, last right)."""
    return int(_columns(np.array([frame]), frames, width)[0])


def _columns(frame: np.ndarray, frames: int, width: int) -> np.ndarray:
    span = width - 1 - 2 * SIDE
    return SIDE + (np.rint(frame * (span / (frames - 1))).astype(np.int32) if frames > 1 else 0 * frame)


def _rows(level: np.ndarray, height: int) -> np.ndarray:
    """The rows of ``level`` in [0, 1] (clipped), 1 at the top of the plot area."""
    bottom, top = height - 1 - BOTTOM, TOP
    return np.rint(bottom - np.clip(level, 0.0, 1.0) * (bottom - top)).astype(np.int32)


def _y(level: float, height: int) -> int:
    return int(_rows(np.array([level], np.float64), height)[0])


def curve_panel(
    values: np.ndarray,
    width: int,
    height: int,
    level: float | None = None,
    spans: Sequence[tuple[int, int]] = (),
    ticks: np.ndarray | None = None,
    title: str = "",
    level_label: str = "",
    axis_labels: tuple[str, str] = ("", ""),
) -> np.ndarray:
    """A chart of ``values`` (one per frame, in [0, 1], 1 at the top) over the panel's width.

    ``level`` draws a horizontal line (a threshold, clipped to the plot area), ``spans`` shades frames
    ``[start, end)`` (events), ``ticks`` (bool per frame) marks frames with a tick under the plot, ``title``
    is written at the top left and ``level_label`` at the top right; ``axis_labels`` (bottom, top) say what
    the plot area's lowest and highest rows stand for (in the units of ``level_label``), written at its left
    edge. Returns ``(height, width, 3)`` uint8.
    """
    values = np.asarray(values, np.float64)
    frames = values.shape[0]
    panel = np.zeros((height, width, 3), np.uint8)
    panel[:] = BACKGROUND
    for fraction in (0.0, 0.5, 1.0):
        y = _y(fraction, height)
        cv2.line(panel, (SIDE, y), (width - 1 - SIDE, y), GRID, 1)
    for start, end in spans:
        x0, x1 = frame_x(start, frames, width), frame_x(max(start, end - 1), frames, width)
        cv2.rectangle(panel, (x0, TOP), (x1, height - 1 - BOTTOM), SPAN, cv2.FILLED)
    if ticks is not None:
        for t in np.flatnonzero(ticks):
            x = frame_x(int(t), frames, width)
            cv2.line(panel, (x, height - BOTTOM), (x, height - 1), TICK, 1)
    if frames:
        points = np.stack([_columns(np.arange(frames), frames, width), _rows(values, height)], axis=1)
        cv2.polylines(panel, [points.reshape(-1, 1, 2)], False, CURVE, 1, cv2.LINE_AA)
    if level is not None:
        y = _y(level, height)
        cv2.line(panel, (SIDE, y), (width - 1 - SIDE, y), THRESHOLD, 1)
    bottom_label, top_label = axis_labels
    if top_label:
        (_, text_h), _ = cv2.getTextSize(top_label, FONT, 0.3, 1)
        cv2.putText(panel, top_label, (SIDE + 2, TOP + text_h + 2), FONT, 0.3, TEXT, 1, cv2.LINE_AA)
    if bottom_label:
        cv2.putText(panel, bottom_label, (SIDE + 2, height - 1 - BOTTOM - 3), FONT, 0.3, TEXT, 1, cv2.LINE_AA)
    if title:
        cv2.putText(panel, title, (SIDE + 2, TOP - 4), FONT, 0.38, TEXT, 1, cv2.LINE_AA)
    if level_label:
        (text_w, _), _ = cv2.getTextSize(level_label, FONT, 0.38, 1)
        cv2.putText(panel, level_label, (width - SIDE - 2 - text_w, TOP - 4), FONT, 0.38, THRESHOLD, 1, cv2.LINE_AA)
    return panel


def draw_cursor(panel: np.ndarray, frame: int, frames: int, text: str = "") -> np.ndarray:
    """A copy of ``panel`` with a vertical cursor at frame ``frame`` of ``frames`` and ``text`` beside it."""
    out = panel.copy()
    height, width = out.shape[:2]
    x = frame_x(frame, frames, width)
    cv2.line(out, (x, TOP), (x, height - 1 - BOTTOM), CURSOR, 1)
    if text:
        (text_w, text_h), _ = cv2.getTextSize(text, FONT, 0.35, 1)
        tx = x + 3 if x + 3 + text_w < width else x - 3 - text_w
        cv2.rectangle(out, (tx - 1, TOP), (tx + text_w + 1, TOP + text_h + 4), BACKGROUND, cv2.FILLED)  # legible over the curve
        cv2.putText(out, text, (tx, TOP + text_h + 2), FONT, 0.35, CURSOR, 1, cv2.LINE_AA)
    return out


def draw_alert_border(image: np.ndarray, label: str = "", color: tuple[int, int, int] = ALERT,
                      thickness: int | None = None) -> np.ndarray:
    """Draw a border of ``color`` round ``image`` (in place) and ``label`` on a box of that colour at its top left.

    ``thickness`` defaults to 1/80 of the width, at least 3 pixels. Returns ``image``.
    """
    height, width = image.shape[:2]
    thickness = thickness or max(3, width // 80)
    image[:thickness] = color
    image[-thickness:] = color
    image[:, :thickness] = color
    image[:, -thickness:] = color
    if label:
        scale = max(0.4, width / 900)
        (text_w, text_h), base = cv2.getTextSize(label, FONT, scale, 1)
        cv2.rectangle(image, (thickness, thickness), (thickness + text_w + 8, thickness + text_h + base + 6),
                      color, cv2.FILLED)
        cv2.putText(image, label, (thickness + 4, thickness + text_h + 3), FONT, scale, (255, 255, 255), 1,
                    cv2.LINE_AA)
    return image
