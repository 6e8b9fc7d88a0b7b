"""Errors of model specs, model files and backbone weights (subclasses of :class:`~core.errors.FramewatchError`)."""

from __future__ import annotations

from pathlib import Path

from core.errors import FramewatchError


class SpecError(FramewatchError, ValueError):
    """A model spec or preset that cannot be built; the message names the option and the allowed values."""


class ModelFileError(FramewatchError):
    """A model or weights file cannot be loaded: missing, not a Keras file, or saved by an incompatible version.

    ``str(error)`` names the file and says what is wrong, e.g. ``"net.keras: not a Keras model file"``.
    """

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class BackboneWeightsError(FramewatchError):
    """The ImageNet weights of a backbone cannot be had (offline, download failed)."""
