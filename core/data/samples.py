"""Sample tables: which frames of which cached video make each training example, for each task.

A :class:`SampleSet` holds, for ``N`` samples of ``L`` frames each, the video of every sample and the
frame indices into that video's cached frames (``(N, L)`` int32), plus the targets. Building one does not
touch pixels; :class:`core.data.batches.ClipBatches` gathers the frames batch by batch.

Tasks:

* ``next_frame`` — windows of ``length`` consecutive frames over whole videos; a batch gives
  ``x = clip[:, :-1]``, ``y = clip[:, 1:]`` (shifted pairs).
* ``anomaly`` — windows of ``length`` frames taken ``k`` frames apart for every ``k`` in ``frame_steps``
  (the stride augmentation of the spatiotemporal autoencoder), only where every frame is normal (outside
  the ground-truth anomaly intervals and the events confirmed in review, :mod:`core.data.verdicts`); a
  batch gives ``x = y = clip``.
* ``classification`` — one sample per labelled subclip: ``length`` frames spread evenly over the subclip
  (or every ``frame_step``-th frame from its start, the last frame repeated if the subclip is too
  short); the target is the class index in schema order.
* ``regression`` — the same sampling for subclips with a numeric value; the target is the value.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core.data.verdicts import Spans, abnormal_spans
from core.preprocessing import window_starts
from core.project.entities import ProjectData
from core.project.errors import DatasetError
from core.tasks import DATASET_TASK_NAMES

TASKS = DATASET_TASK_NAMES  # the user-facing names and the table between them: core.tasks


@dataclass
class SampleSet:
    """``N`` samples: ``video_ids[video_index[i]]`` is sample ``i``'s video, ``frame_index[i]`` its frames.

    ``targets`` is ``(N,)`` int64 class indices (classification), ``(N,)`` float32 values (regression), or
    ``None`` (the frames are their own targets). ``class_names`` lists classes in index order.
    """

    task: str
    video_ids: list[str]
    video_index: np.ndarray
    frame_index: np.ndarray
    targets: np.ndarray | None = None
    class_names: list[str] = field(default_factory=list)
    #: For window samples, ``frame_index[i] == starts[i] + arange(L) * steps[i]`` (lets batches slice).
    starts: np.ndarray | None = None
    steps: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.video_index)

    @property
    def length(self) -> int:
        return self.frame_index.shape[1]


def _windows(count: int, length: int, stride: int, frame_step: int, allowed: np.ndarray | None,
             touching: np.ndarray | None = None) -> np.ndarray:
    starts = np.asarray(window_starts(count, length, stride, frame_step), dtype=np.int64)
    idx = starts[:, None] + np.arange(length, dtype=np.int64)[None, :] * frame_step
    if allowed is not None and len(idx):
        idx = idx[allowed[idx].all(axis=1)]
    if touching is not None and len(idx):
        idx = idx[touching[idx].any(axis=1)]
    return idx.reshape(-1, length)


def _mask(count: int, spans: list[tuple[int, int]], inside: bool) -> np.ndarray:
    """``(count,)`` bool: ``inside`` on the frames of ``spans``, the opposite elsewhere."""
    mask = np.full(count, not inside)
    for start, end in spans:
        mask[max(0, start):max(0, end)] = inside
    return mask


def _collect(task: str, per_video: list[tuple[str, np.ndarray]], targets: list | None = None,
             class_names: list[str] | None = None, target_dtype: type = np.float32) -> SampleSet:
    video_ids = list(dict.fromkeys(v for v, _ in per_video))
    pos = {v: n for n, v in enumerate(video_ids)}
    if per_video:
        frame_index = np.concatenate([idx for _, idx in per_video]).astype(np.int32)
        video_index = np.concatenate([np.full(len(idx), pos[v], np.int32) for v, idx in per_video])
    else:
        frame_index = np.zeros((0, 1), np.int32)
        video_index = np.zeros(0, np.int32)
    return SampleSet(task, video_ids, video_index, frame_index,
                     None if targets is None else np.asarray(targets, dtype=target_dtype), class_names or [])


def window_samples(
    data: ProjectData,
    frame_counts: dict[str, int],
    *,
    task: str,
    length: int,
    stride: int = 1,
    frame_steps: tuple[int, ...] = (1,),
    normal_only: bool = False,
    touching: Spans | None = None,
    avoid: Spans | None = None,
    within: Spans | None = None,
) -> SampleSet:
    """Window samples over the videos in ``frame_counts`` (``{video id: cached frame count}``).

    With ``normal_only`` a window may not touch a frame inside an anomaly interval or a confirmed event
    (:func:`~core.data.verdicts.abnormal_spans`). For a video in ``touching`` only the windows that touch
    one of its spans are kept; no window touches a frame of a video's spans in ``avoid``. With ``within``
    every window lies wholly inside one span of its video there (a video it does not name gives none).
    """
    if length < 2 and task == "next_frame":
        raise DatasetError("next-frame windows need at least 2 frames")
    excluded: Spans = {video_id: list(spans) for video_id, spans in (avoid or {}).items()}
    if normal_only:
        for video_id, spans in abnormal_spans(data).items():
            excluded.setdefault(video_id, []).extend(spans)
    touching = touching or {}
    per_video = []
    for video_id, count in frame_counts.items():
        allowed = _mask(count, excluded[video_id], inside=False) if video_id in excluded else None
        if within is not None:  # frames outside every span of the video are not allowed
            inside = _mask(count, within.get(video_id, []), inside=True)
            allowed = inside if allowed is None else allowed & inside
        near = _mask(count, touching[video_id], inside=True) if video_id in touching else None
        for step in frame_steps:
            idx = _windows(count, length, stride, step, allowed, near)
            if len(idx):
                per_video.append((video_id, idx))
    samples = _collect(task, per_video)
    frame_index = samples.frame_index
    samples.starts = frame_index[:, 0].copy()
    if length > 1 and len(frame_index):
        samples.steps = frame_index[:, 1] - frame_index[:, 0]
    else:  # one-frame windows, or none at all (no video, or every video shorter than a window)
        samples.steps = np.ones(len(frame_index), np.int32)
    return samples


def spread_indices(start: int, end: int, length: int, frame_step: int | None, available: int) -> np.ndarray:
    """``length`` frame indices from ``[start, end)``: evenly spread, or every ``frame_step``-th frame.

    Indices past the end (short subclips, or frames that no longer decode) repeat the last usable frame.
    """
    end = min(end, available)
    if end <= start:
        raise DatasetError(f"subclip [{start}, {end}) has no frame that decodes (the video has {available})")
    if frame_step is None:
        idx = start + np.floor((np.arange(length) + 0.5) * (end - start) / length).astype(np.int64)
    else:
        idx = start + np.arange(length, dtype=np.int64) * frame_step
    return np.minimum(idx, end - 1)


def subclip_samples(
    data: ProjectData,
    frame_counts: dict[str, int],
    *,
    task: str,
    length: int,
    frame_step: int | None = None,
    target: str | None = None,
) -> SampleSet:
    """One sample per subclip of the videos in ``frame_counts`` that has a class (or a value)."""
    per_video = []
    targets: list = []
    class_names = list(data.classes)
    class_pos = {c: n for n, c in enumerate(class_names)}
    for clip in data.subclips.values():
        if clip.video_id not in frame_counts:
            continue
        if task == "classification":
            if clip.label is None:
                continue
            if clip.label not in class_pos:
                raise DatasetError(f"subclip {clip.id} has label {clip.label!r}, which is not in the label schema")
            targets.append(class_pos[clip.label])
        else:
            if clip.value is None or (target is not None and clip.target != target):
                continue
            targets.append(clip.value)
        idx = spread_indices(clip.start, clip.end, length, frame_step, frame_counts[clip.video_id])
        per_video.append((clip.video_id, idx[None, :]))
    if task == "classification":
        return _collect(task, per_video, targets, class_names, np.int64)
    return _collect(task, per_video, targets)
