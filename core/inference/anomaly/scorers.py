"""Which signal scores a run's frames: the prediction error, the motion statistics, or the two fused.

A next-frame anomaly run (the default ``future-frame`` preset) fits motion statistics on the footage it trained
on when its training ends (``motion.npz`` in its folder, ``run.json``'s ``data["motion"]``;
:func:`core.training.motion_run.fit_run_motion`, ``framewatch fit-motion`` for an older run). It can then be
scored three ways (``framewatch score / evaluate --scorer``, :data:`SCORERS`):

* ``prediction``: how badly the network predicts each frame (relative to its error level, if it has one);
* ``motion``: how unlikely each frame's optical flow is under the statistics (:mod:`core.motion.model`);
* ``fused``: both, each divided by its **scale on the run's held-out normal frames** (the
  :data:`SCALE_PERCENTILE` th percentile of its scores on the footage the run held out of its training, the
  footage its threshold is calibrated on; never a frame it learned from), combined frame by frame by
  :data:`DEFAULT_FUSION` (:func:`~core.inference.anomaly.fusion.fuse`). A fused score of 1 is "as unusual as
  the top 1% of unseen normal frames" for either signal, and the fused score is their sum.

Each is a :class:`~core.inference.anomaly.project_scoring.ScoringRun` (:func:`with_scorer`), so the same
scoring, threshold calibration, events, review, evaluation and heat maps apply. The motion scorer's run is the
motion statistics with the run's record (its held-out footage); the fused run is the predictor's with the
motion run beside it (``ScoringRun.motion``): its two signals are scored from one decode of each video
(:mod:`core.inference.anomaly.shared_decode`) and cached each under its own key (the model file's fingerprint and
the scorer), and the fused series is computed from them. The heat map of a
fused run is the predictor's error map (finer than motion's cells; the motion scorer's map is one choice away).

A run records its default scorer in ``data["scorer"]`` (:data:`DEFAULT_SCORERS`, ``prediction`` when absent;
``framewatch fit-motion --default-scorer``); a motion run (the
``motion`` preset) scores with ``motion`` only.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from core.inference.errors import ScoreError

#: The scorers a ``--scorer`` names.
SCORERS = ("prediction", "motion", "fused")
#: The scorers a next-frame run may record as its default: both keep its model and spec the predictor's (fitting
#: its error level, its heat map), so only what scores its frames changes.
DEFAULT_SCORERS = ("prediction", "fused")
#: How the fused scorer combines the scaled signals: their sum (the mean, up to a factor the threshold
#: absorbs) beat their maximum on Ped2 with both predictors measured (docs/models.md).
DEFAULT_FUSION = "sum"
#: The held-out percentile each signal of the fused scorer is divided by.
SCALE_PERCENTILE = 99.0


def default_scorer(record: Any) -> str:
    """The scorer a run scores with when none is named: ``motion`` for a motion run, else its record's
    ``data["scorer"]`` (one of :data:`DEFAULT_SCORERS`), else ``prediction``."""
    if record.spec.get("family") == "motion":
        return "motion"
    value = (record.data or {}).get("scorer")
    return value if value in DEFAULT_SCORERS else "prediction"


def missing_motion(run: Any) -> str:
    """The one line refusing the motion or fused scorer to a run without motion statistics."""
    project = run.run_dir.parent.parent
    return (f"run {run.run_id!r} has no motion statistics: fit them with framewatch fit-motion {project} "
            f"--run {run.run_id}")


def motion_part(run: Any) -> Any:
    """The motion scorer of a (predictor) ``ScoringRun``: its ``motion.npz`` with its record (same held-out
    footage), scored as a motion run. :class:`ScoreError` for a run without motion statistics."""
    from core.inference.anomaly.scoring import ScoringSpec

    path = run.record.motion_path(run.run_dir)
    if path is None:
        raise ScoreError(missing_motion(run))
    if not path.is_file():
        raise ScoreError(f"{path}: the motion statistics of run {run.run_id!r} are missing; fit them again with "
                         f"framewatch fit-motion {run.run_dir.parent.parent} --run {run.run_id}")
    entry = run.record.data["motion"]
    spec = entry.get("spec") if isinstance(entry, dict) else None
    if not isinstance(spec, dict) or spec.get("family") != "motion":
        raise ScoreError(f"{run.run_dir / 'run.json'}: the motion entry has no motion spec; fit the motion "
                         "statistics again with framewatch fit-motion")
    data = {key: value for key, value in run.record.data.items() if key not in ("error_level", "scoring")}
    data["preprocess"] = {"height": spec.get("height"), "width": spec.get("width"), "grayscale": True}
    record = dataclasses.replace(run.record, spec=spec, data=data, model_path=path.name)
    return type(run)(run.run_dir, record, path, None, ScoringSpec.from_run(spec, data), scorer="motion")


def with_scorer(run: Any, scorer: str | None = None) -> Any:
    """``run`` (a ``ScoringRun`` as :func:`~core.inference.anomaly.project_scoring.run_model` opens it) scored by
    ``scorer`` (one of :data:`SCORERS`; ``None``: the run's default, :func:`default_scorer`).

    :class:`ScoreError` for an unknown scorer, a motion run asked for another, and a run without motion
    statistics asked for ``motion`` or ``fused`` (one line naming ``framewatch fit-motion``)."""
    wanted = scorer or default_scorer(run.record)
    if wanted not in SCORERS:
        raise ScoreError(f"scorer must be one of {', '.join(SCORERS)}, not {wanted!r}")
    if run.spec.scorer == "motion":
        if wanted != "motion":
            raise ScoreError(f"run {run.run_id!r} is a motion run: it scores with --scorer motion only")
        return dataclasses.replace(run, scorer="motion")
    if wanted == "prediction":
        return dataclasses.replace(run, scorer="prediction", motion=None)
    motion = motion_part(run)
    if wanted == "motion":
        return motion
    how = (run.record.data.get("fusion") or {}).get("how", DEFAULT_FUSION) if isinstance(
        run.record.data.get("fusion"), dict) else DEFAULT_FUSION
    return dataclasses.replace(run, scorer="fused", motion=motion, fusion=str(how))


def fused_parts(run: Any) -> tuple[Any, Any]:
    """The prediction and motion ``ScoringRun`` of a fused run."""
    if run.scorer != "fused" or run.motion is None:
        raise ScoreError(f"run {run.run_id!r} is not scored fused")
    return dataclasses.replace(run, scorer="prediction", motion=None), run.motion
