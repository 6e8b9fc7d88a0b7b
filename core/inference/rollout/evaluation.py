"""How well a next-frame model predicts the future: roll it out over held-out sequences, per future step.

:func:`evaluate_rollouts` gives a model the first ``given`` frames of each sequence, lets :func:`rollout`
predict the next ``future`` ones (each prediction fed back as input), and measures them against the real
frames with :func:`~core.evaluation.frames.step_metrics`: per future step the squared error summed over
a frame's pixels (``sse``, the "per-frame MSE" Moving MNIST papers report), the MSE per pixel, PSNR and
SSIM, each the mean over sequences, on the [0, 1] scale. The same figures of two baselines come with them,
computed on the same sequences, as the floor a model must beat: **blank** (every future frame predicted
all black, so its per-frame MSE is the sum of the squared truth pixels) and **copy-last** (every future
frame predicted as the last given one).

Sequences arrive in batches (``(batch, given + future, H, W, 1)`` uint8, e.g. from
:meth:`~core.data.moving_mnist.MovingMnistBatches.sequence_batch`), so memory stays flat however many
are evaluated.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.evaluation.frames import StepMetrics, step_metrics
from core.inference.rollout.rollout import RolloutError, rollout
from core.jobs import ProgressCallback, check_cancelled, report

#: The metrics of :class:`~core.evaluation.frames.StepMetrics`, in the order they are reported.
METRICS = ("sse", "mse", "psnr", "ssim")


@dataclass(frozen=True)
class RolloutEvaluation:
    """Per-step metrics (``(future,)`` arrays, means over ``sequences``) of a model and of the baselines."""

    given: int
    future: int
    sequences: int
    model: StepMetrics
    copy_last: StepMetrics
    blank: StepMetrics

    def beats_baselines(self) -> dict[str, bool]:
        """Whether the model's mean beats both baselines' on MSE (lower) and on SSIM (higher)."""
        mse = float(np.mean(self.model.sse))
        ssim = float(np.mean(self.model.ssim))
        return {"mse": all(mse < float(np.mean(b.sse)) for b in (self.blank, self.copy_last)),
                "ssim": all(ssim > float(np.mean(b.ssim)) for b in (self.blank, self.copy_last))}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: per step and the mean over steps, for the model and the blank and copy-last baselines."""

        def figures(metrics: StepMetrics) -> dict[str, Any]:
            out: dict[str, Any] = {"steps": [
                {"step": k + 1, **{name: _finite(getattr(metrics, name)[k]) for name in METRICS}}
                for k in range(self.future)]}
            out["mean"] = {name: _finite(np.mean(getattr(metrics, name))) for name in METRICS}
            return out

        return {"given": self.given, "future": self.future, "sequences": self.sequences,
                "model": figures(self.model), "blank_frame": figures(self.blank),
                "copy_last_frame": figures(self.copy_last), "beats_baselines": self.beats_baselines()}


def _finite(value: float) -> float | None:
    value = float(value)
    return value if np.isfinite(value) else None


def evaluate_rollouts(
    model: Any,
    batches: Iterable[np.ndarray],
    given: int,
    future: int,
    sequences: int,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> RolloutEvaluation:
    """Roll ``model`` out from the first ``given`` frames of each sequence and measure ``future`` steps.

    ``batches``: ``(batch, given + future, H, W, 1)`` uint8 sequences, ``sequences`` of them in all. The
    model takes ``uint8`` frames or float32 in [0, 1] (its input dtype decides). Progress counts sequences.
    """
    if given < 1 or future < 1:
        raise RolloutError(f"given and future frames must be >= 1, not {given} and {future}")
    raw = "uint8" in str(model.inputs[0].dtype)
    sums: dict[str, dict[str, np.ndarray]] = {"model": {}, "copy_last": {}, "blank": {}}
    done = 0
    for batch in batches:
        batch = np.asarray(batch)
        if batch.ndim != 5 or batch.shape[1] != given + future or batch.dtype != np.uint8:
            raise RolloutError(f"sequences must be uint8 (batch, {given + future}, height, width, channels), "
                               f"not {batch.dtype} {batch.shape}")
        predicted = []
        for clip in batch:
            check_cancelled(cancel, "evaluation")
            frames = clip[:given] if raw else np.multiply(clip[:given], np.float32(1 / 255), dtype=np.float32)
            predicted.append(rollout(model, frames, future, cancel=cancel))
            done += 1
            report(progress, done, sequences, "rolling out")
        truth = batch[:, given:]
        last = np.repeat(batch[:, given - 1 : given], future, axis=1)
        blank = np.zeros_like(truth)
        for name, guess in (("model", np.stack(predicted)), ("copy_last", last), ("blank", blank)):
            found = step_metrics(truth, guess)
            for metric in METRICS:
                total = getattr(found, metric) * len(batch)
                sums[name][metric] = sums[name].get(metric, 0.0) + total
    if done == 0:
        raise RolloutError("no sequences to evaluate")

    def means(name: str) -> StepMetrics:
        return StepMetrics(**{metric: sums[name][metric] / done for metric in METRICS})

    return RolloutEvaluation(given, future, done, means("model"), means("copy_last"), means("blank"))
