"""A text strip drawn above a video frame: what annotated videos write on every frame.

:func:`draw_label_strip` returns the frame with a strip of :func:`strip_height` pixels added above it
(or below, ``position="bottom"``), the text in a given colour on a dark background, its font fitted to
the frame's width so that a long label shrinks rather than runs off. :func:`enlarge` first scales a
small frame by a whole factor (nearest neighbour, pixels stay pixels) to at least :data:`MIN_WIDTH`
pixels wide, so a 64x48 video still gets a readable label. Frames are ``(height, width, 3)`` RGB
``uint8`` throughout; nothing here knows what the text means.
"""

from __future__ import annotations

import cv2
import numpy as np

#: Frames narrower than this are enlarged by a whole factor before a strip is drawn.
MIN_WIDTH = 320
#: Background of the strip, RGB.
STRIP_BACKGROUND = (24, 24, 24)
#: Default text colour, RGB.
WHITE = (255, 255, 255)
FONT = cv2.FONT_HERSHEY_SIMPLEX
#: Largest and smallest font scales tried when fitting text to the strip.
MAX_FONT_SCALE = 0.7
MIN_FONT_SCALE = 0.3


def enlargement(width: int) -> int:
    """The whole factor that takes a frame ``width`` pixels wide to at least :data:`MIN_WIDTH` (1 if it is)."""
    return max(1, -(-MIN_WIDTH // max(1, int(width))))


def enlarge(frame: np.ndarray, factor: int) -> np.ndarray:
    """``frame`` scaled by the whole ``factor`` (nearest neighbour); the frame itself when ``factor`` is 1."""
    if factor == 1:
        return frame
    height, width = frame.shape[:2]
    return cv2.resize(frame, (width * factor, height * factor), interpolation=cv2.INTER_NEAREST)


def strip_height(width: int) -> int:
    """Pixels of the strip over a frame ``width`` pixels wide: even (4:2:0 video), 24 to 48."""
    height = int(np.clip(round(width * 0.06), 24, 48))
    return height + height % 2


def _fitted_scale(text: str, width: int, height: int) -> float:
    """The largest font scale (down to :data:`MIN_FONT_SCALE`) at which ``text`` fits ``width`` x ``height``."""
    scale = min(MAX_FONT_SCALE, height / 34.0)
    while scale > MIN_FONT_SCALE:
        (text_w, text_h), _ = cv2.getTextSize(text, FONT, scale, 1)
        if text_w <= width - 8 and text_h <= height - 8:
            break
        scale -= 0.05
    return max(scale, MIN_FONT_SCALE)


def draw_label_strip(frame: np.ndarray, text: str, color: tuple[int, int, int] = WHITE,
                     position: str = "top") -> np.ndarray:
    """``frame`` (``(H, W, 3)`` RGB ``uint8``) with a strip of :func:`strip_height` ``(W)`` rows above it
    (``position="top"``) or below it (``"bottom"``) carrying ``text`` in ``color`` (RGB): a new array of
    ``(H + strip, W, 3)``. Text that does not fit at the smallest font is cut at the right edge."""
    if position not in ("top", "bottom"):
        raise ValueError(f"position must be 'top' or 'bottom', not {position!r}")
    frame = np.asarray(frame)
    if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
        raise ValueError(f"frame must be (height, width, 3) uint8, not {frame.shape} {frame.dtype}")
    height, width = frame.shape[:2]
    strip = np.empty((strip_height(width), width, 3), np.uint8)
    strip[:] = STRIP_BACKGROUND
    scale = _fitted_scale(text, width, strip.shape[0])
    (_, text_h), _ = cv2.getTextSize(text, FONT, scale, 1)
    y = (strip.shape[0] + text_h) // 2
    cv2.putText(strip, text, (4, y), FONT, scale, tuple(int(c) for c in color), 1, cv2.LINE_AA)
    parts = [strip, frame] if position == "top" else [frame, strip]
    return np.concatenate(parts, axis=0)
