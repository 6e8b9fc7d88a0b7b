"""Score an archive of videos on Ray: segments handed to workers, merged into the project's score cache.

:func:`score_archive` is what ``framewatch score PROJECT --run RUN --all --workers N`` (a local Ray started in
this process, stopped at the end) and ``--cluster ADDRESS`` (an existing Ray cluster joined from here, or with
``http://HEAD:8265`` submitted to it as a Ray job, :mod:`core.distributed.ray_job`; the project folder must be
at the same path on every node) run before the usual :func:`~core.inference.anomaly.project_scoring.score_project`,
which then finds every video's scores in the cache and only calibrates, flags and writes ``events.json``, as
after a local scoring.

1. The run's model is opened and pinned as ``score_project`` opens it (same keys); a fused run is its two
   signals (:func:`archive_parts`), each scored and cached under its own key, which ``score_project`` fuses.
   The videos are the targets plus, unless a threshold is given, the run's calibration footage (what
   ``score_project`` scores first).
2. Each video whose complete scores are not cached is cut into segments (:mod:`core.distributed.segments`);
   those whose scores a previous run left in ``<project>/cache/segments/`` are skipped.
3. ``workers`` Ray actors (:class:`~core.distributed.worker.SegmentWorker`, one CPU each) load the model once
   and score the segments, at most :data:`IN_FLIGHT` queued per worker, each writing its segment's scores
   before it answers. An actor whose process dies is restarted and its segments retried
   (``max_restarts`` / ``max_task_retries`` = ``retries``).
4. As soon as all of a video's segments are in, they are merged into its score cache entry and their files
   removed.

Progress counts the frames of the segments scored now over those to score (the bar's rate and time left),
with ``segments done/total`` as its message. ``cancel`` (checked every :data:`POLL_S` seconds), Ctrl+C or any
error kills the actors (their running segments stop at once; finished ones stay on disk) and shuts down the
Ray this call started; :class:`~core.errors.Cancelled` then.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.distributed.ray_import import import_ray, last_line
from core.distributed.ray_job import is_jobs_address, request_for, run_archive_job
from core.distributed.segments import (
    DEFAULT_SEGMENT_SECONDS,
    Segment,
    SegmentCache,
    merge_segments,
    segment_frames_for,
    split_frames,
    write_merged,
)
from core.distributed.worker import SegmentDone, SegmentTask, SegmentWorker
from core.inference.anomaly.project_scoring import ScoringRun, calibration_footage, run_model, score_key
from core.inference.anomaly.score_cache import ScoreCache, ScoreKey
from core.inference.clip_input import DEFAULT_BATCH_SIZE, resolve_stride
from core.inference.errors import ScoreError
from core.jobs import Progress, ProgressCallback, Stage, check_cancelled
from core.project.entities import Video

#: Segments queued on one worker at a time: the next is ready when one finishes.
IN_FLIGHT = 2
#: Seconds between two looks at ``cancel`` while waiting for the workers.
POLL_S = 0.25
#: Restarts of a worker whose process died, and retries of its segments, before the job fails.
DEFAULT_RETRIES = 3


@dataclass
class ArchiveScoring:
    """What :func:`score_archive` did: frames scored now per video id, segments scored now and found done,
    the workers used and the wall-clock seconds (Ray's start included)."""

    scored_now: dict[str, int] = field(default_factory=dict)
    segments_scored: int = 0
    segments_reused: int = 0
    videos_cached: int = 0
    workers: int = 0
    seconds: float = 0.0
    done: list[SegmentDone] = field(default_factory=list)

    @property
    def frames_scored(self) -> int:
        return sum(self.scored_now.values())


@dataclass
class _VideoJob:
    video: Video
    key: ScoreKey
    segments: list[Segment]
    parts: dict[Segment, np.ndarray]


def archive_run(project: Any, run: str | Path | ScoringRun, scorer: str | None = None,
                error: str | None = None) -> ScoringRun:
    """``run``'s model pinned, with ``error``, as :func:`score_project` opens it (so the keys agree)."""
    model = (run if isinstance(run, ScoringRun) else run_model(project.folder, run, scorer)).pinned()
    if error is not None and error != model.spec.error:
        model = dataclasses.replace(model, spec=dataclasses.replace(model.spec, error=error))
    return model


def archive_videos(project: Any, model: ScoringRun, videos: Sequence[str] | None, calibrate: bool) -> list[Video]:
    """The videos ``score_project`` will score: the calibration footage's (unless ``calibrate`` is False: a
    threshold was given) and the targets (ids, names or paths; ``None``: all), each once, in that order."""
    targets = [project.video(key) for key in videos] if videos is not None else list(project.videos.values())
    footage = [video for video, _ in calibration_footage(project, model)] if calibrate else []
    return list({video.id: video for video in [*footage, *targets]}.values())


def score_archive(
    project: Any,
    run: str | Path | ScoringRun,
    videos: Sequence[str] | None = None,
    workers: int | None = None,
    address: str | None = None,
    stride: int | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    error: str | None = None,
    scorer: str | None = None,
    calibrate: bool = True,
    segment_seconds: float = DEFAULT_SEGMENT_SECONDS,
    segment_frames: int | None = None,
    retries: int = DEFAULT_RETRIES,
    gpus_per_worker: float = 0.0,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    on_segment: Callable[[SegmentDone], None] | None = None,
    log: Callable[[str], None] | None = None,
) -> ArchiveScoring:
    """Score ``videos`` (and the calibration footage, when ``calibrate``) with ``run`` on Ray, into the project's
    score cache (module doc). ``workers``: Ray actors (default: one per CPU Ray has); ``address``: an existing
    cluster (``"auto"``, ``"HOST:6379"``, ``"ray://HOST:10001"``) or, with ``"http://HEAD:8265"``, the cluster's
    Ray Jobs server, to which the scoring is submitted as a job (:mod:`core.distributed.ray_job`; ``log`` hears
    its other log lines and ``on_segment`` nothing), else a local Ray of ``workers`` CPUs is started here and
    stopped at the end (one already started in this process is used and left running).
    ``segment_frames`` overrides ``segment_seconds`` (footage per segment). ``gpus_per_worker``: each worker's
    share of a GPU (Ray's ``num_gpus``; 0: CPU workers, which see no GPU); without ``workers``, as many workers
    as the cluster's GPUs hold at that share. ``on_segment`` hears every segment
    scored (tests, benchmarks). Raises :class:`~core.distributed.ray_import.RayMissingError` without Ray, the
    errors of :func:`run_model` and :class:`ScoreError` (GPU workers the cluster cannot hold, a segment that
    failed ``retries`` times, segments that do not agree)."""
    ray = import_ray()
    began = time.perf_counter()
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ScoreError(f"workers must be a whole number >= 1, got {workers!r}")
    if not (isinstance(gpus_per_worker, (int, float)) and 0 <= gpus_per_worker < float("inf")):
        raise ScoreError(f"gpus_per_worker must be a number >= 0, got {gpus_per_worker!r}")
    model = archive_run(project, run, scorer, error)
    stride = resolve_stride(model.spec, stride)
    result = ArchiveScoring()
    parts = archive_parts(model)
    jobs, tasks = _plan(project, parts, archive_videos(project, model, videos, calibrate), stride, segment_seconds,
                        segment_frames, result)
    for name, job in list(jobs.items()):
        if len(job.parts) == len(job.segments):  # every segment done before (a driver lost before merging)
            _merge(project, job)
            del jobs[name]
    if not tasks:
        result.seconds = time.perf_counter() - began
        return result
    if is_jobs_address(address):
        request = request_for(project, model, videos, workers, stride, batch_size, calibrate, segment_seconds,
                              segment_frames, retries, gpus_per_worker)
        done = run_archive_job(str(address), request, progress, cancel, log)
        done.seconds = time.perf_counter() - began
        return done
    started = False
    if not ray.is_initialized():
        _start_ray(ray, address, workers)
        started = True
    actors: list[Any] = []
    try:
        count = _worker_count(ray.cluster_resources(), workers, gpus_per_worker, address)
        result.workers = count
        remote = ray.remote(num_cpus=1, num_gpus=gpus_per_worker, max_restarts=retries,
                            max_task_retries=retries)(SegmentWorker)
        actors = [remote.remote(str(project.folder), parts, stride, batch_size, 1) for _ in range(count)]
        _run_tasks(ray, actors, tasks, jobs, project, result, progress, cancel, on_segment)
    finally:
        for actor in actors:
            with contextlib.suppress(Exception):  # an actor already gone: nothing to stop
                ray.kill(actor)
        if started:
            ray.shutdown()
    result.seconds = time.perf_counter() - began
    return result


def _worker_count(resources: dict[str, float], workers: int | None, gpus_per_worker: float,
                  address: str | None) -> int:
    """``workers``, or when none are asked for one per CPU of the cluster (``resources``), or with
    ``gpus_per_worker`` as many as its GPUs hold at that share (and its CPUs). :class:`ScoreError` when more
    workers are asked for than the cluster has CPUs (each takes one), or GPU workers of a cluster with less GPU
    than they need: the workers past them would never start, and Ray would wait for them forever."""
    cpus = max(1, int(resources.get("CPU", 1)))
    where = f"the Ray cluster at {address}" if address else "this machine's Ray"
    if workers and workers > cpus:
        raise ScoreError(f"{workers} workers asked for but {where} has {cpus} CPU{'s' if cpus != 1 else ''} (a "
                         f"worker takes one): ask for at most {cpus}, or leave the worker count out to run one "
                         "per CPU")
    if not gpus_per_worker:
        return workers or cpus
    gpus = float(resources.get("GPU", 0.0))
    if gpus < gpus_per_worker:
        raise ScoreError(f"GPU workers asked for ({gpus_per_worker:g} GPU each) but {where} has "
                         f"{gpus:g} GPU{'s' if gpus != 1 else ''}: score on CPU workers (no GPU share) or on a "
                         "cluster with GPUs")
    if workers and workers * gpus_per_worker > gpus + 1e-9:  # the workers past the GPUs would never start
        raise ScoreError(f"{workers} workers at {gpus_per_worker:g} GPU each need {workers * gpus_per_worker:g} "
                         f"GPUs but {where} has {gpus:g}: ask for fewer workers or a smaller share")
    return workers or max(1, min(cpus, int(gpus / gpus_per_worker + 1e-9)))


def _start_ray(ray: Any, address: str | None, workers: int | None) -> None:
    """Join the cluster at ``address``, or start a local Ray of ``workers`` CPUs (all the machine's by default)."""
    try:
        if address:
            ray.init(address=address, logging_level=logging.WARNING, log_to_driver=False)
        else:
            # "local": a Ray of its own, even where a cluster started on this machine (ray start) would be joined
            ray.init(address="local", num_cpus=workers, include_dashboard=False, logging_level=logging.WARNING,
                     log_to_driver=False)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        what = f"join the Ray cluster at {address}" if address else "start a local Ray"
        raise ScoreError(f"cannot {what}: {str(exc).splitlines()[0] if str(exc) else exc}") from exc


def archive_parts(model: ScoringRun) -> list[ScoringRun]:
    """The runs whose scores the workers make: ``model``, or a fused run's prediction and motion parts (each
    cached under its own key; :func:`score_project` fuses them, as after a local scoring)."""
    if model.scorer != "fused":
        return [model]
    from core.inference.anomaly.scorers import fused_parts

    return list(fused_parts(model))


def _plan(project: Any, parts: list[ScoringRun], videos: list[Video], stride: int, segment_seconds: float,
          segment_frames: int | None, result: ArchiveScoring) -> tuple[dict[tuple[int, str], _VideoJob],
                                                                       deque[SegmentTask]]:
    """The videos still to score with each of ``parts`` (keyed by part and video id), their segments, and the
    segments not found done in the segment cache."""
    cache, segment_cache = ScoreCache(project.folder), SegmentCache(project.folder)
    jobs: dict[tuple[int, str], _VideoJob] = {}
    tasks: deque[SegmentTask] = deque()
    cached: set[str] = set()
    for video in videos:
        size = segment_frames if segment_frames is not None else segment_frames_for(video.fps, segment_seconds)
        todo: dict[Segment, list[int]] = {}  # segment -> the parts still to score it, in part order
        for number, part in enumerate(parts):
            key = score_key(part, video, stride)
            entry = cache.read(key)
            if entry is not None and entry.complete:
                continue
            job = _VideoJob(video, key, split_frames(video.known_frame_count, size), {})
            jobs[number, video.id] = job
            for segment in job.segments:
                found = segment_cache.read_segment(key, segment)
                if found is not None:
                    job.parts[segment] = found
                    result.segments_reused += 1
                else:
                    todo.setdefault(segment, []).append(number)
        for segment, numbers in todo.items():
            if numbers == [0, 1]:  # a fused run's two signals: one task, one decode
                tasks.append(SegmentTask(str(video.path), video.id, jobs[0, video.id].key, segment,
                                         shared_key=jobs[1, video.id].key))
            else:
                tasks.extend(SegmentTask(str(video.path), video.id, jobs[n, video.id].key, segment, n)
                             for n in numbers)
        if not any((number, video.id) in jobs for number in range(len(parts))):
            cached.add(video.id)
    result.videos_cached = len(cached)
    return jobs, tasks


def _frames_of(task: SegmentTask, job: _VideoJob) -> int:
    """Frames ``task``'s segment should hold, from the video's known frame count (a progress total)."""
    if task.segment.end is not None:
        return task.segment.end - task.segment.start
    return max(0, job.video.known_frame_count - task.segment.start)


def _merge(project: Any, job: _VideoJob) -> None:
    parts = [job.parts[segment] for segment in job.segments]
    scores = merge_segments(job.segments, parts, job.video.path)
    write_merged(project.folder, job.key, scores, job.video.id)
    SegmentCache(project.folder).remove_segments(job.key, job.segments)


def _run_tasks(ray: Any, actors: list[Any], tasks: deque[SegmentTask], jobs: dict[tuple[int, str], _VideoJob],
               project: Any,
               result: ArchiveScoring, progress: ProgressCallback | None, cancel: threading.Event | None,
               on_segment: Callable[[SegmentDone], None] | None) -> None:
    """Keep every actor fed with up to :data:`IN_FLIGHT` segments until all are scored; merge each video as soon
    as its segments are all in."""
    total_segments = len(tasks)
    total_frames = sum(_frames_of(task, jobs[task.part, task.video_id]) for task in tasks)  # a shared task's once
    loads = [0] * len(actors)
    in_flight: dict[Any, tuple[int, SegmentTask]] = {}
    scored: dict[tuple[int, str], int] = {}
    done_frames = done_segments = 0

    def tell() -> None:
        if progress is not None:
            progress(Progress(done_frames, total_frames or None, f"{done_segments}/{total_segments} segments",
                              Stage.SCORING))

    tell()
    while tasks or in_flight:
        check_cancelled(cancel, "scoring")
        for number, actor in enumerate(actors):
            while tasks and loads[number] < IN_FLIGHT:
                task = tasks.popleft()
                in_flight[actor.score.remote(task)] = (number, task)
                loads[number] += 1
        ready, _ = ray.wait(list(in_flight), num_returns=1, timeout=POLL_S)
        for ref in ready:
            number, task = in_flight.pop(ref)
            loads[number] -= 1
            try:
                done = ray.get(ref)
            except ray.exceptions.RayError as exc:
                raise ScoreError(f"{task.video_path}: segment {task.segment.label()} failed: "
                                 f"{last_line(exc)}") from exc
            for part, key in task.parts:
                scores = SegmentCache(project.folder).read_segment(key, task.segment)
                if scores is None or len(scores) != done.frames:
                    raise ScoreError(f"{task.video_path}: the scores of segment {task.segment.label()} are not "
                                     f"in {SegmentCache(project.folder).folder}: do the workers see the project "
                                     "folder at the same path?")
                job = jobs[part, task.video_id]
                job.parts[task.segment] = scores
                scored[part, task.video_id] = scored.get((part, task.video_id), 0) + done.frames
                if len(job.parts) == len(job.segments):
                    _merge(project, job)
            # a video's frames scored now: by the part that scored most of them (a fused run scores each twice)
            result.scored_now[task.video_id] = max(n for (_, video_id), n in scored.items() if video_id == task.video_id)
            result.segments_scored += 1
            result.done.append(done)
            done_frames += done.frames
            done_segments += 1
            tell()
            if on_segment is not None:
                on_segment(done)
