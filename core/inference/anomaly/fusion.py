"""Fusing scorers: each run's per-frame scores put on the scale of its held-out normal footage, then combined.

A prediction error (squared [0, 1] units, or multiples of the error level) and a motion scorer's unlikelihood
(nats) are not on one scale. :func:`held_out_scale` gives each run's scale: the ``percentile`` (default 99) of
its scores on the normal footage it held out of its training (the frames its threshold is calibrated on,
:func:`~core.inference.anomaly.project_scoring.calibration_footage`; never a frame it learned from). Divided by
it, a score of 1 is "as high as the top 1% of unseen normal frames" for every scorer, and
:func:`fuse` combines the divided series frame by frame: ``"max"`` (a frame is as unusual as its most unusual
signal: either scorer alone can flag it) or ``"sum"`` (both signals add up).

:func:`fused_scores` does it for a project's videos with several runs (a predictor and a motion run trained on
the same normal footage), through the score cache, so each run's scores are computed once. The fused series
are plain per-frame scores: AUC, thresholds and events apply to them as to any scorer's.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.inference.errors import ScoreError
from core.jobs import ProgressCallback

#: How divided scores are combined (:func:`fuse`).
FUSIONS = ("max", "sum")
#: The held-out percentile each scorer is divided by.
DEFAULT_SCALE_PERCENTILE = 99.0


def fuse(series: Sequence[np.ndarray], scales: Sequence[float], how: str = "max") -> np.ndarray:
    """The frame-by-frame ``how`` (``max`` or ``sum``) of ``series[i] / scales[i]``: float32 ``(frames,)``.

    :class:`ScoreError` for series of different lengths, a scale that is not a positive finite number, or an
    unknown ``how``."""
    if how not in FUSIONS:
        raise ScoreError(f"fusion must be one of {', '.join(FUSIONS)}, not {how!r}")
    if not series or len(series) != len(scales):
        raise ScoreError(f"fusion needs one scale per series: {len(series)} series, {len(scales)} scales")
    lengths = {len(s) for s in series}
    if len(lengths) != 1:
        raise ScoreError(f"fused series must cover the same frames: lengths {sorted(lengths)}")
    for scale in scales:
        if not (np.isfinite(scale) and scale > 0):
            raise ScoreError(f"a fusion scale must be a positive number, not {scale!r}")
    divided = np.stack([np.asarray(s, np.float64) / float(scale) for s, scale in zip(series, scales, strict=True)])
    combined = divided.max(axis=0) if how == "max" else divided.sum(axis=0)
    return combined.astype(np.float32)


def held_out_scale(project: Any, run: Any, percentile: float = DEFAULT_SCALE_PERCENTILE,
                   progress: ProgressCallback | None = None, cancel: threading.Event | None = None) -> float:
    """The ``percentile`` of ``run``'s scores on the normal footage it held out (module doc); the videos
    holding it are scored whole through the score cache. :class:`ScoreError` when the project holds none of
    it, or every held-out score is 0."""
    from core.inference.anomaly.project_scoring import (
        calibration_errors,
        calibration_footage,
        run_model,
        score_videos,
    )
    from core.jobs import Stage

    model_run = run if not isinstance(run, str | Path) else run_model(project.folder, run)
    footage = calibration_footage(project, model_run)
    if not footage:
        raise ScoreError(f"{project.folder}: no held-out normal footage of run {model_run.run_id!r} to put its "
                         "scores on a common scale")
    errors = score_videos(project, model_run, [video for video, _ in footage], progress=progress, cancel=cancel,
                          stage=Stage.CALIBRATING)
    values = np.concatenate([part for video, spans in footage for part in calibration_errors(errors[video.id], spans)])
    scale = float(np.percentile(values, percentile)) if values.size else 0.0
    if not scale > 0:
        raise ScoreError(f"run {model_run.run_id!r}: its held-out normal footage scores 0 at the {percentile:g}th "
                         "percentile; it cannot be put on a common scale")
    return scale


@dataclass(frozen=True)
class FusedScores:
    """The fused series ``{video id: float32 (frames,)}``, each run's ``scales`` and the ``how``."""

    series: dict[str, np.ndarray]
    scales: tuple[float, ...]
    how: str


def fused_scores(project: Any, runs: Sequence[str | Path], videos: Sequence[str] | None = None, how: str = "max",
                 percentile: float = DEFAULT_SCALE_PERCENTILE, progress: ProgressCallback | None = None,
                 cancel: threading.Event | None = None) -> FusedScores:
    """``videos`` (ids, names or paths; default all) scored by every run of ``runs`` (names or folders),
    each divided by its :func:`held_out_scale`, fused by ``how``."""
    from core.inference.anomaly.project_scoring import run_model, score_videos

    if how not in FUSIONS:
        raise ScoreError(f"fusion must be one of {', '.join(FUSIONS)}, not {how!r}")
    if len(runs) < 2:
        raise ScoreError("fusion needs at least two runs")
    models = [run_model(project.folder, run) for run in runs]
    scales = tuple(held_out_scale(project, model, percentile, progress, cancel) for model in models)
    targets = [project.video(key) for key in videos] if videos is not None else list(project.videos.values())
    per_run = [score_videos(project, model, targets, progress=progress, cancel=cancel) for model in models]
    series = {}
    for video in targets:
        parts = [scores[video.id] for scores in per_run]
        frames = min(len(part) for part in parts)  # a decoder may give one frame more or less per model
        series[video.id] = fuse([part[:frames] for part in parts], scales, how)
    return FusedScores(series, scales, how)
