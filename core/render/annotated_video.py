"""The annotated anomaly video: every frame of a scored video above a panel with its score curve.

Each output frame is the video's frame (enlarged by a whole factor, nearest neighbour, to at least
:data:`MIN_WIDTH` pixels wide) above a panel (:mod:`core.render.score_overlay`) showing the whole video's
curve, a cursor at the current frame with its number and time, the calibrated threshold as a horizontal
line, the events shaded and a tick under every flagged frame. A frame inside an event gets a red border
and ``ANOMALY  event N``; a flagged frame in no event (a run shorter than the minimum run) an orange
border and ``above threshold``.

The curve is the series the threshold flags: by default (``error``) the smoothed error itself, on an
axis from the video's lowest to its highest smoothed error (both written at the panel's left, in error
units), with the threshold line and its label in the same error units. ``abnormality`` draws the same
series normalised over the video as sa(t) is (the video's worst smoothed frame at 1) and ``regularity``
turns it over (1 - that); with no smoothing these are exactly sa(t) and sr(t), and their threshold label
gives the line's value in the curve's units, then the threshold in error units. Either way the curve
crosses the line exactly at flagged frames; a threshold no frame reaches (or every frame passes) is drawn
at the panel's edge and said so in its label.

The video is read once, frame by frame, and encoded as it is read (memory stays flat in its length)
through the cutter's encoder (:func:`~core.video.cutting.encode_frames`), atomically; an existing
output is refused unless ``overwrite``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from core.evaluation.normalise import abnormality
from core.inference.anomaly.exports import FrameTable, ScoredVideo, frame_table
from core.inference.errors import ScoreError
from core.jobs import ProgressCallback, Stage, with_stage
from core.render.score_overlay import WARNING, curve_panel, draw_alert_border, draw_cursor
from core.video.cutting import VIDEO_ENCODERS, CutError, check_outputs, encode_frames
from core.video.open import open_video

CURVES = ("error", "regularity", "abnormality")
#: The curve an annotated video shows unless told otherwise: the quantity the threshold is set on.
DEFAULT_CURVE = "error"
#: Frames are enlarged to at least this many pixels wide.
MIN_WIDTH = 320
#: The score panel is a quarter of the output's width high, at least this many pixels.
MIN_PANEL_HEIGHT = 72


def check_curve(curve: str) -> None:
    """:class:`ScoreError` unless ``curve`` is one of :data:`CURVES`."""
    if curve not in CURVES:
        raise ScoreError(f"unknown curve {curve!r}: use one of {', '.join(CURVES)}")


def check_video_format(output: Path) -> None:
    """:class:`~core.video.cutting.CutError` unless ``output``'s extension is a video format the encoder writes."""
    if output.suffix.lower() not in VIDEO_ENCODERS:
        raise CutError(output, f"unknown video format {output.suffix or '(none)'!r}: use .mp4 "
                       f"(or {', '.join(e for e in VIDEO_ENCODERS if e != '.mp4')})")


def curve_values(table: FrameTable, threshold: float, curve: str = DEFAULT_CURVE) -> tuple[np.ndarray, float]:
    """The panel's curve (one value per frame in [0, 1], 1 at the top) and the threshold's height on it (may be
    outside [0, 1]).

    See the module doc: the smoothed errors from their lowest (0) to their highest (1), for ``error`` and
    ``abnormality`` alike (an error axis and an sa axis differ only in their labels), turned over for
    ``regularity``.
    """
    check_curve(curve)
    values = abnormality(table.smoothed).astype(np.float32)
    low, high = float(np.min(table.smoothed)), float(np.max(table.smoothed))
    # every frame alike (high == low): the line is above them all or below them all
    level = (threshold - low) / (high - low) if high > low else (1.5 if threshold >= low else -0.5)
    if curve == "regularity":
        return (1.0 - values).astype(np.float32), 1.0 - level
    return values, level


