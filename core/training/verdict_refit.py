"""Learn from the analyst's verdicts: a run's rejected events become normal footage for its calibration.

A rejected event is a false alarm, frames of normal footage the run found strange. Until now they fed only
the *next* training run (:mod:`core.data.verdicts`); :func:`refit_from_verdicts` lets the run itself learn
from them in minutes, without retraining its model (``framewatch refit``, Review > Learn from Rejected
Events in the app):

1. **The footage**: the frames of the events rejected for this run
   (:func:`~core.inference.anomaly.rejected_footage.rejected_footage`: never a frame the model trained on,
   never an abnormal one), found again by video content in any project holding them.
2. **The error level** of a next-frame run that has one is fitted anew
   (:func:`~core.training.error_level.train_error_level`) on the windows of its held-out normal footage
   and the windows predicting the rejected frames. Its scores change units, so every video the run had
   scored is scored again (the score cache keys scores by the error level's fingerprint: the old ones
   stay cached for the old level). A run without an error level (an autoencoder's) keeps its scores.
   **The motion statistics** of a motion run (the ``motion`` preset) are those it was fitted with (kept as
   ``motion.before-verdicts.npz`` at its first refit) plus the motion of the rejected frames
   (:class:`~core.motion.model.MotionFit` keeps raw sums, so this is one pass over those frames alone); its
   scores change too, and its scored videos are scored again.
3. **The threshold** is calibrated again, as scoring calibrates it (the rule, false-alarm rate or
   percentile, and the smoothing of the run's stored threshold), on the held-out frames plus the rejected frames; from then on ``framewatch
   score`` and the app calibrate on the same footage
   (:func:`~core.inference.anomaly.project_scoring.calibration_footage`).
4. **The events** of every video the run had scored whole are flagged again (its stored min run and merge
   gap) and written to its ``events.json``. A run whose scores changed has its trust report
   (:mod:`core.inference.anomaly.trust`) measured again on its held-out footage.

``run.json`` records each refit in ``data["verdict_refits"]`` (:class:`VerdictRefit`: when, the rejected
events and frames used, the spans by content, the old and new threshold and event counts, the error level
fitted). Everything is computed before anything is replaced: the new error level goes to a temporary file
of the run folder, the new scores to new cache entries; only then are the error level, ``run.json`` and
``events.json`` swapped in, each atomically. A cancel (or an error) before that leaves the run as it was.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.atomic_write import copy_file
from core.inference.anomaly.events import attach_verdicts, flag_events
from core.inference.anomaly.events_file import RunEvents, check_replaceable, read_events, write_events
from core.inference.anomaly.project_scoring import (
    ScoringRun,
    calibration_footage,
    calibration_rule,
    events_dir,
    footage_fps,
    held_out_parts,
    project_run_id,
    run_model,
    score_key,
    score_videos,
)
from core.inference.anomaly.regularity import Threshold
from core.inference.anomaly.rejected_footage import REFITS_ENTRY, rejected_footage
from core.inference.anomaly.score_cache import ScoreCache
from core.inference.anomaly.scoring import resolve_stride
from core.inference.anomaly.trust import TRUST_ENTRY, assess_run
from core.inference.errors import ScoreError
from core.jobs import Progress, ProgressCallback, Stage, check_cancelled
from core.runs import is_model_folder
from core.training.error_level import ERROR_LEVEL_FILE, check_fittable, train_error_level

#: The temporary name of a refitted error level until it is swapped in.
_NEW_LEVEL = "error_level.refit-partial.keras"
#: The temporary name of a motion run's refitted statistics until they are swapped in.
_NEW_MOTION = "motion.refit-partial.npz"
#: A motion run's statistics as training fitted them, kept at its first refit: each refit adds the rejected
#: frames of that time to these (never twice to the same sums).
MOTION_BASE = "motion.before-verdicts.npz"


@dataclass(frozen=True)
class VerdictRefit:
    """What :func:`refit_from_verdicts` did (module doc): the rejected ``events`` and their ``frames`` used
    (``left_out`` frames of them were trained on or abnormal), the threshold and the events of the scored
    videos before (``None``: the run had flagged none) and after, the videos flagged, the error level fitted
    (its :meth:`~core.training.error_level.ErrorLevelFit.record_entry`, ``None`` for a run without one),
    the frames scored now (the error level changed, or a video holding rejected frames was not scored
    whole) and the seconds taken."""

    run: str
    events: int
    frames: int
    left_out: int
    threshold_before: Threshold | None
    threshold_after: Threshold
    events_before: int | None
    events_after: int
    videos: int
    error_level: dict[str, Any] | None
    #: a motion run's refit: ``{"base_frames", "frames_added"}`` (``None`` for other runs)
    motion: dict[str, Any] | None
    scored_frames: int
    seconds: float
    when: str
    spans: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    #: the run's trust report measured again when its scores changed (its summary line; ``""``: not measured)
    trust: str = ""

    def record_entry(self) -> dict[str, Any]:
        """One entry of ``run.json``'s ``data["verdict_refits"]``."""
        return {"when": self.when, "rejected_events": self.events, "rejected_frames": self.frames,
                "left_out_frames": self.left_out,
                "threshold_before": None if self.threshold_before is None else self.threshold_before.value,
                "threshold_after": self.threshold_after.value, "events_before": self.events_before,
                "events_after": self.events_after, "videos_flagged": self.videos, "error_level": self.error_level,
                "motion": self.motion,
                "scored_frames": self.scored_frames, "seconds": round(self.seconds, 1), "videos": self.spans}

    def summary(self) -> str:
        """One line: what was learned from, and the threshold and events before and after."""
        before = "none" if self.threshold_before is None else f"{self.threshold_before.value:.6g}"
        events = "none flagged" if self.events_before is None else f"{self.events_before}"
        level = ("error level refitted, " if self.error_level else
                 "motion statistics refitted, " if self.motion else "")
        return (f"learned from {self.events} rejected event{'s' if self.events != 1 else ''} ({self.frames:,} "
                f"frames): {level}threshold {before} -> {self.threshold_after.value:.6g}, events {events} -> "
                f"{self.events_after} in {self.videos} scored video{'s' if self.videos != 1 else ''}")


