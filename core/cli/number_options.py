"""The types of the command line's numeric options: every number a user types is bounded here.

A number option's ``type`` is a :class:`WholeNumber` or a :class:`Number` with its range, so that text
that is not a number, a number out of range, ``nan`` or ``inf`` and numbers too large for the work they
would start (``--future 99999999999999999999`` would roll a model out for ever, ``--smooth 1e20`` would
overflow) are refused by argparse as a usage error naming the option, exit code 2, before anything runs.
:func:`state_limits` adds each option's range to its ``--help`` text, so the limits are written once.

The limits below are far beyond any sensible use and small enough that the work they allow stays
bounded; each says why it is where it is.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass

from core.project.schema import MAX_FPS, MAX_FRAMES, MIN_FPS

#: Highest frame number or frame count an option takes: the most a project accepts.
FRAME_LIMIT = MAX_FRAMES
#: Frames per clip (a model's window, frames given to a rollout): what training accepts.
CLIP_LIMIT = 1000
#: Frames predicted one after another from a rollout: each is fed back, so the work grows with them.
FUTURE_LIMIT = 1000
#: Frames an error is averaged over before thresholding: what scoring accepts
#: (:data:`core.inference.anomaly.regularity.MAX_SMOOTHING_WINDOW`, not imported here: it would import NumPy).
SMOOTH_LIMIT = 10_000
#: Clips (or windows) per model call.
BATCH_LIMIT = 4096
#: Epochs of a training run or an error-level fit.
EPOCH_LIMIT = 100_000
#: Moving MNIST sequences to train on (rendered batch by batch, but each is visited every epoch).
TRAIN_SEQUENCES_LIMIT = 100_000
#: Moving MNIST sequences to evaluate (each is rolled out: 10,000 take minutes on a CPU).
EVALUATE_SEQUENCES_LIMIT = 10_000
#: Random seeds: what NumPy and TensorFlow take (2**32 - 1).
SEED_LIMIT = 2**32 - 1
#: CPU threads or cores.
THREAD_LIMIT = 1024
#: Seconds to wait for another writer of a project (a day).
WAIT_LIMIT_S = 86_400.0
#: Minutes of a training time budget (a year).
MINUTES_LIMIT = 525_600.0
#: Equal pieces one cut makes.
PIECES_LIMIT = 100_000
#: Outputs of a regression model.
OUTPUTS_LIMIT = 1000
#: Widths of the bins regressed values are merged by: a model's float32 values (at most about 3.4e38)
#: divided by the narrowest still count bins in finite numbers.
BIN_WIDTHS = (1e-6, 1e12)


@dataclass(frozen=True)
class WholeNumber:
    """An argparse ``type``: a whole number from ``low`` to ``high`` (inclusive)."""

    low: int
    high: int

    @property
    def limits(self) -> str:
        """The range as ``--help`` states it, e.g. ``1 to 1,000``."""
        return f"{self.low:,} to {self.high:,}"

    def __call__(self, text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not self.low <= value <= self.high:
            raise argparse.ArgumentTypeError(f"must be a whole number from {self.limits}, not {text}")
        return value


@dataclass(frozen=True)
class Number:
    """An argparse ``type``: a finite number from ``low`` to ``high``.

    ``above_low``: ``low`` itself is refused (a duration must be more than 0). Infinite bounds leave that
    side open; ``nan`` and infinities are always refused.
    """

    low: float = -math.inf
    high: float = math.inf
    above_low: bool = False

    @property
    def limits(self) -> str:
        """The range as ``--help`` states it and errors quote it, e.g. ``more than 0``, ``0.001 to 1,000``;
        empty when unbounded."""
        low, high = f"{self.low:,g}", f"{self.high:,g}"
        if math.isinf(self.low) and math.isinf(self.high):
            return ""
        if math.isinf(self.high):
            return f"more than {low}" if self.above_low else f"{low} or more"
        if math.isinf(self.low):
            return f"at most {high}"
        return f"more than {low} and at most {high}" if self.above_low else f"{low} to {high}"

    def __call__(self, text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"must be a finite number, not {text!r}")
        if value < self.low or (self.above_low and value == self.low) or value > self.high:
            span = f"from {self.limits}" if " to " in self.limits else self.limits
            raise argparse.ArgumentTypeError(f"must be a number {span}, not {text}")
        return value


#: Shared option types.
FINITE = Number()
POSITIVE = Number(0.0, above_low=True)
FPS = Number(MIN_FPS, MAX_FPS)
FRAME = WholeNumber(0, FRAME_LIMIT)
FRAME_COUNT = WholeNumber(1, FRAME_LIMIT)
CLIP_FRAMES = WholeNumber(1, CLIP_LIMIT)
SEED = WholeNumber(0, SEED_LIMIT)
BATCH = WholeNumber(1, BATCH_LIMIT)
EPOCHS = WholeNumber(1, EPOCH_LIMIT)
SMOOTH = WholeNumber(1, SMOOTH_LIMIT)
FUTURE = WholeNumber(1, FUTURE_LIMIT)
PERCENTILE = Number(0.0, 100.0, above_low=True)
#: False alarms a minute a calibrated threshold aims at (one in about 17 hours to ten a second).
ALARM_RATE = Number(0.001, 600.0)
PROBABILITY = Number(0.0, 1.0)
WAIT_S = Number(0.0, WAIT_LIMIT_S)
BIN_WIDTH = Number(*BIN_WIDTHS)
WORKERS = WholeNumber(1, THREAD_LIMIT)
MINUTES = Number(0.0, MINUTES_LIMIT, above_low=True)
#: A Ray worker's share of a GPU (0.25: four workers to a GPU) up to whole GPUs.
GPU_SHARE = Number(0.0, 8.0, above_low=True)


def state_limits(parser: argparse.ArgumentParser) -> None:
    """Add each bounded number option's range to its ``--help`` text, in ``parser`` and all its sub-commands."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                state_limits(sub)
        elif isinstance(action.type, WholeNumber | Number) and action.help is not argparse.SUPPRESS:
            limits = action.type.limits
            if limits and limits not in (action.help or ""):
                action.help = f"{action.help} [{limits}]" if action.help else f"[{limits}]"
