"""Running a project edit from the GUI: a refused edit becomes a dialog, never an exception."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QWidget

from core.errors import FramewatchError
from core.project import ProjectValidationError
from desktop_app.jobs import show_error


def apply_edit(parent: QWidget | None, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` (a project edit); a refused edit shows a dialog and returns ``None``."""
    try:
        return fn(*args, **kwargs)
    except FramewatchError as exc:
        show_error(parent, exc, "Edit")
    except (KeyError, ValueError) as exc:
        show_error(parent, ProjectValidationError(str(exc)), "Edit")
    return None
