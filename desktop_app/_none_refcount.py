"""Work around a reference-count bug of PySide6 6.12 on Python 3.11.

PySide6/shiboken6 6.12 return ``None`` from void C++ methods without taking a reference to it (fine on
Python 3.12+, where ``None`` is immortal). On Python 3.11 every such call (``QPainter.drawLine``,
``setPen``, ``fillRect``...) lowers ``None``'s reference count by one, and after some thousands of
paints the interpreter aborts with "Fatal Python error: none_dealloc". Giving ``None`` a huge
reference count makes it effectively immortal, as it is on 3.12; the fix is applied once, on import
of :mod:`desktop_app`, and only where the interpreter needs it.
"""

from __future__ import annotations

import ctypes
import sys

#: Added to None's reference count: 2**60 lost references would take centuries of painting.
_BOOST = 1 << 60


def make_none_immortal() -> bool:
    """Raise ``None``'s reference count out of reach on Python < 3.12; True when it was applied."""
    if sys.version_info >= (3, 12) or getattr(sys, "_framewatch_none_boosted", False):
        return False
    refcount = ctypes.c_ssize_t.from_address(id(None))  # ob_refcnt is the first field of every object
    refcount.value += _BOOST
    sys._framewatch_none_boosted = True  # type: ignore[attr-defined]
    return True
