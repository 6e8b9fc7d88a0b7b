"""How a run trains and how its clips are cut: :class:`TrainingConfig` and :class:`DataOptions`.

Both are small frozen records that check their own fields when made, raising
:class:`~core.training.errors.ConfigError` with one line naming the field, the range it must be in and
the value given. They import no Keras, so a :class:`~core.training.request.TrainingRequest` (which
builds them) is checked in the CLI before TensorFlow loads and in the app on the GUI thread. Run
records store both as dictionaries (``to_dict`` / ``from_dict``), and a resumed run is rebuilt from them.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from core.data.splits import DEFAULT_VAL_FRACTION
from core.training.devices import parse_device
from core.training.errors import ConfigError

#: Frame sizes (pixels) and clip lengths (frames) a run accepts; beyond them lies a typo, not a model.
MIN_FRAME_SIZE, MAX_FRAME_SIZE = 8, 4096
MIN_FRAMES, MAX_FRAMES = 2, 1000
#: Epochs, batches, steps and patience a run accepts (a million epochs of one step is already days).
MAX_COUNT = 1_000_000
#: CPU threads a run may use or leave free.
MAX_THREADS = 4096
#: The largest seed the random generators take (NumPy's: 2**32 - 1).
MAX_SEED = 2**32 - 1


def _check_int(value: Any, label: str, low: int, high: int) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"{label} must be a whole number from {low} to {high}, not {value!r}")


@dataclass(frozen=True)
class DataOptions:
    """How clips are cut from the project's videos.

    ``height`` / ``width`` / ``grayscale`` / ``frames`` default to the preset's input (``frames`` is the
    model's input length; next-frame clips are one frame longer). ``stride``: frames between window
    starts (next-frame: default non-overlapping; anomaly: 1). ``frame_steps``: anomaly stride
    augmentation (default 1, 2, 3). ``val_fraction``: share of the normal footage held out for
    validation (and, for next-frame and anomaly runs, the error level and the threshold): whole videos, or
    time inside each video when a next-frame or anomaly run has fewer than five (:mod:`core.data.held_out`). ``videos``: ids of the project's videos to train on (default: all); each
    keeps its split (its own, or the one assigned among all the project's videos). ``signal``: what the model
    sees of each frame, ``frames`` or ``speed`` (its optical-flow speed map, :mod:`core.motion.speed`; classify
    and regress runs).
    """

    height: int | None = None
    width: int | None = None
    grayscale: bool | None = None
    frames: int | None = None
    stride: int | None = None
    frame_steps: tuple[int, ...] | None = None
    val_fraction: float = DEFAULT_VAL_FRACTION
    target: str | None = None
    videos: tuple[str, ...] | None = None
    signal: str = "frames"

    def __post_init__(self) -> None:
        """Raise :class:`ConfigError` for a value out of range; ``None`` (not 0) means "the preset's"."""
        from core.preprocessing.spec import SIGNALS

        if self.signal not in SIGNALS:
            raise ConfigError(f"input must be one of {', '.join(SIGNALS)}, not {self.signal!r}")
        if self.signal == "speed" and self.grayscale is False:
            raise ConfigError("speed maps are one channel: an input of speed cannot be RGB")
        for name, label, low, high in (("height", "frame height", MIN_FRAME_SIZE, MAX_FRAME_SIZE),
                                       ("width", "frame width", MIN_FRAME_SIZE, MAX_FRAME_SIZE),
                                       ("frames", "frames per clip", MIN_FRAMES, MAX_FRAMES),
                                       ("stride", "clip stride", 1, MAX_FRAMES * 100)):
            _check_int(getattr(self, name), label, low, high)
        if self.frame_steps is not None:
            if not self.frame_steps:
                raise ConfigError("frame steps must list at least one step, e.g. 1,2,3")
            for step in self.frame_steps:
                _check_int(step, "each frame step", 1, MAX_FRAMES)
        if not (isinstance(self.val_fraction, int | float) and math.isfinite(self.val_fraction)
                and 0 <= self.val_fraction < 1):
            raise ConfigError(f"validation fraction must be in [0, 1), not {self.val_fraction}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DataOptions:
        names = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in names}
        for name in ("frame_steps", "videos"):
            if values.get(name) is not None:
                values[name] = tuple(values[name])
        return cls(**values)


@dataclass(frozen=True)
class TrainingConfig:
    """How to train (the model itself is the spec).

    ``patience`` / ``lr_patience``: epochs without improvement of ``monitor`` before early stopping /
    multiplying the learning rate by ``lr_factor`` (0 turns either off). ``monitor`` falls back to
    ``loss`` when there is no validation data. ``reserve_cores`` leaves CPU cores free (the GUI uses 1).
    ``feature_cache_dir`` is where a frozen LRCN caches backbone features (default: the run folder).
    ``device``: ``auto``, ``cpu``, ``gpu`` or ``gpu:N`` (:mod:`core.training.devices`).
    ``max_minutes``: a wall-clock training budget per invocation (``train`` or each ``resume``), counted
    from the start of ``fit``: the run stops at the first batch boundary after it, its shortened epoch
    validated and checkpointed, with status ``stopped_early`` and a note saying so (see :class:`TimeBudget`).
    ``max_steps``: a budget of training steps (batches) per invocation, kept the same way; with both, the run
    stops at whichever it reaches first, and an annealed learning rate follows whichever is further along.
    """

    epochs: int = 20
    batch_size: int = 8
    shuffle: bool = True
    seed: int = 0
    deterministic: bool = False
    patience: int = 5
    lr_patience: int = 2
    lr_factor: float = 0.5
    min_lr: float = 1e-6
    min_delta: float = 0.0
    monitor: str = "val_loss"
    steps_per_epoch: int | None = None
    validation_steps: int | None = None
    mixed_precision: bool = False
    reserve_cores: int = 0
    cpu_threads: int | None = None
    jit_compile: bool | str = "auto"
    feature_cache_dir: str | None = None
    max_minutes: float | None = None
    max_steps: int | None = None
    device: str = "auto"

    def __post_init__(self) -> None:
        """Raise :class:`ConfigError` (a ``TrainingError`` and a ``ValueError``) naming a bad value."""
        try:
            parse_device(self.device)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        for name, label, low, high, optional in (
                ("epochs", "epochs", 1, MAX_COUNT, False), ("batch_size", "batch size", 1, MAX_COUNT, False),
                ("steps_per_epoch", "steps per epoch", 1, MAX_COUNT, True),
                ("max_steps", "step budget", 1, MAX_COUNT, True),
                ("validation_steps", "validation steps", 1, MAX_COUNT, True),
                ("patience", "early-stop patience", 0, MAX_COUNT, False),
                ("lr_patience", "reduce-LR patience", 0, MAX_COUNT, False),
                ("seed", "seed", 0, MAX_SEED, False),
                ("cpu_threads", "CPU threads", 1, MAX_THREADS, True),
                ("reserve_cores", "reserved cores", 0, MAX_THREADS, False)):
            if getattr(self, name) is not None or not optional:
                _check_int(getattr(self, name), label, low, high)
        for name, label in (("min_lr", "minimum learning rate"), ("min_delta", "minimum improvement")):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                raise ConfigError(f"{label} must be a number >= 0, not {value}")
        if self.max_minutes is not None and not (isinstance(self.max_minutes, int | float)
                                                 and math.isfinite(self.max_minutes) and self.max_minutes > 0):
            raise ConfigError(f"time budget must be a positive number of minutes, not {self.max_minutes}")
        if not (isinstance(self.lr_factor, int | float) and 0 < self.lr_factor < 1):
            raise ConfigError(f"learning-rate factor must be in (0, 1), not {self.lr_factor}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainingConfig:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})
