"""How well a run's model finds a project's ground-truth anomalies: ``framewatch evaluate``.

:func:`evaluate_project` scores the project's **test-split** videos (their ground truth is the project's
anomaly intervals; a test video without intervals is all normal) through :func:`score_project`, so cached
scores are reused and missing ones scored, then hands the errors to :mod:`core.evaluation`:

* frame-level ROC AUC and EER, per-video normalised (sa(t), as the literature reports UCSD Ped2) and raw
  (one threshold for every video), and each video's own AUC (:func:`frame_level_scores`), measured on the
  errors smoothed exactly as the calibrated threshold smooths them (``smoothing``: a causal moving average
  over that many frames; 1, the default, leaves them as scored), so AUC and events judge the same series;
* event recall and false alarms per minute of the events flagged at the calibrated threshold
  (:func:`event_counts`, summed over the videos).

A test video with normal spans (the analyst's "train on this part, score the rest") is measured on the
rest: the frames of its spans, which the run learned from, are left out of both, and so are the events
lying wholly inside them.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.data.ground_truth import frame_labels
from core.data.normal_footage import normal_spans
from core.evaluation.events import EventCounts, event_counts
from core.evaluation.frame_level import FrameLevelScores, frame_level_scores
from core.inference.anomaly.project_scoring import (
    ProjectScores,
    ScoringRun,
    run_model,
    score_project,
    split_videos,
)
from core.inference.errors import ScoreError
from core.jobs import ProgressCallback


@dataclass(frozen=True)
class RunEvaluation:
    """Frame-level ROC results and event counts of a run on the test videos, and the scores behind them."""

    frame_level: FrameLevelScores
    events: EventCounts
    scores: ProjectScores

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready figures (AUC and EER in [0, 1]; ``None`` where a figure is undefined)."""
        names = {video.video_id: video.name for video in self.scores.videos}
        fl = self.frame_level
        return {
            "run": self.scores.run.run_id,
            "scorer": self.scores.run.scorer,
            "videos": len(self.scores.videos),
            "frames": fl.frames,
            "abnormal_frames": fl.abnormal_frames,
            "auc_normalised": fl.normalised.auc,
            "auc_raw": fl.raw.auc,
            "eer_normalised": fl.normalised.eer.rate,
            "eer_raw": fl.raw.eer.rate,
            "auc_per_video": {names.get(key, str(key)): auc for key, auc in fl.per_video.items()},
            "threshold": self.scores.threshold.to_dict(),
            "smoothing": self.scores.threshold.window,
            "frame_error": self.scores.run.spec.error,
            "error_level": bool(self.scores.run.spec.error_level),
            "events": self.events.events_total,
            "event_recall": self.events.recall,
            "false_alarms": self.events.false_alarms,
            "false_alarms_per_minute": self.events.false_alarms_per_minute,
            "false_alarms_per_normal_minute": self.events.false_alarms_per_normal_minute,
            "anomalies": self.events.truth_total,
            "anomalies_hit": self.events.truth_hit,
        }


def evaluate_project(
    project: Any,
    run: str | Path | ScoringRun,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    scorer: str | None = None,
    **scoring: Any,
) -> RunEvaluation:
    """Score (or read from the cache) the test-split videos with ``run``'s model and measure them.

    ``scoring`` goes to :func:`score_project` (``stride``, ``min_run``, ``merge_gap``, ``percentile``, ...);
    ``scorer`` (``prediction``, ``motion``, ``fused``; default the run's own) picks the signal.
    :class:`ScoreError` when the project has no test-split video; the evaluation's own errors (e.g. test
    frames of one class only) name what is wrong.
    """
    model = run if isinstance(run, ScoringRun) else run_model(project.folder, run, scorer)
    tests = split_videos(project, model, "test")
    if not tests:
        raise ScoreError(f"{project.folder}: no test-split videos to evaluate on: mark the videos with ground "
                         "truth (anomaly intervals) as split test")
    scores = score_project(project, model, [video.id for video in tests], progress=progress, cancel=cancel,
                           **scoring)
    pairs = {}
    counts = []
    marked = normal_spans(project.data)
    for result in scores.videos:
        video = project.videos[result.video_id]
        smoothed = scores.threshold.smooth(result.errors)
        labels = frame_labels(project.data, result.video_id, result.frames)
        events, frames = result.events, result.frames
        if result.video_id in marked:  # measured on the rest of the video: its spans trained
            spans = marked[result.video_id]
            rest = np.ones(result.frames, bool)
            for start, end in spans:
                rest[start:end] = False
            smoothed, labels, frames = smoothed[rest], labels[rest], int(rest.sum())
            events = [e for e in events if not any(start <= e.start and e.end <= end for start, end in spans)]
        pairs[result.video_id] = (smoothed, labels)
        counts.append(event_counts(events, project.intervals_of(result.video_id), frames, video.fps,
                                   int((~np.asarray(labels, bool)).sum())))
    return RunEvaluation(frame_level_scores(pairs), EventCounts.total(counts), scores)
