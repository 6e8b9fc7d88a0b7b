"""Errors of run folders and run records (subclasses of :class:`~core.errors.FramewatchError`)."""

from __future__ import annotations

from pathlib import Path

from core.errors import FramewatchError


class RunError(FramewatchError):
    """A training run cannot be found or used (no such run, not a run folder)."""


class RunFileError(RunError):
    """A run's ``run.json`` or ``state.json`` cannot be read; ``str(error)`` names the file and the problem."""

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")
