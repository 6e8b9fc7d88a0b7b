"""Train on a project: build the task's datasets with :mod:`core.data`, train, record the run in the project.

This is what the desktop app's "Train" button and ``framewatch train PROJECT`` both call:

* :func:`train_project(project, request) <train_project>` (a
  :class:`~core.training.request.TrainingRequest`, checked when it was made) builds the train/val batches of the
  project (window tasks: validation on held-out normal footage, whole videos or time blocks, recorded in
  ``run.json``'s ``data["held_out"]``, :mod:`core.data.held_out`; subclip tasks: videos split whole), makes the model spec fit the data (frames, size, channels, classes),
  creates ``<project>/runs/<run name>/``, adds a :class:`~core.project.ModelRun` to the project and
  trains, updating that entry after every epoch.
* :func:`resume_project_run(project, run_dir) <resume_project_run>` rebuilds the same datasets (the
  data options are stored in the run record) and continues the run.

Task names are those of :mod:`core.tasks`; :data:`core.tasks.DATASET_TASKS` gives the data layer's names.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import threading
from pathlib import Path
from typing import Any

import numpy as np

from core.jobs import ProgressCallback, Stage, with_stage
from core.models.specs import LRCNSpec, ModelSpec, MotionSpec
from core.runs import RECORD_FILE, RunFileError, RunRecord, default_run_name, find_run_dir, resume_refusal
from core.runs.process import this_process
from core.tasks import DATASET_TASKS, TASKS, tasks_text
from core.training.data import TrainingData
from core.training.errors import ConfigError, TrainingError
from core.training.frame_size import FrameSize, request_frame_size
from core.training.options import DataOptions
from core.training.request import TrainingRequest
from core.training.trainer import RunResult, TrainingConfig, resume, train


def _preprocess_spec(spec: ModelSpec, options: DataOptions):
    from core.preprocessing import PreprocessSpec

    speed = options.signal == "speed"  # one channel of speeds, whatever the preset's channels
    gray = speed or (options.grayscale if options.grayscale is not None else spec.channels == 1)
    height = spec.height if options.height is None else options.height
    width = spec.width if options.width is None else options.width
    return PreprocessSpec(height=height, width=width, grayscale=gray, signal=options.signal)


def _samples_key(project, preprocess, *batch_sets) -> str:
    """Identity of the clips: video contents, the sample tables, the targets and the preprocessing."""
    digest = hashlib.sha1(json.dumps(preprocess.to_dict(), sort_keys=True).encode())
    for batches in batch_sets:
        if batches is None:
            continue
        samples = batches.samples
        for video_id in samples.video_ids:
            fp = project.videos[video_id].fingerprint
            digest.update(repr(fp).encode())
        for array in (samples.video_index, samples.frame_index, samples.targets):
            if array is not None:
                digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()[:16]


def project_data(
    project, task: str, spec: ModelSpec, options: DataOptions, batch_size: int, seed: int = 0,
    arrays: bool = False, progress: ProgressCallback | None = None, cancel: threading.Event | None = None,
    held_out: Any = None,
) -> tuple[TrainingData, ModelSpec]:
    """The project's train/val data for ``task`` and ``spec`` adjusted to it (size, channels, frames, classes).

    ``held_out``: a next-frame or anomaly run's :class:`~core.data.held_out.HeldOut` as recorded (a resumed
    run); by default it is planned (:func:`core.data.datasets.plan_hold_out`)."""
    import keras

    from core.data import to_pydataset, to_tf_dataset, train_val_batches
    from core.data.datasets import WINDOW_TASKS, plan_hold_out
    from core.data.splits import assign_splits, recorded_splits, window_splits

    if task not in TASKS:
        raise TrainingError(f"task must be one of {tasks_text()}, not {task!r}")
    if not project.videos:
        raise TrainingError(f"project {project.folder} has no videos: add videos before training")
    preprocess = _preprocess_spec(spec, options)
    frames = spec.frames if options.frames is None else options.frames
    future = getattr(spec, "future", None) if task == "predict" else None  # a block predictor's frames per call
    length = frames + (future or 1) if task == "predict" else frames
    kwargs: dict[str, Any] = dict(length=length, batch_size=batch_size,
                                  val_fraction=options.val_fraction, seed=seed, progress=progress, cancel=cancel)
    if task in ("predict", "anomaly") and options.stride:
        kwargs["stride"] = options.stride
    if task == "anomaly" and options.frame_steps:
        kwargs["frame_steps"] = tuple(options.frame_steps)
    if task == "predict":
        kwargs.setdefault("stride", length)
    if task == "regress" and options.target:
        kwargs["target"] = options.target
    if options.videos is not None:
        kwargs["video_ids"] = options.videos
    if held_out is not None and DATASET_TASKS[task] in WINDOW_TASKS:
        kwargs["held_out"] = held_out
    if arrays:  # feature caching: a fixed sample order, so features and targets line up with the cache key
        kwargs["shuffle"] = False
    train_batches, val_batches = train_val_batches(project, DATASET_TASKS[task], preprocess, **kwargs)
    if future is not None:  # the first ``frames`` of each clip in, the next ``future`` as targets
        for batches in (train_batches, val_batches):
            if batches is not None:
                batches.given = frames
    # Frames travel as uint8 and the model scales them (core.models.frame_input): a quarter of the bytes,
    # and no float32 clips made on the host. Feature caching and mean subtraction need float32 clips.
    raw = not arrays and not preprocess.subtract_mean
    changes: dict[str, Any] = dict(frames=frames, height=preprocess.height, width=preprocess.width,
                                   channels=preprocess.channels, input_dtype="uint8" if raw else "float32")
    if task == "classify":
        changes["outputs"] = max(2, len(train_batches.class_names))
    spec = spec.replace(**changes)
    dataset_task = DATASET_TASKS[task]
    if dataset_task not in WINDOW_TASKS:
        held_out = None
    elif held_out is None:  # what trains and what is held out (frames cached above)
        held_out, _ = plan_hold_out(project, preprocess, length=kwargs["length"],
                                    frame_steps=tuple(kwargs.get("frame_steps", (1,))),
                                    val_fraction=options.val_fraction, seed=seed, video_ids=options.videos)
    if dataset_task in WINDOW_TASKS:
        splits = window_splits(project.data, options.val_fraction, seed, options.videos)
    else:
        splits = assign_splits(project.data, options.val_fraction, seed)
    description = {
        "source": "project", "project": str(project.folder), "task": DATASET_TASKS[task],
        "options": options.to_dict(), "preprocess": preprocess.to_dict(),
        "train_clips": len(train_batches.samples), "validation_clips": len(val_batches.samples) if val_batches else 0,
        "class_names": list(train_batches.class_names),
        # the videos trained and validated on, by content: scoring replays this split in any import of them
        "splits": recorded_splits(project.data, splits, options.videos),
    }
    if held_out is not None:  # the spans held out (and trained), by content: scoring calibrates on them alone
        description["held_out"] = held_out.record(project.data)
    if arrays:  # batch sequences in a fixed order, encoded batch by batch into the feature cache
        description["cache_key"] = _samples_key(project, preprocess, train_batches, val_batches)
        return TrainingData(train_batches, None, val_batches, batch_size, description), spec
    description["input_dtype"] = spec.input_dtype
    if keras.backend.backend() == "tensorflow":
        x = to_tf_dataset(train_batches, raw=raw)
        validation = to_tf_dataset(val_batches, raw=raw) if val_batches is not None else None
    else:
        x = to_pydataset(train_batches, raw=raw)
        validation = to_pydataset(val_batches, raw=raw) if val_batches is not None else None
    return TrainingData(x, None, validation, batch_size, description), spec


#: The run record's ``data`` entry saying that the run learns its error level when its training ends.
ERROR_LEVEL_WANTED = "error_level_wanted"

#: The run record's ``data`` entry saying that the run fits motion statistics when its training ends.
MOTION_WANTED = "motion_wanted"

#: Seconds a run that let go of its project waits for the project's lock to record how it ended.
RECORD_LOCK_WAIT_S = 30.0


def _project_recorder(project, run_id: str, run_dir: Path, save: bool, held: bool = True):
    """The run record's changes, copied to the project's run entry (saved when the run ends).

    ``held=False``: the project was closed while the run trained (its lock released, so other programs
    could edit it meanwhile); the end of the run is recorded in a fresh load of the project. If that is
    not possible (the project is locked for longer than :data:`RECORD_LOCK_WAIT_S`), ``run.json`` still
    says how the run ended and the project picks that up the next time it opens.
    """
    from core.project import Project, ProjectError

    def on_record(record: RunRecord) -> None:
        metrics = {
            "epochs_completed": record.epochs_completed, "monitor": record.monitor, "best_value": record.best_value,
            "best_epoch": record.best_epoch, "duration_s": round(record.duration_s, 3),
            "last": record.history[-1] if record.history else {},
        }
        changes: dict[str, Any] = {"metrics": metrics, "status": record.status}
        if record.model_path:
            changes["checkpoint"] = str(record.model_file_path(run_dir))
        if held:
            project.update_run(run_id, **changes)
            if save and record.status != "running":
                project.save()
            return
        if not save or record.status == "running":
            return
        try:
            fresh = Project.open(project.folder, wait_s=RECORD_LOCK_WAIT_S)
        except ProjectError:
            return
        try:
            if run_id in fresh.runs:
                fresh.update_run(run_id, **changes)
                fresh.save()
        finally:
            fresh.close()

    return on_record


def train_project(
    project,
    request: TrainingRequest,
    *,
    save_project: bool = True,
    hold_project: bool = True,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> RunResult:
    """Train the run ``request`` asks for on ``project``'s videos, in ``<project>/runs/<run name>``.

    ``save_project`` saves ``project.json`` when the run ends (the GUI may leave that to autosave).
    ``hold_project=False`` (the CLI): once the data are read and the run is listed in the project, the
    project is saved and closed, so its lock does not keep the GUI or other commands from editing it for
    the hours a run may take; the end of the run is recorded in a fresh load of the project.
    The ``motion`` preset (:class:`~core.models.specs.MotionSpec`) has no network: its run fits motion
    statistics on the normal footage instead (:func:`core.training.motion_run.fit_motion_run`).
    ``request.error_level``: a run of a next-frame predictor asked for as ``task="anomaly"`` (the default
    anomaly preset) that ends with a model then fits its error level on the normal footage the run held out
    of its training (``framewatch fit-error-level``; a couple of minutes on Ped2 on a CPU, outside ``max_minutes``),
    which scoring divides its errors by.
    """
    spec = request.spec()
    if isinstance(spec, MotionSpec):  # no network: one pass over the normal footage fits its statistics
        from core.training.motion_run import fit_motion_run

        return fit_motion_run(project, request, save_project=save_project, hold_project=hold_project,
                              progress=progress, cancel=cancel)
    config = request.config()
    task = spec.task  # an anomaly preset may be a next-frame predictor (scored by its prediction error)
    name = request.run_name or default_run_name(task, spec.preset)
    run_dir = project.runs_dir / name
    if (run_dir / RECORD_FILE).exists():  # refused before the project lists a run that never starts
        raise TrainingError(f"the project already has a run named {name!r} ({run_dir}): resume it, or choose "
                            "another name")
    cached = isinstance(spec, LRCNSpec) and spec.cache_features
    size = request_frame_size(project.data, request, spec)  # the footage's aspect ratio, times request.scale
    options = dataclasses.replace(request.data_options(), height=size.height, width=size.width)
    data, spec = project_data(project, task, spec, options, config.batch_size, config.seed,
                              arrays=cached, progress=with_stage(progress, Stage.PREPARING), cancel=cancel)
    data.description["frame_size"] = size.to_dict()
    _size_note(progress, size)
    if cached and config.feature_cache_dir is None:
        config = dataclasses.replace(config, feature_cache_dir=str(project.cache_dir / "features"))
    entry = project.add_run(name, task, config={"preset": spec.preset, "run_dir": str(run_dir),
                                                "spec": spec.to_dict(), "training": config.to_dict(),
                                                "process": this_process().to_dict()},
                            status="running")
    if save_project or not hold_project:
        project.save()
    if not hold_project:
        project.close()
    wants_level = request.error_level and request.task == "anomaly" and task == "predict"
    if wants_level:  # the record says so from the start: a run cancelled, then resumed, still learns its level
        data.description[ERROR_LEVEL_WANTED] = True
    wants_motion = request.motion and request.task == "anomaly" and task == "predict"
    if wants_motion:  # likewise its motion statistics
        data.description[MOTION_WANTED] = True
    recorder = _project_recorder(project, entry.id, run_dir, save_project, held=hold_project)
    result = train(spec, data, run_dir, progress, cancel, config, on_record=recorder)
    result = _with_error_level(project, result, progress, cancel) if wants_level else result
    result = _with_trust(project, result, progress, cancel) if request.task == "anomaly" else result
    return _with_motion(project, result, progress, cancel) if wants_motion else result


def _size_note(progress: ProgressCallback | None, size: FrameSize) -> None:
    """Tell the user the frame size a new run trains at when it is not simply the one asked for (the footage's
    aspect ratio, a scale), and when its videos' aspect ratios disagree."""
    if progress is None or (size.source != "footage" and size.scale == 1):
        return
    from core.training import events as ev

    for text in (size.text(), size.aspect.note() if size.aspect is not None else ""):
        if text:
            progress(ev.RunNote(done=0, total=None, message=text, stage=Stage.PREPARING))


