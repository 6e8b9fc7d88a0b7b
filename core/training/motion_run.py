"""Train the ``motion`` anomaly preset: fit its motion statistics on a project's normal footage, as a run.

:func:`fit_motion_run` is what :func:`~core.training.from_project.train_project` does for a
:class:`~core.models.specs.MotionSpec` (``framewatch train PROJECT --task anomaly --preset motion``, the app's
training panel): there is no network and no epoch, one pass over the normal footage counts each cell's motion
bins (:class:`core.motion.model.MotionFit`), a few seconds a minute of footage. The run folder is like any
other: ``run.json`` (a :class:`~core.runs.RunRecord` with task ``anomaly``, preset ``motion``, its spec, the
video split by content so scoring calibrates on the same videos, and ``data["motion"]``: the normal spans
used, frames counted, the grid) and the model file ``motion.npz`` that ``model_path`` names, so scoring,
``evaluate``, review and the heat maps find it the way they find a network (:mod:`core.runs.model`).

The normal footage is that of every window-task run (:func:`plan_motion_footage`: train- and val-split videos,
``--videos`` narrowing them, less their abnormal spans), and part of it is held out as for a predictor
(:mod:`core.data.held_out`: whole videos from five on, else time blocks in each), a frame apart from what is
fitted: the statistics are fitted on the rest, and ``run.json``'s ``data["held_out"]`` records both, so scoring
calibrates the threshold on held-out frames only and the run's trust report (false alarms per minute on
held-out footage, :mod:`core.inference.anomaly.trust`) is measured at the end as for any anomaly run. The working size is ``spec.scale`` of the first such video's size, or the request's
``height`` / ``width`` where given (``--size``); every video is resized to it. Of the request's other options
only the run name, the validation share, the seed and the videos apply (there are no epochs or batches). The run starts and ends with the trainer's events (:class:`~core.training.events.RunStarted`,
``RunEnded``); in between, :class:`~core.jobs.Progress` of stage ``motion`` counts the frames read; ``cancel`` stops between frames (:class:`~core.errors.Cancelled`, the run
recorded ``cancelled``; start a new run, there is nothing to resume).
"""

from __future__ import annotations

import dataclasses
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.errors import Cancelled
from core.jobs import Progress, ProgressCallback, Stage
from core.models.specs import MotionSpec
from core.runs import RECORD_FILE, RunRecord, default_run_name
from core.runs.process import this_process
from core.training import events as ev
from core.training.errors import TrainingError
from core.training.request import TrainingRequest
from core.training.trainer import RunResult

#: The model file of a motion run (``run.json``'s ``model_path``).
MOTION_FILE = "motion.npz"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


#: Frames a flow reaches back: frame ``t``'s motion is read from frames ``t - 1`` and ``t``; held-out footage
#: keeps this gap from trained footage, so no pair of frames feeds both.
FLOW_REACH = 1


def plan_motion_footage(project, request: TrainingRequest):
    """What a motion run learns from and holds out: :func:`~core.data.held_out.hold_out` over the project's
    normal footage (:func:`~core.data.normal_footage.normal_footage`: train- and val-split videos, or
    ``request.videos`` of them, less abnormal spans; rejected events' frames), with a gap of
    :data:`FLOW_REACH`. Returns the :class:`~core.data.held_out.HeldOut` and the window split."""
    from core.data.held_out import hold_out
    from core.data.normal_footage import normal_footage
    from core.data.splits import window_splits
    from core.data.verdicts import verdict_spans

    data = project.data
    splits = window_splits(data, request.val_fraction, request.seed, request.videos)
    chosen = set(data.videos) if request.videos is None else set(request.videos)
    rejected = verdict_spans(data, "rejected")
    counts = {video.id: video.known_frame_count for video in data.videos.values()
              if video.id in chosen and (splits.get(video.id) in ("train", "val") or video.id in rejected)}
    footage = normal_footage(data, splits, counts, FLOW_REACH)
    held = hold_out(data, footage, splits, val_fraction=request.val_fraction, seed=request.seed, gap=FLOW_REACH)
    return held, splits


