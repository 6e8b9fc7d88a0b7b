"""Next-frame prediction quality per frame and per future step: squared error, PSNR and SSIM.

Scale: every frame is brought to [0, 1] before any metric: ``uint8`` frames are divided by 255, float frames
are taken as they are (the preprocessing's float32 in [0, 1]), so a uint8 ground truth can be compared with
a model's float prediction. All figures are therefore on the [0, 1] scale:

- ``sse``: squared error summed over every pixel (and channel) of a frame, the "per-frame MSE" that Moving
  MNIST papers report (64x64 frames in [0, 1]);
- ``mse``: the mean squared error per pixel value, ``sse / (height * width * channels)``;
- ``psnr``: ``10 log10(1 / mse)`` in dB (data range 1, i.e. 255 for uint8 frames); ``inf`` for identical
  frames, and then a per-step mean is ``inf`` as well;
- ``ssim``: structural similarity of Wang et al. (2004): an 11x11 Gaussian window of sigma 1.5 (truncated
  at 3.5 sigma and normalised), K1 = 0.01, K2 = 0.03, data range 1, averaged over the positions where
  the window lies wholly inside the frame, and over channels. This equals skimage's
  ``structural_similarity(gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=1)``.

Frames are ``(frames, height, width)`` (gray) or ``(frames, height, width, channels)``; sequences of
predicted steps are ``(sequences, steps, height, width[, channels])``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from core.evaluation.errors import EvaluationError

#: SSIM constants of Wang et al. (2004).
SSIM_WINDOW = 11
SSIM_SIGMA = 1.5
SSIM_K1 = 0.01
SSIM_K2 = 0.03

# Frames filtered at once in SSIM: bounds memory to a few times this many frames.
_SSIM_CHUNK = 64


def as_unit_frames(frames: Any, name: str) -> np.ndarray:
    """float64 copy of ``frames`` on the [0, 1] scale (uint8 / 255; floats as they are).

    Float frames above 2 are refused: they are 0..255 values passed as floats, whose PSNR and SSIM would be
    silently wrong.
    """
    array = np.asarray(frames)
    if array.dtype == np.uint8:
        return array.astype(np.float64) / 255.0
    if not np.issubdtype(array.dtype, np.floating):
        raise EvaluationError(f"{name}: expected uint8 or float frames in [0, 1], got {array.dtype}")
    out = array.astype(np.float64)
    if not np.isfinite(out).all():
        raise EvaluationError(f"{name}: {int((~np.isfinite(out)).sum())} NaN or infinite pixel values")
    if out.size and out.max() > 2.0:
        raise EvaluationError(
            f"{name}: float frames reach {out.max():g}; expected [0, 1] (pass uint8, or divide by 255)"
        )
    return out


def _frame_pair(truth: Any, predicted: Any) -> tuple[np.ndarray, np.ndarray]:
    t = as_unit_frames(truth, "truth")
    p = as_unit_frames(predicted, "predicted")
    if t.shape != p.shape:
        raise EvaluationError(f"truth and predicted frames differ in shape: {t.shape} and {p.shape}")
    if t.ndim not in (3, 4) or 0 in t.shape:
        raise EvaluationError(f"frames: expected (frames, height, width[, channels]), got shape {t.shape}")
    if t.ndim == 3:
        t, p = t[..., None], p[..., None]
    return t, p


def frame_sse(truth: Any, predicted: Any) -> np.ndarray:
    """``(frames,)`` squared error summed over each frame's pixels and channels, on the [0, 1] scale."""
    t, p = _frame_pair(truth, predicted)
    return np.sum((p - t) ** 2, axis=(1, 2, 3))


def frame_mse(truth: Any, predicted: Any) -> np.ndarray:
    """``(frames,)`` mean squared error per pixel value, on the [0, 1] scale."""
    t, p = _frame_pair(truth, predicted)
    return np.mean((p - t) ** 2, axis=(1, 2, 3))


def frame_psnr(truth: Any, predicted: Any) -> np.ndarray:
    """``(frames,)`` PSNR in dB, data range 1; ``inf`` where the frames are identical."""
    mse = frame_mse(truth, predicted)
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(1.0 / mse)


