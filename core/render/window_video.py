"""An annotated copy of a classified video: every frame with its window's label and confidence (or value).

:func:`write_window_video` reads the video again, frame by frame at its own size (enlarged by a whole
factor when narrower than :data:`~core.render.label_strip.MIN_WIDTH`, so the text stays readable), draws
a strip above each frame (:func:`~core.render.label_strip.draw_label_strip`) with the text of the window
that covers it (:meth:`WindowResult.text`: ``walk 0.93``, ``uncertain (walk 0.41)``, ``value 3.25``) and a
colour per class (gray for uncertain windows), and encodes the frames to an MP4 at the video's frame rate
with the cutter's encoder (:func:`~core.video.cutting.encode_frames`): atomically, an existing output
refused unless ``overwrite``, the source itself always refused. Memory stays flat: one frame at a time.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from core.inference.errors import ScoreError
from core.inference.labelling.windows import WindowResult
from core.jobs import ProgressCallback
from core.render.label_strip import WHITE, draw_label_strip, enlarge, enlargement, strip_height
from core.video.cutting import CutError, check_outputs, encode_frames
from core.video.open import open_video

#: Text colours of classes 0, 1, 2, ... (RGB), repeated when there are more classes.
CLASS_COLORS = ((120, 220, 255), (255, 190, 80), (140, 240, 140), (255, 130, 200), (200, 170, 255),
                (255, 240, 120))
UNCERTAIN_COLOR = (150, 150, 150)


def window_color(window: WindowResult) -> tuple[int, int, int]:
    """The text colour of ``window``'s label: its class's, gray when uncertain, white for a value."""
    if window.uncertain:
        return UNCERTAIN_COLOR
    if window.class_index is None:
        return WHITE
    return CLASS_COLORS[window.class_index % len(CLASS_COLORS)]


def _frame_windows(windows: Sequence[WindowResult]) -> Iterator[WindowResult]:
    """The window of each frame in turn, from frame 0 (``covers`` partitions the video)."""
    for window in windows:
        for _ in range(*window.covers):
            yield window


def write_window_video(
    source: str | Path,
    output: str | Path,
    windows: Sequence[WindowResult],
    overwrite: bool = False,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> Path:
    """Write ``source`` with each frame's window result drawn above it to ``output`` (an ``.mp4`` file).

    ``windows`` are :func:`~core.inference.labelling.windows.classify_windows`' results for ``source``, in order.
    Raises :class:`~core.video.cutting.OutputExistsError` for an existing ``output`` without ``overwrite``,
    :class:`~core.video.cutting.CutError` for an output that is not ``.mp4``, is the source or cannot be
    written, and :class:`ScoreError` when the windows do not cover the video's frames.
    """
    output = Path(output)
    if output.suffix.lower() != ".mp4":
        raise CutError(output, f"annotated videos are MP4 files, not {output.suffix or '(none)'!r}: use .mp4")
    if not windows:
        raise ScoreError(f"{source}: no windows to draw")
    check_outputs([Path(source)], [output], overwrite=overwrite)
    total = windows[-1].covers[1]
    with open_video(source) as video:
        width, height = video.size
        factor = enlargement(width)
        size = (width * factor, height * factor + strip_height(width * factor))

        def frames() -> Iterator[np.ndarray]:
            labels = _frame_windows(windows)
            for index, frame in enumerate(video.iter_frames(0, None, color="rgb", cancel=cancel)):
                window = next(labels, None)
                if window is None:
                    raise ScoreError(f"{video.path}: frame {index} is past the {total} frames the windows cover")
                yield draw_label_strip(enlarge(frame, factor), window.text(), window_color(window))
            if next(labels, None) is not None:
                raise ScoreError(f"{video.path}: the video ended before the {total} frames the windows cover")

        return encode_frames(output, frames(), size, video.fps, total, progress, cancel)
