"""Dense optical flow between consecutive frames, summarised per cell of a grid: the motion features.

Frames are turned gray and resized to a **working size** (by default half the source's size, the
:data:`DEFAULT_SCALE`), and OpenCV's DIS optical flow (no weights, nothing downloaded; the ``medium`` preset by
default, :data:`FLOW_PRESETS`) gives each pixel's motion from the previous frame, in pixels per frame at the
working size. The picture is cut into square cells of :data:`DEFAULT_CELL` pixels (at the working size; the last row and column
of cells may be smaller when the size is not a multiple of the cell), and each cell is summarised by the
:data:`CHANNELS` of one feature array ``(rows, cols, len(CHANNELS))`` float32:

* ``flow_x``, ``flow_y``: the cell's mean flow vector (x to the right, y downwards);
* ``speed``: the cell's mean speed (mean of the per-pixel flow lengths), what the no-learning baseline uses;
* ``moving``: the share of the cell's pixels faster than ``moving_speed`` (in [0, 1]);
* ``moving_speed``, ``moving_x``, ``moving_y``: mean speed and mean flow vector of those moving pixels only (0
  when none moves), so a person covering a third of a cell moves at their own speed, not a third of it.

Streaming: :func:`flow_features` takes frames one at a time and yields one feature array per frame. Frame
``t >= 1`` gets the flow from frame ``t - 1`` to ``t``; frame 0 has no previous frame and gets the features of
frame 1 (a video of one frame gets zeros). Only the previous frame is held.

Why ``medium``: on UCSD Ped2 at half size (180x120) ``ultrafast`` runs at about 2,000 frames/s but smooths the
slow motion of a far-away scene away (walkers and cyclists alike come out under 1 pixel per frame): the largest
moving speed of a cell separates Ped2's anomalous frames with a frame AUC of 0.68, and the no-learning baseline
scores 0.70; with ``medium`` 0.88 and 0.885, at about 200 frames/s with decoding, still many times real time
(docs/models.md has the figures).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from core.jobs import check_cancelled

#: The working size as a share of the source frame's size.
DEFAULT_SCALE = 0.5
#: Cell side in pixels at the working size.
DEFAULT_CELL = 12
#: Pixels per frame (at the working size) above which a pixel counts as moving.
DEFAULT_MOVING_SPEED = 0.2
#: OpenCV's DIS presets by name.
FLOW_PRESETS = {"ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST, "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
                "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM}
DEFAULT_FLOW_PRESET = "medium"

#: The feature channels of a cell, in array order (module doc).
CHANNELS = ("flow_x", "flow_y", "speed", "moving", "moving_speed", "moving_x", "moving_y")
FLOW_X, FLOW_Y, SPEED, MOVING, MOVING_SPEED, MOVING_X, MOVING_Y = range(len(CHANNELS))


def working_size(height: int, width: int, scale: float = DEFAULT_SCALE, cell: int = DEFAULT_CELL) -> tuple[int, int]:
    """``(height, width)`` of the working frames for a source of ``height x width``: scaled by ``scale``, at
    least one cell each way."""
    if not 0 < scale <= 1:
        raise ValueError(f"the flow's working scale must be in (0, 1], not {scale}")
    return max(cell, round(height * scale)), max(cell, round(width * scale))


def grid_shape(height: int, width: int, cell: int = DEFAULT_CELL) -> tuple[int, int]:
    """``(rows, cols)`` of cells on a working frame of ``height x width`` (partial cells at the edges count)."""
    return -(-height // cell), -(-width // cell)


@dataclass(frozen=True)
class FlowGrid:
    """How frames become motion features: the working ``height x width`` in pixels, the ``cell`` side, the
    ``moving_speed`` (pixels per frame) above which a pixel counts as moving and the DIS ``preset``."""

    height: int
    width: int
    cell: int = DEFAULT_CELL
    moving_speed: float = DEFAULT_MOVING_SPEED
    preset: str = DEFAULT_FLOW_PRESET

    def __post_init__(self) -> None:
        for name in ("height", "width", "cell"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"flow grid {name} must be a whole number of pixels >= 1, not {value!r}")
        if not np.isfinite(self.moving_speed) or self.moving_speed < 0:
            raise ValueError(f"moving speed must be a number of pixels per frame >= 0, not {self.moving_speed!r}")
        if self.preset not in FLOW_PRESETS:
            raise ValueError(f"flow preset must be one of {', '.join(FLOW_PRESETS)}, not {self.preset!r}")

    @classmethod
    def for_frame(cls, height: int, width: int, scale: float = DEFAULT_SCALE, cell: int = DEFAULT_CELL,
                  moving_speed: float = DEFAULT_MOVING_SPEED, preset: str = DEFAULT_FLOW_PRESET) -> FlowGrid:
        """The grid for source frames of ``height x width`` at ``scale`` of their size."""
        return cls(*working_size(height, width, scale, cell), cell=cell, moving_speed=moving_speed, preset=preset)

    @property
    def shape(self) -> tuple[int, int]:
        """``(rows, cols)`` of cells."""
        return grid_shape(self.height, self.width, self.cell)

    def to_dict(self) -> dict[str, float | int | str]:
        return {"height": self.height, "width": self.width, "cell": self.cell, "moving_speed": self.moving_speed,
                "preset": self.preset}


def working_frame(frame: np.ndarray, grid: FlowGrid) -> np.ndarray:
    """A source frame (``(H, W)`` gray, ``(H, W, 1)`` or ``(H, W, 3)`` RGB, uint8) as the gray uint8 ``(height,
    width)`` frame the flow is computed on (area interpolation when shrinking)."""
    frame = np.asarray(frame)
    if frame.ndim == 3 and frame.shape[2] == 1:
        frame = frame[:, :, 0]
    elif frame.ndim == 3 and frame.shape[2] == 3:
        frame = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
    elif frame.ndim != 2:
        raise ValueError(f"a frame is (height, width) gray or (height, width, 3) RGB, got shape {frame.shape}")
    if frame.dtype != np.uint8:
        raise ValueError(f"frames must be uint8, got {frame.dtype}")
    if frame.shape != (grid.height, grid.width):
        shrink = frame.shape[0] >= grid.height and frame.shape[1] >= grid.width
        frame = cv2.resize(frame, (grid.width, grid.height),
                           interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    return np.ascontiguousarray(frame)


def block_sums(planes: np.ndarray, cell: int, axis: int) -> np.ndarray:
    """Sums of ``planes`` over consecutive blocks of ``cell`` along ``axis`` (the last block may be shorter),
    each block's values added in order: ``cell`` vectorised additions, however many blocks there are."""
    planes = np.moveaxis(planes, axis, 0)
    sums = planes[0::cell].copy()
    for offset in range(1, cell):
        part = planes[offset::cell]
        sums[:part.shape[0]] += part
    return np.moveaxis(sums, 0, axis)


