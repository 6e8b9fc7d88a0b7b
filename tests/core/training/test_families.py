"""Every model family trains for a few steps on tiny clips and its loss falls on a learnable toy problem."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

from core.models import make_spec
from core.models.files import load_model_file
from core.training import events as ev
from core.training.data import TrainingData
from core.training.trainer import TrainingConfig, train
from tests.core.training.test_support import FRAMES, SIZE, moving_squares, shifted, square_size_clips

SMALL = dict(frames=FRAMES, height=SIZE, width=SIZE)


def first_and_last_loss(spec, data: TrainingData, run_dir: Path, epochs: int, batch_size: int = 8, lr=None):
    if lr is not None:
        spec = spec.replace(learning_rate=lr)
    events: list = []
    result = train(spec, data, run_dir, progress=events.append,
                   config=TrainingConfig(epochs=epochs, batch_size=batch_size, patience=0, lr_patience=0))
    first = next(e.loss for e in events if isinstance(e, ev.BatchEnded))
    assert result.status == "completed"
    assert (run_dir / "last.keras").is_file() and result.model_path is not None
    return first, result.history[-1]["loss"]


@pytest.fixture(scope="module")
def squares() -> tuple[np.ndarray, np.ndarray]:
    return shifted(moving_squares(32))


@pytest.mark.parametrize(
    "preset, options",
    [
        ("keras-example", dict(filters=(8, 8, 8))),  # the reference layout, narrowed for two CPU cores
        ("default", dict(filters=(8, 8), encoder_filters=8)),
        ("conv3d", dict(filters=(8, 8))),
    ],
)
def test_next_frame_families_learn_moving_squares(preset, options, squares, tmp_path: Path) -> None:
    x, y = squares
    spec = make_spec("predict", preset, **SMALL, **options)
    first, last = first_and_last_loss(spec, TrainingData(x, y), tmp_path / "run", epochs=6, lr=3e-3)
    # the default preset starts near "copy the current frame" (its loss starts low), so it has less to gain
    assert last < (0.8 if preset == "default" else 0.7) * first, (first, last)


def test_autoencoder_learns_to_reconstruct(squares, tmp_path: Path) -> None:
    clips = squares[0]
    spec = make_spec("anomaly", "conv-ae", **SMALL, encoder=((8, 5, 2), (8, 3, 2)), recurrent=(8, 4, 8))
    first, last = first_and_last_loss(spec, TrainingData(clips, clips), tmp_path / "run", epochs=4, lr=3e-3)
    assert last < 0.7 * first, (first, last)


def baseline_loss(task: str, y: np.ndarray) -> float:
    """Loss of the best constant guess: log(classes) for balanced classes, the target variance for regression."""
    return float(np.log(3)) if task == "classify" else float(np.var(y))


@pytest.mark.parametrize("task", ["classify", "regress"])
@pytest.mark.parametrize("preset", ["default", "conv3d", "conv3d-lstm"])
def test_clip_models_learn_how_big_the_square_is(task: str, preset: str, tmp_path: Path) -> None:
    x, labels, sizes = square_size_clips(48)
    y = labels if task == "classify" else sizes
    options = dict(cnn_filters=(8, 16)) if preset == "default" else dict(filters=(8, 16))
    spec = make_spec(task, preset, **SMALL, outputs=3 if task == "classify" else 1, dropout=0.0, **options)
    _, last = first_and_last_loss(spec, TrainingData(x, y), tmp_path / "run", epochs=6, lr=3e-3)
    assert last < 0.6 * baseline_loss(task, y), last


def test_frozen_cnn_with_cached_features_trains_the_head_only(tmp_path: Path) -> None:
    x, labels, _ = square_size_clips(48)
    spec = make_spec("classify", "default", **SMALL, outputs=3, cnn_filters=(8, 16), freeze_backbone=True,
                     cache_features=True, dropout=0.0, learning_rate=1e-2)
    cache = tmp_path / "cache"
    config = TrainingConfig(epochs=8, batch_size=8, patience=0, lr_patience=0, feature_cache_dir=str(cache))
    result = train(spec, TrainingData(x, labels), tmp_path / "run", config=config)
    cached = list(cache.glob("scratch-*.npy"))
    assert len(cached) == 1 and np.load(cached[0], mmap_mode="r").shape == (48, FRAMES, 16)
    assert result.history[-1]["loss"] < 0.6 * baseline_loss("classify", labels)
    # the final model is the whole clip model (frames in, classes out), loadable in safe mode
    model = load_model_file(result.model_path)
    assert model.input_shape == (None, FRAMES, SIZE, SIZE, 1) and model.output_shape == (None, 3)
    accuracy = float(np.mean(np.argmax(keras.ops.convert_to_numpy(model(x[:16])), axis=1) == labels[:16]))
    assert accuracy >= 0.6
    # a second run on the same clips reuses the cache instead of running the CNN again
    again: list = []
    train(spec, TrainingData(x, labels), tmp_path / "run2", progress=again.append,
          config=TrainingConfig(epochs=1, feature_cache_dir=str(cache)))
    assert not any("caching backbone features" in e.message for e in again)
    assert len(list(cache.glob("scratch-*.npy"))) == 1


def test_frozen_mobilenet_features_are_cached_in_the_run_folder(tmp_path: Path) -> None:
    x, labels, _ = square_size_clips(8, channels=3)
    spec = make_spec("classify", "lrcn-mobilenetv2", **SMALL, channels=3, weights="none", outputs=3,
                     lstm_units=(8,), dense_units=0)
    events: list = []
    result = train(spec, TrainingData(x, labels), tmp_path / "run", progress=events.append,
                   config=TrainingConfig(epochs=1, batch_size=4))
    cached = list((tmp_path / "run" / "features").glob("mobilenet_v2-*.npy"))
    assert len(cached) == 1 and np.load(cached[0], mmap_mode="r").shape == (8, FRAMES, 1280)
    assert any("caching backbone features" in e.message for e in events)
    assert (tmp_path / "run" / "encoder.keras").is_file()
    assert load_model_file(result.model_path).output_shape == (None, 3)
