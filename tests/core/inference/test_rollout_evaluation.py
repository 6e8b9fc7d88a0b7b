"""Rollout evaluation: per-step metrics of a model's rollouts beside the copy-last-frame baseline."""

from __future__ import annotations

import threading

import keras
import numpy as np
import pytest

from core.errors import Cancelled
from core.evaluation.frames import frame_sse, frame_ssim
from core.inference.rollout.evaluation import evaluate_rollouts
from core.inference.rollout.rollout import RolloutError


def _sequences(count: int, frames: int, size: int = 16, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (count, frames, size, size, 1), dtype=np.uint8)


def _model(output: str) -> keras.Model:
    """A float next-frame model that repeats its input frame (``same``) or predicts black frames (``zeros``)."""
    inputs = keras.Input((None, 16, 16, 1))
    layer = keras.layers.Activation("linear") if output == "same" else keras.layers.Multiply()
    outputs = layer(inputs) if output == "same" else layer([inputs, keras.ops.zeros_like(inputs)])
    return keras.Model(inputs, outputs)


def test_a_model_that_repeats_the_last_frame_scores_as_the_baseline() -> None:
    data = _sequences(5, 7)
    seen = []
    result = evaluate_rollouts(_model("same"), [data[:3], data[3:]], given=4, future=3, sequences=5,
                               progress=seen.append)
    assert (result.sequences, result.given, result.future) == (5, 4, 3)
    truth = data[:, 4:].reshape(15, 16, 16, 1)
    last = np.repeat(data[:, 3:4], 3, axis=1).reshape(15, 16, 16, 1)
    expected_sse = frame_sse(truth, last).reshape(5, 3).mean(axis=0)
    np.testing.assert_allclose(result.copy_last.sse, expected_sse)
    np.testing.assert_allclose(result.copy_last.ssim, frame_ssim(truth, last).reshape(5, 3).mean(axis=0))
    np.testing.assert_allclose(result.model.sse, expected_sse, rtol=1e-5)
    np.testing.assert_allclose(result.model.ssim, result.copy_last.ssim, atol=1e-5)
    assert [p.done for p in seen] == [1, 2, 3, 4, 5] and seen[-1].total == 5


def test_black_predictions_score_the_sum_of_the_squared_truth() -> None:
    data = _sequences(2, 5)
    result = evaluate_rollouts(_model("zeros"), [data], given=2, future=3, sequences=2)
    truth = data[:, 2:].astype(np.float64) / 255.0
    np.testing.assert_allclose(result.model.sse, (truth**2).sum(axis=(2, 3, 4)).mean(axis=0))
    figures = result.to_dict()
    assert [s["step"] for s in figures["model"]["steps"]] == [1, 2, 3]
    assert figures["model"]["mean"]["sse"] == pytest.approx(float(np.mean(result.model.sse)))
    assert figures["copy_last_frame"]["mean"]["ssim"] == pytest.approx(float(np.mean(result.copy_last.ssim)))
    # a model predicting black frames scores exactly as the blank baseline
    np.testing.assert_allclose(result.blank.sse, result.model.sse, rtol=1e-6)
    assert figures["blank_frame"]["mean"]["sse"] == pytest.approx(figures["model"]["mean"]["sse"])


def test_the_baselines_equal_a_direct_computation() -> None:
    data = _sequences(5, 7, size=16, seed=3)
    result = evaluate_rollouts(_model("same"), [data[:2], data[2:]], given=4, future=3, sequences=5)
    truth = data[:, 4:].astype(np.float64) / 255.0
    last = np.repeat(data[:, 3:4].astype(np.float64) / 255.0, 3, axis=1)
    # blank: the sum of the squared truth pixels; copy-last: the squared difference to the last given frame
    np.testing.assert_allclose(result.blank.sse, (truth**2).sum(axis=(2, 3, 4)).mean(axis=0))
    np.testing.assert_allclose(result.copy_last.sse, ((truth - last) ** 2).sum(axis=(2, 3, 4)).mean(axis=0))
    mse = (truth**2).mean(axis=(2, 3, 4))
    np.testing.assert_allclose(result.blank.psnr, (10 * np.log10(1 / mse)).mean(axis=0))
    black = np.zeros((15, 16, 16, 1), np.uint8)
    np.testing.assert_allclose(result.blank.ssim,
                               frame_ssim(data[:, 4:].reshape(15, 16, 16, 1), black).reshape(5, 3).mean(axis=0))
    figures = result.to_dict()
    for name, metrics in (("blank_frame", result.blank), ("copy_last_frame", result.copy_last)):
        assert [s["sse"] for s in figures[name]["steps"]] == pytest.approx(list(metrics.sse))
        assert figures[name]["mean"]["ssim"] == pytest.approx(float(np.mean(metrics.ssim)))
    # the model repeats the last frame: no better than copy-last, so it beats neither baseline
    assert figures["beats_baselines"] == {"mse": False, "ssim": False}


def test_bad_sequences_and_cancel() -> None:
    model = _model("same")
    with pytest.raises(RolloutError, match=r"uint8 \(batch, 5, height"):
        evaluate_rollouts(model, [_sequences(1, 4)], given=2, future=3, sequences=1)
    with pytest.raises(RolloutError, match="no sequences"):
        evaluate_rollouts(model, [], given=2, future=3, sequences=0)
    with pytest.raises(RolloutError, match=">= 1"):
        evaluate_rollouts(model, [_sequences(1, 3)], given=0, future=3, sequences=1)
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        evaluate_rollouts(model, [_sequences(1, 5)], given=2, future=3, sequences=1, cancel=cancel)
