"""The learned motion scorer: which speed and direction are normal where, and how unlikely a frame's motion is.

Each cell of the flow grid (:mod:`core.motion.flow`) gets, per frame, one **motion bin**: ``still`` (bin 0)
when fewer than ``min_moving`` of its pixels move, else the bin of its moving pixels' mean speed
(``speed_edges``, pixels per frame at the working size, geometric steps; the last bin is open) and direction
(``directions`` sectors of the circle, the first centred on "to the right"): ``1 + speed_bin * directions +
direction_bin``. Fitting counts, per cell, how often each bin occurs in normal footage
(:class:`MotionFit`). The counts are smoothed (a share ``neighbour_weight`` of each neighbouring cell's,
``bin_weight`` of the neighbouring speed and direction bins') and turned into a density per cell with a prior
of ``prior_weight`` frames drawn from the whole scene's bins (plus one count per bin, so nothing has
probability 0)::

    p(cell, bin) = (smoothed(cell, bin) + prior_weight * scene(bin)) / (frames(cell) + prior_weight)

A frame's **cell map** is each moving cell's negative log-likelihood ``-ln p`` (0 for a still cell) and its
**score** the mean of the ``top`` largest values of the map: a person far faster than anyone in the normal
footage (a speed bin the cell, and the scene, never saw), one moving against a lane's direction, and one
walking where nothing ever moves (a cell whose density is nearly all ``still``) each land in a bin of tiny
probability. Still cells never score: something normally moving that stops is not what this scorer sees.

Saved as ``.npz`` (:func:`save_motion_model`, read back with ``allow_pickle=False`` by
:func:`load_motion_model`) with a :data:`FORMAT_VERSION`; the counts are stored, so a model can be refitted
with more footage and its smoothing changed without the footage.
"""

from __future__ import annotations

import dataclasses
import io
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.jobs import ProgressCallback, check_cancelled, report
from core.motion.flow import (
    MOVING,
    MOVING_SPEED,
    MOVING_X,
    MOVING_Y,
    FlowGrid,
    FlowStream,
    flow_features,
)

#: The version of the ``.npz`` layout :func:`save_motion_model` writes; :func:`load_motion_model` refuses others.
FORMAT_VERSION = 1
#: The default speed bin edges, pixels per frame at the working size: x sqrt(2) steps from 0.2 (the default
#: moving speed) to 12.8.
DEFAULT_SPEED_EDGES = tuple(round(0.2 * 2 ** (k / 2), 4) for k in range(13))


@dataclass(frozen=True)
class MotionSettings:
    """How cells become bins and counts a density (module doc). ``speed_edges``: increasing pixels per frame,
    the first being the lowest moving speed; ``directions``: sectors of the circle; ``min_moving``: share of a
    cell's pixels that must move for the cell to move; ``neighbour_weight`` and ``bin_weight``: smoothing
    shares; ``prior_weight``: frames' worth of the scene-wide density mixed into each cell's; ``top``: cells
    whose values make the frame's score (their mean)."""

    speed_edges: tuple[float, ...] = DEFAULT_SPEED_EDGES
    directions: int = 8
    min_moving: float = 0.1
    neighbour_weight: float = 0.25
    bin_weight: float = 0.25
    prior_weight: float = 1.0
    top: int = 3

    def __post_init__(self) -> None:
        edges = np.asarray(self.speed_edges, dtype=np.float64)
        if edges.ndim != 1 or edges.size < 1 or not np.all(np.isfinite(edges)) or np.any(np.diff(edges) <= 0) \
                or edges[0] < 0:
            raise ValueError(f"speed edges must be increasing numbers of pixels per frame >= 0, not {self.speed_edges}")
        object.__setattr__(self, "speed_edges", tuple(float(v) for v in edges))
        if isinstance(self.directions, bool) or not isinstance(self.directions, int) or not 1 <= self.directions <= 64:
            raise ValueError(f"directions must be a whole number from 1 to 64, not {self.directions!r}")
        if isinstance(self.top, bool) or not isinstance(self.top, int) or self.top < 1:
            raise ValueError(f"top must be a whole number of cells >= 1, not {self.top!r}")
        for name, high in (("min_moving", 1.0), ("neighbour_weight", 1.0), ("bin_weight", 1.0)):
            value = getattr(self, name)
            if not 0.0 <= float(value) <= high:
                raise ValueError(f"{name} must be in [0, {high}], not {value!r}")
        if not float(self.prior_weight) > 0:
            raise ValueError(f"prior_weight must be > 0, not {self.prior_weight!r}")

    @property
    def speed_bins(self) -> int:
        return len(self.speed_edges)

    @property
    def bins(self) -> int:
        """Motion bins per cell: ``still`` and one per speed bin and direction."""
        return 1 + self.speed_bins * self.directions

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["speed_edges"] = list(self.speed_edges)
        return data


