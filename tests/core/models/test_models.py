"""Model builders: presets, exact reference architectures, FLOP counts, safe loading, backbones."""

from __future__ import annotations

import math
from pathlib import Path

import keras
import numpy as np
import pytest

from core.models import TASKS, build_model, get_preset, make_spec, presets, spec_from_dict
from core.models.autoencoder import padding_for
from core.models.errors import BackboneWeightsError, ModelFileError, SpecError
from core.models.files import load_model_file
from core.models.flops import count_flops
from core.models.specs import AutoencoderSpec, LRCNSpec, NextFrameSpec


def tiny(task: str, name: str, **extra):
    """A preset shrunk for a 2-core test: 8 frames of 32x32 (InceptionV3 needs 75x75)."""
    options = dict(frames=8, height=32, width=32, outputs=3 if task == "classify" else 1)
    if name.startswith("lrcn-"):
        options.update(weights="none", channels=3)
        if "inception" in name:
            options.update(frames=2, height=75, width=75)
    if task == "anomaly" and name == "stae":
        options.update(height=64, width=64)
    options.update(extra)
    return make_spec(task, name, **options)


@pytest.mark.parametrize("task", TASKS)
def test_every_preset_builds_with_the_right_output_shape(task: str) -> None:
    for name in presets(task):
        if presets(task)[name].spec.family == "motion":  # no network: fitted, not built
            with pytest.raises(SpecError, match="no network"):
                build_model(presets(task)[name].spec)
            continue
        spec = tiny(task, name)
        model = build_model(spec)
        if getattr(spec, "temporal", "") == "stack":  # the next frame only
            assert model.output_shape == (None, 1, *spec.input_shape[1:]), name
        elif spec.family == "block_predictor":  # the next ``future`` frames in one call
            assert model.output_shape == (None, spec.future, *spec.input_shape[1:]), name
        elif task in ("predict", "anomaly"):
            assert model.output_shape == (None, *spec.input_shape), name
        else:
            assert model.output_shape == (None, spec.outputs), name
        assert model.optimizer is not None and model.loss
        assert count_flops(model).forward > 0


def test_presets_have_defaults_references_and_round_trip_through_json() -> None:
    assert presets("predict")["keras-example"].reference
    assert presets("anomaly")["stae"].reference
    assert get_preset("anomaly") == presets("predict")["future-frame"].spec
    for task in TASKS:
        spec = get_preset(task)
        # anomaly detection's default is a next-frame predictor, scored by its prediction error
        assert spec.task == ("predict" if task == "anomaly" else task)
        assert spec_from_dict(spec.to_dict()) == spec
    with pytest.raises(ValueError, match="no preset 'nope'"):
        get_preset("predict", "nope")
    with pytest.raises(ValueError, match="has no option"):
        make_spec("predict", "default", flters=(3,))


def test_keras_example_preset_is_exactly_the_reference() -> None:
    spec = make_spec("predict", "keras-example", frames=5, height=16, width=16)
    model = build_model(spec)
    kinds = [(type(layer).__name__, getattr(layer, "filters", None), getattr(layer, "kernel_size", None))
             for layer in model.layers[1:]]
    assert kinds == [
        ("ConvLSTM2D", 64, (5, 5)), ("BatchNormalization", None, None),
        ("ConvLSTM2D", 64, (3, 3)), ("BatchNormalization", None, None),
        ("ConvLSTM2D", 64, (1, 1)), ("Conv3D", 1, (3, 3, 3)),
    ]
    convlstms = [layer for layer in model.layers if isinstance(layer, keras.layers.ConvLSTM2D)]
    assert all(layer.padding == "same" and layer.return_sequences for layer in convlstms)
    assert all(layer.activation.__name__ == "relu" for layer in convlstms)
    assert model.layers[-1].activation.__name__ == "sigmoid" and model.layers[-1].padding == "same"
    assert model.loss == "binary_crossentropy"
    assert isinstance(model.optimizer, keras.optimizers.Adam)


