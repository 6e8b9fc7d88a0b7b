"""The learned motion scorer: which speed and direction are normal where, and how unlikely a frame's motion is.

Per cell of the flow grid (:mod:`core.motion.flow`), fitting on normal footage (:class:`MotionFit`) learns

* **speed**: the mean and standard deviation of the cell's mean speed (pixels per frame at the working size,
  the ``speed`` channel: how fast and how much of the cell moves), a Gaussian per cell;
* **direction**: how often the cell is ``still`` (fewer than ``min_moving`` of its pixels move) and, when it
  moves, in which of ``directions`` sectors of the circle its moving pixels go (the first sector centred on "to
  the right"): a histogram ``(rows, cols, 1 + directions)``, smoothed a little (a share ``neighbour_weight`` of
  each neighbouring cell's counts, ``bin_weight`` of the neighbouring sectors') and mixed with the whole
  scene's sectors (``prior_weight`` frames' worth, plus one count each, so nothing has probability 0).

A frame's **cell map** gives each cell how unlikely its motion is, in nats (negative log-likelihoods)::

    speed term      0.5 * max(z, 0) ** 2,   z = (speed - mean) / (std + speed_floor)
    direction term  direction_weight * max(0, -ln p(sector | cell moves) - ln(directions))   (moving cells)

The speed term is the Gaussian's upper tail (up to a constant): only faster, or more, motion than normal counts,
and a cell that never moved in the normal footage (a tiny standard deviation, floored by ``speed_floor``) makes
any motion in it very unlikely. The direction term counts only a sector rarer in that cell than a uniform
guess, so the many directions of an open square cost nothing while one against a lane does. The frame's
**score** is the mean of its ``top`` largest cells. So a person far faster than anyone in the normal footage,
one moving against the usual direction, and one walking slowly where nothing ever moves all score high; a
person who stops where people keep walking does not (less motion is never unusual here).

On UCSD Ped2 the speed term alone ranks frames as the no-learning baseline (:mod:`core.motion.baseline`)
does; the direction term's gate, and counting a cell as moving only when half its pixels move (the direction
of a cell a person's edge grazes is noise), keep Ped2's walkers in every direction from costing frame AUC
(docs/models.md).

**Normal footage is not all normal.** A recording joined from clips jumps where one clip ends and the next
begins, a camera glitches, a bird crosses the lens: one such frame pair moves a cell far faster than anything
else in the footage, and a mean and standard deviation fitted over it are inflated in every cell it touched, so
that real fast movers then look ordinary there. :class:`MotionFit` with ``robust=True`` (what runs fit with)
therefore fits twice: it scores every frame it learned from with the first fit and leaves out the frames whose
motion is **far out** (:func:`far_out_frames`: beyond the upper far-out fence of the footage's own log scores,
``Q3 + 3 IQR``, and at least :data:`MIN_OUTLIER_NATS`; at most :data:`MAX_TRIMMED_SHARE` of the frames), then
fits again without them. It keeps each frame's cell speeds and bins until then (5 bytes a cell a frame: 27 MB an
hour of 10 fps footage on a 10x15 grid). On UCSD Ped2's 16 training clips joined into one file, the 5 joins
where people jump most scored 174-596 nats against 5.3 for the most unusual other frame; leaving those 5 frames
out took the motion preset's frame AUC there from 0.877 / 0.863 to 0.916 / 0.901 (normalised / raw), what the
clips give fitted one by one (docs/benchmarks.md, "Far-out frames").

Saved as ``.npz`` (:func:`save_motion_model`, read back with ``allow_pickle=False`` by
:func:`load_motion_model`) with a :data:`FORMAT_VERSION`; the raw sums and counts are stored, so a model can be
refitted with more footage, or its smoothing changed, without the footage.
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
from core.motion.flow import MOVING, MOVING_X, MOVING_Y, SPEED, FlowGrid, FlowStream, flow_features

#: The version of the ``.npz`` layout :func:`save_motion_model` writes; :func:`load_motion_model` refuses others.
FORMAT_VERSION = 1

#: Far-out frames (:func:`far_out_frames`): beyond ``Q3 + FAR_OUT_IQR * IQR`` of the footage's log scores ...
FAR_OUT_IQR = 3.0
#: ... and at least this unlikely (nats: a cell's speed 4 standard deviations above its mean scores 8).
MIN_OUTLIER_NATS = 8.0
#: The largest share of the fitted frames left out as far out (the most unusual ones first).
MAX_TRIMMED_SHARE = 0.02
#: Footage of fewer frames is fitted as it is: too few to tell what is far out.
MIN_FRAMES_TO_TRIM = 50


def far_out_frames(scores: np.ndarray) -> np.ndarray:
    """The indices of the far-out values of ``scores`` (one per frame, nats >= 0), most unusual first: above
    the upper far-out fence of ``log(1 + scores)`` (third quartile plus :data:`FAR_OUT_IQR` interquartile
    ranges, Tukey's) and at least :data:`MIN_OUTLIER_NATS`, at most :data:`MAX_TRIMMED_SHARE` of them; none
    for fewer than :data:`MIN_FRAMES_TO_TRIM` scores."""
    scores = np.asarray(scores, np.float64)
    if scores.size < MIN_FRAMES_TO_TRIM:
        return np.zeros(0, np.int64)
    logs = np.log1p(np.maximum(scores, 0.0))
    q1, q3 = np.percentile(logs, [25, 75])
    fence = max(float(np.expm1(q3 + FAR_OUT_IQR * (q3 - q1))), MIN_OUTLIER_NATS)
    found = np.flatnonzero(scores > fence)
    found = found[np.argsort(-scores[found], kind="stable")]
    return found[:int(MAX_TRIMMED_SHARE * scores.size)].astype(np.int64)


@dataclass(frozen=True)
class MotionSettings:
    """How cells are read and scored (module doc). ``directions``: sectors of the circle; ``min_moving``: share
    of a cell's pixels that must move for the cell to move; ``neighbour_weight``, ``bin_weight``,
    ``prior_weight``: the direction histogram's smoothing; ``speed_floor``: pixels per frame added to every
    cell's standard deviation of speed; ``direction_weight``: how much the direction term counts; ``top``: cells
    whose values make the frame's score (their mean)."""

    directions: int = 8
    min_moving: float = 0.5
    neighbour_weight: float = 0.25
    bin_weight: float = 0.25
    prior_weight: float = 1.0
    speed_floor: float = 0.05
    direction_weight: float = 1.0
    top: int = 3

    def __post_init__(self) -> None:
        if isinstance(self.directions, bool) or not isinstance(self.directions, int) or not 1 <= self.directions <= 64:
            raise ValueError(f"directions must be a whole number from 1 to 64, not {self.directions!r}")
        if isinstance(self.top, bool) or not isinstance(self.top, int) or self.top < 1:
            raise ValueError(f"top must be a whole number of cells >= 1, not {self.top!r}")
        for name, high in (("min_moving", 1.0), ("neighbour_weight", 1.0), ("bin_weight", 1.0),
                           ("direction_weight", 100.0)):
            value = getattr(self, name)
            if not 0.0 <= float(value) <= high:
                raise ValueError(f"{name} must be in [0, {high:g}], not {value!r}")
        for name in ("prior_weight", "speed_floor"):
            value = float(getattr(self, name))
            if not (np.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a number > 0, not {getattr(self, name)!r}")

    @property
    def bins(self) -> int:
        """Direction histogram bins per cell: ``still`` and one per sector."""
        return 1 + self.directions

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def direction_bins(features: np.ndarray, settings: MotionSettings) -> np.ndarray:
    """Each cell's histogram bin from its flow features ``(rows, cols, 7)``: 0 still, ``1 + sector`` moving;
    int ``(rows, cols)``."""
    moving = features[..., MOVING] >= max(settings.min_moving, 1e-6)
    sector = 2 * np.pi / settings.directions
    angle = np.arctan2(features[..., MOVING_Y], features[..., MOVING_X])
    direction = np.floor((angle + sector / 2) / sector).astype(np.int64) % settings.directions
    return np.where(moving, 1 + direction, 0).astype(np.int64)


def _smoothed(counts: np.ndarray, settings: MotionSettings) -> np.ndarray:
    """``counts`` ``(rows, cols, 1 + directions)`` with a share of the neighbouring sectors' and cells'."""
    out = counts.astype(np.float64)
    w = settings.bin_weight
    if w > 0 and settings.directions > 1:
        moving = out[..., 1:]
        out = np.concatenate([out[..., :1], moving + w * (np.roll(moving, 1, axis=-1) + np.roll(moving, -1, axis=-1))],
                             axis=-1)
    w = settings.neighbour_weight
    if w > 0:
        padded = np.pad(out, ((1, 1), (1, 1), (0, 0)))
        near = sum(padded[1 + dy:1 + dy + out.shape[0], 1 + dx:1 + dx + out.shape[1]]
                   for dy in (-1, 0, 1) for dx in (-1, 0, 1) if dy or dx)
        out = out + w * near
    return out


@dataclass
class MotionModel:
    """A fitted motion model: the ``grid`` frames are read on, the ``settings``, and per cell over ``frames``
    normal frames the sum and sum of squares of the cell's speed ``(rows, cols)`` and the direction histogram
    ``counts`` ``(rows, cols, 1 + directions)`` (module doc); ``trimmed``: far-out frames of the footage left
    out of them (:class:`MotionFit`, ``robust``)."""

    grid: FlowGrid
    settings: MotionSettings
    speed_sum: np.ndarray
    speed_squares: np.ndarray
    counts: np.ndarray
    frames: int
    trimmed: int = 0

    def __post_init__(self) -> None:
        shape = self.grid.shape
        self.speed_sum = np.asarray(self.speed_sum, dtype=np.float64)
        self.speed_squares = np.asarray(self.speed_squares, dtype=np.float64)
        self.counts = np.asarray(self.counts, dtype=np.float64)
        for name, array, expected in (("speed sums", self.speed_sum, shape),
                                      ("speed squares", self.speed_squares, shape),
                                      ("direction counts", self.counts, shape + (self.settings.bins,))):
            if array.shape != expected:
                raise ValueError(f"{name} of shape {array.shape} do not fit the grid {expected}")
            if not np.all(np.isfinite(array)) or np.any(array < 0):
                raise ValueError(f"{name} must be finite numbers >= 0")
        if isinstance(self.frames, bool) or not isinstance(self.frames, int | np.integer) or self.frames < 1:
            raise ValueError(f"a motion model is fitted on at least one frame, not {self.frames!r}")
        self.frames = int(self.frames)
        if isinstance(self.trimmed, bool) or not isinstance(self.trimmed, int | np.integer) or self.trimmed < 0:
            raise ValueError(f"trimmed frames must be a whole number >= 0, not {self.trimmed!r}")
        self.trimmed = int(self.trimmed)
        mean = self.speed_sum / self.frames
        self.speed_mean = mean.astype(np.float32)
        std = np.sqrt(np.maximum(self.speed_squares / self.frames - mean * mean, 0.0))
        self.speed_scale = (std + self.settings.speed_floor).astype(np.float32)
        smoothed = _smoothed(self.counts, self.settings)
        sectors = self.counts[..., 1:].sum(axis=(0, 1)) + 1.0
        sectors /= sectors.sum()
        moving = smoothed[..., 1:]
        weight = float(self.settings.prior_weight)
        p_sector = (moving + weight * sectors) / (moving.sum(axis=-1, keepdims=True) + weight)
        surprise = np.maximum(0.0, -np.log(p_sector) - np.log(self.settings.directions))
        self._direction = np.concatenate([np.zeros(surprise.shape[:2] + (1,)), surprise], axis=-1)
        self._direction = (self.settings.direction_weight * self._direction).astype(np.float32)
        self._rows, self._cols = np.indices(shape)

    def cell_map(self, features: np.ndarray) -> np.ndarray:
        """Each cell's unlikelihood of its motion in nats (module doc): float32 ``(rows, cols)``, >= 0."""
        return self.cell_map_of(features[..., SPEED], direction_bins(features, self.settings))

    def cell_map_of(self, speed: np.ndarray, bins: np.ndarray) -> np.ndarray:
        """:meth:`cell_map` from a frame's cell ``speed`` and direction ``bins`` (:func:`direction_bins`)."""
        z = np.maximum((speed - self.speed_mean) / self.speed_scale, 0.0)
        return (0.5 * z * z + self._direction[self._rows, self._cols, bins]).astype(np.float32)

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
        """What a run record says of the model: grid, settings, frames fitted, share of still cell-frames, and
        the fastest cell's normal mean speed."""
        total = float(self.counts.sum())
        return {"grid": self.grid.to_dict(), "settings": self.settings.to_dict(), "frames": self.frames,
                "trimmed": self.trimmed, "still_share": round(float(self.counts[..., 0].sum()) / total, 4) if total else None,
                "largest_mean_speed": round(float(self.speed_mean.max()), 4)}


class MotionFit:
    """Accumulates a motion model over normal footage: :meth:`add_frames` per contiguous run of frames (or
    :meth:`add` per frame's features), then :meth:`model`. ``robust``: keep each frame's cell speeds and bins,
    and leave the far-out frames out of the model (module doc); ``trimmed`` counts frames left out earlier
    (a model refitted from another's sums keeps its count)."""

    def __init__(self, grid: FlowGrid, settings: MotionSettings | None = None, robust: bool = False) -> None:
        self.grid = grid
        self.settings = settings or MotionSettings()
        self.speed_sum = np.zeros(grid.shape, np.float64)
        self.speed_squares = np.zeros(grid.shape, np.float64)
        self.counts = np.zeros(grid.shape + (self.settings.bins,), np.float64)
        self.frames = 0
        self.trimmed = 0
        self.robust = bool(robust)
        self._speeds: list[np.ndarray] = []
        self._bins: list[np.ndarray] = []
        rows, cols = np.indices(grid.shape)
        self._flat = (rows * grid.shape[1] + cols) * self.settings.bins

    def add(self, features: np.ndarray) -> None:
        """Count one frame's flow features ``(rows, cols, 7)``."""
        speed = features[..., SPEED].astype(np.float64)
        self.speed_sum += speed
        self.speed_squares += speed * speed
        bins = direction_bins(features, self.settings)
        np.add.at(self.counts.reshape(-1), (self._flat + bins).ravel(), 1.0)
        self.frames += 1
        if self.robust:
            self._speeds.append(features[..., SPEED].astype(np.float32))
            self._bins.append(bins.astype(np.uint8))

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
        report(progress, done + read, total, message)
        return read

    def model(self) -> MotionModel:
        """The model of the frames added (``robust``: less the far-out ones, :func:`far_out_frames`)."""
        if not self.frames:
            raise ValueError("no normal motion to learn from: the footage gave no pair of consecutive frames")
        first = MotionModel(self.grid, self.settings, self.speed_sum.copy(), self.speed_squares.copy(),
                            self.counts.copy(), self.frames, self.trimmed)
        if not self.robust or not self._speeds:
            return first
        scores = np.array([first.frame_score(first.cell_map_of(speed, bins))
                           for speed, bins in zip(self._speeds, self._bins, strict=True)])
        out = far_out_frames(scores)
        if not out.size:
            return first
        speed_sum, squares, counts = self.speed_sum.copy(), self.speed_squares.copy(), self.counts.copy()
        flat_counts = counts.reshape(-1)
        for i in out:
            speed = self._speeds[i].astype(np.float64)
            speed_sum -= speed
            squares -= speed * speed
            np.subtract.at(flat_counts, (self._flat + self._bins[i].astype(np.int64)).ravel(), 1.0)
        return MotionModel(self.grid, self.settings, np.maximum(speed_sum, 0.0), np.maximum(squares, 0.0),
                           np.maximum(counts, 0.0), self.frames - int(out.size), self.trimmed + int(out.size))


#: What the ``weights`` array of a saved model holds, in order.
_WEIGHTS = ("min_moving", "neighbour_weight", "bin_weight", "prior_weight", "speed_floor", "direction_weight")


def save_motion_model(model: MotionModel, path: str | Path) -> None:
    """Write ``model`` to ``path`` (``.npz``, atomically): sums, counts and settings, no pickled objects."""
    from core.atomic_write import write_bytes

    s = model.settings
    arrays = {
        "format_version": np.array(FORMAT_VERSION, np.int64),
        "kind": np.array("framewatch-motion"),
        "grid": np.array([model.grid.height, model.grid.width, model.grid.cell], np.int64),
        "moving_speed": np.array(model.grid.moving_speed, np.float64),
        "flow_preset": np.array(model.grid.preset),
        "directions": np.array(s.directions, np.int64),
        "top": np.array(s.top, np.int64),
        "weights": np.array([getattr(s, name) for name in _WEIGHTS], np.float64),
        "frames": np.array(model.frames, np.int64),
        "trimmed": np.array(model.trimmed, np.int64),
        "speed_sum": model.speed_sum,
        "speed_squares": model.speed_squares,
        "counts": model.counts,
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
    try:
        version = int(arrays["format_version"])
    except (KeyError, TypeError, ValueError):
        version = -1
    if version != FORMAT_VERSION:
        raise ModelFileError(path, f"motion model format {version}; this version reads format {FORMAT_VERSION}")
    try:
        height, width, cell = (int(v) for v in arrays["grid"])
        weights = [float(v) for v in arrays["weights"]]
        if len(weights) != len(_WEIGHTS):
            raise ValueError(f"{len(weights)} weights, not {len(_WEIGHTS)}")
        settings = MotionSettings(directions=int(arrays["directions"]), top=int(arrays["top"]),
                                  **dict(zip(_WEIGHTS, weights, strict=True)))
        grid = FlowGrid(height, width, cell, float(arrays["moving_speed"]), str(arrays["flow_preset"]))
        trimmed = int(arrays["trimmed"]) if "trimmed" in arrays else 0  # files from before trimming: none
        return MotionModel(grid, settings, arrays["speed_sum"], arrays["speed_squares"], arrays["counts"],
                           int(arrays["frames"]), trimmed)
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(path, f"damaged motion model file: {exc}") from exc