def motion_bins(features: np.ndarray, settings: MotionSettings) -> np.ndarray:
    """Each cell's motion bin (module doc) from its flow features ``(rows, cols, 7)``: int ``(rows, cols)``."""
    moving = features[..., MOVING] >= max(settings.min_moving, 1e-6)
    speed = features[..., MOVING_SPEED]
    speed_bin = np.clip(np.searchsorted(np.asarray(settings.speed_edges[1:]), speed, side="right"),
                        0, settings.speed_bins - 1)
    sector = 2 * np.pi / settings.directions
    angle = np.arctan2(features[..., MOVING_Y], features[..., MOVING_X])
    direction = np.floor((angle + sector / 2) / sector).astype(np.int64) % settings.directions
    return np.where(moving, 1 + speed_bin * settings.directions + direction, 0).astype(np.int64)


def _smoothed(counts: np.ndarray, settings: MotionSettings) -> np.ndarray:
    """``counts`` ``(rows, cols, bins)`` with a share of the neighbouring cells' and bins' (module doc)."""
    out = counts.astype(np.float64)
    w = settings.bin_weight
    if w > 0:
        moving = out[..., 1:].reshape(out.shape[:2] + (settings.speed_bins, settings.directions))
        spread = moving.copy()
        if settings.directions > 1:
            spread += w * (np.roll(moving, 1, axis=3) + np.roll(moving, -1, axis=3))
        if settings.speed_bins > 1:
            spread[:, :, 1:] += w * moving[:, :, :-1]
            spread[:, :, :-1] += w * moving[:, :, 1:]
        out = np.concatenate([out[..., :1], spread.reshape(out.shape[:2] + (-1,))], axis=-1)
    w = settings.neighbour_weight
    if w > 0:
        padded = np.pad(out, ((1, 1), (1, 1), (0, 0)))
        near = sum(padded[1 + dy:1 + dy + out.shape[0], 1 + dx:1 + dx + out.shape[1]]
                   for dy in (-1, 0, 1) for dx in (-1, 0, 1) if dy or dx)
        out = out + w * near
    return out


@dataclass
class MotionModel:
    """A fitted motion density: the ``grid`` frames are read on, the ``settings``, the per-cell bin ``counts``
    ``(rows, cols, bins)`` of ``frames`` normal frames, and the log-density derived from them."""

    grid: FlowGrid
    settings: MotionSettings
    counts: np.ndarray
    frames: int

    def __post_init__(self) -> None:
        counts = np.asarray(self.counts, dtype=np.float64)
        expected = self.grid.shape + (self.settings.bins,)
        if counts.shape != expected:
            raise ValueError(f"motion counts of shape {counts.shape} do not fit the grid and bins {expected}")
        if not np.all(np.isfinite(counts)) or np.any(counts < 0):
            raise ValueError("motion counts must be finite numbers >= 0")
        self.counts = counts
        smoothed = _smoothed(counts, self.settings)
        scene = counts.sum(axis=(0, 1)) + 1.0
        scene /= scene.sum()
        weight = float(self.settings.prior_weight)
        density = (smoothed + weight * scene) / (smoothed.sum(axis=-1, keepdims=True) + weight)
        self._nll = (-np.log(density)).astype(np.float32)
        self._nll[..., 0] = 0.0  # a still cell never scores

    @property
    def cell_shape(self) -> tuple[int, int]:
        return self.grid.shape

    def cell_map(self, features: np.ndarray) -> np.ndarray:
        """Each cell's negative log-likelihood of its motion, 0 where still: float32 ``(rows, cols)``."""
        bins = motion_bins(features, self.settings)
        rows, cols = np.indices(bins.shape)
        return self._nll[rows, cols, bins]

    def frame_score(self, cell_map: np.ndarray) -> float:
        """The frame's score from its cell map: the mean of its ``top`` largest values."""
        values = np.ravel(cell_map)
        top = min(self.settings.top, values.size)
        return float(np.mean(np.partition(values, values.size - top)[-top:], dtype=np.float64))

    def score_frames(self, frames: Iterable[np.ndarray],
                     cancel: threading.Event | None = None) -> Iterator[tuple[float, np.ndarray]]:
        """``(score, cell map)`` per frame of ``frames`` (frame 0 as frame 1, :func:`~core.motion.flow.flow_features`)."""
        for features in flow_features(frames, self.grid, cancel):
            cell_map = self.cell_map(features)
            yield self.frame_score(cell_map), cell_map

    def describe(self) -> dict[str, Any]:
        """What a run record says of the model: grid, settings, frames fitted, share of still cell-frames."""
        total = float(self.counts.sum())
        return {"grid": self.grid.to_dict(), "settings": self.settings.to_dict(), "frames": int(self.frames),
                "still_share": round(float(self.counts[..., 0].sum()) / total, 4) if total else None}