def test_stae_preset_is_the_published_layout_at_227() -> None:
    spec = get_preset("anomaly", "stae")
    assert (spec.frames, spec.height, spec.width, spec.learning_rate) == (10, 227, 227, 1e-4)
    assert padding_for(spec) == "valid"
    model = build_model(spec.replace(frames=2))
    shapes = {layer.name: layer.output.shape[1:] for layer in model.layers[1:]}
    assert shapes["encode_1"] == (2, 55, 55, 128)
    assert shapes["encode_2"] == (2, 26, 26, 64)
    assert [shapes[f"convlstm_{i}"][-1] for i in (1, 2, 3)] == [64, 32, 64]
    assert shapes["decode_1"] == (2, 55, 55, 64)
    assert shapes["decode_2"] == (2, 227, 227, 128)
    assert shapes["reconstruction"] == (2, 227, 227, 1)
    assert sum(isinstance(layer, keras.layers.LayerNormalization) for layer in model.layers) == 7
    convs = [model.get_layer(n).layer for n in ("encode_1", "encode_2", "decode_1", "decode_2")]
    assert all(c.activation.__name__ == "linear" for c in convs)  # layer norm follows each, as in the reference
    assert model.get_layer("reconstruction").layer.activation.__name__ == "sigmoid"
    assert model.loss == "mse" and math.isclose(float(model.optimizer.learning_rate), 1e-4, rel_tol=1e-6)
    assert model.optimizer.epsilon == pytest.approx(1e-6)  # Adam's epsilon of the published training
    assert padding_for(spec.replace(height=256, width=256)) == "same"
    with pytest.raises(ValueError, match="divisible by 8"):
        padding_for(spec.replace(height=100, width=100))


def test_flop_counts_match_hand_computed_values() -> None:
    inputs = keras.Input((4, 8, 8, 2))
    x = keras.layers.ConvLSTM2D(3, 3, padding="same", return_sequences=True)(inputs)
    x = keras.layers.TimeDistributed(keras.layers.Conv2D(5, 3, padding="same"))(x)
    x = keras.layers.Conv3D(2, 3, padding="same")(x)
    x = keras.layers.TimeDistributed(keras.layers.GlobalAveragePooling2D())(x)
    x = keras.layers.LSTM(7)(x)
    x = keras.layers.Dense(3)(x)
    count = count_flops(keras.Model(inputs, x))
    convlstm = 2 * 4 * (8 * 8) * 9 * 4 * 3 * (2 + 3)
    conv2d = 2 * 4 * (8 * 8 * 5) * 9 * 3
    conv3d = 2 * (4 * 8 * 8 * 2) * 27 * 5
    lstm = 2 * 4 * 4 * 7 * (2 + 7)
    dense = 2 * 7 * 3
    assert count.forward == convlstm + conv2d + conv3d + lstm + dense
    assert count.training == 3 * count.forward


def test_default_presets_cost_far_less_than_the_references() -> None:
    example = count_flops(build_model(make_spec("predict", "keras-example", frames=8, height=64, width=64)))
    default = count_flops(build_model(make_spec("predict", "default", frames=8, height=64, width=64)))
    assert default.forward * 5 < example.forward
    stae = count_flops(build_model(make_spec("anomaly", "stae", frames=2, height=128, width=128)))
    fast = count_flops(build_model(make_spec("anomaly", "conv-ae", frames=2, height=128, width=128)))
    assert fast.forward * 5 < stae.forward


def test_causal_models_do_not_see_the_frame_they_predict() -> None:
    """Changing input frame t must not change predictions for frames before t (default and conv3d presets)."""
    rng = np.random.default_rng(0)
    x = rng.random((1, 6, 16, 16, 1), dtype=np.float32)
    for name in ("default", "conv3d"):
        model = build_model(make_spec("predict", name, frames=6, height=16, width=16), compile=False)
        changed = x.copy()
        changed[0, 4] = 1.0 - changed[0, 4]
        a = keras.ops.convert_to_numpy(model(x))
        b = keras.ops.convert_to_numpy(model(changed))
        np.testing.assert_allclose(a[0, :4], b[0, :4], atol=1e-6, err_msg=name)
        assert not np.allclose(a[0, 4], b[0, 4])


def test_models_with_custom_layers_save_and_load_in_safe_mode(tmp_path: Path) -> None:
    spec = make_spec("predict", "default", frames=4, height=16, width=16)
    gray = LRCNSpec(task="classify", frames=2, height=32, width=32, channels=1, outputs=2, backbone="mobilenet_v2")
    x = np.random.default_rng(1).random((2, 4, 16, 16, 1), dtype=np.float32)
    for i, model_spec in enumerate((spec, gray)):
        model = build_model(model_spec)
        path = tmp_path / f"m{i}.keras"
        model.save(path)
        loaded = load_model_file(path)
        data = x if i == 0 else np.random.default_rng(2).random((2, 2, 32, 32, 1), dtype=np.float32)
        np.testing.assert_allclose(keras.ops.convert_to_numpy(loaded(data)),
                                   keras.ops.convert_to_numpy(model(data)), atol=1e-5)


