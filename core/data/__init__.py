"""Datasets from projects: the on-disk frame cache, split by video, batches for each task; Moving MNIST.

See :mod:`core.data.datasets` for the builders and the shapes they give.
"""

from core.data.batches import ClipBatches, to_pydataset
from core.data.datasets import (
    anomaly_batches,
    build_batches,
    classification_batches,
    frame_cache,
    mean_frame,
    next_frame_batches,
    regression_batches,
    tf_dataset,
    to_tf_dataset,
    train_val_batches,
)
from core.data.frame_cache import FrameCache
from core.data.ground_truth import frame_labels, split_frame_labels
from core.data.moving_mnist import MovingMnistBatches, mnist_digits, moving_mnist, read_idx
from core.data.samples import TASKS, SampleSet
from core.data.splits import assign_splits

__all__ = [
    "TASKS",
    "ClipBatches",
    "FrameCache",
    "MovingMnistBatches",
    "SampleSet",
    "anomaly_batches",
    "assign_splits",
    "build_batches",
    "classification_batches",
    "frame_cache",
    "frame_labels",
    "mean_frame",
    "mnist_digits",
    "moving_mnist",
    "next_frame_batches",
    "read_idx",
    "regression_batches",
    "split_frame_labels",
    "tf_dataset",
    "to_pydataset",
    "to_tf_dataset",
    "train_val_batches",
]