def _legacy_held_out(project: Any, record: RunRecord, spec: Any, options: DataOptions) -> Any:
    """What a run recorded before runs held out time keeps holding out when resumed: its validation videos,
    whole, as it did (found by content, ``data["splits"]``); with none, nothing. Planning time blocks by the
    rules now would hold out frames it has trained on, and calibrate its threshold on them."""
    from core.data.datasets import plan_hold_out
    from core.data.splits import DEFAULT_VAL_FRACTION, replay_splits

    seed = int(record.config.get("seed", 0))
    fraction = options.val_fraction if options.val_fraction is not None else DEFAULT_VAL_FRACTION
    splits = replay_splits(project.data, record.data.get("splits"), fraction, seed)
    frames = spec.frames if options.frames is None else options.frames
    frame_steps = tuple(options.frame_steps or (1,)) if record.task == "anomaly" else (1,)
    held_out, _ = plan_hold_out(project, _preprocess_spec(spec, options),
                                length=frames + 1 if record.task == "predict" else frames, frame_steps=frame_steps,
                                val_fraction=0.0, seed=seed, video_ids=options.videos, splits=splits)
    return held_out


def resume_project_run(
    project,
    run: str | Path,
    *,
    epochs: int | None = None,
    learning_rate: float | None = None,
    max_minutes: float | None = None,
    steps_per_epoch: int | None = None,
    save_project: bool = True,
    hold_project: bool = True,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    error_level: bool = True,
) -> RunResult:
    """Continue a run of ``project`` (a run folder, or its name) with the same data options.

    ``epochs`` raises the total epoch count; ``learning_rate`` replaces the saved rate; ``max_minutes``
    the run's time budget (per invocation); ``steps_per_epoch`` the batches per epoch from here on; ``hold_project`` as for :func:`train_project`. A run that had an
    error level learns it again when it ends with a model (unless ``error_level=False``).
    """
    from core.models.specs import spec_from_dict

    run_dir = find_run_dir(project.folder, run)
    record = RunRecord.load(run_dir)
    refusal = resume_refusal(run_dir, record)
    if refusal:  # before the data are read: a read-only model folder, or a run with no finished epoch
        raise TrainingError(refusal)
    spec = spec_from_dict(record.spec)
    try:
        config = TrainingConfig.from_dict(record.config)
        options = DataOptions.from_dict(record.data.get("options", {}))
    except (ConfigError, TypeError) as exc:
        raise RunFileError(run_dir / RECORD_FILE, f"damaged run record: {exc}") from None
    cached = isinstance(spec, LRCNSpec) and spec.cache_features
    from core.data.datasets import WINDOW_TASKS
    from core.data.held_out import replay_held_out

    # the frames it held out stay held out: it trains on what it trained on
    held_out = replay_held_out(project.data, record.data.get("held_out"))
    if held_out is None and DATASET_TASKS[record.task] in WINDOW_TASKS:
        held_out = _legacy_held_out(project, record, spec, options)
    data, _ = project_data(project, record.task, spec, options, config.batch_size, config.seed, arrays=cached,
                           progress=with_stage(progress, Stage.PREPARING), cancel=cancel, held_out=held_out)
    entry = next((r for r in project.runs.values() if r.config.get("run_dir") == str(run_dir)), None)
    if entry is None:
        entry = project.add_run(run_dir.name, record.task, config={"preset": spec.preset, "run_dir": str(run_dir),
                                                                    "spec": record.spec, "training": record.config})
    if not hold_project:
        if project.dirty:
            project.save()
        project.close()
    recorder = _project_recorder(project, entry.id, run_dir, save_project, held=hold_project)
    result = resume(run_dir, data, progress, cancel, epochs=epochs, on_record=recorder, learning_rate=learning_rate,
                    max_minutes=max_minutes, steps_per_epoch=steps_per_epoch)
    # its weights changed: learn the level again (a run that had one, or one that was to get one when it ended)
    wants_level = error_level and wants_error_level(record)
    result = _with_error_level(project, result, progress, cancel) if wants_level else result
    wants_trust = record.task == "anomaly" or wants_error_level(record)  # an anomaly run, of either kind
    result = _with_trust(project, result, progress, cancel) if wants_trust else result
    # its footage is the same, but a run that had motion statistics keeps them fitted with the run's record
    wants_motion = record.data.get("motion") or record.data.get(MOTION_WANTED)
    return _with_motion(project, result, progress, cancel) if wants_motion else result


