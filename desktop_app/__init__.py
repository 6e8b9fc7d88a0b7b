"""The PySide6 front end: windows, widgets, and Qt workers that run core jobs off the GUI thread."""

from desktop_app._none_refcount import make_none_immortal

make_none_immortal()
