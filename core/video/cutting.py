"""Cutting: subclips to new files (moviepy's FFmpeg writer), equal pieces, frames to image folders.

Frames come from :mod:`core.video`'s verified reader, so a cut from frame 100 starts exactly at the
frame the player shows as 100, whatever the container's seeking does. Files are written to a temporary
name beside the target and renamed when complete: a cancelled or failed cut leaves no half-written file.
Ranges are ``[start, end)``: the end frame is not included.
"""

from __future__ import annotations

import contextlib
import math
import os
import threading
from collections.abc import Callable
from pathlib import Path

import cv2

from core.atomic_write import atomic_output, remove_leftovers, temp_path
from core.errors import Cancelled, FrameOutOfRangeError, VideoError
from core.jobs import Progress, ProgressCallback, check_cancelled, report
from core.video.image_sequence import IMAGE_EXTENSIONS
from core.video.open import open_video
from core.video.source import VideoSource

#: Output extension -> FFmpeg encoder and extra parameters.
VIDEO_ENCODERS: dict[str, tuple[str, list[str]]] = {
    ".mp4": ("libx264", ["-crf", "18"]),
    ".mov": ("libx264", ["-crf", "18"]),
    ".mkv": ("libx264", ["-crf", "18"]),
    ".m4v": ("libx264", ["-crf", "18"]),
    ".avi": ("mpeg4", ["-q:v", "2"]),
    ".webm": ("libvpx-vp9", ["-crf", "30", "-b:v", "0"]),
}


#: Containers that take the AAC audio of a cut (others get video only).
AUDIO_CONTAINERS = frozenset({".mp4", ".mov", ".mkv", ".m4v"})


class CutError(VideoError):
    """A cut cannot be made as asked (bad range, unknown output format, write failure)."""


def to_frame_range(source: VideoSource, start: float, end: float, unit: str) -> tuple[int, int]:
    """Convert ``[start, end)`` in ``"seconds"`` or ``"frames"`` to frame indices, validated.

    In seconds, the frames kept are those whose display starts in ``[start, end)``: frame ``k`` starts
    at ``k / fps``, or at its real timestamp on a file with gapped or variable timestamps
    (:meth:`VideoSource.frames_between`).
    """
    if unit not in ("seconds", "frames"):
        raise ValueError(f"unit must be 'seconds' or 'frames', not {unit!r}")
    if not (math.isfinite(start) and math.isfinite(end)):
        raise CutError(source.path, f"the cut [{start:g}, {end:g}) {unit} needs finite numbers")
    if unit == "seconds":  # the frames whose display starts in [start, end), by their real timestamps
        first, stop = source.frames_between(start, end)
    else:
        if start != int(start) or end != int(end):
            raise CutError(source.path, f"frame numbers must be whole, not [{start:g}, {end:g}) (use seconds for times)")
        first, stop = int(start), int(end)
    if first < 0:
        raise CutError(source.path, f"the cut starts before the first frame ({start:g} {unit})")
    if stop <= first:
        raise CutError(source.path, f"the cut [{start:g}, {end:g}) {unit} is empty or inverted")
    return first, stop


def _video_encoder(output: Path) -> tuple[str, list[str]]:
    try:
        return VIDEO_ENCODERS[output.suffix.lower()]
    except KeyError:
        raise CutError(output, f"unknown output format {output.suffix!r}: use one of {', '.join(VIDEO_ENCODERS)}") from None


def _has_audio(source: VideoSource) -> bool:
    if source.metadata.kind != "file":
        return False
    from moviepy.video.io.ffmpeg_reader import ffmpeg_parse_infos

    try:
        return bool(ffmpeg_parse_infos(str(source.path)).get("audio_found"))
    except (OSError, ValueError, KeyError, IndexError):
        return False


