"""The error every metric raises on bad input: a :class:`~core.errors.FramewatchError` and a ``ValueError``.

Messages say which argument is wrong and how, e.g. ``"scores: 3 NaN values (frames 4, 9, 10)"``; the
CLI prints them in one line, the GUI in a dialog.
"""

from __future__ import annotations

from core.errors import FramewatchError


class EvaluationError(FramewatchError, ValueError):
    """Inputs a metric cannot be computed from (wrong shapes, NaN scores, one class only, ...)."""