def refit_from_verdicts(project: Any, run: str | Path, *, epochs: int | None = None, seed: int | None = None,
                        batch_size: int | None = None, load_model: Any = None,
                        progress: ProgressCallback | None = None,
                        cancel: threading.Event | None = None) -> VerdictRefit:
    """Refit ``run``'s error level (if it has one) and threshold on its held-out footage plus the frames of
    the events the analyst rejected for it, and flag its scored videos again (module doc).

    ``epochs`` / ``seed``: the error level's (default: what it was fitted with, else its defaults);
    ``batch_size``: windows per model call when videos are scored again. :class:`ScoreError` for no
    rejected events of this run (or none outside the footage it trained on), a read-only model folder
    (exported or shipped: refit the run it came from), a run still training, a model that does not score
    frames, and the errors of fitting and scoring; :class:`~core.errors.Cancelled` when ``cancel`` is set
    (the run is left as it was).
    """
    started = time.monotonic()
    model_run = run_model(project.folder, run)
    _check_refittable(project, model_run)
    rejected = rejected_footage(project, model_run)
    run_id = project_run_id(project, model_run)
    if not rejected.events:
        raise ScoreError(f"{project.folder}: no events of run {model_run.run_id!r} are rejected: reject its false "
                         "alarms in review first (Review > Reject Event, or framewatch project verdict ... "
                         "--verdict rejected)")
    if not rejected.spans:
        raise ScoreError(f"{model_run.run_dir}: the {rejected.events} event(s) rejected for run {run_id!r} lie in "
                         "footage it trained on (or in abnormal spans): there is nothing new to learn from")
    target = events_dir(project, model_run)
    check_replaceable(target)  # a damaged or newer events.json is refused before any work
    before = read_events(target)
    stride = int(before.flagging.get("stride", 0)) if before is not None and before.flagging.get("stride") else None
    stride = resolve_stride(model_run.spec, stride)
    min_run = int(before.flagging.get("min_run", 1)) if before is not None else None
    merge_gap = int(before.flagging.get("merge_gap", 0)) if before is not None else None
    old = before.threshold if before is not None else None
    percentile = old.percentile if old is not None and old.kind == "percentile" else None
    alarm_rate = old.rate if old is not None and old.kind == "rate" else None
    smoothing = old.window if old is not None else None
    scored = _scored_videos(project, model_run.pinned(), stride)
    targets = [video for video in project.videos.values() if video.id in scored or video.id in rejected.spans]

    level_entry: dict[str, Any] | None = None
    motion_entry: dict[str, Any] | None = None
    new_level: Path | None = None
    new_motion: Path | None = None
    refitted = model_run
    try:
        if model_run.spec.scorer == "motion":
            new_motion, motion_entry = _refit_motion(project, model_run, progress, cancel)
            refitted = dataclasses.replace(model_run, model_path=new_motion)
        elif model_run.spec.task == "predict" and model_run.record.data.get("error_level"):
            check_fittable(model_run)
            new_level, level_entry = _refit_error_level(project, model_run, epochs, seed, load_model, progress,
                                                        cancel)
            refitted = dataclasses.replace(model_run, error_level_path=new_level)
        entry_stub = {"videos": rejected.record(project.data)}
        data = {**model_run.record.data, REFITS_ENTRY: [*_refits(model_run), entry_stub]}
        if level_entry is not None:
            data["error_level"] = level_entry
        if motion_entry is not None:
            data["motion"] = {**(data.get("motion") or {}), **motion_entry["model"]}
        refitted = dataclasses.replace(refitted, record=dataclasses.replace(model_run.record, data=data)).pinned()
        footage = calibration_footage(project, refitted)
        videos = list({video.id: video for video in [*(v for v, _ in footage), *targets]}.values())
        cache = ScoreCache(project.folder)
        to_score = [v for v in videos if (e := cache.read(score_key(refitted, v, stride))) is None or not e.complete]
        scored_now = sum(v.frame_count or 0 for v in to_score)
        why = ("scoring again with the refitted error level" if new_level is not None else
               "scoring again with the refitted motion statistics" if new_motion is not None else "scoring")
        errors = score_videos(project, refitted, videos, stride, _batch(batch_size), progress=_saying(progress, why),
                              cancel=cancel, stage=Stage.SCORING, **({} if load_model is None else
                                                                     {"load_model": load_model}))
        parts = held_out_parts(refitted, footage, errors, project, stride)
        fps = footage_fps([video for video, _ in footage])
        rule = calibration_rule(refitted, percentile, alarm_rate, smoothing, fps, min_run, merge_gap)
        min_run, merge_gap = rule.min_run, rule.merge_gap
        threshold = dataclasses.replace(rule.calibrate(parts, fps), videos=len(footage))
        verdicts = list(project.verdicts.values())
        events = []
        for video in targets:
            flagged = flag_events(threshold.smooth(errors[video.id]), threshold.value, min_run, merge_gap, video.id)
            events.extend(attach_verdicts(flagged, verdicts, run_id))
        check_cancelled(cancel, "refitting from verdicts")
    except BaseException:
        for partial in (new_level, new_motion):
            if partial is not None:
                partial.unlink(missing_ok=True)
        raise
    # nothing below is cancelled: the new files are swapped in
    refit = VerdictRefit(run_id, rejected.events, rejected.frames, rejected.left_out, old, threshold,
                         None if before is None else len(before.events), len(events), len(targets), level_entry,
                         None if motion_entry is None else motion_entry["refit"], scored_now, time.monotonic() - started,
                         datetime.now(UTC).isoformat(timespec="seconds"), rejected.record(project.data))
    if new_level is not None:
        os.replace(new_level, model_run.run_dir / ERROR_LEVEL_FILE)
    if new_motion is not None:
        if not (model_run.run_dir / MOTION_BASE).is_file():
            copy_file(model_run.model_path, model_run.run_dir / MOTION_BASE)
        os.replace(new_motion, model_run.model_path)
    data = {**data, REFITS_ENTRY: [*_refits(model_run), refit.record_entry()]}
    dataclasses.replace(model_run.record, data=data).save(model_run.run_dir)
    flagging = {"threshold": threshold.value, "min_run": min_run, "merge_gap": merge_gap, "stride": stride,
                "scorer": model_run.scorer}
    write_events(target, RunEvents(events, threshold, flagging))
    if (new_level is not None or new_motion is not None) and model_run.record.data.get(TRUST_ENTRY) is not None:
        # its scores changed: the trust report is measured again (on held-out footage scored above, cached)
        report = assess_run(project, model_run.run_dir, load_model=load_model)
        refit = dataclasses.replace(refit, trust=report.summary())
    return refit


