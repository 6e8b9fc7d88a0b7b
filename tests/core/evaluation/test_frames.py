"""Next-frame metrics: SSE, MSE, PSNR and SSIM per frame and per future step."""

from __future__ import annotations

import numpy as np
import pytest

from core.evaluation.errors import EvaluationError
from core.evaluation.frames import frame_mse, frame_psnr, frame_sse, frame_ssim, step_metrics


def reference_ssim(x: np.ndarray, y: np.ndarray) -> float:
    """SSIM of two gray frames in [0, 1] written out window by window, as in Wang et al. (2004)."""
    offsets = np.arange(11) - 5
    g = np.exp(-(offsets**2) / (2 * 1.5**2))
    window = np.outer(g, g) / np.outer(g, g).sum()
    c1, c2 = (0.01 * 1) ** 2, (0.03 * 1) ** 2
    values = []
    for i in range(x.shape[0] - 10):
        for j in range(x.shape[1] - 10):
            a, b = x[i : i + 11, j : j + 11], y[i : i + 11, j : j + 11]
            mu_a, mu_b = (window * a).sum(), (window * b).sum()
            var_a = (window * (a - mu_a) ** 2).sum()
            var_b = (window * (b - mu_b) ** 2).sum()
            cov = (window * (a - mu_a) * (b - mu_b)).sum()
            values.append(
                (2 * mu_a * mu_b + c1) * (2 * cov + c2) / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))
            )
    return float(np.mean(values))


@pytest.fixture
def pair() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    truth = rng.random((3, 13, 12))
    predicted = np.clip(truth + 0.15 * rng.standard_normal(truth.shape), 0, 1)
    return truth, predicted


def test_ssim_matches_the_window_by_window_definition(pair) -> None:
    truth, predicted = pair
    values = frame_ssim(truth, predicted)
    assert values.shape == (3,)
    for k in range(3):
        assert values[k] == pytest.approx(reference_ssim(truth[k], predicted[k]), abs=1e-12)
    assert values.max() < 0.99


def test_ssim_identical_is_one_and_symmetric(pair) -> None:
    truth, predicted = pair
    np.testing.assert_allclose(frame_ssim(truth, truth), 1.0)
    np.testing.assert_allclose(frame_ssim(truth, predicted), frame_ssim(predicted, truth), rtol=0, atol=1e-15)


def test_a_constant_offset_lowers_ssim(pair) -> None:
    truth, _ = pair
    darker = truth * 0.8
    assert (frame_ssim(darker, darker + 0.2) < 1.0 - 1e-3).all()


def test_colour_frames_average_their_channels(pair) -> None:
    truth, predicted = pair
    colour_t = np.stack([truth, truth[:, ::-1], truth], axis=-1)
    colour_p = np.stack([predicted, predicted[:, ::-1], truth], axis=-1)
    expected = (2 * frame_ssim(truth, predicted) + 1.0) / 3
    np.testing.assert_allclose(frame_ssim(colour_t, colour_p), expected, atol=1e-12)


def test_uint8_frames_are_on_the_unit_scale() -> None:
    truth = np.zeros((2, 4, 4), np.uint8)
    predicted = truth.copy()
    predicted[0, 0, 0] = 255  # one pixel fully wrong
    predicted[1] = 51  # every pixel off by 0.2
    np.testing.assert_allclose(frame_sse(truth, predicted), [1.0, 16 * 0.04])
    np.testing.assert_allclose(frame_mse(truth, predicted), [1 / 16, 0.04])
    np.testing.assert_allclose(frame_psnr(truth, predicted), [10 * np.log10(16), 10 * np.log10(25)])
    as_float = predicted.astype(np.float32) / 255
    np.testing.assert_allclose(frame_mse(truth, as_float), [1 / 16, 0.04], rtol=1e-6)


def test_identical_frames_have_infinite_psnr() -> None:
    frames = np.full((1, 4, 4), 0.5)
    assert frame_psnr(frames, frames)[0] == np.inf
    assert frame_sse(frames, frames)[0] == 0.0


def test_metrics_per_future_step() -> None:
    rng = np.random.default_rng(1)
    truth = rng.random((2, 3, 12, 12))
    noise = np.array([0.0, 0.1, 0.3])[None, :, None, None]  # later steps predicted worse
    predicted = np.clip(truth + noise * rng.standard_normal(truth.shape), 0, 1)
    steps = step_metrics(truth, predicted)
    assert steps.sse.shape == steps.mse.shape == steps.psnr.shape == steps.ssim.shape == (3,)
    assert steps.psnr[0] == np.inf and steps.ssim[0] == pytest.approx(1.0)
    assert steps.sse[1] < steps.sse[2] and steps.ssim[1] > steps.ssim[2] and steps.psnr[1] > steps.psnr[2]
    flat_sse = frame_sse(truth.reshape(6, 12, 12), predicted.reshape(6, 12, 12)).reshape(2, 3)
    np.testing.assert_allclose(steps.sse, flat_sse.mean(axis=0))
    np.testing.assert_allclose(steps.mse, steps.sse / 144)
    colour = step_metrics(np.repeat(truth[..., None], 3, -1), np.repeat(predicted[..., None], 3, -1))
    np.testing.assert_allclose(colour.ssim, steps.ssim)


@pytest.mark.parametrize(
    ("truth", "predicted", "message"),
    [
        (np.zeros((1, 8, 8)), np.zeros((1, 8, 8)), "8x8 pixels are smaller than the 11x11 SSIM window"),
        (np.zeros((1, 12, 12)), np.zeros((1, 12, 11)), "differ in shape"),
        (np.zeros((1, 12, 12)), np.full((1, 12, 12), 200.0), "float frames reach 200; expected"),
        (np.zeros((1, 12, 12)), np.zeros((1, 12, 12), np.int32), "expected uint8 or float"),
    ],
)
def test_bad_frames_are_refused(truth, predicted, message) -> None:
    with pytest.raises(EvaluationError, match=message):
        frame_ssim(truth, predicted)
