"""Cutting: subclips to new files (moviepy's FFmpeg writer), equal pieces, frames to image folders.

Frames come from :mod:`core.video`'s verified reader, so a cut from frame 100 starts exactly at the
frame the player shows as 100, whatever the container's seeking does. Files are written to a temporary
name beside the target and renamed when complete: a cancelled or failed cut leaves no half-written file.
Ranges are ``[start, end)``: the end frame is not included.

Every output is checked before any folder or file is created (:func:`check_outputs`): an output that is
the source itself (however it is spelled: ``new/../clip.mp4``, a symbolic or hard link) is refused, an
existing one is replaced only when the caller allows it, and a folder that cannot be written is named
in the error before the encoder starts.
"""

from __future__ import annotations

import contextlib
import errno
import math
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np

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


class OutputExistsError(CutError):
    """The output file is already there and the caller did not allow replacing it."""


#: The end of the message of :class:`OutputExistsError`, the same for cuts, frames and exports.
EXISTS = "already exists (give --overwrite to replace it)"


def _resolved(path: str | Path) -> Path:
    """``path`` resolved, or made absolute where it cannot be (a loop of symbolic links is no file)."""
    try:
        return Path(path).resolve()
    except (OSError, RuntimeError):  # RuntimeError: a symlink loop (Python < 3.13)
        return Path(os.path.abspath(path))


