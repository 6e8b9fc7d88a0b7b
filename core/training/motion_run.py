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


#: The largest working area (pixels) of a predictor run's motion statistics: Ped2's half size. The flow is
#: most of the fused scorer's cost and grows with the area, so a larger source is read at less than half size
#: (640x272 at 225x96), which keeps fused scoring above 4x real time (docs/benchmarks.md).
RUN_MOTION_MAX_AREA = 180 * 120


def motion_spec_for(project, spans: dict[str, list[tuple[int, int]]], spec: MotionSpec, height: int | None = None,
                    width: int | None = None, max_area: int | None = None) -> MotionSpec:
    """``spec`` at its working size: ``spec.scale`` of the size of the first video of ``spans`` (less, keeping
    the aspect ratio, where that is over ``max_area`` pixels), or ``height`` / ``width`` where given.
    :class:`TrainingError` naming the video for a size the flow cannot work at."""
    from core.motion.flow import working_size
    from core.video.open import open_video

    first = project.videos[next(iter(spans))]
    source = open_video(first.path)
    try:
        source_height, source_width = source.metadata.height, source.metadata.width
    finally:
        source.close()
    scale = spec.scale
    if max_area is not None and source_height * source_width * scale * scale > max_area:
        scale = (max_area / (source_height * source_width)) ** 0.5
    try:
        working = working_size(int(source_height), int(source_width), scale, spec.cell)
        return spec.replace(height=height if height is not None else working[0],
                            width=width if width is not None else working[1])
    except ValueError as exc:
        raise TrainingError(f"{first.path}: {exc}") from None


def fit_motion_statistics(project, spans: dict[str, list[tuple[int, int]]], spec: MotionSpec,
                          progress: ProgressCallback | None = None, cancel: threading.Event | None = None):
    """The :class:`~core.motion.model.MotionModel` of ``spec`` fitted on ``spans`` (``{video id: [(start, end),
    ...]}`` of ``project``'s videos, each span one contiguous run of frames). Progress of stage ``motion``
    counts frames read; ``cancel`` stops between frames. What a motion run and a predictor run's motion statistics
    (:func:`fit_run_motion`) fit with; robust: far-out frames (a cut in a joined recording, a glitch) are left
    out (:class:`~core.motion.model.MotionFit`)."""
    from core.motion.model import MotionFit

    fit = MotionFit(spec.grid(), spec.settings(), robust=True)
    add_span_motion(project, fit, spans, progress, cancel)
    return fit.model()


def add_span_motion(project, fit, spans: dict[str, list[tuple[int, int]]], progress: ProgressCallback | None = None,
                    cancel: threading.Event | None = None, what: str = "") -> int:
    """Add the motion of ``spans`` (as :func:`fit_motion_statistics` takes them) to ``fit`` (a
    :class:`~core.motion.model.MotionFit`), reading each span's gray frames once; progress of stage ``motion``
    counts frames read (its messages say ``motion of VIDEO`` and ``what``). Returns the frames read."""
    from core.video.open import open_video

    total = sum(end - start for pieces in spans.values() for start, end in pieces)
    emit = progress or (lambda event: None)
    done = 0

    def tell(event: Progress) -> None:
        emit(Progress(event.done, total, event.message, Stage.MOTION))

    for video_id, pieces in spans.items():
        video = project.videos[video_id]
        source = open_video(video.path)
        try:
            for start, end in pieces:
                frames = source.iter_frames(start, end, color="gray", cancel=cancel)
                done += fit.add_frames(frames, cancel, tell, done, total, f"motion of {video.name}{what}")
        finally:
            source.close()
    return done


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
    from core.motion.model import save_motion_model
    from core.training.from_project import _project_recorder

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
    spec = motion_spec_for(project, spans, spec, request.height, request.width)
    height, width = spec.height, spec.width
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
        model = fit_motion_statistics(project, spans, spec, emit, cancel)
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


@dataclasses.dataclass(frozen=True)
class RunMotionFit:
    """What :func:`fit_run_motion` wrote: the ``path`` of the statistics, the frames and videos fitted on, the
    working size and the seconds it took."""

    path: Path
    frames: int
    videos: int
    width: int
    height: int
    seconds: float


