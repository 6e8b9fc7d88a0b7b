"""Where the main window opens and how much of it the video keeps.

The window asks for :data:`DEFAULT_SIZE` the first time and for its last geometry afterwards; either is
fitted into the available area of its screen (``QScreen.availableGeometry``: the screen less its panels
and task bars), so that a 1280x800 laptop never gets a window whose edges and title bar lie off screen.

The video is what the analyst came for: :func:`video_room` is the least room the central player keeps
when the window is small or a dock asks for space (the docks give way first).
"""

from __future__ import annotations

from PySide6.QtCore import QMargins, QRect, QSize

#: The size (pixels, without the window frame) the window opens at when the screen has room for it.
DEFAULT_SIZE = QSize(1440, 900)
#: Room left around the window for the frame the window manager adds (title bar, borders), which is not
#: known before the window is first shown: pixels (left, top, right, bottom).
FRAME_ALLOWANCE = QMargins(4, 32, 4, 4)
#: The least share of the window's width and of the room between the tool bar and the status bar (height)
#: that the central player (the video with its timeline and transport bar) keeps: (width, height).
VIDEO_SHARE = (0.45, 0.5)


def fitted_geometry(wanted: QRect, available: QRect, minimum: QSize,
                    frame: QMargins = FRAME_ALLOWANCE) -> QRect:
    """``wanted`` (the window's client area, in screen pixels) shrunk and moved so that it and its
    ``frame`` lie inside ``available``; never smaller than ``minimum``. A window that fits already keeps
    its place; one that does not is centred in ``available`` (or put at its top-left corner when even
    ``minimum`` is too large)."""
    inner = available.marginsRemoved(frame)
    size = wanted.size().boundedTo(inner.size()).expandedTo(minimum)
    rect = QRect(wanted.topLeft(), size)
    if available.contains(rect.marginsAdded(frame)):
        return rect
    x = inner.left() + max(0, (inner.width() - size.width()) // 2)
    y = inner.top() + max(0, (inner.height() - size.height()) // 2)
    return QRect(x, y, size.width(), size.height())


def video_room(window_size: QSize, bars_height: int, share: tuple[float, float] = VIDEO_SHARE) -> QSize:
    """The least (width, height) in pixels the central player keeps in a window of ``window_size`` whose
    menu, tool and status bars take ``bars_height`` pixels: ``share`` of the width and of the rest."""
    return QSize(int(share[0] * window_size.width()), int(share[1] * max(0, window_size.height() - bars_height)))