def fit_motion_run(
    project,
    request: TrainingRequest,
    *,
    save_project: bool = True,
    hold_project: bool = True,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> RunResult:
    """Fit the motion statistics of ``project``'s normal footage in a new run folder (module doc)."""
    from core.data.splits import recorded_splits
    from core.motion.model import MotionFit, save_motion_model
    from core.training.from_project import _project_recorder
    from core.video.open import open_video

    spec = request.spec()
    if not isinstance(spec, MotionSpec):
        raise TrainingError(f"preset {spec.preset!r} is not a motion scorer")
    if not project.videos:
        raise TrainingError(f"project {project.folder} has no videos: add videos before training")
    name = request.run_name or default_run_name("anomaly", spec.preset)
    run_dir = project.runs_dir / name
    if (run_dir / RECORD_FILE).exists():
        raise TrainingError(f"the project already has a run named {name!r} ({run_dir}): choose another name")
    held, splits = plan_motion_footage(project, request)
    spans = {video_id: pieces for video_id, pieces in held.train.items() if pieces}
    if not spans:
        raise TrainingError(f"project {project.folder} has no normal footage to learn motion from: give videos "
                            "of normal activity split train or val (framewatch project add-video --split train)")
    first = project.videos[next(iter(spans))]
    source = open_video(first.path)
    try:
        height, width = source.metadata.height, source.metadata.width
    finally:
        source.close()
    from core.motion.flow import working_size

    try:
        working = working_size(int(height), int(width), spec.scale, spec.cell)
        height = request.height if request.height is not None else working[0]  # --size sets it directly
        width = request.width if request.width is not None else working[1]
        spec = spec.replace(height=height, width=width)
    except ValueError as exc:
        raise TrainingError(f"{first.path}: {exc}") from None
    config = dataclasses.replace(request.config(), epochs=1)
    total = sum(end - start for pieces in spans.values() for start, end in pieces)
    description: dict[str, Any] = {
        "source": "project", "project": str(project.folder), "task": "anomaly",
        "options": request.data_options().to_dict(),
        "preprocess": {"height": height, "width": width, "grayscale": True},
        "splits": recorded_splits(project.data, splits, request.videos),
        # the spans held out (and fitted on), by content: scoring calibrates its threshold on them alone
        "held_out": held.record(project.data),
        "normal_frames": total,
    }
    entry = project.add_run(name, "anomaly", config={"preset": spec.preset, "run_dir": str(run_dir),
                                                     "spec": spec.to_dict(), "training": config.to_dict(),
                                                     "process": this_process().to_dict()},
                            status="running")
    if save_project or not hold_project:
        project.save()
    if not hold_project:
        project.close()
    run_dir.mkdir(parents=True, exist_ok=True)
    record = RunRecord(run_id=name, task="anomaly", preset=spec.preset, spec=spec.to_dict(), config=config.to_dict(),
                       data=description, created=_now(), monitor="", status="running",
                       process=this_process().to_dict(), device={"summary": "CPU (optical flow)"})
    recorder = _project_recorder(project, entry.id, run_dir, save_project, held=hold_project)
    record.save(run_dir)
    recorder(record)
    emit = progress or (lambda event: None)
    started = time.perf_counter()
    emit(ev.RunStarted(done=0, total=total, epoch=0, epochs=1, run_dir=str(run_dir), device="CPU (optical flow)",
                       message=f"fitting motion statistics on {total} frames of normal footage in "
                               f"{len(spans)} video(s) at {width}x{height}"))

    def finish(status: str, error: str = "") -> None:
        record.status, record.error, record.finished = status, error, _now()
        record.duration_s = time.perf_counter() - started
        record.process = None
        record.save(run_dir)
        recorder(record)
        emit(ev.RunEnded(done=total if status == "completed" else 0, total=total, epoch=0, epochs=1,
                         elapsed_s=record.duration_s, status=status, epochs_completed=record.epochs_completed,
                         monitor="", model_path=str(record.model_file_path(run_dir) or ""), error=error,
                         message=f"{status}: motion statistics of {total} frames" + (f": {error}" if error else "")))

    try:
        fit = MotionFit(spec.grid(), spec.settings())
        done = 0

        def tell(event: Progress) -> None:
            emit(Progress(event.done, total, event.message, Stage.MOTION))

        for video_id, pieces in spans.items():
            video = project.videos[video_id]
            source = open_video(video.path)
            try:
                for start, end in pieces:
                    frames = source.iter_frames(start, end, color="gray", cancel=cancel)
                    done += fit.add_frames(frames, cancel, tell, done, total, f"motion of {video.name}")
            finally:
                source.close()
        model = fit.model()
        save_motion_model(model, run_dir / MOTION_FILE)
    except Cancelled:
        finish("cancelled", "cancelled by the user; start a new run (a motion fit has nothing to resume)")
        raise
    except Exception as exc:
        finish("failed", f"{type(exc).__name__}: {exc}")
        if isinstance(exc, TrainingError):
            raise
        raise TrainingError(f"fitting the motion statistics failed: {type(exc).__name__}: {exc}") from exc
    record.data["motion"] = {"file": MOTION_FILE, **model.describe()}
    record.model_path = MOTION_FILE
    record.epochs_completed = 1
    finish("completed")
    result = RunResult(Path(run_dir), "completed", record, run_dir / MOTION_FILE, model)
    from core.training.from_project import _with_trust

    return dataclasses.replace(_with_trust(project, result, progress, cancel), model=model)
