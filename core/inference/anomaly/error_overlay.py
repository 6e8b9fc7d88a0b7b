"""Where in the picture a model errs: per-pixel error maps of a span of frames, and their heat-map overlay.

:func:`span_error_maps` scores frames ``[start, end)`` of one of a project's videos with a run's model,
asking :func:`~core.inference.anomaly.scoring.score_video` for its error maps (the squared error per pixel,
``(height, width)`` float32 at the model's resolution, averaged over channels and over the windows that
cover the frame, exactly the maps behind the frame's error e(t)). Only the windows that cover the span are
run, so stepping through one event costs that event's frames, not the video.

:func:`error_heatmap` turns one map into an RGBA image a player draws over the frame: the map is scaled by
``scale`` (a span's largest error by default, so frames of one event compare), coloured with OpenCV's
inferno map, enlarged to the frame's size (nearest neighbour: a model pixel stays one block), and made
transparent where the error is low (alpha grows with the error up to ``opacity``), so regular parts of the
picture stay visible.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from core.inference.anomaly.project_scoring import ScoringRun, run_model
from core.inference.anomaly.scoring import score_video
from core.inference.errors import ScoreError
from core.jobs import ProgressCallback, check_cancelled, report

#: The most an overlay pixel covers the frame (0: invisible, 1: opaque).
DEFAULT_OPACITY = 0.6


def span_error_maps(
    project: Any,
    run: str | Path | ScoringRun,
    video: str,
    start: int,
    end: int,
    load_model: Any = None,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> np.ndarray:
    """The error maps of frames ``[start, end)`` of ``video`` (id, name or path) by ``run``'s model.

    Returns float32 ``(end - start, height, width)`` at the model's resolution, frame ``start + k`` at
    index ``k``. :class:`ScoreError` for an empty span or one past the frames the video gives; progress
    counts frames of the span; ``cancel`` stops between model calls with :class:`~core.errors.Cancelled`.
    """
    entry = project.video(video)
    if isinstance(start, bool) or isinstance(end, bool) or not 0 <= start < end:
        raise ScoreError(f"{entry.path}: frames [{start}, {end}) are not a span of frames")
    model_run = run if isinstance(run, ScoringRun) else run_model(project.folder, run)
    if load_model is None:
        from core.models.files import load_model_file as load_model
    count = entry.known_frame_count
    if count and end > count:
        raise ScoreError(f"{entry.path}: frames [{start}, {end}) go past the {count} frames it gives")
    model, error_level = model_run.load_models(load_model)
    maps: list[np.ndarray] = []
    for score in score_video(model, entry.path, model_run.spec, error_maps=True, start=start, cancel=cancel,
                             error_level=error_level):
        if score.index >= end:
            break
        maps.append(score.error_map)
        report(progress, len(maps), end - start, f"error maps of {entry.name}")
        check_cancelled(cancel, "error maps")
    if len(maps) < end - start:
        raise ScoreError(f"{entry.path}: frames [{start}, {end}) go past the {start + len(maps)} frames it gives")
    return np.stack(maps).astype(np.float32, copy=False)


def error_heatmap(error_map: np.ndarray, size: tuple[int, int], scale: float | None = None,
                  opacity: float = DEFAULT_OPACITY) -> np.ndarray:
    """An RGBA ``uint8`` overlay ``(height, width, 4)`` of one ``(h, w)`` error map, for a frame of ``size``
    ``(height, width)``.

    ``scale`` is the error shown at full colour and full ``opacity`` (default: the map's own largest
    error); a pixel's alpha is ``opacity * min(1, error / scale)``. A map of zeros gives a transparent image.
    :class:`ScoreError` for a map that is not 2-D, holds a NaN, infinite or negative value, or a bad size.
    """
    errors = np.asarray(error_map, dtype=np.float32)
    if errors.ndim != 2 or errors.size == 0:
        raise ScoreError(f"an error map is (height, width), got shape {errors.shape}")
    if not np.isfinite(errors).all() or (errors < 0).any():
        raise ScoreError("an error map holds squared errors: finite values >= 0")
    height, width = (int(v) for v in size)
    if height < 1 or width < 1:
        raise ScoreError(f"overlay size must be at least 1x1 pixels, got {height}x{width}")
    if not 0.0 <= opacity <= 1.0:
        raise ScoreError(f"overlay opacity must be in [0, 1], got {opacity}")
    top = float(errors.max()) if scale is None else float(scale)
    level = np.zeros_like(errors) if top <= 0 else np.clip(errors / top, 0.0, 1.0)
    level = cv2.resize(level, (width, height), interpolation=cv2.INTER_NEAREST)
    alpha = np.rint(level * (255.0 * opacity)).astype(np.uint8)
    return np.dstack([heat_colors(level), alpha])


def heat_colors(level: np.ndarray) -> np.ndarray:
    """Levels in [0, 1] ``(H, W)`` as RGB ``uint8`` ``(H, W, 3)`` of the inferno colour map (0 black, 1 the
    brightest): the one colour scale of every error heat map (overlays, predicted-frame panes)."""
    grey = np.rint(np.clip(level, 0.0, 1.0) * 255.0).astype(np.uint8)
    return cv2.cvtColor(cv2.applyColorMap(grey, cv2.COLORMAP_INFERNO), cv2.COLOR_BGR2RGB)
