"""An on-disk cache of preprocessed frames, so that training epochs after the first never decode video.

Each (video content, frame size/colour) pair is one ``.npy`` file of ``uint8`` frames, shape
``(frames, height, width, channels)``, under ``<project>/cache/frames/``. The file name holds the video's
content fingerprint key and a hash of the resize settings, so a changed video or another frame size gets
a new file, and an unchanged video moved elsewhere keeps its cache. Files are opened as read-only memory
maps: the OS pages frames in as batches need them, and memory stays flat however large the footage.
Files are written through :mod:`core.atomic_write` (a temporary name, renamed when complete), so a crash or a cancel never leaves a
half-written cache file that would be taken for a good one. A file holds the frames that decode, whatever the
video's header declared (a video added without a scan may declare none, or too few).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import threading
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from core.atomic_write import atomic_output, remove_leftovers, temp_path
from core.errors import VideoError
from core.jobs import Progress, ProgressCallback, check_cancelled, report
from core.preprocessing import PreprocessSpec
from core.project.entities import Video
from core.project.errors import DatasetError
from core.project.validation import video_file_status

#: At most this many cache files are memory-mapped at once (each map holds a file handle; a desktop's
#: default limit can be as low as 256, and a project may have thousands of videos).
MAX_MAPPED = 128


@functools.lru_cache(maxsize=MAX_MAPPED)
def _mapped(path: str) -> np.ndarray:
    return np.load(path, mmap_mode="r")


class CachedFrames:
    """The cached frames of one video, ``(frames, height, width, channels)`` ``uint8``, mapped on demand.

    Acts as a read-only array for ``len``, ``shape``, slicing, fancy indexing and ``np.asarray``; the file
    is memory-mapped when read and at most :data:`MAX_MAPPED` files are mapped at a time, so datasets over
    thousands of videos do not run out of file handles.
    """

    dtype = np.dtype(np.uint8)
    ndim = 4

    def __init__(self, path: Path, shape: tuple[int, ...]) -> None:
        self.path = Path(path)
        self.shape = tuple(shape)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key):
        return _mapped(str(self.path))[key]

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        array = np.asarray(_mapped(str(self.path)))
        return array if dtype is None else array.astype(dtype)

    def __repr__(self) -> str:
        return f"CachedFrames({self.path.name}, shape={self.shape})"


def frames_key(spec: PreprocessSpec) -> str:
    """Hash of what changes the cached ``uint8`` frames (size, colour, interpolation, the signal when it is not the
    frames themselves; not mean subtraction)."""
    fields = {"height": spec.height, "width": spec.width, "grayscale": spec.grayscale, "interpolation": spec.interpolation}
    if spec.signal != "frames":
        fields["signal"] = spec.signal
    return hashlib.sha1(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:12]


def _npy_from_raw(raw: Path, offset: int, count: int, frame_shape: tuple[int, ...], target: Path) -> None:
    """Write ``count`` uint8 frames stored from byte ``offset`` of ``raw`` as the ``.npy`` file ``target``.

    Streams in chunks: memory stays flat however long the video.
    """
    remaining = count * int(np.prod(frame_shape))
    with open(raw, "rb") as src, open(target, "wb") as dst:
        np.lib.format.write_array_header_1_0(
            dst, {"descr": np.lib.format.dtype_to_descr(np.dtype(np.uint8)), "fortran_order": False,
                  "shape": (count, *frame_shape)})
        src.seek(offset)
        while remaining > 0:
            chunk = src.read(min(remaining, 1 << 22))
            if not chunk:
                raise OSError(f"{raw.name} ended early")
            dst.write(chunk)
            remaining -= len(chunk)


class FrameCache:
    """Preprocessed ``uint8`` frames of project videos, one memory-mapped ``.npy`` per video and spec."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    def path_for(self, video: Video, spec: PreprocessSpec) -> Path:
        return self.folder / f"{video.fingerprint.key}-{frames_key(spec)}.npy"

    def load(self, video: Video, spec: PreprocessSpec) -> np.ndarray | None:
        """The cached frames ``(frames, height, width, channels)`` ``uint8`` (read-only memmap), or ``None``."""
        path = self.path_for(video, spec)
        try:
            frames = np.load(path, mmap_mode="r")
        except (OSError, ValueError):
            return None
        if frames.ndim != 4 or frames.shape[1:] != spec.frame_shape or frames.dtype != np.uint8:
            return None
        return frames

    def get(
        self,
        video: Video,
        spec: PreprocessSpec,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> np.ndarray:
        """Cached frames of ``video``, decoding and writing them first if needed (progress counts frames)."""
        frames = self.load(video, spec)
        return frames if frames is not None else self.build(video, spec, progress, cancel)

    def build(
        self,
        video: Video,
        spec: PreprocessSpec,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> np.ndarray:
        """Decode and resize every frame of ``video`` into the cache; returns the memmap.

        Raises :class:`DatasetError` if the video file is missing or changed since it was added (its labels
        would not match its frames), :class:`~core.errors.VideoError` if it does not decode, and
        :class:`~core.errors.Cancelled` (leaving no file) when cancelled.
        """
        from core.preprocessing import iter_resized
        from core.video import open_video

        status = video_file_status(video)
        if status != "ok":
            raise DatasetError(f"video {video.name} is {status} ({video.path}); relink it before building a dataset")
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.path_for(video, spec)
        # The project's count when a scan learned it; else the header's, which may be missing or wrong,
        # so the frames are streamed to a raw file and counted as they come.
        expected = video.frame_count
        fps = video.fps if video.kind == "image_sequence" else None
        raw = temp_path(target.with_suffix(".raw"))
        written = 0
        try:
            with atomic_output(target) as tmp:
                out = None if expected is None else np.lib.format.open_memmap(
                    tmp, mode="w+", dtype=np.uint8, shape=(max(expected, 1), *spec.frame_shape))
                with open_video(video.path, fps=fps) as source, contextlib.ExitStack() as stack:
                    sink = stack.enter_context(open(raw, "wb")) if out is None else None
                    for frame in iter_resized(source, spec, 0, None, 1, cancel):
                        if expected is not None and written >= expected:
                            break
                        if out is not None:
                            out[written] = frame.reshape(spec.frame_shape)
                        else:
                            sink.write(np.ascontiguousarray(frame, np.uint8).tobytes())
                        written += 1
                        if written % 32 == 0:
                            check_cancelled(cancel, f"caching {video.name}")
                            report(progress, written, expected or video.declared_frame_count or None,
                                   f"caching {video.name}")
                if written == 0:
                    raise VideoError(video.path, "no frame decodes")
                if out is not None:
                    out.flush()
                    offset = out.offset
                    del out
                    if written < expected:  # fewer frames decode than recorded: keep what decodes
                        os.replace(tmp, raw)
                        _npy_from_raw(raw, offset, written, spec.frame_shape, tmp)
                else:
                    _npy_from_raw(raw, 0, written, spec.frame_shape, tmp)
        finally:
            with contextlib.suppress(OSError):
                raw.unlink()
        report(progress, written, written, f"cached {video.name}")
        frames = self.load(video, spec)
        assert frames is not None
        return frames

    def ensure(
        self,
        videos: Iterable[Video],
        spec: PreprocessSpec,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> dict[str, CachedFrames]:
        """Cached frames of every video (``{video id: CachedFrames}``), building the missing ones.

        Progress counts frames over all videos to be built.
        """
        videos = list(videos)
        self.remove_stale_temporaries()
        out: dict[str, CachedFrames] = {}
        missing = []
        for video in videos:
            frames = self.load(video, spec)
            if frames is None:
                missing.append(video)
            else:
                out[video.id] = CachedFrames(self.path_for(video, spec), frames.shape)
            del frames  # one file handle at a time
        total = sum(max(v.known_frame_count, 1) for v in missing)
        done = 0
        for video in missing:
            check_cancelled(cancel, "frame cache")

            def forward(event: Progress, offset: int = done, name: str = video.name) -> None:
                report(progress, offset + event.done, total, f"caching {name}")

            frames = self.build(video, spec, forward if progress else None, cancel)
            out[video.id] = CachedFrames(self.path_for(video, spec), frames.shape)
            del frames
            done += max(video.known_frame_count, 1)
        return out

    def remove_stale_temporaries(self) -> int:
        """Delete partial files left by builds that were killed (their process is gone); returns how many."""
        return len(remove_leftovers(self.folder))

    def clear(self) -> int:
        """Delete every cache file; returns how many were removed."""
        removed = 0
        for path in self.folder.glob("*.npy"):
            with contextlib.suppress(OSError):
                path.unlink()
                removed += 1
        return removed
