"""Per-frame scores of the motion scorer (the ``motion`` preset), streamed like a network's errors.

:func:`score_motion` is what :func:`~core.inference.anomaly.scoring.score_video` runs for a run whose spec is a
:class:`~core.models.specs.MotionSpec`: frames are read gray at the model's working size (the run's
``preprocess``), the optical flow from each frame to the next is summarised per cell
(:mod:`core.motion.flow`) and scored by the fitted motion density (:class:`core.motion.model.MotionModel`).
Each :class:`~core.inference.anomaly.scoring.FrameScore` carries the frame's score as its ``error`` (a
negative log-likelihood, in nats: higher is more unusual) and, asked for, its ``error_map``: the per-cell
unlikelihood ``(rows, cols)`` float32, 0 where nothing moves, which the heat-map overlay
(:func:`~core.inference.anomaly.error_overlay.error_heatmap`) enlarges to the frame, one block per cell.

Frame 0 has no previous frame: it carries frame 1's score and map and is marked ``backfilled``. ``start``
resumes at a frame (the frame before it is read again for the flow); progress counts frames read.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from core.inference.anomaly.scoring import FrameFeed, FrameScore, ScoringSpec
from core.inference.clip_input import declared_frames, too_short
from core.inference.errors import ScoreError
from core.jobs import ProgressCallback, check_cancelled, report
from core.preprocessing.frames import iter_resized
from core.video.source import VideoSource

#: Frames between two progress reports.
REPORT_EVERY = 25


def score_motion(model: Any, source: VideoSource, spec: ScoringSpec, error_maps: bool = False, start: int = 0,
                 progress: ProgressCallback | None = None, cancel: threading.Event | None = None,
                 frames: FrameFeed | None = None):
    """Yield a :class:`FrameScore` per frame of ``source`` from ``start`` on (module doc); ``frames(first)``, if
    given, yields the frames from ``first`` on at the working size instead of decoding ``source``
    (:func:`~core.inference.anomaly.scoring.score_video`)."""
    from core.motion.flow import FlowStream
    from core.motion.model import MotionModel

    if not isinstance(model, MotionModel):
        raise ScoreError(f"{source.path}: the motion scorer needs a motion model (a motion run's motion.npz), "
                         f"not {type(model).__name__}")
    if (model.grid.height, model.grid.width) != (spec.preprocess.height, spec.preprocess.width):
        raise ScoreError(f"{source.path}: the motion model works at {model.grid.width}x{model.grid.height}, the "
                         f"run's record says {spec.preprocess.width}x{spec.preprocess.height}")
    total = declared_frames(source)
    read_from = max(0, start - 1)
    stream = FlowStream(model.grid)
    count = read_from
    feed = frames(read_from) if frames is not None else iter_resized(source, spec.preprocess, read_from, cancel=cancel)
    for frame in feed:
        features = stream.push(frame)
        count += 1
        if features is not None:
            cell_map = model.cell_map(features)
            score = model.frame_score(cell_map)
            kept = cell_map.astype(np.float32) if error_maps else None
            t = count - 1
            if t == 1 and start == 0:  # frame 0 stands in with the first motion seen
                yield FrameScore(0, score, kept, 0, backfilled=True)
            if t >= start:
                yield FrameScore(t, score, kept, 1)
        if count % REPORT_EVERY == 0:
            check_cancelled(cancel, "scoring")
            report(progress, count, total, "scoring")
    if count < 2:
        raise too_short(source, count, 2, "to see motion between two frames")
    report(progress, count, count, "scoring")
