"""``python -m desktop_app [PROJECT | VIDEO] [--demo]``: the same as ``python main.py`` (``--help`` lists the options)."""

from __future__ import annotations

import sys

from desktop_app.shell.app import main

if __name__ == "__main__":
    sys.exit(main())
