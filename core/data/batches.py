"""Backend-agnostic batches: numpy in, numpy out, for Keras on TensorFlow, JAX or torch.

:class:`ClipBatches` is a sequence of ``(x, y)`` batches gathered from cached ``uint8`` frames
(see :class:`core.data.frame_cache.FrameCache`) and a :class:`core.data.samples.SampleSet`:

* ``x``: float32 ``(batch, frames, height, width, channels)``, pixels scaled to [0, 1] (minus the mean
  frame when the spec subtracts it, giving [-1, 1]);
* ``y``: ``next_frame`` float32 ``(batch, frames, height, width, channels)`` (``x`` shifted by one frame;
  both have ``length - 1`` frames); ``anomaly`` the same array as ``x``; ``classification`` int32 class
  indices ``(batch,)`` in schema order (for sparse categorical cross-entropy; float32 one-hot
  ``(batch, classes)`` with ``one_hot=True``); ``regression`` float32 ``(batch, 1)``.

It shuffles per epoch (``on_epoch_end``) and can be used directly as a ``keras.utils.PyDataset``
(:func:`to_pydataset`) or a ``tf.data.Dataset`` (:func:`core.data.datasets.to_tf_dataset`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from core.data.samples import SampleSet
from core.preprocessing import PreprocessSpec


class ClipBatches:
    """``len()`` batches; ``batches[i]`` is the ``(x, y)`` of batch ``i`` of the current epoch's order."""

    def __init__(
        self,
        samples: SampleSet,
        frames: dict[str, Any],  # {video id: (frames, H, W, C) uint8 array-like}, e.g. CachedFrames
        spec: PreprocessSpec,
        *,
        batch_size: int = 8,
        shuffle: bool = True,
        seed: int = 0,
        mean_frame: np.ndarray | None = None,
        one_hot: bool = False,
        drop_remainder: bool = False,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, not {batch_size}")
        self.samples = samples
        self.spec = spec
        self.task = samples.task
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.one_hot = one_hot
        self.drop_remainder = drop_remainder
        self.mean_frame = mean_frame if spec.subtract_mean else None
        #: Cached frames of each video of ``samples.video_ids``, in that order.
        self.frames = [frames[v] for v in samples.video_ids]
        #: ``next_frame`` clips of a block predictor: ``x`` = the first ``given`` frames, ``y`` = the rest
        #: (``None``: ``x`` and ``y`` shifted by one frame)
        self.given: int | None = None
        self.epoch = 0
        self._order = self._make_order()

    # -- shapes ---------------------------------------------------------------------------------
    @property
    def class_names(self) -> list[str]:
        return self.samples.class_names

    @property
    def x_shape(self) -> tuple[int, ...]:
        """Shape of one ``x`` sample: ``(frames, height, width, channels)``."""
        frames = self.samples.length - (1 if self.task == "next_frame" else 0)
        if self.task == "next_frame" and self.given is not None:
            frames = self.given
        return (frames, *self.spec.frame_shape)

    @property
    def y_shape(self) -> tuple[int, ...]:
        """Shape of one ``y`` sample."""
        if self.task == "next_frame" and self.given is not None:
            return (self.samples.length - self.given, *self.spec.frame_shape)
        if self.task in ("next_frame", "anomaly"):
            return self.x_shape
        if self.task == "classification":
            return (len(self.class_names),) if self.one_hot else ()
        return (1,)

    @property
    def y_dtype(self) -> str:
        return "int32" if self.task == "classification" and not self.one_hot else "float32"

    def __len__(self) -> int:
        n = len(self.samples)
        return n // self.batch_size if self.drop_remainder else math.ceil(n / self.batch_size)

    @property
    def num_samples(self) -> int:
        return len(self.samples)

    # -- epochs ---------------------------------------------------------------------------------
    def _make_order(self) -> np.ndarray:
        order = np.arange(len(self.samples))
        if self.shuffle:
            np.random.default_rng((self.seed, self.epoch)).shuffle(order)
        return order

    def on_epoch_end(self) -> None:
        """Next epoch: a new shuffle (deterministic given ``seed`` and the epoch number)."""
        self.epoch += 1
        self._order = self._make_order()

    # -- gathering ------------------------------------------------------------------------------
    def clips(self, sample_ids: np.ndarray) -> np.ndarray:
        """``uint8`` clips ``(len(sample_ids), length, height, width, channels)`` of the given samples."""
        s = self.samples
        out = np.empty((len(sample_ids), s.length, *self.spec.frame_shape), np.uint8)
        frames, video_index, frame_index = self.frames, s.video_index, s.frame_index
        starts, steps = s.starts, s.steps
        for row, i in enumerate(sample_ids):
            source = frames[video_index[i]]
            if starts is not None and steps is not None:  # a window: a strided slice, no index array
                first, step = starts[i], steps[i]
                out[row] = source[first : first + s.length * step : step]
            else:
                out[row] = source[frame_index[i]]
        return out

    def batch_ids(self, index: int) -> np.ndarray:
        """Sample ids of batch ``index`` in this epoch's order."""
        if not 0 <= index < len(self):
            raise IndexError(f"batch {index} out of range (0..{len(self) - 1})")
        return self._order[index * self.batch_size : (index + 1) * self.batch_size]

    def raw(self, index: int) -> tuple[np.ndarray, np.ndarray | None]:
        """Batch ``index`` before scaling: ``uint8`` clips ``(B, length, H, W, C)`` and the raw targets.

        Targets are int32 class indices ``(B,)``, float32 values ``(B,)``, or ``None`` for frame tasks.
        :func:`core.data.datasets.to_tf_dataset` scales these inside TensorFlow (in parallel).
        """
        ids = self.batch_ids(index)
        targets = self.samples.targets
        raw_targets = None
        if targets is not None:
            raw_targets = targets[ids].astype(np.int32 if self.task == "classification" else np.float32)
        return self.clips(ids), raw_targets

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        clips_u8, targets = self.raw(index)
        clips = np.multiply(clips_u8, np.float32(1.0 / 255.0), dtype=np.float32)
        if self.mean_frame is not None:
            clips -= self.mean_frame
        return self._pair(clips, targets)

    def uint8_batch(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """Batch ``index`` as ``__getitem__`` gives it, but with ``uint8`` frames (x, and y of frame tasks).

        For models that scale frames themselves (see :mod:`core.models.frame_input`).
        """
        if self.mean_frame is not None:
            raise ValueError("uint8 batches cannot subtract a mean frame; use float32 batches")
        clips, targets = self.raw(index)
        return self._pair(clips, targets)

    def _pair(self, clips: np.ndarray, targets: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        if self.task == "next_frame":
            if self.given is not None:
                return clips[:, :self.given], clips[:, self.given:]
            return clips[:, :-1], clips[:, 1:]
        if self.task == "anomaly":
            return clips, clips
        assert targets is not None
        if self.task == "classification":
            if not self.one_hot:
                return clips, targets
            return clips, np.eye(len(self.class_names), dtype=np.float32)[targets]
        return clips, targets[:, None]

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """One epoch of batches, then :meth:`on_epoch_end`."""
        for i in range(len(self)):
            yield self[i]
        self.on_epoch_end()


def to_pydataset(batches: ClipBatches, raw: bool = False, **kwargs):
    """Wrap ``batches`` as a ``keras.utils.PyDataset`` (works on every Keras backend).

    ``raw=True`` gives ``uint8`` frames (:meth:`ClipBatches.uint8_batch`). ``kwargs`` go to ``PyDataset``
    (``workers``, ``use_multiprocessing``, ``max_queue_size``).
    """
    import keras

    class _ClipPyDataset(keras.utils.PyDataset):
        def __init__(self) -> None:
            super().__init__(**kwargs)
            self.batches = batches

        def __len__(self) -> int:
            return len(batches)

        def __getitem__(self, index: int):
            return batches.uint8_batch(index) if raw else batches[index]

        def on_epoch_end(self) -> None:
            batches.on_epoch_end()

    return _ClipPyDataset()
