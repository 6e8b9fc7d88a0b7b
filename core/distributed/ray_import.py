"""Import Ray, or say in one line how to install it (it is the optional ``cluster`` extra)."""

from __future__ import annotations

from types import ModuleType

from core.errors import FramewatchError

INSTALL = 'pip install "framewatch[cluster]"'


class RayMissingError(FramewatchError):
    """Ray is not installed: the one-line message says what to install."""


def import_ray() -> ModuleType:
    """The ``ray`` module; :class:`RayMissingError` when it is not installed (or cannot be imported)."""
    try:
        import ray
    except ImportError as exc:
        raise RayMissingError(f"scoring with --workers or --cluster needs Ray, which is not installed: "
                              f"{INSTALL} ({exc})") from None
    return ray
