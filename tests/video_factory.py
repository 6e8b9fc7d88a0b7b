"""Small generated videos for tests: every frame shows its own index, so identity survives compression."""

from __future__ import annotations

import subprocess
from pathlib import Path

import cv2
import numpy as np


def index_frame(index: int, width: int = 64, height: int = 48) -> np.ndarray:
    """A BGR frame whose 10 blocks encode ``index`` in binary, black/white, plus a moving gray ramp."""
    frame = np.full((height, width, 3), 0, np.uint8)
    frame[:, :] = (index * 7) % 256 // 2
    block = width // 10
    for bit in range(10):
        value = 255 if (index >> bit) & 1 else 0
        frame[: height // 2, bit * block : (bit + 1) * block] = value
    return frame


def decode_index(frame_bgr: np.ndarray) -> int:
    """Read back the index drawn by :func:`index_frame` (robust to lossy coding)."""
    height, width = frame_bgr.shape[:2]
    gray = frame_bgr if frame_bgr.ndim == 2 else cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2GRAY)
    block = width // 10
    index = 0
    for bit in range(10):
        patch = gray[height // 8 : height // 2 - height // 8, bit * block + block // 4 : (bit + 1) * block - block // 4]
        if patch.mean() > 127:
            index |= 1 << bit
    return index


def decode_all(path: Path) -> list[np.ndarray]:
    """Every frame of a plain forward decode with OpenCV, BGR: the reference for random access."""
    cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    cap.release()
    return frames


def write_video(path: Path, frames: int, fps: float = 25.0, fourcc: str = "MJPG", width: int = 64, height: int = 48) -> Path:
    """Write ``frames`` index frames with OpenCV (MJPG in .avi, mp4v in .mp4)."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (width, height))
    assert writer.isOpened(), f"cannot write {path}"
    for i in range(frames):
        writer.write(index_frame(i, width, height))
    writer.release()
    return path


def ffmpeg(*args: str) -> None:
    import imageio_ffmpeg

    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", *args], check=True, timeout=120)


def transcode(source: Path, target: Path, *codec_args: str) -> Path:
    """Re-encode ``source`` with FFmpeg (e.g. ``"-c:v", "libx264", "-bf", "3"``)."""
    ffmpeg("-i", str(source), *codec_args, "-an", str(target))
    return target


def write_images(folder: Path, frames: int, ext: str = ".png", width: int = 64, height: int = 48) -> Path:
    """An image-sequence folder named 0.png, 1.png, ... (unpadded, to exercise natural sort)."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(frames):
        cv2.imwrite(str(folder / f"{i}{ext}"), index_frame(i, width, height))
    return folder


def write_gapped_avi(path: Path, frames: int = 320, gaps_from: int = 250, every: int = 7, skip: int = 2) -> Path:
    """An MJPEG AVI at 25 fps whose index holds ``skip`` empty (dropped-frame) slots after every
    ``every``-th frame from frame ``gaps_from`` on, as a capture that dropped frames writes it.

    The header declares every slot (more frames than decode); frame ``k`` shows ``k`` and sits at slot
    ``k + skip * (number of gaps before it)``, so its time is not ``k / 25``. Gaps start after the first
    240 frames (what a quick seek check decodes) unless ``gaps_from`` says otherwise.
    """
    base = write_video(path.with_name(f"{path.stem}.cfr.avi"), frames, fps=25)
    slots = f"(N+{skip}*floor(max(N-{gaps_from}+{every},0)/{every}))"
    ffmpeg("-i", str(base), "-vf", f"setpts='{slots}/(25*TB)'", "-fps_mode", "passthrough", "-enc_time_base", "1/25",
           "-c:v", "mjpeg", "-q:v", "3", "-an", str(path))
    return path


def write_vfr_mp4(path: Path, frames: int = 320, uneven_from: int = 250) -> Path:
    """An H.264 MP4 (B-frames) with variable frame timing: frames ``0 .. uneven_from-1`` 40 ms apart,
    later ones ever further apart (each step 2 ms longer than the last), in a millisecond time base, timestamps kept as they are.

    Frame ``k`` shows ``k``; the container's nominal rate is an average, so ``k / fps`` is not frame
    ``k``'s time anywhere after ``uneven_from``.
    """
    base = write_video(path.with_name(f"{path.stem}.cfr.avi"), frames, fps=25)
    late = f"max(N-{uneven_from},0)"
    ffmpeg("-i", str(base), "-vf", f"settb=1/1000,setpts='N*40+{late}*({late}+1)'", "-fps_mode", "passthrough",
           "-enc_time_base", "1/1000", "-c:v", "libx264", "-bf", "3", "-g", "40", "-pix_fmt", "yuv420p", "-an", str(path))
    return path