def _cut_audio(source: VideoSource, first: int, stop: int, target: Path) -> Path | None:
    """The source's audio for frames ``[first, stop)`` as an AAC file, or ``None`` if it has none."""
    if target.suffix.lower() not in AUDIO_CONTAINERS or not _has_audio(source):
        return None
    from moviepy import AudioFileClip

    audio_name = target.with_name(f"{target.stem}.audio.m4a")
    remove_leftovers(target.parent, audio_name)
    audio_path = temp_path(audio_name)
    with AudioFileClip(str(source.path)) as audio:
        segment = audio.subclipped(first / source.fps, min(stop / source.fps, audio.duration))
        segment.write_audiofile(str(audio_path), codec="aac", logger=None)
    return audio_path


def write_frames(
    source: VideoSource,
    output: Path,
    first: int,
    stop: int,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> Path:
    """Encode frames ``[first, stop)`` of ``source`` to ``output`` (format from its extension).

    The source's audio for the same span goes along into MP4, MOV, MKV and M4V outputs.
    """
    from moviepy.video.io.ffmpeg_writer import FFMPEG_VideoWriter

    codec, params = _video_encoder(output)
    with contextlib.suppress(OSError):
        if output.exists() and os.path.samefile(output, source.path):
            raise CutError(output, "is the source video itself: cutting into it would destroy it; choose another output")
    audio: Path | None = None
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        audio = _cut_audio(source, first, stop, output)
        width, height = source.size
        # 4:2:0 chroma, which every player decodes (moviepy ignores its pixel_format argument: without this
        # FFmpeg picks 4:4:4 H.264 or RGB VP9 from the RGB input). It needs even sizes: pad, never crop.
        params = [*params, "-pix_fmt", "yuv420p"]
        if width % 2 or height % 2:
            params = [*params, "-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2"]
        with atomic_output(output) as part:
            writer = FFMPEG_VideoWriter(
                str(part), (width, height), source.fps, codec=codec, preset="veryfast", ffmpeg_params=params,
                pixel_format="yuv420p", audiofile=None if audio is None else str(audio),
                audio_codec=None if audio is None else "copy",
            )
            try:
                total = stop - first
                for done, frame in enumerate(source.iter_frames(first, stop, color="rgb", cancel=cancel), 1):
                    writer.write_frame(frame)
                    if done % 8 == 0 or done == total:
                        report(progress, done, total, f"writing {output.name}")
            finally:
                writer.close()
    except BaseException as exc:
        if isinstance(exc, OSError):  # no folder, no permission, disk full, the encoder died
            reason = exc.strerror or str(exc).strip().splitlines()[0]
            raise CutError(output, f"cannot be written ({reason})") from exc
        raise
    finally:
        if audio is not None:
            audio.unlink(missing_ok=True)
    return output


def cut_subclip(
    source: str | Path,
    output: str | Path,
    start: float,
    end: float,
    unit: str = "seconds",
    fps: float | None = None,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> Path:
    """Cut ``[start, end)`` (seconds or frames) of a video or image folder to the video file ``output``.

    The output keeps the source's frame rate and size; its format follows the extension (see
    :data:`VIDEO_ENCODERS`). Raises :class:`CutError` for a bad range or format,
    :class:`~core.errors.FrameOutOfRangeError` when the range runs past the frames that decode, and
    :class:`~core.errors.Cancelled` when cancelled (no file is left behind then).
    """
    output = Path(output)
    _video_encoder(output)
    with open_video(source, fps=fps) as video:
        first, stop = to_frame_range(video, start, end, unit)
        declared = video.metadata.declared_frame_count
        if video.metadata.kind == "image_sequence" and stop > declared:
            raise FrameOutOfRangeError(video.path, f"the cut ends at frame {stop} but the folder has {declared} images")
        if stop > declared and stop > video.frame_count:  # past what the header says: count before encoding
            raise FrameOutOfRangeError(
                video.path, f"the cut [{start:g}, {end:g}) {unit} ends at frame {stop}, but only "
                f"{video.frame_count} frames decode (0..{video.frame_count - 1})",
            )
        return write_frames(video, output, first, stop, progress, cancel)


def _scaled(progress: ProgressCallback | None, offset: int, total: int) -> Callable[[Progress], None] | None:
    if progress is None:
        return None

    def forward(event: Progress) -> None:
        progress(Progress(offset + event.done, total, event.message))

    return forward


def split_equal(
    source: str | Path,
    out_dir: str | Path,
    pieces: int,
    duration: float,
    offset: float = 0.0,
    unit: str = "seconds",
    fps: float | None = None,
    extension: str = ".mp4",
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> list[Path]:
    """Cut ``pieces`` equal, non-overlapping subclips of ``duration`` from ``offset`` into ``out_dir``.

    Piece ``i`` covers ``[offset + i*duration, offset + (i+1)*duration)``; files are named
    ``<stem>_part01.mp4``, ... Raises :class:`CutError` when the pieces do not fit in the video.
    """
    if pieces < 1:
        raise ValueError(f"pieces must be >= 1, not {pieces}")
    if duration <= 0:
        raise ValueError(f"duration must be positive, not {duration}")
    out = Path(out_dir)
    with open_video(source, fps=fps) as video:
        first, _ = to_frame_range(video, offset, offset + duration, unit)
        length = to_frame_range(video, 0, duration, unit)[1]
        needed = first + pieces * length
        count = video.frame_count
        if needed > count:
            raise CutError(
                video.path,
                f"{pieces} pieces of {duration:g} {unit} from {offset:g} {unit} need {needed} frames, "
                f"but the video has {count}",
            )
        stem = video.path.stem if video.metadata.kind == "file" else video.path.name
        written: list[Path] = []
        total = pieces * length
        for i in range(pieces):
            check_cancelled(cancel, "split")
            target = out / f"{stem}_part{i + 1:02d}{extension}"
            start = first + i * length
            written.append(write_frames(video, target, start, start + length, _scaled(progress, i * length, total), cancel))
    return written


def extract_frames(
    source: str | Path,
    out_dir: str | Path,
    every: int = 1,
    start: int = 0,
    stop: int | None = None,
    image_format: str = "png",
    fps: float | None = None,
    overwrite: bool = False,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> list[Path]:
    """Write every ``every``-th frame of ``[start, stop)`` to ``out_dir`` as ``<frame index>.<format>``.

    Names carry the source frame index, zero-padded to six digits (``000120.png``), so the folder
    reads back in order as an image sequence. Refuses to overwrite existing images unless asked.
    On cancel, the images written so far stay and :class:`~core.errors.Cancelled` is raised.
    """
    ext = "." + image_format.lower().lstrip(".")
    if ext not in IMAGE_EXTENSIONS:
        raise ValueError(f"image_format must be one of {sorted(IMAGE_EXTENSIONS)}, not {image_format!r}")
    if every < 1:
        raise ValueError(f"every must be >= 1, not {every}")
    out = Path(out_dir)
    written: list[Path] = []
    with open_video(source, fps=fps) as video:
        end = stop
        total = None if end is None else len(range(start, end, every))
        if total == 0:
            raise CutError(video.path, f"no frames in [{start}, {end}): the range is empty")
        if end is None and start > 0:
            video.read(start, color="gray")  # a start past the last frame is an error, not an empty folder
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CutError(out, f"cannot be made ({exc.strerror or exc})") from exc
        for n, frame in enumerate(video.iter_frames(start, end, every, color="bgr", cancel=cancel)):
            target = out / f"{start + n * every:06d}{ext}"
            if target.exists() and not overwrite:
                raise CutError(target, "already exists: choose an empty folder or pass overwrite=True")
            if not cv2.imwrite(str(target), frame):
                raise CutError(target, "could not be written (disk full or no permission?)")
            written.append(target)
            if len(written) % 8 == 0:
                report(progress, len(written), total, f"writing {target.name}")
        report(progress, len(written), len(written), f"wrote {len(written)} images")
    return written


__all__ = ["Cancelled", "CutError", "cut_subclip", "extract_frames", "split_equal", "to_frame_range", "write_frames"]
