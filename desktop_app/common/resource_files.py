"""Where the app's package data lives: the stylesheet, the built-in demo, the shipped anomaly model and the
user guide.

A source checkout keeps them in the repository's ``resources/`` folder (the guide in ``docs/``). An
installed Framewatch (``pip install .``) ships the same folder as the package ``framewatch_resources``
(and ``docs/`` as ``framewatch_resources/guide``) and finds it with :mod:`importlib.resources`, so the
app and its demo work from any folder and never depend on the source tree it was built from. This
module does not import Qt.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

PACKAGE = "framewatch_resources"
#: ``resources/`` of the checkout this module runs from (absent in an installed copy).
SOURCE_RESOURCES = Path(__file__).resolve().parents[2] / "resources"


#: Where the user guide lies in a checkout, and in the installed package (under :func:`resources_dir`).
GUIDE_IN_CHECKOUT = Path("docs") / "user-guide.md"
GUIDE_IN_PACKAGE = Path("guide") / "user-guide.md"


def running_from_checkout() -> bool:
    """Whether this module runs from a source checkout: ``resources/__init__.py`` beside ``setup.py``, so
    that a stray ``resources`` folder next to an installed copy is never taken for ours."""
    return (SOURCE_RESOURCES / "__init__.py").is_file() and (SOURCE_RESOURCES.parent / "setup.py").is_file()


def resources_dir() -> Path:
    """The folder holding ``style.qss`` and ``demo/``: the checkout's own, else the installed package's."""
    if running_from_checkout():
        return SOURCE_RESOURCES
    try:
        return Path(str(importlib.resources.files(PACKAGE)))
    except ModuleNotFoundError:
        # A broken install: callers report the missing file (the demo, the stylesheet) by its path.
        return SOURCE_RESOURCES


def resource(*parts: str) -> Path:
    """A file or folder under :func:`resources_dir` (it may not exist)."""
    return resources_dir().joinpath(*parts)


def shipped_model_dir() -> Path:
    """The run folder of the shipped anomaly model (``models/ped2-future-frame``: a future-frame model for
    UCSD Ped2-like gray footage); it may be missing from a broken install."""
    return resource("models", "ped2-future-frame")


def user_guide() -> Path:
    """The user guide (Markdown, with its screenshots beside it): the checkout's ``docs/user-guide.md``,
    else the copy installed with the package; it may be missing from a broken install."""
    if running_from_checkout():
        return SOURCE_RESOURCES.parent / GUIDE_IN_CHECKOUT
    return resources_dir() / GUIDE_IN_PACKAGE
