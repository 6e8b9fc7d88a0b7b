"""Rollout: the carried-state path gives the reference loop's frames for every next-frame preset."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import layers

import core.inference.rollout.rollout as rollout_module
from core.inference.rollout.rollout import RolloutError, reference_rollout, rollout, step_plan
from core.models import build_model, make_spec, presets

SIZE = 16
ALL_PRESETS = ["keras-example", "default", "conv3d", "unet", "unet-conv3d", "future-frame"]
#: Block predictors roll out by repeated blocks: tests/core/models/test_block_predictor.py
BLOCK_PRESETS = ["simvp", "convlstm-patch"]


def tiny_predictor(preset: str, input_dtype: str = "float32", seed: int = 0) -> keras.Model:
    """Preset ``preset`` at 16x16 with 2-4 filters and random weights large enough to move every pixel.

    Glorot-initialised tiny ConvLSTMs give nearly constant frames (a test could not tell a wrong state
    from a right one), so every weight is redrawn from a fixed-seed normal distribution.
    """
    small = {"keras-example": dict(filters=(4, 3, 2)), "default": dict(filters=(4, 3), encoder_filters=4),
             "conv3d": dict(filters=(3, 2)), "unet": dict(filters=(3, 4), convs_per_level=1, temporal_filters=4),
             "unet-conv3d": dict(filters=(3, 4), convs_per_level=1, temporal_filters=4),
             "future-frame": dict(filters=(3, 4), convs_per_level=1)}[preset]
    spec = make_spec("predict", preset, frames=19, height=SIZE, width=SIZE, input_dtype=input_dtype, **small)
    model = build_model(spec, compile=False)
    rng = np.random.default_rng(seed)
    for weight in model.weights:
        shape = tuple(weight.shape)
        if "moving_variance" in weight.path:
            weight.assign(rng.uniform(0.5, 1.5, shape).astype("float32"))
        else:
            weight.assign(rng.normal(0.0, 0.4, shape).astype("float32"))
    return model


def given_frames(n: int, dtype: str = "float32", seed: int = 1) -> np.ndarray:
    frames = np.random.default_rng(seed).random((n, SIZE, SIZE, 1)).astype("float32")
    return (frames * 255).astype("uint8") if dtype == "uint8" else frames


def test_every_predict_preset_is_covered() -> None:
    assert set(presets("predict")) == set(ALL_PRESETS) | set(BLOCK_PRESETS)


@pytest.mark.parametrize("preset", ALL_PRESETS)
def test_rollout_equals_the_reference_loop_for_every_preset(preset: str, monkeypatch) -> None:
    model = tiny_predictor(preset)
    plan = step_plan(model)
    assert plan.carried, plan.reason
    reference = {n: reference_rollout(model, given_frames(n), 5) for n in (4, 7, 10)}
    assert all(r.std() > 0.005 for r in reference.values())  # the frames differ: a wrong state would show
    # the carried path must not go through the reference loop
    monkeypatch.setattr(rollout_module, "reference_rollout", lambda *a, **k: pytest.fail("fell back"))
    for n, expected in reference.items():
        got = rollout(model, given_frames(n), 5)
        assert got.shape == (5, SIZE, SIZE, 1) and got.dtype == np.float32
        np.testing.assert_allclose(got, expected, atol=1e-5, err_msg=f"{preset}, n={n}")


@pytest.mark.parametrize("preset", ["default", "conv3d"])
def test_the_kept_compiled_step_serves_repeated_and_concurrent_rollouts(preset: str) -> None:
    import threading

    model = tiny_predictor(preset)
    # the reference loop first: its variable-length twin calls the model's layers again, which must not
    # change how the model steps
    expected = {seed: reference_rollout(model, given_frames(6, seed=seed), 4) for seed in (1, 2, 3)}
    assert step_plan(model).carried
    first = rollout(model, given_frames(6, seed=1), 4)  # compiles and keeps the step
    kept = rollout_module._STEPPERS[model]
    assert kept.compiled if keras.backend.backend() == "tensorflow" else kept.compiled is False
    np.testing.assert_allclose(first, expected[1], atol=1e-5)
    got: dict[int, np.ndarray] = {}
    threads = [threading.Thread(target=lambda s=seed: got.__setitem__(s, rollout(model, given_frames(6, seed=s), 4)))
               for seed in (1, 2, 3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for seed, frames in expected.items():  # no carried value leaks from one sequence into another
        np.testing.assert_allclose(got[seed], frames, atol=1e-5, err_msg=f"{preset}, seed {seed}")


def test_steps_stay_eager_where_the_backend_has_no_compiled_step(monkeypatch) -> None:
    monkeypatch.setattr(rollout_module._CompiledStepper, "_compile", lambda self: None)
    model = tiny_predictor("conv3d")
    expected = reference_rollout(model, given_frames(6), 4)
    np.testing.assert_allclose(rollout(model, given_frames(6), 4), expected, atol=1e-5)
    assert rollout_module._STEPPERS[model].compiled is False


def test_a_fixed_window_model_steps_on_its_last_frames_only() -> None:
    model = tiny_predictor("future-frame")
    assert step_plan(model).reason.startswith("a window of 4 frames")
    frames = given_frames(9)
    # the last 4 frames decide everything: the first 5 may be anything
    other = np.concatenate([given_frames(5, seed=7), frames[5:]])
    np.testing.assert_allclose(rollout(model, other, 4), reference_rollout(model, frames, 4), atol=1e-5)


@pytest.mark.parametrize("preset", ["keras-example", "conv3d", "future-frame"])
def test_rollout_of_uint8_models_feeds_back_quantised_frames_like_the_reference(preset: str) -> None:
    model = tiny_predictor(preset, input_dtype="uint8")
    frames = given_frames(6, "uint8")
    expected = reference_rollout(model, frames, 5)
    np.testing.assert_allclose(rollout(model, frames, 5), expected, atol=1e-5)


def test_the_keras_example_head_needs_its_window_of_past_frames() -> None:
    """Dropping the Conv3D head's carried past frame changes the rollout: the window is really used."""
    model = tiny_predictor("keras-example")
    frames = given_frames(5)
    analysis = rollout_module._Analysis(model)
    head = model.get_layer("head")
    assert analysis.windows[id(head)] == (1, 1)  # one frame before, the zero padding after
    analysis.windows[id(head)] = (0, 1)
    rollout_module._PLANS[model] = analysis  # the cached plan of this model, with the window cut short
    try:
        wrong = rollout(model, frames, 3)
    finally:
        del rollout_module._PLANS[model]
    assert np.abs(wrong - reference_rollout(model, frames, 3)).max() > 1e-3


