"""The project's own exception types.

Every error a user can cause (a bad file, a bad project, a cancelled job) is raised as a subclass of
:class:`FramewatchError`, with a message that names the file and says what is wrong. The CLI prints
that message without a traceback; the GUI shows it in a dialog.
"""

from __future__ import annotations

from pathlib import Path


class FramewatchError(Exception):
    """Base class of every error Framewatch raises on purpose."""


class Cancelled(FramewatchError):
    """A long job stopped because its cancel token was set."""

    def __init__(self, message: str = "cancelled") -> None:
        super().__init__(message)


class NonFiniteJSONError(FramewatchError, ValueError):
    """A JSON file would hold NaN or an infinity, which JSON has not (strict readers refuse the file).

    Raised by :func:`core.atomic_write.write_json` before anything is written; ``path`` is the file.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        super().__init__(f"{self.path}: not written: a number in it is not finite (NaN or infinity), which JSON "
                         "cannot hold")


class VideoError(FramewatchError):
    """A video file or image-sequence folder cannot be read as asked.

    ``path`` is the file (or folder) concerned and ``problem`` a short description; ``str(error)``
    gives both, e.g. ``"clip.mp4: not a video file OpenCV can decode"``.
    """

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class VideoNotFoundError(VideoError):
    """The path does not exist."""


class EmptyVideoError(VideoError):
    """A zero-byte file, or a folder with no images in it."""


class UnsupportedFormatError(VideoError):
    """The path is neither a decodable video file nor a folder of images."""


class UnreadableVideoError(VideoError):
    """The file exists but may not be read (permission denied)."""


class CorruptVideoError(VideoError):
    """The container or a frame cannot be decoded."""


class FrameSizeMismatchError(VideoError):
    """Frames of one source have different sizes (e.g. an image folder with mixed sizes)."""


class FrameOutOfRangeError(VideoError, IndexError):
    """A frame index outside ``[0, frame_count)``; says how many frames actually decode."""
