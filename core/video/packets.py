"""The presentation times and sizes of a video file's packets, read by FFmpeg's demuxer without decoding.

A file's frames may not sit at ``k / fps``: variable-frame-rate recordings, and captures that dropped
frames. Captures store a dropped frame in one of two ways: as an empty slot of the AVI index (the
demuxer skips it, so the packet list has a gap), or as a packet that holds no picture, such as an
MPEG-4 not-coded VOP (a few bytes; the packet list is evenly spaced and counts every slot, but no frame
decodes from it). Before a reader may turn a seek's landing time into a frame index with ``time * fps``
it must know that every packet is a frame at ``k / fps``. Listing the packets shows most of this cheaply:
the demuxer reads the container's index and packets but decodes nothing (milliseconds for a short clip,
the speed of reading the file for a long one). What the list cannot show (a packet of ordinary size that
decodes to nothing) the reader checks by decoding the start of the file (:mod:`core.video.file_source`).
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

#: Longest the packet listing may take before the file is treated as unproven (seconds).
LISTING_TIMEOUT_S = 120.0
#: A step between frames may differ from ``1 / fps`` by this fraction of a frame and still count as even.
EVEN_TOLERANCE = 0.25
#: A packet of at most this many bytes may hold no picture: an empty packet, an MPEG-4 not-coded VOP
#: (5 to 8 bytes), the placeholders capture tools write for dropped frames. The smallest real pictures
#: (a frame with nothing changed, of a codec that codes that in a few bits) come close, so a file with
#: such packets is not proven evenly timed from its packets and is scanned: slower, never wrong.
PLACEHOLDER_MAX_BYTES = 8


@dataclass(frozen=True)
class PacketList:
    """The first video stream's packets in presentation order: ``times_s`` in seconds (ascending) and
    ``sizes`` in bytes, one of each per packet (empty slots of an AVI index are not packets)."""

    times_s: list[float]
    sizes: list[int]

    def proves_even_timing(self, fps: float, count: int) -> bool:
        """True when the list shows ``count`` frames one frame duration apart, each in a packet large
        enough to hold a picture (:data:`PLACEHOLDER_MAX_BYTES`)."""
        if any(size <= PLACEHOLDER_MAX_BYTES for size in self.sizes):
            return False
        return evenly_timed(self.times_s, fps, count)


def packet_list(path: Path) -> PacketList | None:
    """The packets of ``path``'s first video stream, or ``None`` when they cannot be listed (no FFmpeg,
    a packet with no timestamp, a damaged container)."""
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
    packets: list[tuple[int, int]] = []  # (pts in time-base ticks, size in bytes)
    for line in run.stdout.splitlines():
        if line.startswith("#tb 0:"):
            time_base = Fraction(line.split(":", 1)[1].strip())
        elif line and not line.startswith("#"):
            fields = line.split(",")  # stream, dts, pts, duration, size, checksum[, flags]
            try:
                pts, size = int(fields[2]), int(fields[4])
            except (IndexError, ValueError):
                return None
            if pts == -(2**63):  # AV_NOPTS_VALUE: the container has no time for this packet
                return None
            packets.append((pts, size))
    if time_base is None or not packets:
        return None
    packets.sort()
    return PacketList([float(pts * time_base) for pts, _ in packets], [size for _, size in packets])


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
