"""Progress reporting and cancellation shared by every long job in ``core``.

A long job is a plain function that takes ``progress`` (a callable receiving :class:`Progress`
events, or ``None``) and ``cancel`` (a :class:`threading.Event`, or ``None``). It calls
:func:`check_cancelled` between units of work and raises :class:`~core.errors.Cancelled` when the
token is set. The GUI runs such a function in a worker thread and turns events into Qt signals; the
CLI renders the same events as a progress bar.

A job made of parts (prepare the data, train, fit the error level; calibrate, score, flag) says which part
each report belongs to with its :class:`Stage`, so that a status line or a progress bar can follow the
parts without reading the words of ``message``. A job passes :func:`with_stage` of its callback to a
helper that reports without a stage (a frame cache, say), and the helper's reports carry the job's stage.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from core.errors import Cancelled

CancelToken = threading.Event


class Stage(StrEnum):
    """The part of a job a progress report belongs to: its value is a short identifier, ``label`` the words
    for a status line (``"error level"``)."""

    PREPARING = "preparing"
    TRAINING = "training"
    ERROR_LEVEL = "error-level"
    MOTION = "motion"
    CALIBRATING = "calibrating"
    SCORING = "scoring"
    FLAGGING = "flagging"
    WRITING = "writing"

    @property
    def label(self) -> str:
        return _STAGE_LABELS[self]


_STAGE_LABELS = {
    Stage.PREPARING: "preparing data", Stage.TRAINING: "training", Stage.ERROR_LEVEL: "error level",
    Stage.MOTION: "motion statistics",
    Stage.CALIBRATING: "calibrating the threshold", Stage.SCORING: "scoring", Stage.FLAGGING: "flagging",
    Stage.WRITING: "writing",
}


@dataclass(frozen=True)
class Progress:
    """One progress report.

    ``done`` and ``total`` count units of work (frames, files, batches); ``total`` is ``None`` when
    unknown. ``message`` says what is happening, for a status line; ``stage`` which part of the job it
    is (``None``: a job of one part).
    """

    done: float
    total: float | None = None
    message: str = ""
    stage: Stage | None = None

    @property
    def status(self) -> str:
        """``"error level: epoch 3/16"``: the stage's label and the message, for a status line."""
        if self.stage is None:
            return self.message
        return f"{self.stage.label}: {self.message}" if self.message else self.stage.label

    @property
    def fraction(self) -> float | None:
        """``done / total`` clipped to [0, 1], or ``None`` when the total is unknown."""
        if not self.total:
            return None
        return max(0.0, min(1.0, self.done / self.total))


ProgressCallback = Callable[[Progress], None]


def check_cancelled(cancel: threading.Event | None, what: str = "job") -> None:
    """Raise :class:`Cancelled` if ``cancel`` is set."""
    if cancel is not None and cancel.is_set():
        raise Cancelled(f"{what} cancelled")


def report(progress: ProgressCallback | None, done: float, total: float | None = None, message: str = "",
           stage: Stage | None = None) -> None:
    """Send one :class:`Progress` event to ``progress`` if there is a callback."""
    if progress is not None:
        progress(Progress(done, total, message, stage))


def with_stage(progress: ProgressCallback | None, stage: Stage) -> ProgressCallback | None:
    """``progress`` with ``stage`` set on each report that has none: a job marks the reports of a helper
    it calls (a frame cache, a scorer) as the part of the job they belong to."""
    if progress is None:
        return None

    def forward(event: Progress) -> None:
        progress(event if event.stage is not None else dataclasses.replace(event, stage=stage))

    return forward
