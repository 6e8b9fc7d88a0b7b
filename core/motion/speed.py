"""Speed maps: each frame's optical-flow speed as a small one-channel picture, what a model of motion sees.

A model given frames learns what things look like; one given speed maps learns how fast they move, which is
what tells a cyclist from a walker in a far-away scene (docs/models.md, the Ped2 window classification). The
flow is the motion features' (:mod:`core.motion.flow`): gray frames at the working size (half the source's by
default), OpenCV's DIS ``medium``; frame ``t`` gets the flow from ``t - 1`` to ``t`` and frame 0 that of frame 1
(a video of one frame gets zeros). Each pixel of the map is the **largest** speed of its block of the flow (a
small fast mover keeps its speed; an average would spread it over the block): the working frame is cut into
``height x width`` blocks as evenly as whole pixels allow (a map larger than the working frame repeats pixels).
Speeds are stored as ``uint8`` with 255 at :data:`SPEED_FULL_SCALE` pixels a frame (at the working size) or more,
so a speed map travels and is cached as any gray frame does.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator

import numpy as np

from core.jobs import check_cancelled
from core.motion.flow import DEFAULT_FLOW_PRESET, DEFAULT_SCALE, FlowGrid, FlowStream

#: Pixels per frame (at the flow's working size) a speed map's brightest value (255) stands for.
SPEED_FULL_SCALE = 4.0


def block_starts(size: int, blocks: int) -> np.ndarray:
    """The first pixel of each of ``blocks`` blocks cutting ``size`` pixels as evenly as whole pixels allow."""
    return (np.arange(blocks) * size) // blocks


def speed_map(flow: np.ndarray, height: int, width: int) -> np.ndarray:
    """The ``(height, width)`` uint8 speed map of a dense ``(H, W, 2)`` flow (module doc): each pixel the largest
    speed of its block, 255 at :data:`SPEED_FULL_SCALE` pixels a frame or more."""
    flow = np.asarray(flow, np.float32)
    speed = np.sqrt(flow[..., 0] * flow[..., 0] + flow[..., 1] * flow[..., 1])
    rows = np.maximum.reduceat(speed, block_starts(speed.shape[0], height), axis=0)
    blocks = np.maximum.reduceat(rows, block_starts(speed.shape[1], width), axis=1)
    return np.clip(blocks * np.float32(255.0 / SPEED_FULL_SCALE), 0, 255).astype(np.uint8)


def speed_frames(frames: Iterable[np.ndarray], height: int, width: int, scale: float = DEFAULT_SCALE,
                 preset: str = DEFAULT_FLOW_PRESET, cancel: threading.Event | None = None) -> Iterator[np.ndarray]:
    """One ``(height, width)`` uint8 speed map per frame of ``frames`` (gray ``(H, W)`` or RGB, uint8), in order
    (module doc). The flow's working size is ``scale`` of the first frame's size. Only the previous frame is
    held; ``cancel`` stops between frames with :class:`~core.errors.Cancelled`."""
    if height < 1 or width < 1:
        raise ValueError(f"a speed map's size must be positive, not {height}x{width}")
    stream: FlowStream | None = None
    count = 0
    for frame in frames:
        check_cancelled(cancel, "optical flow")
        if stream is None:
            stream = FlowStream(FlowGrid.for_frame(*np.shape(frame)[:2], scale=scale, preset=preset))
        count += 1
        stream.push(frame, features=False)
        if stream.last_flow is None:
            continue
        found = speed_map(stream.last_flow, height, width)
        if count == 2:  # frame 0 stands in for itself with the first motion seen
            yield found
        yield found
    if count == 1:
        yield np.zeros((height, width), np.uint8)


def speed_maps(frames: np.ndarray, height: int, width: int, scale: float = DEFAULT_SCALE) -> np.ndarray:
    """:func:`speed_frames` of a ``(count, H, W)`` uint8 array at once: ``(count, height, width)`` uint8."""
    maps = list(speed_frames(frames, height, width, scale))
    return np.stack(maps) if maps else np.zeros((0, height, width), np.uint8)
