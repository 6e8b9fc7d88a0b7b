"""Import Ray, or say in one line how to install it (it is the optional ``cluster`` extra)."""

from __future__ import annotations

import importlib.util
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


def ray_available() -> bool:
    """Whether Ray is installed, found without importing it (importing Ray takes seconds: an app asks at start)."""
    try:
        return importlib.util.find_spec("ray") is not None
    except (ImportError, ValueError):  # a broken or half-removed installation
        return False


def last_line(exc: BaseException | str) -> str:
    """The last non-empty line of an error's text: Ray wraps a worker's traceback (and a job server its
    answer) around the cause, which comes last."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[-1] if lines else type(exc).__name__
