"""``PerFrame``: TimeDistributed folded into the batch. Same outputs and gradients as Keras's own wrapper,
any frame count, BatchNormalization statistics over every frame, saved and loaded in safe mode."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest
from keras import layers

from core.models.layers import PerFrame


def _pair(inner, frames=5):
    inputs = keras.Input((frames, 8, 8, 2))
    reference = keras.Model(inputs, layers.TimeDistributed(inner)(inputs))
    folded = keras.Model(inputs, PerFrame(inner)(inputs))  # the same inner layer: the same weights
    return reference, folded


@pytest.mark.parametrize("make", [lambda: layers.Conv2D(4, 3, padding="same"),
                                  lambda: layers.Conv2DTranspose(3, 2, strides=2),
                                  lambda: layers.GroupNormalization(2),
                                  lambda: layers.GlobalAveragePooling2D()],
                         ids=["conv", "transposed", "groupnorm", "pooling"])
def test_outputs_and_gradients_equal_time_distributed(make):
    reference, folded = _pair(make())
    x = np.random.default_rng(0).random((3, 5, 8, 8, 2)).astype("float32")
    a, b = reference.predict(x, verbose=0), folded.predict(x, verbose=0)
    assert a.shape == b.shape
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    import tensorflow as tf

    grads = []
    for model in (reference, folded):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.square(model(x, training=True)))
        grads.append([g.numpy() for g in tape.gradient(loss, model.trainable_weights)])
    for ga, gb in zip(*grads, strict=True):
        np.testing.assert_allclose(ga, gb, rtol=1e-4, atol=1e-5)


def test_any_number_of_frames_and_output_shape():
    inputs = keras.Input((None, 8, 8, 2))
    layer = PerFrame(layers.Conv2D(4, 3, strides=2, padding="same"))
    model = keras.Model(inputs, layer(inputs))
    assert layer.compute_output_shape((None, None, 8, 8, 2)) == (None, None, 4, 4, 4)
    for frames in (1, 3, 7):
        x = np.ones((2, frames, 8, 8, 2), "float32")
        assert model.predict(x, verbose=0).shape == (2, frames, 4, 4, 4)


def test_batch_normalisation_takes_statistics_over_all_frames():
    norm = layers.BatchNormalization(momentum=0.0, epsilon=0.0)
    inputs = keras.Input((2, 1, 1, 1))
    model = keras.Model(inputs, PerFrame(norm)(inputs))
    x = np.array([1.0, 3.0, 5.0, 7.0], "float32").reshape(2, 2, 1, 1, 1)  # frame 0: 1, 5; frame 1: 3, 7
    out = np.asarray(model(x, training=True)).ravel()
    np.testing.assert_allclose(out, (x.ravel() - 4.0) / np.sqrt(5.0), rtol=1e-5)  # mean 4, variance 5 of all four
    np.testing.assert_allclose(np.asarray(norm.moving_mean), [4.0])


def test_saves_and_loads_in_safe_mode(tmp_path: Path):
    _, folded = _pair(layers.Conv2D(4, 3, padding="same"))
    x = np.random.default_rng(1).random((2, 5, 8, 8, 2)).astype("float32")
    folded.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    assert type(loaded.layers[1]) is PerFrame
    np.testing.assert_allclose(loaded.predict(x, verbose=0), folded.predict(x, verbose=0), rtol=1e-6)


def test_refuses_a_mask():
    layer = PerFrame(layers.Dense(2))
    with pytest.raises(ValueError, match="takes no mask"):
        layer(np.ones((1, 3, 4), "float32"), mask=np.ones((1, 3), bool))