def _check_refittable(project: Any, model_run: ScoringRun) -> None:
    if model_run.spec.scorer == "motion":  # never a checkpoint: an export says so in its notes, or lies elsewhere
        exported = any(note.startswith("exported from run") for note in model_run.record.notes)
        if exported or model_run.run_dir.resolve().parent != Path(project.runs_dir).resolve():
            raise ScoreError(f"{model_run.run_dir}: run {model_run.run_id!r} is a read-only model folder (exported "
                             "or another project's): refit the run it was exported from, then export that again")
    elif is_model_folder(model_run.run_dir, model_run.record):
        raise ScoreError(f"{model_run.run_dir}: run {model_run.run_id!r} is a read-only model folder (exported or "
                         "shipped): refit the run it was exported from, then export that again")
    if model_run.record.effective_status() == "running":
        raise ScoreError(f"{model_run.run_dir}: run {model_run.run_id!r} is still training; refit it when it has "
                         "finished")


def _refits(model_run: ScoringRun) -> list[Any]:
    refits = model_run.record.data.get(REFITS_ENTRY)
    return list(refits) if isinstance(refits, list) else []


def _scored_videos(project: Any, model_run: ScoringRun, stride: int) -> set[str]:
    """The ids of the videos ``model_run`` has scored whole (complete entries of the score cache)."""
    cache = ScoreCache(project.folder)
    found = set()
    for video in project.videos.values():
        entry = cache.read(score_key(model_run, video, stride))
        if entry is not None and entry.complete:
            found.add(video.id)
    return found