def wants_error_level(record: RunRecord) -> bool:
    """The run learns an error level when its training ends: it has one (its weights change, so it is learned
    again), or it was started to get one (``data["error_level_wanted"]``, set by :func:`train_project`)."""
    return bool(record.data.get("error_level") or record.data.get(ERROR_LEVEL_WANTED))


def _with_error_level(project, result: RunResult, progress: ProgressCallback | None,
                      cancel: threading.Event | None) -> RunResult:
    """A next-frame run that ended with a model learns its error level on the normal footage it held out
    (:mod:`core.training.error_level`); other runs are returned as they are."""
    record = result.record
    if record.task != "predict" or result.model_path is None or result.status not in ("completed", "stopped_early"):
        return result
    from core.errors import Cancelled
    from core.jobs import report
    from core.training.error_level import fit_error_level

    try:
        fit_error_level(project, result.run_dir, seed=int(record.config.get("seed") or 0), progress=progress,
                        cancel=cancel)
    except Cancelled:  # the run itself is finished and kept; only its error level is missing
        report(progress, 0, None, f"cancelled: run {result.run_dir.name!r} is complete without one; fit it later "
                                  "with framewatch fit-error-level", Stage.ERROR_LEVEL)
        return result
    return dataclasses.replace(result, record=RunRecord.load(result.run_dir))


