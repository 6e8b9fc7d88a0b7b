"""The frame size a new run trains at: the footage's aspect ratio at about the preset's pixel count, times a scale.

A preset names a frame size (the default anomaly preset ``future-frame``: 64x96, the 3:2 of UCSD Ped2). Used
as it is on 4:3 footage it would squash every frame to 3:2, so a run of a frame model (``predict`` and
``anomaly`` tasks) that is given no height and width instead trains at the aspect ratio of its training
videos (their probed width / height; if they disagree, the ratio of most of them, and a note says so) with
about the preset's pixel count, each side rounded to the multiple the model needs
(:attr:`~core.models.specs.ModelSpec.size_multiple`: a U-Net of 3 levels pools twice, so sides divisible by 4).
On Ped2 (360x240) that is the preset's own 64x96. ``scale`` then multiplies both sides (1.5: 96x144 on Ped2),
for small or fast movers a 64-pixel-high frame loses.

Reference presets keep their published size (they are there to be compared as published), and the
classify / regress presets theirs (their backbones are square); a size given by the user is used as given
(times ``scale``, rounded to the multiple).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from core.models.specs import ModelSpec
from core.training.errors import ConfigError

#: The scales a run accepts: beyond them lies a typo.
MIN_SCALE, MAX_SCALE = 0.1, 16.0
#: Tasks whose models take whole frames at any size (fully convolutional frame models).
FRAME_TASKS = ("predict", "anomaly")
#: Aspect ratios closer than this (relative) are the same ratio (640x480 and 320x240; 1920x1080 and 1920x1088).
ASPECT_TOLERANCE = 0.01


def check_scale(scale: Any) -> None:
    """:class:`ConfigError` unless ``scale`` is ``None`` or a number in [:data:`MIN_SCALE`, :data:`MAX_SCALE`]."""
    if scale is None:
        return
    if (isinstance(scale, bool) or not isinstance(scale, int | float) or not math.isfinite(scale)
            or not MIN_SCALE <= scale <= MAX_SCALE):
        raise ConfigError(f"frame scale must be a number from {MIN_SCALE:g} to {MAX_SCALE:g}, not {scale!r}")


@dataclass(frozen=True)
class FootageAspect:
    """The aspect ratio (width / height) a run's training videos have: that of ``width`` x ``height``, shared by
    ``agreeing`` of ``videos`` videos; ``others`` lists the other sizes (``"640x480"``) when they disagree."""

    width: int
    height: int
    agreeing: int
    videos: int
    others: tuple[str, ...] = ()

    @property
    def ratio(self) -> float:
        return self.width / self.height

    def text(self) -> str:
        """``360x240 (3:2)``: the size and its reduced ratio."""
        g = math.gcd(self.width, self.height)
        return f"{self.width}x{self.height} ({self.width // g}:{self.height // g})"

    def note(self) -> str:
        """One line when the videos disagree (else ``""``)."""
        if not self.others:
            return ""
        return (f"the training videos have different aspect ratios: {self.agreeing} of {self.videos} are "
                f"{self.text()}, so the frame size follows that; the others ({', '.join(self.others)}) are "
                "stretched to it")


def footage_aspect(sizes: Iterable[tuple[int, int]]) -> FootageAspect | None:
    """The aspect ratio of most of ``sizes`` (``(width, height)`` per video, in pixels): ratios within
    :data:`ASPECT_TOLERANCE` count as one; a tie goes to the ratio seen first. ``None`` for no usable size."""
    groups: list[list[tuple[int, int]]] = []
    for width, height in sizes:
        if not (width and height and width > 0 and height > 0):
            continue
        for group in groups:
            first = group[0][0] / group[0][1]
            if abs(width / height - first) <= ASPECT_TOLERANCE * first:
                group.append((width, height))
                break
        else:
            groups.append([(width, height)])
    if not groups:
        return None
    best = max(groups, key=len)  # max keeps the first of equal lengths
    width, height = Counter(best).most_common(1)[0][0]
    others = tuple(f"{w}x{h}" for group in groups if group is not best for w, h in dict.fromkeys(group))
    return FootageAspect(width, height, len(best), sum(map(len, groups)), others)


def _round_to(value: float, multiple: int) -> int:
    return max(multiple, int(round(value / multiple)) * multiple)


def fitted_size(pixels: int, ratio: float, multiple: int = 1, scale: float = 1.0) -> tuple[int, int]:
    """``(height, width)`` of about ``pixels`` pixels at width / height ``ratio``, both sides times ``scale``,
    each rounded to the nearest multiple of ``multiple`` (at least one multiple)."""
    height = math.sqrt(pixels / ratio)
    return _round_to(height * scale, multiple), _round_to(height * ratio * scale, multiple)


@dataclass(frozen=True)
class FrameSize:
    """The frame size a run trains at and why: ``source`` is ``"footage"`` (the training videos' aspect
    ratio), ``"given"`` (the user's height / width), ``"preset"`` (the preset's own size) or ``"motion"`` (the
    motion scorer, which sets its own working size from the footage)."""

    height: int
    width: int
    source: str
    scale: float = 1.0
    preset: tuple[int, int] = (0, 0)
    aspect: FootageAspect | None = None

    def text(self) -> str:
        """What the run's frame size is, in one line (the training output shows it)."""
        scaled = f" x {self.scale:g}" if self.scale != 1 else ""
        if self.source == "footage" and self.aspect is not None:
            why = (f"the aspect ratio of the training videos, {self.aspect.text()}, at about the preset's "
                   f"{self.preset[0]}x{self.preset[1]} pixel count{scaled}")
        elif self.source == "motion":
            return "frame size: the motion scorer computes its flow at its own scale of the videos' size"
        elif self.source == "given":
            why = f"as given{scaled}"
        else:
            why = f"the preset's{scaled}"
        return f"frame size {self.height}x{self.width}: {why}"

    def to_dict(self) -> dict[str, Any]:
        """The run record's ``data["frame_size"]``."""
        return {"height": self.height, "width": self.width, "source": self.source, "scale": self.scale,
                "preset": list(self.preset),
                "footage": None if self.aspect is None else {
                    "width": self.aspect.width, "height": self.aspect.height, "videos": self.aspect.videos,
                    "agreeing": self.aspect.agreeing, "others": list(self.aspect.others)},
                "text": self.text(), "note": self.aspect.note() if self.aspect is not None else ""}


