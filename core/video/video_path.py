"""What a video path is, checked before anything opens it.

Opening a named pipe (FIFO) blocks until something writes to it, which for a stray FIFO is forever; a
character device can stream without end; a socket cannot be opened at all. FFmpeg, OpenCV and Python's
``open`` would all wait on them, holding up ``framewatch project info`` or a training run that nothing
can then stop. So every place a video path enters (opening a video, probing it for a project,
fingerprinting it, checking a project's videos) asks :func:`video_path_kind` first, which only calls
``stat`` and refuses anything but a regular file or a folder with one line naming the path.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from core.errors import UnreadableVideoError, UnsupportedFormatError, VideoNotFoundError


def _special_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def video_path_kind(path: Path) -> str:
    """``"file"`` (a regular file) or ``"folder"``: what ``path`` is, symbolic links followed.

    Raises :class:`~core.errors.VideoNotFoundError` when nothing is there (a dangling link included),
    :class:`~core.errors.UnsupportedFormatError` for a named pipe, device, socket or symbolic link loop,
    and :class:`~core.errors.UnreadableVideoError` when the path cannot be looked at (permission denied).
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError as exc:
        raise VideoNotFoundError(path, "no such file or folder") from exc
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UnsupportedFormatError(path, "is a symbolic link loop: the link leads back to itself") from exc
        if exc.errno == errno.ENOTDIR:
            raise VideoNotFoundError(path, "no such file or folder (a part of the path is a file)") from exc
        raise UnreadableVideoError(path, f"cannot be looked at ({exc.strerror or exc})") from exc
    if stat.S_ISDIR(mode):
        return "folder"
    if stat.S_ISREG(mode):
        return "file"
    raise UnsupportedFormatError(path, f"is {_special_kind(mode)}, not a video file or a folder of images")
