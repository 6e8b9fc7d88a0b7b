"""The presentation times of a video file's packets, read by FFmpeg's demuxer without decoding.

A file's frames may not sit at ``k / fps``: variable-frame-rate recordings, and captures whose AVI
index holds empty slots for dropped frames (the header counts the slots, fewer frames decode). Before
a reader may turn a seek's landing time into a frame index with ``time * fps`` it must know the file is
evenly timed. Listing the packets proves it cheaply: the demuxer reads the container's index and
packets but decodes nothing (milliseconds for a short clip, the speed of reading the file for a long one).
"""

from __future__ import annotations

import subprocess
from fractions import Fraction
from pathlib import Path

#: Longest the packet listing may take before the file is treated as unproven (seconds).
LISTING_TIMEOUT_S = 120.0
#: A step between frames may differ from ``1 / fps`` by this fraction of a frame and still count as even.
EVEN_TOLERANCE = 0.25


def packet_times(path: Path) -> list[float] | None:
    """Presentation times in seconds of the first video stream's packets, ascending (empty slots of
    an AVI index are not packets), or ``None`` when they cannot be listed (no FFmpeg, a packet with no
    timestamp, a damaged container)."""
    try:
        import imageio_ffmpeg

        exe = imageio_ffmpeg.get_ffmpeg_exe()
        run = subprocess.run(
            [exe, "-v", "error", "-nostdin", "-i", str(path), "-map", "0:v:0", "-c", "copy", "-f", "framecrc", "-"],
            capture_output=True, text=True, timeout=LISTING_TIMEOUT_S, check=False,
        )
    except (ImportError, RuntimeError, OSError, subprocess.TimeoutExpired):
        return None
    if run.returncode != 0:
        return None
    time_base: Fraction | None = None
    ticks: list[int] = []
    for line in run.stdout.splitlines():
        if line.startswith("#tb 0:"):
            time_base = Fraction(line.split(":", 1)[1].strip())
        elif line and not line.startswith("#"):
            fields = line.split(",")
            try:
                pts = int(fields[2])
            except (IndexError, ValueError):
                return None
            if pts == -(2**63):  # AV_NOPTS_VALUE: the container has no time for this packet
                return None
            ticks.append(pts)
    if time_base is None or not ticks:
        return None
    return [float(t * time_base) for t in sorted(ticks)]


def evenly_timed(times_s: list[float], fps: float, count: int) -> bool:
    """True when ``count`` frames lie exactly one frame duration (``1 / fps``) apart: then frame
    ``k`` is the one at ``times_s[0] + k / fps`` and a time names its frame without a table."""
    if count <= 0 or len(times_s) != count or fps <= 0:
        return False
    step = 1.0 / fps
    tolerance = EVEN_TOLERANCE * step
    if any(abs((b - a) - step) > tolerance for a, b in zip(times_s, times_s[1:], strict=False)):
        return False
    return bool(abs((times_s[-1] - times_s[0]) - (count - 1) * step) <= 0.5 * step)