def cell_features(flow: np.ndarray, grid: FlowGrid) -> np.ndarray:
    """The :data:`CHANNELS` of each cell from a dense ``(height, width, 2)`` flow: ``(rows, cols, 7)`` float32.

    The per-pixel planes are laid out one after the other and summed cell by cell with :func:`block_sums` (a
    cell's pixel count is known, not summed): about half the CPU time of a per-pixel stack reduced with
    ``np.add.reduceat``, the same sums up to float32 rounding (about 1e-7 of a value)."""
    flow = np.asarray(flow, dtype=np.float32)
    height, width = flow.shape[:2]
    flow_x, flow_y = np.ascontiguousarray(flow[..., 0]), np.ascontiguousarray(flow[..., 1])
    planes = np.empty((7, height, width), np.float32)  # the CHANNELS' sums, in order
    planes[0], planes[1] = flow_x, flow_y
    speed = planes[2]
    np.sqrt(flow_x * flow_x + flow_y * flow_y, out=speed)
    moving = planes[3]
    np.greater(speed, grid.moving_speed, out=moving, casting="unsafe")
    np.multiply(speed, moving, out=planes[4])
    np.multiply(flow_x, moving, out=planes[5])
    np.multiply(flow_y, moving, out=planes[6])
    sums = block_sums(block_sums(planes, grid.cell, 1), grid.cell, 2)
    heights = np.minimum(grid.cell, height - np.arange(0, height, grid.cell))
    widths = np.minimum(grid.cell, width - np.arange(0, width, grid.cell))
    pixels = (heights[:, None] * widths[None, :]).astype(np.float32)
    moved = sums[3]
    out = np.empty(sums.shape[1:] + (len(CHANNELS),), np.float32)
    out[..., :4] = np.moveaxis(sums[:4] / pixels, 0, -1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out[..., 4:7] = np.moveaxis(np.where(moved > 0, sums[4:7] / moved, np.float32(0.0)), 0, -1)
    return out


class FlowStream:
    """Frame-to-frame flow features, one frame at a time: :meth:`push` a frame, get the features of the motion
    that led to it (``None`` for the first frame). Holds the previous working frame and one DIS instance."""

    def __init__(self, grid: FlowGrid) -> None:
        self.grid = grid
        self._dis = cv2.DISOpticalFlow_create(FLOW_PRESETS[grid.preset])
        self._previous: np.ndarray | None = None
        self._flow: np.ndarray | None = None

    def push(self, frame: np.ndarray, features: bool = True) -> np.ndarray | None:
        """Features ``(rows, cols, 7)`` of the flow from the previous frame to ``frame``; ``None`` for the first,
        and with ``features=False`` (only the flow, :attr:`last_flow`, is wanted)."""
        current = working_frame(frame, self.grid)
        previous, self._previous = self._previous, current
        if previous is None:
            return None
        self._flow = self._dis.calc(previous, current, None)
        return cell_features(self._flow, self.grid) if features else None

    @property
    def last_flow(self) -> np.ndarray | None:
        """The dense ``(height, width, 2)`` flow of the last :meth:`push`, ``None`` before the second frame."""
        return self._flow


def flow_features(frames: Iterable[np.ndarray], grid: FlowGrid,
                  cancel: threading.Event | None = None) -> Iterator[np.ndarray]:
    """One feature array ``(rows, cols, 7)`` float32 per frame of ``frames`` (module doc): frame ``t`` gets the
    flow from ``t - 1`` to ``t``; frame 0 the features of frame 1 (zeros for a video of one frame)."""
    stream = FlowStream(grid)
    first = True
    count = 0
    for frame in frames:
        check_cancelled(cancel, "optical flow")
        features = stream.push(frame)
        count += 1
        if features is None:
            continue
        if first:  # frame 0 stands in for itself with the first motion seen
            yield features
            first = False
        yield features
    if count == 1:
        yield np.zeros(grid.shape + (len(CHANNELS),), np.float32)


def video_frames(video, start: int = 0, cancel: threading.Event | None = None) -> Iterator[np.ndarray]:
    """Gray frames of ``video`` (a :class:`~core.video.VideoSource`, a path of a video file or image folder, or
    an iterable of frames, passed through) from ``start`` on."""
    from core.video.open import open_video
    from core.video.source import VideoSource

    if isinstance(video, VideoSource):
        yield from video.iter_frames(start, color="gray", cancel=cancel)
        return
    if isinstance(video, str | Path):
        source = open_video(video)
        try:
            yield from source.iter_frames(start, color="gray", cancel=cancel)
        finally:
            source.close()
        return
    for index, frame in enumerate(video):
        if index >= start:
            yield frame