def _with_motion(project, result: RunResult, progress: ProgressCallback | None,
                 cancel: threading.Event | None) -> RunResult:
    """A next-frame anomaly run that ended with a model fits motion statistics on the footage it trained on
    (:func:`core.training.motion_run.fit_run_motion`, seconds), for the ``motion`` and ``fused`` scorers; a
    cancel or a footage problem leaves the run without them (``framewatch fit-motion`` fits them later)."""
    record = result.record
    if record.task != "predict" or result.model_path is None or result.status not in ("completed", "stopped_early"):
        return result
    from core.errors import Cancelled, FramewatchError
    from core.jobs import report
    from core.training.motion_run import fit_run_motion

    try:
        fit_run_motion(project, result.run_dir, progress=progress, cancel=cancel)
    except Cancelled:
        report(progress, 0, None, f"cancelled: run {result.run_dir.name!r} is complete without motion statistics; "
                                  "fit them later with framewatch fit-motion", Stage.MOTION)
        return result
    except FramewatchError as exc:
        report(progress, 0, None, f"no motion statistics: {exc}", Stage.MOTION)
        return result
    return dataclasses.replace(result, record=RunRecord.load(result.run_dir))


def _with_trust(project, result: RunResult, progress: ProgressCallback | None,
                cancel: threading.Event | None) -> RunResult:
    """An anomaly run that ended with a model (and its error level) measures how far to trust it on the normal
    footage it held out (:mod:`core.inference.anomaly.trust`: false alarms per minute, held-out over training
    error), recorded in ``run.json``'s ``data["trust"]``; other runs are returned as they are. A cancel or a
    footage problem here leaves the finished run without a report (``framewatch trust`` measures it later)."""
    if result.model_path is None or result.status not in ("completed", "stopped_early"):
        return result
    from core.errors import Cancelled, FramewatchError
    from core.inference.anomaly.trust import assess_run
    from core.jobs import report

    try:
        assess_run(project, result.run_dir, progress=progress, cancel=cancel)
    except Cancelled:
        report(progress, 0, None, f"cancelled: run {result.run_dir.name!r} is complete without its trust report",
               Stage.CALIBRATING)
        return result
    except FramewatchError as exc:  # the run is finished and kept; only its report is missing
        report(progress, 0, None, f"no trust report: {exc}", Stage.CALIBRATING)
        return result
    return dataclasses.replace(result, record=RunRecord.load(result.run_dir))