def odd_conv3d_stack() -> keras.Model:
    """Causal Conv3Ds whose spatial padding is not "same", a spatially strided one and a dilated one."""
    inputs = keras.Input((None, SIZE, SIZE, 1))
    x = layers.ZeroPadding3D(((2, 0), (0, 2), (1, 1)), name="uneven_pad")(inputs)
    x = layers.Conv3D(3, (3, 3, 3), activation="relu", name="uneven")(x)  # 16x16 -> 16x14
    x = layers.ZeroPadding3D(((1, 0), (2, 2), (2, 2)), name="dilated_pad")(x)
    x = layers.Conv3D(3, (2, 3, 3), dilation_rate=(1, 2, 2), use_bias=False, name="dilated")(x)
    x = layers.ZeroPadding3D(((1, 0), (1, 1), (0, 2)), name="strided_pad")(x)
    x = layers.Conv3D(2, (2, 3, 3), strides=(1, 2, 2), name="strided")(x)  # -> 8x8
    x = layers.TimeDistributed(layers.UpSampling2D(2), name="up")(x)
    x = layers.Conv3D(1, (2, 3, 1), padding="same", activation="sigmoid", name="even_same")(x)
    return keras.Model(inputs, x)


def test_conv3d_steps_with_any_spatial_padding_stride_and_dilation() -> None:
    keras.utils.set_random_seed(5)
    model = odd_conv3d_stack()
    rng = np.random.default_rng(2)
    for weight in model.weights:
        weight.assign(rng.normal(0.0, 0.5, tuple(weight.shape)).astype("float32"))
    assert step_plan(model).carried
    analysis = rollout_module._Analysis(model)
    folded = {layer.name for layer in model.layers if id(layer) in analysis.same_pads}
    assert folded == {"dilated_pad"}  # the one padding a "same" convolution reproduces
    frames = given_frames(6)
    expected = reference_rollout(model, frames, 4)
    assert expected.std() > 0.005
    np.testing.assert_allclose(rollout(model, frames, 4), expected, atol=1e-5)


def look_ahead_then_recurrence() -> keras.Model:
    """A non-causal Conv3D followed by a ConvLSTM2D: no carried state can reproduce the reference loop."""
    inputs = keras.Input((None, SIZE, SIZE, 1))
    x = layers.Conv3D(2, 3, padding="same", name="looks_ahead")(inputs)
    x = layers.ConvLSTM2D(2, 3, padding="same", return_sequences=True, name="recurrence")(x)
    x = layers.Conv3D(1, (1, 3, 3), padding="same", activation="sigmoid", name="out")(x)
    return keras.Model(inputs, x)


def test_a_model_that_cannot_step_falls_back_to_the_reference_loop() -> None:
    keras.utils.set_random_seed(3)
    model = look_ahead_then_recurrence()
    plan = step_plan(model)
    assert not plan.carried
    assert "recurrence" in plan.reason and "looks ahead" in plan.reason
    frames = given_frames(4)
    np.testing.assert_array_equal(rollout(model, frames, 3), reference_rollout(model, frames, 3))


def test_unknown_layers_fall_back_with_their_name() -> None:
    inputs = keras.Input((None, SIZE, SIZE, 1))
    x = layers.MaxPooling3D((2, 1, 1), padding="same", name="time_pool")(inputs)
    plan = step_plan(keras.Model(inputs, x))
    assert not plan.carried and "time_pool" in plan.reason


def test_bad_inputs_are_refused_in_one_line() -> None:
    model = tiny_predictor("conv3d")
    with pytest.raises(RolloutError, match=r"frames must be \(frames >= 1, 16, 16, 1\)"):
        rollout(model, np.zeros((3, 8, 8, 1), np.float32), 2)
    with pytest.raises(RolloutError, match="future frames must be >= 0"):
        rollout(model, given_frames(3), -1)
    classifier = keras.Model(inputs := keras.Input((4, SIZE, SIZE, 1)), layers.Dense(2)(layers.Flatten()(inputs)))
    with pytest.raises(RolloutError, match="not a next-frame model"):
        rollout(classifier, given_frames(4), 2)


def test_no_future_frames_is_an_empty_rollout() -> None:
    assert rollout(tiny_predictor("default"), given_frames(4), 0).shape == (0, SIZE, SIZE, 1)
