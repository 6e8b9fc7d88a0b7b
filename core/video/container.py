"""Files FFmpeg opens that are not videos: text drawn as frames, and single images.

FFmpeg turns more than video into frames. Its ``tty`` demuxer reads any text file (``.txt``, ``.nfo``,
``.asc``, ...) and the ``ansi`` decoder draws its characters as 640x400 pictures ("59 frames"); the
``bin``/``xbin``/``adf``/``idf`` demuxers do the same for text-mode art. Image demuxers (``png_pipe``,
``jpeg_pipe``, ``image2``, ...) give one picture whatever the file is named. Neither is footage, and
the user guide promises an error for them, so :class:`~core.video.file_source.FileVideoSource` refuses
them: text by its decoder (OpenCV names it, no extra work), a single image by the demuxer FFmpeg picks,
asked only when the header declares at most one frame (a cheap ``ffmpeg -i`` run, about 40 ms).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

#: Codecs (as OpenCV names them, four characters at most) that draw text as pictures.
TEXT_CODECS = frozenset({"ansi", "bint", "xbin", "idf"})
#: The problem of a text file opened as a video.
TEXT_PROBLEM = "is text, not a video (FFmpeg would draw its characters as frames)"
#: The problem of a single image opened as a video.
SINGLE_IMAGE_PROBLEM = "a single image is not a video: open the folder that holds the image sequence"
#: Longest the format probe may take (seconds); a file it cannot probe in time is not refused by it.
PROBE_TIMEOUT_S = 30.0

_INPUT_LINE = re.compile(r"^Input #0, (?P<formats>.+?), from ", re.MULTILINE)


def container_formats(path: Path) -> frozenset[str] | None:
    """The names of the demuxer FFmpeg picks for ``path`` (``{"mov", "mp4", ...}``, ``{"png_pipe"}``), or
    ``None`` when FFmpeg is missing, too slow or finds no format."""
    try:
        import imageio_ffmpeg

        run = subprocess.run(
            [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path)],
            capture_output=True, text=True, errors="replace", timeout=PROBE_TIMEOUT_S, check=False,
        )
    except (ImportError, RuntimeError, OSError, subprocess.TimeoutExpired):
        return None
    found = _INPUT_LINE.search(run.stderr)
    return None if found is None else frozenset(found.group("formats").split(","))


def is_single_image(path: Path) -> bool:
    """True when FFmpeg reads ``path`` with an image demuxer (one picture, whatever the file's name)."""
    formats = container_formats(path)
    return formats is not None and any(name == "image2" or name.endswith("_pipe") for name in formats)
