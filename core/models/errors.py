"""The error of a bad model spec (unknown preset or option, impossible sizes)."""

from __future__ import annotations

from core.errors import FramewatchError


class SpecError(FramewatchError, ValueError):
    """A model spec or preset that cannot be built; the message names the option and the allowed values."""
