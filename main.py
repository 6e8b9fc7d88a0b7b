"""Start Framewatch: ``python main.py [PROJECT | VIDEO] [--demo]`` (``--help`` lists the options)."""

from __future__ import annotations

import sys

from desktop_app.shell.app import run

if __name__ == "__main__":
    sys.exit(run(sys.argv))