def trained_spans(project, run) -> dict[str, list[tuple[int, int]]]:
    """``{video id: [(start, end), ...]}``: the footage of ``project`` that the run (a
    :class:`~core.runs.RunModel`) trained on (``data["held_out"]["trained"]``, by content); for a run recorded
    before runs held out time, its train-split videos whole."""
    from core.data.held_out import replay_held_out
    from core.inference.anomaly.project_scoring import split_videos

    held = replay_held_out(project.data, run.record.data.get("held_out"))
    if held is not None:
        return {video_id: list(pieces) for video_id, pieces in held.train.items() if pieces}
    spans = {}
    for video in split_videos(project, run, "train"):
        count = video.known_frame_count
        if count:
            spans[video.id] = [(0, int(count))]
    return spans


def fit_run_motion(project, run, *, spec: MotionSpec | None = None, default_scorer: str | None = None,
                   progress: ProgressCallback | None = None, cancel: threading.Event | None = None,
                   cap_area: bool | None = None) -> RunMotionFit:
    """Fit motion statistics on the footage a predictor run (a name under ``<project>/runs/`` or a run folder)
    *trained* on (:func:`trained_spans`), save them as the run folder's ``motion.npz`` and record them in its
    ``run.json`` (``data["motion"]``): the run can then be scored ``--scorer motion`` or ``fused``
    (:mod:`core.inference.anomaly.scorers`). ``spec``: the flow grid and statistics (default the ``motion``
    preset's, at half the first video's size, or less where that is over :data:`RUN_MOTION_MAX_AREA` pixels;
    ``cap_area``: whether a given ``spec``'s ``scale`` is capped so too, default only without a ``spec``).
    ``default_scorer``: also record the scorer the run scores with when none is named (``data["scorer"]``:
    ``prediction`` or ``fused``; ``None`` leaves it). Seconds on a few minutes of footage; run it again to replace them.

    :class:`TrainingError` for a motion run (its statistics are its model), a run still training, a read-only
    model folder (exported or shipped), a project holding none of the run's footage."""
    from core.inference.anomaly.scorers import DEFAULT_SCORERS
    from core.motion.model import save_motion_model
    from core.runs import RunModel, find_run_dir, is_model_folder

    if default_scorer is not None and default_scorer not in DEFAULT_SCORERS:
        raise TrainingError(f"the default scorer must be one of {', '.join(DEFAULT_SCORERS)}, not "
                            f"{default_scorer!r}")
    started = time.perf_counter()
    run_dir = find_run_dir(project.folder, run)
    found = RunModel.of(run_dir)
    record = found.record
    if record.spec.get("family") == "motion":
        raise TrainingError(f"{run_dir}: run {found.run_id!r} is a motion run: its motion statistics are its model")
    if record.effective_status() == "running":
        raise TrainingError(f"{run_dir}: run {found.run_id!r} is still training; fit its motion statistics when it "
                            "has finished")
    if is_model_folder(run_dir, record):
        raise TrainingError(f"{run_dir}: run {found.run_id!r} is a read-only model folder (exported or shipped): fit "
                            "the motion statistics on the run it was exported from, then export that again")
    spans = trained_spans(project, found)
    if not spans:
        raise TrainingError(f"{project.folder}: the project holds none of the footage run {found.run_id!r} trained "
                            "on: fit its motion statistics in the project the run trained in")
    area = RUN_MOTION_MAX_AREA if (spec is None if cap_area is None else cap_area) else None
    spec = motion_spec_for(project, spans, spec or MotionSpec(), max_area=area)
    model = fit_motion_statistics(project, spans, spec, progress, cancel)
    save_motion_model(model, run_dir / MOTION_FILE)
    record = RunRecord.load(run_dir)  # fresh: nothing recorded meanwhile is lost
    frames = sum(end - start for pieces in spans.values() for start, end in pieces)
    record.data["motion"] = {"file": MOTION_FILE, "spec": spec.to_dict(), "fitted_on": "trained",
                             "normal_frames": frames, "videos": len(spans), **model.describe()}
    if default_scorer is not None:
        record.data["scorer"] = default_scorer
    record.save(run_dir)
    return RunMotionFit(run_dir / MOTION_FILE, frames, len(spans), spec.width, spec.height,
                        time.perf_counter() - started)
