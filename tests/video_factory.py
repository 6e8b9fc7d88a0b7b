"""Small generated videos for tests: every frame shows its own index, so identity survives compression."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
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


def _riff_chunks(data: bytes, start: int, end: int) -> list[tuple[bytes, int, int]]:
    """``(fourcc, payload offset, payload size)`` of the RIFF chunks in ``data[start:end]``."""
    chunks = []
    while start + 8 <= end:
        size = int.from_bytes(data[start + 4 : start + 8], "little")
        chunks.append((data[start : start + 4], start + 8, size))
        start += 8 + size + (size & 1)
    return chunks


def _not_coded_vop(slot: int, previous_slot: int, fps: int, size: int) -> bytes:
    """An MPEG-4 P-VOP header with ``vop_coded = 0`` (an N-VOP): the packet an MPEG-4 capture writes for a
    dropped frame. It holds no picture; decoders output nothing for it. Its time is ``slot / fps`` s;
    stuffing bytes pad it to ``size`` bytes (it is 6 bytes without)."""
    increment_bits = (fps - 1).bit_length()  # as the encoder sets it for a time base of 1/fps
    seconds = slot // fps - previous_slot // fps
    bits = "01" + "1" * seconds + "0" + "1" + format(slot % fps, f"0{increment_bits}b") + "1" + "0"
    bits += "0" + "1" * (-(len(bits) + 1) % 8)  # stuffing to the byte boundary
    vop = bytes.fromhex("000001b6") + int(bits, 2).to_bytes(len(bits) // 8, "big")
    return vop + b"\x7f" * (size - len(vop))


def write_placeholder_avi(
    path: Path, frames: int = 68, fps: int = 15, slot_of: Callable[[int], int] | None = None, placeholder_bytes: int = 6
) -> Path:
    """An MPEG-4 AVI whose dropped-frame slots are packets that hold no picture (not-coded VOPs).

    Unlike :func:`write_gapped_avi`'s empty index slots, these slots are packets: the header and the
    packet list both count every slot, evenly spaced at ``1 / fps``, but only ``frames`` pictures decode.
    Frame ``k`` shows ``k`` and sits at slot ``slot_of(k)`` (default: frames 0-11 in slots 0-11, then
    five dropped slots after each frame), so its time is ``slot_of(k) / fps``. Each dropped slot is a
    packet of ``placeholder_bytes`` bytes.
    """
    slot_of = slot_of or (lambda k: k if k < 12 else 12 + 6 * (k - 12))
    picture_at = {slot_of(k): k for k in range(frames)}
    slots = max(picture_at) + 1
    base = write_video(path.with_name(f"{path.stem}.cfr.avi"), frames, fps=fps)
    coded = transcode(base, path.with_name(f"{path.stem}.coded.avi"), "-c:v", "mpeg4", "-bf", "0", "-g", "12", "-q:v", "3")
    data = coded.read_bytes()
    top = _riff_chunks(data, 12, len(data))
    movi_at, movi_size = next((at, size) for tag, at, size in top if tag == b"LIST" and data[at : at + 4] == b"movi")
    pictures = _riff_chunks(data, movi_at + 4, movi_at + movi_size)
    index_at, index_size = next((at, size) for tag, at, size in top if tag == b"idx1")
    key_flags = [data[index_at + 16 * i + 4 : index_at + 16 * i + 8] for i in range(index_size // 16)]
    movi, index = bytearray(b"movi"), bytearray()
    previous = 0
    for slot in range(slots):
        if slot in picture_at:
            tag, at, size = pictures[picture_at[slot]]
            payload, flags = data[at : at + size], key_flags[picture_at[slot]]
        else:
            tag, payload, flags = pictures[0][0], _not_coded_vop(slot, previous, fps, placeholder_bytes), bytes(4)
        previous = slot
        index += tag + flags + len(movi).to_bytes(4, "little") + len(payload).to_bytes(4, "little")
        movi += tag + len(payload).to_bytes(4, "little") + payload + b"\0" * (len(payload) & 1)
    body = bytearray(b"AVI ")
    for tag, at, size in top:
        if tag == b"LIST" and at == movi_at:
            body += b"LIST" + len(movi).to_bytes(4, "little") + movi
        elif tag == b"idx1":
            body += b"idx1" + len(index).to_bytes(4, "little") + index
        else:
            body += data[at - 8 : at + size + (size & 1)]
    count = slots.to_bytes(4, "little")  # the header counts every slot: avih, strh and the OpenDML header
    for field, offset in ((b"avih", 16), (b"strh", 32), (b"dmlh", 0)):
        at = body.index(field) + 8 + offset
        body[at : at + 4] = count
    path.write_bytes(b"RIFF" + len(body).to_bytes(4, "little") + body)
    return path
