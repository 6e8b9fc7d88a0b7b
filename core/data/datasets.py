"""Training data from a project, for each task, split by video, from the on-disk frame cache.

Entry points (all return :class:`~core.data.batches.ClipBatches`, a numpy batch sequence that works on
every Keras backend; wrap it with :func:`to_tf_dataset` for a ``tf.data.Dataset`` or
:func:`~core.data.batches.to_pydataset` for a ``keras.utils.PyDataset``):

* ``next_frame_batches``: x ``(B, length-1, H, W, C)``; y the same shape, x shifted by one frame.
* ``anomaly_batches``: x ``(B, length, H, W, C)`` of normal frames only; y is the same array as x.
* ``classification_batches``: x ``(B, length, H, W, C)`` per labelled subclip; y ``(B,)`` int32 class
  index in schema order (``one_hot=True``: float32 ``(B, classes)``).
* ``regression_batches``: x ``(B, length, H, W, C)`` per subclip with a value; y ``(B, 1)`` float32.

``H, W, C`` come from the :class:`~core.preprocessing.PreprocessSpec`; pixels are scaled to [0, 1] (minus
the training mean frame, so [-1, 1], when the spec subtracts it). Subclip tasks assign videos to splits whole
(:func:`core.data.splits.assign_splits`); window tasks hold out whole videos or time blocks inside them, a
window's reach apart from every trained frame (:mod:`core.data.held_out`): no frame feeds both train and
validation. The first build
decodes each video once into ``<project>/cache/frames``; later epochs and later builds read the cache.
TensorFlow is imported only by :func:`to_tf_dataset` / :func:`tf_dataset`.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Mapping
from typing import Any

import numpy as np

from core.data.batches import ClipBatches
from core.data.frame_cache import FrameCache
from core.data.held_out import HeldOut, hold_out
from core.data.normal_footage import normal_footage, normal_spans
from core.data.samples import TASKS, SampleSet, subclip_samples, window_samples
from core.data.splits import assign_splits, window_splits
from core.data.verdicts import Spans, verdict_spans, widen
from core.jobs import ProgressCallback
from core.preprocessing import PreprocessSpec
from core.project.errors import DatasetError


def frame_cache(project) -> FrameCache:
    """The project's frame cache, ``<project>/cache/frames``."""
    return FrameCache(project.cache_dir / "frames")


def mean_frame(frames: dict[str, Any]) -> np.ndarray:
    """Mean of all cached frames given: float32 ``(height, width, channels)`` in [0, 1]."""
    total = None
    count = 0
    for array in frames.values():
        for chunk in range(0, len(array), 256):
            part = np.asarray(array[chunk : chunk + 256], dtype=np.float64).sum(axis=0)
            total = part if total is None else total + part
        count += len(array)
    if total is None or count == 0:
        raise DatasetError("cannot compute a mean frame: no training frames")
    return (total / (count * 255.0)).astype(np.float32)


#: The dataset tasks whose samples are windows of normal footage (their runs hold out time, core.data.held_out).
WINDOW_TASKS = ("next_frame", "anomaly")


def plan_hold_out(project, spec: PreprocessSpec, *, length: int, frame_steps: tuple[int, ...] = (1,),
                  val_fraction: float = 0.2, seed: int = 0, video_ids: Collection[str] | None = None,
                  progress: ProgressCallback | None = None, cancel: threading.Event | None = None,
                  splits: Mapping[str, str] | None = None) -> tuple[HeldOut, dict[str, Any]]:
    """What a window-task run trains on and holds out (:func:`core.data.held_out.hold_out`), and the cached
    frames of the videos involved (``{video id: CachedFrames}``, decoded into the cache if missing).

    The gap between them is a window's reach, ``(length - 1) * max(frame_steps)`` frames. ``splits``: the
    videos' splits when already decided (a resumed run's), else :func:`core.data.splits.window_splits`'s.
    """
    data = project.data
    splits = window_splits(data, val_fraction, seed, video_ids) if splits is None else dict(splits)
    chosen = set(data.videos) if video_ids is None else set(video_ids)
    rejected = verdict_spans(data, "rejected")
    marked = {span.video_id for span in data.normal_spans.values()}  # their spans train, whatever their split
    videos = [v for v in data.videos.values()
              if v.id in chosen and (splits[v.id] in ("train", "val") or v.id in rejected or v.id in marked)]
    frames = frame_cache(project).ensure(videos, spec, progress, cancel)
    reach = (length - 1) * max(frame_steps)
    footage = normal_footage(data, splits, {v.id: len(frames[v.id]) for v in videos}, reach)
    return hold_out(data, footage, splits, val_fraction=val_fraction, seed=seed, gap=reach), frames