def choose_frame_size(spec: ModelSpec, task: str, height: int | None, width: int | None, scale: float | None,
                      sizes: Iterable[tuple[int, int]], reference: bool = False) -> FrameSize:
    """The frame size of a new run of ``spec`` for ``task`` (rules in the module doc).

    ``height`` / ``width``: the user's (``None``: not given; one given: square frames); ``sizes``: ``(width,
    height)`` of each training video; ``reference``: the preset is a reference preset (keeps its size).
    :class:`ConfigError` for a scaled size out of range.
    """
    from core.training.options import MAX_FRAME_SIZE, MIN_FRAME_SIZE

    check_scale(scale)
    factor = 1.0 if scale is None else float(scale)
    multiple = spec.size_multiple
    preset = (spec.height, spec.width)
    aspect = None
    if height is not None or width is not None:
        source, base = "given", (height or width, width or height)
    elif task in FRAME_TASKS and not reference and (aspect := footage_aspect(sizes)) is not None:
        source = "footage"
    else:
        source, base = "preset", preset
    if source == "footage":
        h, w = fitted_size(spec.height * spec.width, aspect.ratio, multiple, factor)
    elif factor != 1:
        h, w = (_round_to(side * factor, multiple) for side in base)
    else:
        h, w = base
    for side, label in ((h, "height"), (w, "width")):
        if not MIN_FRAME_SIZE <= side <= MAX_FRAME_SIZE:
            raise ConfigError(f"frame {label} {side} (scale {factor:g}) is outside {MIN_FRAME_SIZE} to "
                              f"{MAX_FRAME_SIZE} pixels: choose a smaller scale or size")
    return FrameSize(h, w, source, factor, preset, aspect)


def training_video_sizes(data, videos: Iterable[str] | None = None, val_fraction: float = 0.2,
                         seed: int = 0) -> list[tuple[int, int]]:
    """``(width, height)`` of the videos a run trains and validates on: the train- and val-split videos of the
    project ``data`` (a :class:`~core.project.entities.ProjectData`), among ``videos`` (ids; ``None``: all);
    every chosen video when none of them is in those splits."""
    from core.data.splits import assign_splits
    from core.project.errors import DatasetError

    chosen = [v for v in data.videos.values() if videos is None or v.id in set(videos)]
    try:
        splits = assign_splits(data, val_fraction, seed)
    except DatasetError:  # training says so itself, with the video named
        splits = {}
    trained = [v for v in chosen if splits.get(v.id) in ("train", "val")] or chosen
    return [(v.width, v.height) for v in trained]


def request_frame_size(data, request, spec: ModelSpec) -> FrameSize:
    """The frame size of a new run of ``request`` (a :class:`~core.training.request.TrainingRequest`) with
    ``spec`` (its preset's, before the data fit it) on the project ``data``."""
    from core.models.registry import presets

    if spec.family == "motion":  # no network: its working size follows the footage (core.training.motion_run)
        return FrameSize(spec.height, spec.width, "motion", preset=(spec.height, spec.width))
    table = presets(request.task)
    reference = spec.preset in table and table[spec.preset].reference
    sizes = training_video_sizes(data, request.videos, request.val_fraction, request.seed)
    return choose_frame_size(spec, request.task, request.height, request.width, request.scale, sizes, reference)