def same_file(a: str | Path, b: str | Path) -> bool:
    """Whether paths ``a`` and ``b`` name one file, whether or not it exists yet.

    Compares the resolved paths (``..`` of folders that do not exist yet, symbolic links), then, when
    both exist, the files themselves (hard links, case-insensitive file systems).
    """
    if _resolved(a) == _resolved(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _existing_ancestor(folder: Path) -> Path:
    """``folder`` or its nearest ancestor that exists (what a ``mkdir -p`` would create inside)."""
    folder = Path(os.path.abspath(folder))
    while not folder.exists() and folder.parent != folder:
        folder = folder.parent
    return folder


def check_folder_writable(folder: str | Path) -> None:
    """Raise :class:`CutError` naming ``folder`` when files cannot be created in it (or in what would hold it).

    Creates nothing: the nearest existing ancestor is checked, so a folder that does not exist yet is
    fine when it can be made. Probes with a real file (``os.access`` says yes to root on a read-only
    or special file system), which is removed at once.
    """
    folder = Path(folder)
    base = _existing_ancestor(folder)
    if not base.is_dir():
        raise CutError(folder, "is a file, not a folder" if base == folder else f"no such folder ({base} is a file)")
    with contextlib.suppress(OSError, AttributeError):
        if os.statvfs(base).f_flag & os.ST_RDONLY:
            raise CutError(folder, "is read-only: choose a folder you can write to")
    probe = temp_path(base / "write-probe")
    try:
        probe.open("xb").close()
    except PermissionError:
        raise CutError(folder, "permission denied: choose a folder you can write to") from None
    except OSError as exc:
        if exc.errno == errno.EROFS:
            raise CutError(folder, "is read-only: choose a folder you can write to") from None
        if exc.errno == errno.ENOENT:
            raise CutError(folder, "no such folder") from None
        raise CutError(folder, f"cannot be written ({exc.strerror or exc})") from None
    probe.unlink(missing_ok=True)


def check_outputs(sources: list[Path], outputs: list[Path], overwrite: bool = False) -> None:
    """Refuse outputs that would destroy a source or replace a file, before anything is created.

    ``sources`` are the files that must survive (the video cut from, a project's own files); ``outputs``
    are every file the job will write, checked all before the first is written. Raises
    :class:`CutError` for an output that is a source or a folder, or whose folder cannot be written,
    and :class:`OutputExistsError` for an existing output when ``overwrite`` is false.
    """
    seen: set[Path] = set()
    for output in outputs:
        for n, source in enumerate(sources):
            if same_file(output, source):
                what = "the source video itself" if n == 0 else f"{source} (a file that must be kept)"
                raise CutError(output, f"is {what}: writing to it would destroy it; choose another output")
        resolved = _resolved(output)
        if resolved in seen:
            raise CutError(output, "is written twice by this job; give each output its own name")
        seen.add(resolved)
        if output.is_dir():
            raise CutError(output, "is a folder: give a file name for the output")
        if output.exists() and not overwrite:
            raise OutputExistsError(output, EXISTS)
    for folder in sorted({o.parent for o in outputs}):
        check_folder_writable(folder)


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
        try:
            first, stop = source.frames_between(start, end)
        except ValueError:  # 1e308 s * fps is infinite: no video is that long
            raise CutError(source.path, f"the cut [{start:g}, {end:g}) seconds is beyond the end of any video") from None
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
        begin, end = source.time_of_frame(first), source.time_of_frame(stop)  # real times on VFR files
        segment = audio.subclipped(begin, min(end, audio.duration))
        segment.write_audiofile(str(audio_path), codec="aac", logger=None)
    return audio_path


def _reason(exc: OSError) -> str:
    """What went wrong, in a few words: the system's reason, or the encoder's last line (not "Broken pipe")."""
    if exc.strerror and exc.errno != errno.EPIPE:
        return exc.strerror.lower()
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    if "MoviePy error" in str(exc):  # the encoder died: its own last words say why
        encoder = str(exc).split("MoviePy error", 1)[1].splitlines()[1:]
        said = [line.strip() for line in encoder if line.strip()]
        if said:
            return f"the encoder stopped: {said[-1]}"
    return lines[0] if lines else type(exc).__name__


@contextlib.contextmanager
def ffmpeg_writer(path: Path, size: tuple[int, int], fps: float, audio: Path | None = None) -> Iterator[Any]:
    """moviepy's FFmpeg writer for ``path`` (encoder from its extension, :data:`VIDEO_ENCODERS`), closed on exit.

    ``size`` is ``(width, height)``; frames go in as ``(height, width, 3)`` RGB ``uint8`` (``write_frame``).
    Output is 4:2:0 chroma, which every player decodes (moviepy ignores its ``pixel_format`` argument:
    without it FFmpeg picks 4:4:4 H.264 or RGB VP9 from the RGB input); 4:2:0 needs even sizes, so an
    odd size is padded, never cropped. ``audio``: a file whose stream is copied in.
    """
    from moviepy.video.io.ffmpeg_writer import FFMPEG_VideoWriter

    codec, params = _video_encoder(path)
    width, height = size
    params = [*params, "-pix_fmt", "yuv420p"]
    if width % 2 or height % 2:
        params = [*params, "-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2"]
    writer = FFMPEG_VideoWriter(
        str(path), (width, height), fps, codec=codec, preset="veryfast", ffmpeg_params=params,
        pixel_format="yuv420p", audiofile=None if audio is None else str(audio),
        audio_codec=None if audio is None else "copy",
    )
    try:
        yield writer
    finally:
        writer.close()


def encode_frames(
    output: str | Path,
    frames: Iterable[np.ndarray],
    size: tuple[int, int],
    fps: float,
    total: int | None = None,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> Path:
    """Encode ``frames`` (``(height, width, 3)`` RGB ``uint8``, ``size`` = ``(width, height)``) to ``output``.

    The format follows the extension (:data:`VIDEO_ENCODERS`); the file is written atomically, so a
    cancel (:class:`~core.errors.Cancelled`, checked before every frame) or a failure leaves no file. The
    caller checks the output first (:func:`check_outputs`). ``progress`` counts frames of ``total``;
    a write failure is a :class:`CutError` naming ``output``.
    """
    output = Path(output)
    _video_encoder(output)
    try:
        with atomic_output(output) as part:
            part.open("xb").close()  # a folder we cannot write fails here, with its reason, not in the encoder
            with ffmpeg_writer(part, size, fps) as writer:
                for done, frame in enumerate(frames, 1):
                    check_cancelled(cancel, "export")
                    writer.write_frame(np.ascontiguousarray(frame))
                    if done % 8 == 0 or done == total:
                        report(progress, done, total, f"writing {output.name}")
    except OSError as exc:  # no folder, no permission, disk full, the encoder died
        raise CutError(output, f"cannot be written ({_reason(exc)})") from exc
    return output


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
    _video_encoder(output)
    if same_file(output, source.path):  # callers check first (check_outputs); this guards every other caller
        raise CutError(output, "is the source video itself: cutting into it would destroy it; choose another output")
    audio: Path | None = None
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        audio = _cut_audio(source, first, stop, output)
        with atomic_output(output) as part:
            part.open("xb").close()  # a folder we cannot write fails here, with its reason, not in the encoder
            with ffmpeg_writer(part, source.size, source.fps, audio) as writer:
                total = stop - first
                for done, frame in enumerate(source.iter_frames(first, stop, color="rgb", cancel=cancel), 1):
                    writer.write_frame(frame)
                    if done % 8 == 0 or done == total:
                        report(progress, done, total, f"writing {output.name}")
    except BaseException as exc:
        if isinstance(exc, OSError):  # no folder, no permission, disk full, the encoder died
            raise CutError(output, f"cannot be written ({_reason(exc)})") from exc
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
    overwrite: bool = False,
    protected: list[Path] | None = None,
) -> Path:
    """Cut ``[start, end)`` (seconds or frames) of a video or image folder to the video file ``output``.

    The output keeps the source's frame rate and size; its format follows the extension (see
    :data:`VIDEO_ENCODERS`). Raises :class:`CutError` for a bad range or format, an output that is the
    source (or one of ``protected``) or a folder that cannot be written, :class:`OutputExistsError` when
    ``output`` exists and ``overwrite`` is false, :class:`~core.errors.FrameOutOfRangeError` when the range
    runs past the frames that decode, and :class:`~core.errors.Cancelled` when cancelled (no file is left
    behind then). Every check runs before any folder or file is created.
    """
    output = Path(output)
    _video_encoder(output)
    check_outputs([Path(source), *(protected or [])], [output], overwrite)
    with open_video(source, fps=fps) as video:
        first, stop = to_frame_range(video, start, end, unit)
        _check_stop(video, stop, f"the cut [{start:g}, {end:g}) {unit}")
        return write_frames(video, output, first, stop, progress, cancel)


def _check_stop(video: VideoSource, stop: int, what: str) -> None:
    """Raise :class:`FrameOutOfRangeError` when frame ``stop - 1`` does not exist, before any work is done.

    Trusts the header when ``stop`` is within what it declares; past that, counts the frames that decode
    (a scan), so a range past the end fails before a single frame is written.
    """
    declared = video.metadata.declared_frame_count
    if video.metadata.kind == "image_sequence" and stop > declared:
        raise FrameOutOfRangeError(video.path, f"{what} ends at frame {stop} but the folder has {declared} images")
    if stop > declared and stop > video.frame_count:  # past what the header says: count before encoding
        raise FrameOutOfRangeError(
            video.path, f"{what} ends at frame {stop}, but only {video.frame_count} frames decode "
            f"(0..{video.frame_count - 1})",
        )


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
    overwrite: bool = False,
) -> list[Path]:
    """Cut ``pieces`` equal, non-overlapping subclips of ``duration`` from ``offset`` into ``out_dir``.

    Piece ``i`` covers ``[offset + i*duration, offset + (i+1)*duration)``; files are named
    ``<stem>_part01.mp4``, ... Raises :class:`CutError` when the pieces do not fit in the video, and
    checks every piece's file (not the source, not existing unless ``overwrite``) before writing any.
    """
    if pieces < 1:
        raise ValueError(f"pieces must be >= 1, not {pieces}")
    if duration <= 0:
        raise ValueError(f"duration must be positive, not {duration}")
    out = Path(out_dir)
    _video_encoder(out / f"piece{extension}")
    if out.exists() and not out.is_dir():
        raise CutError(out, "is a file: --pieces writes into a folder")
    with open_video(source, fps=fps) as video:
        if not math.isfinite((offset + pieces * duration) * (video.fps if unit == "seconds" else 1)):
            raise CutError(video.path, f"{pieces} pieces of {duration:g} {unit} from {offset:g} {unit} are beyond "
                           "the end of any video")
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
        targets = [out / f"{stem}_part{i + 1:02d}{extension}" for i in range(pieces)]
        check_outputs([Path(source)], targets, overwrite)
        written: list[Path] = []
        total = pieces * length
        for i, target in enumerate(targets):
            check_cancelled(cancel, "split")
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
    reads back in order as an image sequence. Everything is checked before the first image is written:
    the range against the frames that decode (a scan when ``stop`` is past the header's count), existing
    images of the range (refused with :class:`OutputExistsError` unless ``overwrite``), the folder (not
    the source, writable). If decoding fails part way, the images this call created are removed again.
    On cancel, the images written so far stay and :class:`~core.errors.Cancelled` is raised.
    """
    ext = "." + image_format.lower().lstrip(".")
    if ext not in IMAGE_EXTENSIONS:
        raise ValueError(f"image_format must be one of {sorted(IMAGE_EXTENSIONS)}, not {image_format!r}")
    if every < 1:
        raise ValueError(f"every must be >= 1, not {every}")
    out = Path(out_dir)
    written: list[Path] = []
    created: list[Path] = []
    with open_video(source, fps=fps) as video:
        end = stop
        if start < 0:
            raise CutError(video.path, f"frame {start} is before the first frame (0)")
        total = None if end is None else len(range(start, end, every))
        if total == 0:
            raise CutError(video.path, f"no frames in [{start}, {end}): the range is empty")
        if end is not None:
            _check_stop(video, end, f"the range [{start}, {end})")
        elif start > 0:
            video.read(start, color="gray")  # a start past the last frame is an error, not an empty folder
        if same_file(out, video.path):
            raise CutError(out, "is the source folder itself: writing into it could replace its images; choose another")
        if out.exists() and not out.is_dir():
            raise CutError(out, "is a file: give a folder for the images")
        taken = _existing_images(out, ext, start, end, every)
        if taken and not overwrite:
            more = f" and {len(taken) - 1} more images of the range" if len(taken) > 1 else ""
            raise OutputExistsError(taken[0], f"{EXISTS}{more}")
        check_folder_writable(out)
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CutError(out, f"cannot be made ({exc.strerror or exc})") from exc
        try:
            for n, frame in enumerate(video.iter_frames(start, end, every, color="bgr", cancel=cancel)):
                target = out / f"{start + n * every:06d}{ext}"
                existed = target.exists()
                if not cv2.imwrite(str(target), frame):
                    raise CutError(target, "could not be written (disk full or no permission?)")
                written.append(target)
                if not existed:
                    created.append(target)
                if len(written) % 8 == 0:
                    report(progress, len(written), total, f"writing {target.name}")
        except Cancelled:
            raise
        except BaseException:
            for path in created:  # a failed extraction leaves the folder as it found it (new images removed)
                path.unlink(missing_ok=True)
            raise
        report(progress, len(written), len(written), f"wrote {len(written)} images")
    return written


def _existing_images(folder: Path, ext: str, start: int, stop: int | None, every: int) -> list[Path]:
    """Images in ``folder`` that :func:`extract_frames` would write for ``range(start, stop, every)``."""
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        if path.suffix != ext or not path.stem.isdigit() or path.name != f"{int(path.stem):06d}{ext}":
            continue
        index = int(path.stem)
        if index >= start and (stop is None or index < stop) and (index - start) % every == 0:
            found.append(path)
    return sorted(found)


__all__ = [
    "EXISTS", "Cancelled", "CutError", "OutputExistsError", "check_folder_writable", "check_outputs", "cut_subclip",
    "encode_frames", "extract_frames", "ffmpeg_writer", "same_file", "split_equal", "to_frame_range", "write_frames",
]