def build_batches(
    project,
    task: str,
    spec: PreprocessSpec,
    split: str = "train",
    *,
    length: int = 10,
    batch_size: int = 8,
    stride: int = 1,
    frame_steps: tuple[int, ...] = (1,),
    frame_step: int | None = None,
    target: str | None = None,
    val_fraction: float = 0.2,
    seed: int = 0,
    shuffle: bool | None = None,
    one_hot: bool = False,
    video_ids: Collection[str] | None = None,
    held_out: HeldOut | None = None,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> ClipBatches:
    """Batches of ``task`` (one of ``next_frame``, ``anomaly``, ``classification``, ``regression``) for ``split``.

    ``length`` is frames per clip (next-frame clips give ``length - 1`` input frames). Window tasks start a
    window every ``stride`` frames and, for each ``k`` in ``frame_steps``, take every ``k``-th frame.
    Subclip tasks take ``length`` frames spread over each subclip, or every ``frame_step``-th one.
    Window tasks learn from normal footage (:func:`~core.data.normal_footage.normal_footage`: no window
    touches an anomaly interval or a confirmed event, and the windows touching events rejected in review
    train, on any video) and hold part of it out (:func:`plan_hold_out`): ``train`` is the windows lying
    wholly inside the trained spans, ``val`` those inside the held-out spans (whole videos, or time blocks
    inside the videos when the run has fewer than five), ``test`` the test-split videos' windows, clear of
    the frames the rejected events' training windows read and of the normal spans the analyst marked. Subclip tasks split whole videos
    (:func:`~core.data.splits.assign_splits`). ``shuffle`` defaults to True for ``train``. ``video_ids``:
    ids of the videos to take samples from (default: all); each keeps the split it has among all the
    project's videos. ``held_out``: a window-task run's hold-out as recorded (a resumed run keeps training
    on the frames it trained on), instead of planning one. Progress counts frames decoded into the cache;
    raises :class:`DatasetError` if the split has no samples, a video is missing or changed, or a video
    would feed two splits.
    """
    if task not in TASKS:
        raise DatasetError(f"unknown task {task!r}: one of {', '.join(TASKS)}")
    if split not in ("train", "val", "test"):
        raise DatasetError(f"split must be train, val or test, not {split!r}")
    data = project.data
    if video_ids is not None:
        unknown = sorted(set(video_ids) - set(data.videos))
        if unknown:
            raise DatasetError(f"no video with id {', '.join(map(repr, unknown))} in the project")
        if not video_ids:
            raise DatasetError("no videos chosen: choose at least one video to train on")
    chosen = set(data.videos) if video_ids is None else set(video_ids)
    cache = frame_cache(project)
    samples: SampleSet
    train_spans: Spans | None = None  # the frames the mean frame is taken over (window tasks)
    if task in WINDOW_TASKS:
        reach = (length - 1) * max(frame_steps)
        splits = window_splits(data, val_fraction, seed, video_ids)
        if split == "test":
            videos = [v for v in data.videos.values() if splits[v.id] == "test" and v.id in chosen]
            rejected = verdict_spans(data, "rejected")  # their training windows' frames stay out of the test split
            avoid = {v.id: widen(rejected[v.id], reach) for v in videos if v.id in rejected}
            marked = normal_spans(data)  # and so do the normal spans the analyst marked, which train
            for video_id in [v.id for v in videos if v.id in marked]:
                avoid.setdefault(video_id, []).extend(marked[video_id])
            frames = cache.ensure(videos, spec, progress, cancel)
            counts = {v.id: len(frames[v.id]) for v in videos}
            within = None
        else:
            if held_out is None:
                held, frames = plan_hold_out(project, spec, length=length, frame_steps=tuple(frame_steps),
                                             val_fraction=val_fraction, seed=seed, video_ids=video_ids,
                                             progress=progress, cancel=cancel)
            else:
                held = held_out
                frames = cache.ensure([v for v in data.videos.values() if v.id in held.train or v.id in held.held],
                                      spec, progress, cancel)
            within = held.train if split == "train" else held.held
            train_spans, avoid = held.train, {}
            videos = [v for v in data.videos.values() if v.id in within]
            counts = {v.id: len(frames[v.id]) for v in videos}
        samples = window_samples(data, counts, task=task, length=length, stride=stride, frame_steps=tuple(frame_steps),
                                 normal_only=task == "anomaly", avoid=avoid, within=within)
    else:
        splits = assign_splits(data, val_fraction, seed)
        videos = [v for v in data.videos.values() if splits[v.id] == split and v.id in chosen]
        wanted = {s.video_id for s in data.subclips.values()
                  if (s.label is not None if task == "classification" else s.value is not None)}
        videos = [v for v in videos if v.id in wanted]
        frames = cache.ensure(videos, spec, progress, cancel)
        counts = {v.id: len(frames[v.id]) for v in videos}
        samples = subclip_samples(data, counts, task=task, length=length, frame_step=frame_step, target=target)
    if len(samples) == 0:
        raise DatasetError(
            f"no {task.replace('_', '-')} samples in the {split} split ({len(videos)} video(s) there; "
            f"clips of {length} frames)"
        )
    mean = None
    if spec.subtract_mean:
        if task in WINDOW_TASKS and train_spans is None:  # the test split subtracts the training mean too
            train_spans = held_out.train if held_out is not None else plan_hold_out(project, spec, length=length, frame_steps=tuple(frame_steps),
                                        val_fraction=val_fraction, seed=seed, video_ids=video_ids,
                                        progress=progress, cancel=cancel)[0].train
        if train_spans is not None:  # the frames the run trains on, held-out time left out
            cached = cache.ensure([data.videos[i] for i in train_spans], spec, progress, cancel)
            mean = mean_frame({f"{i}:{start}": cached[i][start:end] for i, spans in train_spans.items()
                               for start, end in spans})
        else:
            train_videos = [v for v in data.videos.values() if splits[v.id] == "train"]
            mean = mean_frame(cache.ensure(train_videos, spec, progress, cancel))
    return ClipBatches(samples, frames, spec, batch_size=batch_size, shuffle=split == "train" if shuffle is None else shuffle,
                       seed=seed, mean_frame=mean, one_hot=one_hot)


def next_frame_batches(project, spec: PreprocessSpec, split: str = "train", *, length: int = 20, stride: int | None = None,
                       **kwargs: Any) -> ClipBatches:
    """Shifted pairs over whole videos: x = frames 0..L-2, y = frames 1..L-1 of each ``length``-frame window.

    Windows start every ``stride`` frames (default: ``length``, i.e. non-overlapping).
    """
    return build_batches(project, "next_frame", spec, split, length=length, stride=stride or length, **kwargs)


def anomaly_batches(project, spec: PreprocessSpec, split: str = "train", *, length: int = 10,
                    frame_steps: tuple[int, ...] = (1, 2, 3), stride: int = 1, **kwargs: Any) -> ClipBatches:
    """Normal-only clips for a reconstruction model, with frame strides ``frame_steps`` as augmentation."""
    return build_batches(project, "anomaly", spec, split, length=length, frame_steps=frame_steps, stride=stride, **kwargs)


def classification_batches(project, spec: PreprocessSpec, split: str = "train", *, length: int = 16,
                           frame_step: int | None = None, **kwargs: Any) -> ClipBatches:
    """One clip per labelled subclip -> its class index (``batches.class_names`` gives the order).

    ``one_hot=True`` gives float32 one-hot targets ``(B, classes)`` instead.
    """
    return build_batches(project, "classification", spec, split, length=length, frame_step=frame_step, **kwargs)


def regression_batches(project, spec: PreprocessSpec, split: str = "train", *, length: int = 16,
                       frame_step: int | None = None, target: str | None = None, **kwargs: Any) -> ClipBatches:
    """One clip per subclip with a value (of ``target``, if given) -> the value, ``(B, 1)``."""
    return build_batches(project, "regression", spec, split, length=length, frame_step=frame_step, target=target,
                         **kwargs)


def train_val_batches(project, task: str, spec: PreprocessSpec, **kwargs: Any) -> tuple[ClipBatches, ClipBatches | None]:
    """``(train, val)`` batches of a task; ``val`` is ``None`` when the val split has no samples."""
    train = build_batches(project, task, spec, "train", **kwargs)
    try:
        val = build_batches(project, task, spec, "val", **{**kwargs, "shuffle": False})
    except DatasetError:
        val = None
    return train, val


#: Frames up to this many bytes are copied into TensorFlow's memory for an all-graph pipeline.
IN_MEMORY_LIMIT = 2 << 30


def to_tf_dataset(batches: ClipBatches, prefetch: bool = True, in_memory: bool | None = None, raw: bool = False):
    """A ``tf.data.Dataset`` of ``(x, y)`` batches from ``batches``; each pass over it is one epoch.

    Shapes, dtypes and values are those of ``batches[i]``; the cardinality is set, so ``model.fit`` knows
    the steps per epoch. Two pipelines, same output:

    * **in memory** (default when the split's cached frames take at most :data:`IN_MEMORY_LIMIT` bytes):
      the ``uint8`` frames are copied once into a TensorFlow tensor and every step (shuffle, gather,
      scale to float32, mean subtraction) runs in the tf.data graph, in parallel, with no Python per batch.
      Shuffled epochs use TensorFlow's seeded reshuffle, so their order differs from ``batches``'s own.
    * **streaming** (``in_memory=False``, or larger data): a Python generator gathers ``uint8`` clips from
      the memory-mapped cache batch by batch (memory stays flat) and TensorFlow scales them in parallel.

    With ``raw=True`` clips (and the target frames of frame tasks) stay ``uint8``, for models that
    scale frames in their first layer (``ModelSpec.input_dtype == "uint8"``): no float32 clip is ever
    made on the host. A spec that subtracts a mean frame cannot be raw.
    """
    import tensorflow as tf

    if raw and batches.mean_frame is not None:
        raise ValueError("raw uint8 batches cannot subtract a mean frame; use float32 batches")

    task = batches.task
    mean = None if batches.mean_frame is None else tf.constant(batches.mean_frame, tf.float32)
    classes = len(batches.class_names)
    one_hot = batches.one_hot
    given = batches.given  # a block predictor's clips: the first ``given`` frames in, the rest as targets

    def convert(clips, targets=None):
        x = clips if raw else tf.cast(clips, tf.float32) * (1.0 / 255.0)
        if mean is not None:
            x = x - mean
        if task == "next_frame":
            return (x[:, :-1], x[:, 1:]) if given is None else (x[:, :given], x[:, given:])
        if task == "anomaly":
            return x, x
        if task == "classification":
            return x, tf.one_hot(targets, classes, dtype=tf.float32) if one_hot else targets
        return x, targets[:, None]

    frame_bytes = int(np.prod(batches.spec.frame_shape))
    total_bytes = sum(len(f) for f in batches.frames) * frame_bytes
    if in_memory is None:
        in_memory = total_bytes <= IN_MEMORY_LIMIT
    samples = batches.samples
    targets_np = samples.targets
    if targets_np is not None:
        targets_np = targets_np.astype(np.int32 if task == "classification" else np.float32)

    if in_memory:
        frames = tf.constant(np.concatenate([np.asarray(f) for f in batches.frames]))
        offsets = np.cumsum([0] + [len(f) for f in batches.frames])[:-1]
        table = tf.constant((offsets[samples.video_index][:, None] + samples.frame_index).astype(np.int32))
        targets_t = None if targets_np is None else tf.constant(targets_np)

        def load(ids):
            clips = tf.gather(frames, tf.gather(table, ids))
            return convert(clips, None if targets_t is None else tf.gather(targets_t, ids))

        dataset = tf.data.Dataset.range(len(samples))
        if batches.shuffle:
            dataset = dataset.shuffle(len(samples), seed=batches.seed, reshuffle_each_iteration=True)
        dataset = dataset.batch(batches.batch_size, drop_remainder=batches.drop_remainder)
        dataset = dataset.map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        return dataset.prefetch(tf.data.AUTOTUNE) if prefetch else dataset

    clip_spec = tf.TensorSpec((None, samples.length, *batches.spec.frame_shape), tf.uint8)
    if targets_np is None:
        signature: Any = clip_spec

        def generate():
            for i in range(len(batches)):
                yield batches.raw(i)[0]
            batches.on_epoch_end()
    else:
        signature = (clip_spec, tf.TensorSpec((None,), tf.as_dtype(targets_np.dtype)))

        def generate():
            for i in range(len(batches)):
                yield batches.raw(i)
            batches.on_epoch_end()

    dataset = tf.data.Dataset.from_generator(generate, output_signature=signature)
    dataset = dataset.apply(tf.data.experimental.assert_cardinality(len(batches)))
    dataset = dataset.map(convert, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return dataset.prefetch(tf.data.AUTOTUNE) if prefetch else dataset


def tf_dataset(project, task: str, spec: PreprocessSpec, split: str = "train", **kwargs: Any):
    """:func:`build_batches` then :func:`to_tf_dataset`."""
    return to_tf_dataset(build_batches(project, task, spec, split, **kwargs))