def curve_labels(table: FrameTable, threshold: float, level: float, curve: str = DEFAULT_CURVE
                 ) -> tuple[str, str, tuple[str, str]]:
    """The panel's title, threshold label and axis labels (bottom, top), all in the units the curve is drawn in.

    ``level`` is the threshold's height from :func:`curve_values`.
    """
    check_curve(curve)
    if curve == "error":
        low, high = float(np.min(table.smoothed)), float(np.max(table.smoothed))
        axis = (f"{low:.3g}", f"{high:.3g}")
        label = f"threshold {threshold:.4g}"
    else:
        axis = ("0", "1")
        symbol = "sa" if curve == "abnormality" else "sr"
        label = f"threshold {symbol} {level:.3g} (error {threshold:.4g})"
    return curve, _level_label(label, level, curve), axis


def _level_label(label: str, level: float, curve: str) -> str:
    sa_level = 1.0 - level if curve == "regularity" else level
    if sa_level >= 1.0:
        return f"{label} (no frame above it)"
    if sa_level < 0.0:
        return f"{label} (every frame above it)"
    return label


def _even(value: int) -> int:
    return value + value % 2


def write_annotated_video(
    output: str | Path,
    video: ScoredVideo,
    curve: str = DEFAULT_CURVE,
    overwrite: bool = False,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> Path:
    """Write ``video``'s annotated anomaly video (module doc) to ``output`` at the video's frame rate.

    ``output`` is a video file (``.mp4``, or another extension of
    :data:`~core.video.cutting.VIDEO_ENCODERS`); ``curve`` one of :data:`CURVES`. ``progress``
    counts frames written; ``cancel`` stops between frames with :class:`~core.errors.Cancelled`, leaving no
    file. Raises :class:`~core.video.cutting.OutputExistsError` for an existing output unless ``overwrite``
    and :class:`~core.video.cutting.CutError` for an unknown format or a folder that cannot be written (both
    before any frame is read), :class:`ScoreError` for an unknown curve, and the video's errors naming it
    (:class:`~core.errors.FrameOutOfRangeError` when fewer frames decode than were scored).
    """
    output = Path(output)
    check_curve(curve)
    check_video_format(output)
    check_outputs([video.path], [output], overwrite)
    frames = video.frames
    if frames == 0:
        raise ScoreError(f"{video.path}: no frames were scored, so there is nothing to annotate")
    output.parent.mkdir(parents=True, exist_ok=True)
    with open_video(video.path, fps=video.fps) as source:
        times = source.times_of_frames(np.arange(frames + 1))
        table = frame_table(video, times)
        values, level = curve_values(table, video.threshold.value, curve)
        width, height = source.size
        scale = max(1, -(-MIN_WIDTH // width))
        frame_w, frame_h = width * scale, height * scale
        out_w = _even(frame_w)
        top = _even(frame_h)
        panel_h = _even(max(MIN_PANEL_HEIGHT, out_w // 4))
        window = video.threshold.window
        title, level_label, axis = curve_labels(table, video.threshold.value, level, curve)
        title += f", smoothed over {window} frames" if window > 1 else ""
        chart = curve_panel(values, out_w, panel_h, level, [(e.start, e.end) for e in video.events], table.flagged,
                            title, level_label, axis)

        def composed() -> Iterator[np.ndarray]:
            canvas = np.zeros((top + panel_h, out_w, 3), np.uint8)
            for t, frame in enumerate(source.iter_frames(0, frames, color="rgb", cancel=cancel)):
                if scale > 1:
                    frame = cv2.resize(frame, (frame_w, frame_h), interpolation=cv2.INTER_NEAREST)
                view = canvas[:frame_h, :frame_w]
                view[:] = frame
                if table.event_id[t]:
                    draw_alert_border(view, f"ANOMALY  event {table.event_id[t]}")
                elif table.flagged[t]:
                    draw_alert_border(view, "above threshold", WARNING, max(2, frame_w // 160))
                canvas[top:] = draw_cursor(chart, t, frames, f"{t}  {times[t]:.2f}s")
                yield canvas

        return encode_frames(output, composed(), (out_w, top + panel_h), source.fps, frames,
                             with_stage(progress, Stage.WRITING), cancel)
