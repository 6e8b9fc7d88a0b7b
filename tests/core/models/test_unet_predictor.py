"""The future-frame U-Net presets (``unet``, ``unet-conv3d``): size, causality, safe loading, uint8 input, learning."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

from core.models import build_model, make_spec
from core.models.errors import SpecError
from core.models.files import load_model_file
from core.training import events as ev
from core.training.data import TrainingData
from core.training.trainer import TrainingConfig, train
from tests.core.training.test_support import moving_squares, shifted

PRESETS = ("unet", "unet-conv3d")


def tiny(name: str, **extra):
    """Narrow filters and 16x16 frames: a two-core test, same layout."""
    options = dict(frames=5, height=16, width=16, filters=(4, 8, 8), temporal_filters=8)
    options.update(extra)
    return make_spec("predict", name, **options)


def test_unet_preset_has_the_promised_size_at_64x96_gray() -> None:
    spec = make_spec("predict", "unet")
    assert spec.input_shape == (4, 64, 96, 1)
    model = build_model(spec, compile=False)
    assert model.output_shape == (None, 4, 64, 96, 1)
    assert 500_000 <= model.count_params() <= 2_000_000
    assert any(isinstance(layer, keras.layers.ConvLSTM2D) for layer in model.layers)
    conv3d = build_model(make_spec("predict", "unet-conv3d"), compile=False)
    assert not any(isinstance(layer, keras.layers.ConvLSTM2D) for layer in conv3d.layers)
    assert any(isinstance(layer, keras.layers.Conv3D) for layer in conv3d.layers)


def test_an_untrained_unet_predicts_that_nothing_moves() -> None:
    """The change head starts at zero, so the first prediction of frame t + 1 is frame t itself."""
    x = np.random.default_rng(3).random((1, 5, 16, 16, 1), dtype=np.float32) * 0.9 + 0.05
    for name in PRESETS:
        out = keras.ops.convert_to_numpy(build_model(tiny(name), compile=False)(x))
        np.testing.assert_allclose(out, x, atol=1e-5, err_msg=name)


@pytest.mark.parametrize("name", PRESETS)
def test_unet_is_causal(name: str) -> None:
    """Changing input frame 3 changes outputs 3.. only: output t never sees a frame after t."""
    rng = np.random.default_rng(0)
    model = build_model(tiny(name), compile=False)
    for layer in model.layers:  # non-zero change head, else every output equals its input frame
        if layer.name == "change":
            layer.set_weights([w + 0.3 for w in layer.get_weights()])
    x = rng.random((1, 5, 16, 16, 1), dtype=np.float32)
    changed = x.copy()
    changed[0, 3] = 1.0 - changed[0, 3]
    a = keras.ops.convert_to_numpy(model(x))
    b = keras.ops.convert_to_numpy(model(changed))
    np.testing.assert_allclose(a[0, :3], b[0, :3], atol=1e-6)
    assert not np.allclose(a[0, 3], b[0, 3])
    # and the bottleneck carries the past: changing frame 1 changes output 4 (not only output 1)
    past = x.copy()
    past[0, 1] = 1.0 - past[0, 1]
    assert not np.allclose(keras.ops.convert_to_numpy(model(past))[0, 4], a[0, 4])


@pytest.mark.parametrize("name", PRESETS)
def test_unet_saves_and_loads_in_safe_mode_with_uint8_input(name: str, tmp_path: Path) -> None:
    spec = tiny(name, input_dtype="uint8")
    model = build_model(spec)
    frames = np.random.default_rng(1).integers(0, 256, (2, 5, 16, 16, 1), dtype=np.uint8)
    out = keras.ops.convert_to_numpy(model(frames))
    assert out.shape == (2, 5, 16, 16, 1) and out.min() > 0.0 and out.max() < 1.0
    path = tmp_path / "unet.keras"
    model.save(path)
    loaded = load_model_file(path)  # safe_mode=True
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loaded(frames)), out, atol=1e-5)
    float_model = build_model(tiny(name), compile=False)
    float_model.set_weights(model.get_weights())
    np.testing.assert_allclose(keras.ops.convert_to_numpy(float_model(frames.astype(np.float32) / 255.0)), out,
                               atol=1e-5)


def test_unet_loss_falls_on_moving_squares(tmp_path: Path) -> None:
    """Two levels (the squares move 2 px a frame: the bottleneck must still resolve that) learn the motion."""
    x, y = shifted(moving_squares(32))
    spec = make_spec("predict", "unet", frames=8, height=32, width=32, filters=(8, 16), temporal_filters=16,
                     learning_rate=1e-2)
    events: list = []
    result = train(spec, TrainingData(x, y), tmp_path / "run", progress=events.append,
                   config=TrainingConfig(epochs=8, batch_size=8, patience=0, lr_patience=0))
    first = next(e.loss for e in events if isinstance(e, ev.BatchEnded))
    assert result.status == "completed"
    assert result.history[-1]["loss"] < 0.6 * first, (first, result.history[-1]["loss"])


def test_bad_unet_specs_are_refused_with_clear_messages() -> None:
    with pytest.raises(SpecError, match="divisible by 4"):
        make_spec("predict", "unet", height=30)
    with pytest.raises(SpecError, match="temporal must be"):
        make_spec("predict", "unet", temporal="gru")