def _refit_error_level(project: Any, model_run: ScoringRun, epochs: int | None, seed: int | None, load_model: Any,
                       progress: ProgressCallback | None,
                       cancel: threading.Event | None) -> tuple[Path, dict[str, Any]]:
    """The error level fitted on held-out footage plus the windows predicting the rejected frames, written to
    a temporary file of the run folder, and its record entry."""
    from core.training.error_level import DEFAULT_EPOCHS

    previous = model_run.record.data.get("error_level") or {}
    if epochs is None:
        epochs = int(previous.get("epochs") or DEFAULT_EPOCHS)
    if seed is None:
        seed = int(model_run.record.config.get("seed") or 0)
    extra = rejected_footage(project, model_run, reach=model_run.spec.frames).spans
    path = model_run.run_dir / _NEW_LEVEL
    fit = train_error_level(project, model_run, path, extra=extra, epochs=epochs, seed=seed, load_model=load_model,
                            progress=progress, cancel=cancel)
    return path, fit.record_entry() | {"file": ERROR_LEVEL_FILE}


def _refit_motion(project: Any, model_run: ScoringRun, progress: ProgressCallback | None,
                  cancel: threading.Event | None) -> tuple[Path, dict[str, Any]]:
    """The motion statistics training fitted (:data:`MOTION_BASE`, else the run's file) plus the motion of the
    rejected frames (each with the frame before it, which the flow is read from), written to a temporary file
    of the run folder, and ``{"model": its describe(), "refit": {"base_frames", "frames_added"}}``."""
    from core.motion.model import MotionFit, load_motion_model, save_motion_model
    from core.training.motion_run import FLOW_REACH, add_span_motion

    base_file = model_run.run_dir / MOTION_BASE
    base = load_motion_model(base_file if base_file.is_file() else model_run.model_path)
    fit = MotionFit(base.grid, base.settings)
    fit.speed_sum, fit.speed_squares = base.speed_sum.copy(), base.speed_squares.copy()
    fit.counts, fit.frames, fit.trimmed = base.counts.copy(), base.frames, base.trimmed  # rejected frames all count
    spans = rejected_footage(project, model_run, reach=FLOW_REACH).spans
    add_span_motion(project, fit, spans, progress, cancel, "'s rejected events")
    check_cancelled(cancel, "refitting the motion statistics")
    model = fit.model()
    path = model_run.run_dir / _NEW_MOTION
    save_motion_model(model, path)
    return path, {"model": model.describe(), "refit": {"base_frames": base.frames,
                                                       "frames_added": model.frames - base.frames}}


def _batch(batch_size: int | None) -> int:
    from core.inference.anomaly.scoring import DEFAULT_BATCH_SIZE

    return DEFAULT_BATCH_SIZE if batch_size is None else batch_size


def _saying(progress: ProgressCallback | None, why: str) -> ProgressCallback | None:
    """``progress`` with its messages saying why videos are scored (again)."""
    if progress is None:
        return None

    def forward(event: Progress) -> None:
        progress(Progress(event.done, event.total, f"{why}: {event.message}", event.stage))

    return forward
