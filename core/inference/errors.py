"""Errors of scoring and flagging (subclasses of :class:`~core.errors.FramewatchError`)."""

from __future__ import annotations

from pathlib import Path

from core.errors import FramewatchError


class InferenceError(FramewatchError):
    """Base class of the errors of :mod:`core.inference`."""


class ScoreError(InferenceError):
    """Scores or flagging parameters that cannot be used: an empty series, a NaN, a window of 0, ..."""


class InferenceFileError(InferenceError):
    """A file that scoring wrote (``events.json``) cannot be read; ``str(error)`` names it and the problem."""

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")
