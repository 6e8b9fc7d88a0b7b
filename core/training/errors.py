"""Errors of the training engine (subclasses of :class:`~core.errors.FramewatchError`).

:class:`~core.models.errors.ModelFileError` (a model or weights file that cannot be loaded) belongs to
:mod:`core.models`; it is re-exported here because training raises it too.
"""

from __future__ import annotations

from core.errors import FramewatchError
from core.models.errors import ModelFileError

__all__ = ["ConfigError", "ModelFileError", "NonFiniteLossError", "TrainingError"]


class TrainingError(FramewatchError):
    """A training run cannot start or cannot go on (bad spec, bad data, loss became NaN, ...)."""


class NonFiniteLossError(TrainingError):
    """The loss became NaN or infinite; the run stopped and its last good checkpoint is kept."""


class ConfigError(TrainingError, ValueError):
    """A training setting is out of range (e.g. ``batch_size=0``); the message is one line naming the setting,
    the range it must be in and the value given."""
