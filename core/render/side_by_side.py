"""Ground truth beside prediction, as a GIF or an MP4: the reference systems' side-by-side exports.

Each output frame shows the real frame ("truth") beside the predicted one ("predicted"), and with
``error=True`` a third panel of the absolute difference ("|error|", white = 1). A strip above the panels
carries the labels and a frame counter. Panels are enlarged by a whole factor (nearest neighbour, so
pixels stay pixels) to at least :data:`MIN_PANEL` pixels high, so 64x64 predictions stay readable.

GIFs go through imageio (which moviepy brings), MP4s through moviepy's FFmpeg writer as the cutter uses
it; both are written atomically (:mod:`core.atomic_write`), and an existing output is refused unless
``overwrite``.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from core.atomic_write import atomic_output
from core.jobs import ProgressCallback, Stage, check_cancelled, report, with_stage
from core.video.cutting import CutError, check_outputs, encode_frames

if TYPE_CHECKING:
    from core.inference.rollout.video_rollout import VideoRollout

#: Output formats by extension.
FORMATS = (".gif", ".mp4")
#: Panels are enlarged to at least this many pixels high.
MIN_PANEL = 128
LABEL_HEIGHT = 22
GAP = 4


def rgb_uint8(frame: np.ndarray) -> np.ndarray:
    """A ``(H, W[, 1 | 3])`` frame, float in [0, 1] or ``uint8``, as ``(H, W, 3)`` ``uint8``."""
    frame = np.asarray(frame)
    if frame.dtype != np.uint8:
        frame = np.clip(np.rint(frame.astype(np.float32) * 255.0), 0, 255).astype(np.uint8)
    if frame.ndim == 2:
        frame = frame[..., None]
    return np.repeat(frame, 3, axis=2) if frame.shape[2] == 1 else frame


def _unit(frame: np.ndarray) -> np.ndarray:
    frame = np.asarray(frame)
    return frame.astype(np.float32) / 255.0 if frame.dtype == np.uint8 else frame.astype(np.float32)


def compose(
    truth: Sequence[np.ndarray | None],
    predicted: Sequence[np.ndarray],
    error: bool = False,
    counter: Sequence[str] | None = None,
) -> np.ndarray:
    """The side-by-side frames: ``(steps, height, width, 3)`` ``uint8`` RGB.

    ``truth`` and ``predicted`` hold one ``(H, W, C)`` frame per step (float in [0, 1] or ``uint8``); a
    ``None`` truth (a step past the end of the video) shows as a black panel labelled "no truth".
    ``counter`` is the text at the right of each frame's label strip (default ``"k/steps"``).
    """
    if len(truth) != len(predicted):
        raise ValueError(f"truth and predicted differ in length: {len(truth)} and {len(predicted)}")
    if not predicted:
        raise ValueError("no frames to compose")
    height, width = np.asarray(predicted[0]).shape[:2]
    scale = max(1, -(-MIN_PANEL // height))
    panel_h, panel_w = height * scale, width * scale
    panels = 3 if error else 2
    out_w = panels * panel_w + (panels - 1) * GAP
    out_h = LABEL_HEIGHT + panel_h
    out_w += out_w % 2  # 4:2:0 MP4 needs even sizes
    out_h += out_h % 2
    frames = np.zeros((len(predicted), out_h, out_w, 3), np.uint8)
    for k, (real, guess) in enumerate(zip(truth, predicted, strict=True)):
        images = [None if real is None else rgb_uint8(real), rgb_uint8(guess)]
        labels = ["truth" if real is not None else "no truth", "predicted"]
        if error:
            diff = None if real is None else np.abs(_unit(real) - _unit(guess))
            images.append(None if diff is None else rgb_uint8(diff))
            labels.append("|error|")
        for i, (image, label) in enumerate(zip(images, labels, strict=True)):
            x0 = i * (panel_w + GAP)
            if image is not None:
                big = cv2.resize(image, (panel_w, panel_h), interpolation=cv2.INTER_NEAREST)
                frames[k, LABEL_HEIGHT:LABEL_HEIGHT + panel_h, x0:x0 + panel_w] = big
            cv2.putText(frames[k], label, (x0 + 3, LABEL_HEIGHT - 7), cv2.FONT_HERSHEY_SIMPLEX, 0.45,
                        (255, 255, 255), 1, cv2.LINE_AA)
        text = counter[k] if counter is not None else f"{k + 1}/{len(predicted)}"
        (text_w, _), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 0.4, 1)
        cv2.putText(frames[k], text, (out_w - text_w - 3, LABEL_HEIGHT - 7), cv2.FONT_HERSHEY_SIMPLEX, 0.4,
                    (255, 220, 0), 1, cv2.LINE_AA)
    return frames


def write_side_by_side(
    output: str | Path,
    frames: np.ndarray,
    fps: float,
    overwrite: bool = False,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> Path:
    """Write composed ``frames`` (from :func:`compose`) to ``output`` (``.gif`` or ``.mp4``) at ``fps``.

    Refuses an existing ``output`` unless ``overwrite`` (:class:`~core.video.cutting.OutputExistsError`),
    and an unknown extension or a folder that cannot be written (:class:`~core.video.cutting.CutError`).
    """
    output = Path(output)
    suffix = output.suffix.lower()
    if suffix not in FORMATS:
        raise CutError(output, f"unknown export format {output.suffix or '(none)'!r}: use .gif or .mp4")
    if not fps > 0:
        raise ValueError(f"fps must be positive, not {fps}")
    check_outputs([], [output], overwrite=overwrite)
    total = len(frames)
    if suffix == ".mp4":  # the cutter's encoder, 4:2:0 for every player
        return encode_frames(output, frames, (frames.shape[2], frames.shape[1]), fps, total,
                             with_stage(progress, Stage.WRITING), cancel)
    try:
        with atomic_output(output) as part:
            import imageio.v2 as imageio

            with imageio.get_writer(part, format="GIF", mode="I", duration=1000.0 / fps, loop=0) as writer:
                for done, frame in enumerate(frames, 1):
                    check_cancelled(cancel, "export")
                    writer.append_data(frame)
                    report(progress, done, total, output.name, Stage.WRITING)
    except OSError as exc:
        raise CutError(output, f"cannot be written ({exc.strerror or exc})") from exc
    return output


def rollout_side_by_side(result: VideoRollout, error: bool = False) -> np.ndarray:
    """The export frames of a video rollout (:func:`compose`): truth beside prediction (and ``|error|``
    with ``error``), a black "no truth" panel past the end of the video, each step labelled ``+1  frame 12``."""
    truth = [result.truth_at(k) for k in range(result.future)]
    return compose(truth, list(result.predicted), error=error, counter=result.counter())
