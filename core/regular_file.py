"""Reading a file that must be a regular file, without ever blocking on one that is not.

``open(path)`` on a named pipe (FIFO) waits until some other program opens it for writing: a FIFO left
where Framewatch expects one of its own files (a score cache entry, a model file) would hang the command
that reads it. :func:`open_regular` looks at what the path is first (``stat`` never blocks), refuses
anything but a regular file, opens with ``O_NONBLOCK`` (so a FIFO swapped in meanwhile cannot block the
open either) and checks the opened file again, so what is read is what was checked.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO


class NotARegularFile(OSError):
    """``path`` is a named pipe, a device, a socket or a folder: not a file to read. ``str()`` says which."""

    def __init__(self, path: Path, kind: str) -> None:
        super().__init__(errno.EINVAL, f"is {kind}, not a regular file", str(path))
        self.kind = kind


def file_kind(mode: int) -> str:
    """What ``mode`` (``st_mode``) says a path is, in words: ``"a named pipe (FIFO)"``, ``"a folder"``, ..."""
    for test, kind in ((stat.S_ISREG, "a regular file"), (stat.S_ISDIR, "a folder"),
                       (stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISLNK, "a symbolic link")):
        if test(mode):
            return kind
    return "not a file"


def open_regular(path: str | Path, follow_symlinks: bool = True) -> BinaryIO:
    """``path`` opened for binary reading, if it is a regular file.

    :class:`NotARegularFile` for anything else (with ``follow_symlinks=False``, a symbolic link too);
    the :class:`OSError` of ``stat`` or ``open`` otherwise (missing, no permission, a symbolic link loop).
    """
    path = Path(path)
    mode = os.stat(path, follow_symlinks=follow_symlinks).st_mode
    if not stat.S_ISREG(mode):
        raise NotARegularFile(path, file_kind(mode))
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    if not follow_symlinks:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):  # replaced between the stat and the open
            raise NotARegularFile(path, file_kind(mode))
        return os.fdopen(fd, "rb")
    except BaseException:
        with contextlib.suppress(OSError):
            os.close(fd)
        raise


def read_regular_bytes(path: str | Path, max_bytes: int | None = None, follow_symlinks: bool = True) -> bytes:
    """The whole content of regular file ``path`` (see :func:`open_regular`).

    ``max_bytes``: refuse a larger file (:class:`OSError` ``EFBIG``) without reading it, for files that
    are small by nature (a cache entry's metadata), so a huge one cannot fill the memory.
    """
    with open_regular(path, follow_symlinks) as f:
        if max_bytes is not None:
            size = os.fstat(f.fileno()).st_size
            if size > max_bytes:
                raise OSError(errno.EFBIG, f"is {size} bytes, more than the {max_bytes} such a file can be",
                              str(path))
        return f.read()