class MotionFit:
    """Counts motion bins over normal footage: :meth:`add_frames` per contiguous run of frames, then :meth:`model`."""

    def __init__(self, grid: FlowGrid, settings: MotionSettings | None = None) -> None:
        self.grid = grid
        self.settings = settings or MotionSettings()
        self.counts = np.zeros(grid.shape + (self.settings.bins,), np.float64)
        self.frames = 0
        rows, cols = np.indices(grid.shape)
        self._flat = (rows * grid.shape[1] + cols) * self.settings.bins

    def add(self, features: np.ndarray) -> None:
        """Count one frame's flow features ``(rows, cols, 7)``."""
        bins = motion_bins(features, self.settings)
        np.add.at(self.counts.reshape(-1), (self._flat + bins).ravel(), 1.0)
        self.frames += 1

    def add_frames(self, frames: Iterable[np.ndarray], cancel: threading.Event | None = None,
                   progress: ProgressCallback | None = None, done: int = 0, total: int | None = None,
                   message: str = "motion statistics") -> int:
        """Count the flow between each pair of consecutive ``frames`` (one contiguous run of footage; its first
        frame only starts the flow). Returns the frames read; ``progress`` hears ``done + frames read``."""
        stream = FlowStream(self.grid)
        read = 0
        for frame in frames:
            check_cancelled(cancel, "fitting motion statistics")
            features = stream.push(frame)
            read += 1
            if features is not None:
                self.add(features)
            if read % 50 == 0:
                report(progress, done + read, total, message)
        return read

    def model(self) -> MotionModel:
        if not self.frames:
            raise ValueError("no normal motion to learn from: the footage gave no pair of consecutive frames")
        return MotionModel(self.grid, self.settings, self.counts.copy(), self.frames)


def save_motion_model(model: MotionModel, path: str | Path) -> None:
    """Write ``model`` to ``path`` (``.npz``, atomically): counts and settings, no pickled objects."""
    from core.atomic_write import write_bytes

    s = model.settings
    arrays = {
        "format_version": np.array(FORMAT_VERSION, np.int64),
        "kind": np.array("framewatch-motion"),
        "grid": np.array([model.grid.height, model.grid.width, model.grid.cell], np.int64),
        "moving_speed": np.array(model.grid.moving_speed, np.float64),
        "flow_preset": np.array(model.grid.preset),
        "speed_edges": np.asarray(s.speed_edges, np.float64),
        "directions": np.array(s.directions, np.int64),
        "top": np.array(s.top, np.int64),
        "weights": np.array([s.min_moving, s.neighbour_weight, s.bin_weight, s.prior_weight], np.float64),
        "frames": np.array(model.frames, np.int64),
        "counts": model.counts.astype(np.float64),
    }
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    write_bytes(Path(path), buffer.getvalue())


def load_motion_model(path: str | Path) -> MotionModel:
    """The model saved at ``path``; :class:`~core.models.errors.ModelFileError` naming the file for a missing,
    damaged or foreign file, or one of another format version."""
    from core.models.errors import ModelFileError

    path = Path(path)
    if not path.is_file():
        raise ModelFileError(path, "motion model file not found")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
    except (OSError, ValueError, EOFError) as exc:
        raise ModelFileError(path, f"not a motion model file (.npz): {exc}") from exc
    if "kind" not in arrays or str(arrays["kind"]) != "framewatch-motion":
        raise ModelFileError(path, "not a Framewatch motion model file (no 'framewatch-motion' kind)")
    version = int(arrays.get("format_version", -1))
    if version != FORMAT_VERSION:
        raise ModelFileError(path, f"motion model format {version}; this version reads format {FORMAT_VERSION}")
    try:
        height, width, cell = (int(v) for v in arrays["grid"])
        min_moving, neighbour, bin_weight, prior = (float(v) for v in arrays["weights"])
        settings = MotionSettings(speed_edges=tuple(float(v) for v in arrays["speed_edges"]),
                                  directions=int(arrays["directions"]), min_moving=min_moving,
                                  neighbour_weight=neighbour, bin_weight=bin_weight, prior_weight=prior,
                                  top=int(arrays["top"]))
        grid = FlowGrid(height, width, cell, float(arrays["moving_speed"]), str(arrays["flow_preset"]))
        return MotionModel(grid, settings, arrays["counts"], int(arrays["frames"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(path, f"damaged motion model file: {exc}") from exc
