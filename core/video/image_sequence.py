"""A folder of images (tif/jpg/png/bmp) read as one video, in natural name order (UCSD style)."""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from core.errors import CorruptVideoError, EmptyVideoError, FrameSizeMismatchError, VideoNotFoundError
from core.jobs import ProgressCallback, check_cancelled, report
from core.video.metadata import VideoMetadata
from core.video.natural_sort import natural_key
from core.video.source import VideoSource, check_color, convert_color

IMAGE_EXTENSIONS = frozenset({".tif", ".tiff", ".jpg", ".jpeg", ".png", ".bmp"})
#: Image folders carry no frame rate; this one is used unless the caller gives another.
DEFAULT_SEQUENCE_FPS = 10.0


def list_images(folder: Path) -> list[Path]:
    """Image files directly in ``folder``, naturally sorted (``2.jpg`` before ``10.jpg``)."""
    files = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS and not p.name.startswith(".")]
    return sorted(files, key=lambda p: natural_key(p.name))


class ImageSequenceSource(VideoSource):
    """Frames are the images of a folder; every image must decode and have the first image's size."""

    def __init__(self, folder: Path, fps: float | None = None) -> None:
        super().__init__(folder)
        if fps is not None and not (math.isfinite(fps) and fps > 0):
            raise ValueError(f"the frame rate of an image folder must be a positive number, not {fps!r}")
        self.files = list_images(folder)
        if not self.files:
            raise EmptyVideoError(folder, "the folder holds no images (looked for .tif, .tiff, .jpg, .jpeg, .png, .bmp)")
        first = self._imread(0, cv2.IMREAD_COLOR)
        height, width = first.shape[:2]
        suffixes = {p.suffix.lower().lstrip(".") for p in self.files}
        self._meta = VideoMetadata(
            path=folder, kind="image_sequence", width=width, height=height,
            fps=float(DEFAULT_SEQUENCE_FPS if fps is None else fps), codec="+".join(sorted(suffixes)),
            declared_frame_count=len(self.files), file_size=0, seek_mode="exact",
        )

    @property
    def metadata(self) -> VideoMetadata:
        return replace(self._meta, frame_count=self._frame_count)

    def _imread(self, index: int, flags: int) -> np.ndarray:
        file = self.files[index]
        frame = cv2.imread(str(file), flags)
        if frame is None and not file.is_file():
            raise VideoNotFoundError(self.path, f"image {file.name} (frame {index}) is gone: the folder changed after it was opened")
        if frame is None:
            raise CorruptVideoError(self.path, f"image {file.name} (frame {index}) does not decode: it is damaged or not an image")
        return frame

    def _checked(self, index: int, color: str) -> np.ndarray:
        flags = cv2.IMREAD_GRAYSCALE if color == "gray" else cv2.IMREAD_COLOR
        frame = self._imread(index, flags)
        h, w = frame.shape[:2]
        if (w, h) != (self._meta.width, self._meta.height):
            raise FrameSizeMismatchError(
                self.path,
                f"image {self.files[index].name} (frame {index}) is {w}x{h} but the sequence is "
                f"{self._meta.width}x{self._meta.height}; all images of a sequence must have one size",
            )
        return frame if color == "gray" else convert_color(frame, color)

    def scan(self, progress: ProgressCallback | None = None, cancel: threading.Event | None = None) -> VideoMetadata:
        with self._scan_lock:
            if self._frame_count is None:
                total = len(self.files)
                for i in range(total):
                    self._checked(i, "gray")
                    if i % 32 == 0:
                        check_cancelled(cancel, f"scan of {self.path.name}")
                        report(progress, i, total, f"checking {self.path.name}")
                report(progress, total, total, f"checked {total} images")
                self._frame_count = total
        return self.metadata

    def read(self, index: int, color: str = "rgb") -> np.ndarray:
        check_color(color)
        index = int(index)
        if not 0 <= index < len(self.files):
            raise self._out_of_range(index)
        return self._checked(index, color)

    def iter_frames(
        self,
        start: int = 0,
        stop: int | None = None,
        step: int = 1,
        color: str = "rgb",
        cancel: threading.Event | None = None,
    ) -> Iterator[np.ndarray]:
        check_color(color)
        self._check_range(start, stop, step)
        if stop is not None and stop > len(self.files):
            raise self._out_of_range(stop - 1)
        for index in range(start, len(self.files) if stop is None else stop, step):
            check_cancelled(cancel, f"reading {self.path.name}")
            yield self._checked(index, color)
