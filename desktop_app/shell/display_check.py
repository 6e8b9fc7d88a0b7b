"""Can Qt open a window here? Checked before the application is created, without importing Qt.

On Linux the default platform plugin, xcb, needs X libraries that a machine without a desktop (a
container, a server with Xvfb) often lacks; Qt then aborts with a generic "could not load the Qt platform
plugin" and a core dump. :func:`display_problem` names what is missing instead, in one line with the
command that installs it. Every lookup is a parameter so that tests can inject them.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

#: Libraries PySide6's ``libqxcb.so`` and ``libQt6XcbQpa.so`` load, with their Debian/Ubuntu package.
XCB_LIBRARIES: dict[str, str] = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xinerama.so.0": "libxcb-xinerama0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb.so.1": "libxcb1",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libX11.so.6": "libx11-6",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libGLX.so.0": "libglx0",
    "libGLdispatch.so.0": "libglvnd0",
    "libfontconfig.so.1": "libfontconfig1",
    "libdbus-1.so.3": "libdbus-1-3",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
}
#: The one apt line of the README: what a bare Debian/Ubuntu machine lacks to show the window.
APT_PACKAGES = ("libxcb-cursor0", "libxcb-icccm4", "libxcb-image0", "libxcb-keysyms1", "libxcb-randr0",
                "libxcb-render-util0", "libxcb-shape0", "libxcb-xinerama0", "libxcb-xkb1", "libxkbcommon-x11-0",
                "libegl1", "libgl1", "libfontconfig1", "libdbus-1-3")
_NOT_FOUND = re.compile(r"^\s*(\S+)\s*=>\s*not found", re.MULTILINE)


def qt_platform(environ: Mapping[str, str], argv: list[str]) -> str:
    """The platform plugin Qt will try first: ``-platform NAME``, ``QT_QPA_PLATFORM``, or Qt's default."""
    for i, arg in enumerate(argv[:-1]):
        if arg in ("-platform", "--platform"):
            return argv[i + 1].split(";")[0].split(":")[0]
    value = environ.get("QT_QPA_PLATFORM", "").strip()
    if value:
        return value.split(";")[0].split(":")[0]
    if sys.platform != "linux":
        return sys.platform
    if environ.get("XDG_SESSION_TYPE") == "wayland" and environ.get("WAYLAND_DISPLAY"):
        return "wayland"  # Qt 6 prefers Wayland in a Wayland session (and falls back to xcb itself)
    return "xcb"


def xcb_plugin() -> Path | None:
    """PySide6's ``libqxcb.so`` (found without importing Qt), or None."""
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        for candidate in (Path(folder) / "Qt" / "plugins" / "platforms" / "libqxcb.so",
                          Path(folder) / "plugins" / "platforms" / "libqxcb.so"):
            if candidate.is_file():
                return candidate
    return None


def run_ldd(path: Path) -> str | None:
    """``ldd path``'s output, or None where ldd is unavailable or fails."""
    ldd = shutil.which("ldd")
    if ldd is None:
        return None
    try:
        return subprocess.run([ldd, str(path)], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return None


def can_load(name: str) -> bool:
    """Whether the dynamic linker can load the shared library ``name``."""
    try:
        ctypes.CDLL(name)
    except OSError:
        return False
    return True


def missing_libraries(plugin: Path | None, ldd: Callable[[Path], str | None] = run_ldd,
                      load: Callable[[str], bool] = can_load) -> list[str]:
    """The libraries the xcb plugin needs that are not installed, in link order.

    ``ldd`` on the plugin gives the exact list (its "not found" lines, dependencies of dependencies
    included); without ldd or the plugin, each library of :data:`XCB_LIBRARIES` is tried with ``load``.
    """
    output = ldd(plugin) if plugin is not None else None
    if output is not None:
        return list(dict.fromkeys(_NOT_FOUND.findall(output)))
    return [name for name in XCB_LIBRARIES if not load(name)]


def display_problem(
    environ: Mapping[str, str] | None = None,
    argv: list[str] | None = None,
    plugin: Callable[[], Path | None] = xcb_plugin,
    ldd: Callable[[Path], str | None] = run_ldd,
    load: Callable[[str], bool] = can_load,
    as_root: Callable[[], bool] = lambda: getattr(os, "geteuid", lambda: -1)() == 0,
) -> str | None:
    """One line saying why no window can open (missing X libraries, no display), or None if it can.

    Only the xcb platform is checked: offscreen, wayland and the platforms of other systems pass. The
    apt line has ``sudo`` unless the app runs as root (``as_root``): a root shell in a container has no sudo.
    """
    environ = os.environ if environ is None else environ
    argv = sys.argv if argv is None else argv
    if qt_platform(environ, argv) != "xcb":
        return None
    missing = missing_libraries(plugin(), ldd, load)
    if missing:
        packages = sorted({XCB_LIBRARIES.get(name, "") for name in missing} - {""})
        sudo = "" if as_root() else "sudo "
        install = (f"on Debian/Ubuntu: {sudo}apt-get install -y {' '.join(packages)}" if packages
                   else "install the packages that provide them")
        return (f"cannot open a window: Qt's xcb platform plugin needs {', '.join(missing)}, which "
                f"{'is' if len(missing) == 1 else 'are'} not installed; {install} (on other systems, the packages "
                "that provide these libraries; or run without a window with QT_QPA_PLATFORM=offscreen)")
    if not environ.get("DISPLAY"):
        return ("cannot open a window: no X display (DISPLAY is not set); start it from a desktop session, "
                f"or on a machine without one under Xvfb: xvfb-run -a {launch_command(argv)}")
    return None


def launch_command(argv: list[str]) -> str:
    """How the user started the app, to repeat in advice: ``python3 main.py``, ``python3 -m desktop_app``
    or the installed ``framewatch-gui``."""
    program = Path(argv[0]) if argv else Path("main.py")
    if program.name == "__main__.py":
        return "python3 -m desktop_app"
    if program.suffix == ".py":
        return f"python3 {program.name}"
    return program.name