def gaussian_window(size: int = SSIM_WINDOW, sigma: float = SSIM_SIGMA) -> np.ndarray:
    """``(size,)`` 1-D Gaussian weights summing to 1; the 2-D window is its outer product with itself."""
    x = np.arange(size, dtype=np.float64) - (size - 1) / 2.0
    weights = np.exp(-(x**2) / (2.0 * sigma**2))
    return weights / weights.sum()


def _filter_valid(images: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Separable 'valid' filtering of ``(n, height, width, channels)`` along height, then width."""
    size = weights.size
    rows = images.shape[1] - size + 1
    out = sum(weights[k] * images[:, k : k + rows] for k in range(size))
    cols = images.shape[2] - size + 1
    return sum(weights[k] * out[:, :, k : k + cols] for k in range(size))


def frame_ssim(truth: Any, predicted: Any) -> np.ndarray:
    """``(frames,)`` SSIM in [-1, 1] (1 for identical frames), the mean over window positions and channels.

    Frames must be at least 11x11 pixels (the window).
    """
    t, p = _frame_pair(truth, predicted)
    if min(t.shape[1], t.shape[2]) < SSIM_WINDOW:
        raise EvaluationError(
            f"frames: {t.shape[1]}x{t.shape[2]} pixels are smaller than the "
            f"{SSIM_WINDOW}x{SSIM_WINDOW} SSIM window"
        )
    weights = gaussian_window()
    c1 = (SSIM_K1 * 1.0) ** 2
    c2 = (SSIM_K2 * 1.0) ** 2
    result = np.empty(t.shape[0])
    for first in range(0, t.shape[0], _SSIM_CHUNK):
        x = t[first : first + _SSIM_CHUNK]
        y = p[first : first + _SSIM_CHUNK]
        mu_x = _filter_valid(x, weights)
        mu_y = _filter_valid(y, weights)
        var_x = _filter_valid(x * x, weights) - mu_x**2
        var_y = _filter_valid(y * y, weights) - mu_y**2
        cov = _filter_valid(x * y, weights) - mu_x * mu_y
        ssim_map = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / (
            (mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2)
        )
        result[first : first + x.shape[0]] = ssim_map.mean(axis=(1, 2, 3))
    return result


@dataclass(frozen=True)
class StepMetrics:
    """Next-frame metrics per future step: each field is ``(steps,)`` float64, the mean over sequences.

    ``sse`` (squared error summed over a frame), ``mse`` (per pixel value), ``psnr`` (dB, the mean of the
    per-frame values: ``inf`` when any frame of the step is predicted exactly) and ``ssim``, all on the
    [0, 1] scale (see the module docstring).
    """

    sse: np.ndarray
    mse: np.ndarray
    psnr: np.ndarray
    ssim: np.ndarray


def step_metrics(truth: Any, predicted: Any) -> StepMetrics:
    """Metrics of ``(sequences, steps, height, width[, channels])`` predictions, per future step.

    Step ``k`` is the ``k``-th predicted frame after the given ones; each metric is computed per frame and
    averaged over the sequences.
    """
    t = np.asarray(truth)
    p = np.asarray(predicted)
    if t.shape != p.shape:
        raise EvaluationError(f"truth and predicted sequences differ in shape: {t.shape} and {p.shape}")
    if t.ndim not in (4, 5) or 0 in t.shape:
        raise EvaluationError(
            f"sequences: expected (sequences, steps, height, width[, channels]), got shape {t.shape}"
        )
    sequences, steps = t.shape[:2]
    flat_t = t.reshape((sequences * steps, *t.shape[2:]))
    flat_p = p.reshape((sequences * steps, *p.shape[2:]))

    def per_step(values: np.ndarray) -> np.ndarray:
        return values.reshape(sequences, steps).mean(axis=0)

    return StepMetrics(
        sse=per_step(frame_sse(flat_t, flat_p)),
        mse=per_step(frame_mse(flat_t, flat_p)),
        psnr=per_step(frame_psnr(flat_t, flat_p)),
        ssim=per_step(frame_ssim(flat_t, flat_p)),
    )