def test_imagenet_weights_offline_give_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from keras.src.utils import file_utils

    def offline(*args, **kwargs):
        raise Exception("URL fetch failure on https://storage.googleapis.com/...: None -- no network")

    monkeypatch.setattr(file_utils, "get_file", offline)
    spec = tiny("classify", "lrcn-mobilenetv2", weights="imagenet")
    with pytest.raises(BackboneWeightsError, match=r"ImageNet weights of MobileNetV2.*--weights FILE"):
        build_model(spec)


def test_backbone_weights_from_a_local_file(tmp_path: Path) -> None:
    source = keras.applications.MobileNetV2(include_top=False, weights=None, input_shape=(32, 32, 3), pooling="avg")
    weights = tmp_path / "mobilenet_v2_notop.weights.h5"
    source.save_weights(weights)
    model = build_model(tiny("classify", "lrcn-mobilenetv2", weights=str(weights)))
    backbone = next(layer for layer in model.get_layer("per_frame_cnn").layer.layers
                    if isinstance(layer, keras.Model))
    for a, b in zip(backbone.get_weights(), source.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert not backbone.trainable
    with pytest.raises(ModelFileError, match="weights file not found"):
        build_model(tiny("classify", "lrcn-mobilenetv2", weights=str(tmp_path / "missing.h5")))


def test_bad_specs_are_refused_with_clear_messages() -> None:
    with pytest.raises(ValueError, match="divisible by downsample"):
        NextFrameSpec(height=33, width=32, downsample=2)
    with pytest.raises(ValueError, match="task must be one of"):
        AutoencoderSpec(task="dance")
    with pytest.raises(ValueError, match="cache_features needs freeze_backbone"):
        LRCNSpec(cache_features=True)
    with pytest.raises(SpecError, match="at least 75x75"):
        build_model(tiny("classify", "lrcn-inceptionv3", height=32, width=32))


def test_filters_field_names_the_spec_field_each_family_takes() -> None:
    from core.models.registry import filters_field

    assert filters_field("anomaly", "conv-ae") == "recurrent"
    assert filters_field("classify") == "cnn_filters"
    assert filters_field("predict", "conv3d") == "filters"
    spec = make_spec("anomaly", "conv-ae", **{filters_field("anomaly", "conv-ae"): (4, 4, 4)})
    assert spec.recurrent == (4, 4, 4)


def test_lrcn_on_frame_differences_takes_frames_and_ignores_the_scenes_level(tmp_path: Path) -> None:
    spec = make_spec("classify", "default", frames=4, height=16, width=16, outputs=2, cnn_filters=(4,),
                     lstm_units=(4,), frame_differences=True)
    model = build_model(spec)
    assert model.input_shape == (None, 4, 16, 16, 1) and model.output_shape == (None, 2)
    assert model.get_layer("per_frame_cnn").output.shape[1] == 3  # 3 differences of 4 frames
    clips = np.random.default_rng(0).uniform(0.0, 0.5, (2, 4, 16, 16, 1)).astype(np.float32)
    out = model.predict(clips, verbose=0)
    # the same motion over a brighter scene: the differences, hence the output, do not change
    np.testing.assert_allclose(model.predict(clips + 0.25, verbose=0), out, atol=1e-5)
    assert not np.allclose(model.predict(clips[:, ::-1] * 2.0, verbose=0), out, atol=1e-5)
    path = tmp_path / "diff.keras"
    model.save(path)
    np.testing.assert_allclose(load_model_file(path).predict(clips, verbose=0), out, atol=1e-6)
    assert spec_from_dict(spec.to_dict()) == spec


def test_lrcn_pooling_and_frame_differences_options_are_checked() -> None:
    spec = make_spec("classify", "default", frames=4, height=16, width=16, outputs=2, cnn_filters=(4,),
                     pooling="max")
    encoder = build_model(spec).get_layer("per_frame_cnn").layer
    assert isinstance(encoder.get_layer("features"), keras.layers.GlobalMaxPooling2D)
    with pytest.raises(SpecError, match="pooling must be"):
        make_spec("classify", "default", pooling="sum")
    with pytest.raises(SpecError, match="scratch CNN"):
        make_spec("classify", "lrcn-mobilenetv2", pooling="max")
    with pytest.raises(SpecError, match="cached per-frame features"):
        make_spec("classify", "lrcn-mobilenetv2", frame_differences=True)
    with pytest.raises(SpecError, match="has no option frame_differences"):
        make_spec("classify", "conv3d", frame_differences=True)
