"""Errors of the training engine and of model files (subclasses of :class:`~core.errors.FramewatchError`)."""

from __future__ import annotations

from pathlib import Path

from core.errors import FramewatchError


class TrainingError(FramewatchError):
    """A training run cannot start or cannot go on (bad spec, bad data, loss became NaN, ...)."""


class NonFiniteLossError(TrainingError):
    """The loss became NaN or infinite; the run stopped and its last good checkpoint is kept."""


class ModelFileError(FramewatchError):
    """A model file cannot be loaded: missing, not a Keras model, or saved by an incompatible version.

    ``str(error)`` names the file and says what is wrong, e.g. ``"net.keras: not a Keras model file"``.
    """

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")
