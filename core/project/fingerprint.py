"""Cheap fingerprints that tell whether a video file or image folder moved or changed.

A file: its size, modification time and a BLAKE2 hash of its first and last MiB (plus the size).
A folder of images: the number of images, their total size, and a hash of their names and sizes plus the
bytes of the first, middle and last image (up to a MiB each). Both take milliseconds however long the
video is, and a copy of the same bytes elsewhere gets the same content fingerprint (see
:meth:`Fingerprint.same_content`), which is how a moved video is recognised when it is relinked.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from core.project.entities import Fingerprint

#: Bytes hashed at each end of a file (and from each sampled image of a folder).
CHUNK = 1 << 20


def _hash_file_ends(path: Path, size: int, h: hashlib.blake2b) -> None:
    with open(path, "rb") as f:
        h.update(f.read(CHUNK))
        if size > 2 * CHUNK:
            f.seek(size - CHUNK)
            h.update(f.read(CHUNK))
        elif size > CHUNK:
            h.update(f.read())


def fingerprint(path: str | Path) -> Fingerprint:
    """The :class:`Fingerprint` of a video file or an image-sequence folder.

    Raises :class:`~core.errors.VideoError` for a path that is neither a regular file nor a folder (a
    named pipe would block the read forever: :mod:`core.video.video_path`), ``OSError`` if the path
    cannot be read (callers turn it into their own error).
    """
    from core.video.video_path import video_path_kind

    path = Path(path)
    h = hashlib.blake2b(digest_size=16)
    if video_path_kind(path) == "folder":
        from core.video import list_images

        images = list_images(path)
        stats = [p.stat() for p in images]
        for p, st in zip(images, stats, strict=True):
            h.update(f"{p.name}\0{st.st_size}\n".encode())
        for index in sorted({0, len(images) // 2, len(images) - 1} if images else set()):
            _hash_file_ends(images[index], stats[index].st_size, h)
        mtime = max((st.st_mtime_ns for st in stats), default=path.stat().st_mtime_ns)
        return Fingerprint(size=sum(st.st_size for st in stats), mtime_ns=mtime, digest=h.hexdigest(), count=len(images))
    st = path.stat()
    h.update(str(st.st_size).encode())
    _hash_file_ends(path, st.st_size, h)
    return Fingerprint(size=st.st_size, mtime_ns=st.st_mtime_ns, digest=h.hexdigest(), count=0)
