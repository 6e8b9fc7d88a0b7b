"""Segments of a classify or regress run as coloured timeline bands.

:func:`segment_bands` turns :class:`~core.inference.labelling.windows.Segment` s into
:class:`~desktop_app.state.LaneBand` records (frames ``[start, end)``, a ``#rrggbb`` colour, the text to
show, key ``segment<n>``), which a timeline lane paints:

* **classification**: a class keeps its colour whatever the video or the order its segments come in: the
  colour the project gives that class name (``class_colors``), else the annotated video's colour of its
  index among the run's ``class_names`` (:data:`core.render.window_video.CLASS_COLORS`), else one chosen
  from the name itself. Uncertain segments are gray. Text: ``walk 0.93`` (label, mean confidence).
* **regression**: the segment's mean value on a colour ramp (blue, low; yellow; red, high) over
  ``value_range`` (default: the lowest and highest mean value of the segments); the text is the value.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence

from core.inference.labelling.windows import Segment
from core.render.window_video import CLASS_COLORS, UNCERTAIN_COLOR
from desktop_app.state import LaneBand

#: The regression ramp's stops, low to high (RGB).
VALUE_RAMP = ((44, 123, 182), (255, 255, 191), (215, 25, 28))


def _hex(rgb: Sequence[float]) -> str:
    return "#" + "".join(f"{int(round(c)):02x}" for c in rgb)


def class_color(label: str, class_names: Sequence[str] = (), class_colors: Mapping[str, str] | None = None) -> str:
    """The colour of class ``label``: the project's, else by its index in ``class_names``, else by its name."""
    if class_colors and label in class_colors:
        return class_colors[label]
    index = list(class_names).index(label) if label in class_names else zlib.crc32(label.encode("utf-8"))
    return _hex(CLASS_COLORS[index % len(CLASS_COLORS)])


def value_color(value: float, low: float, high: float) -> str:
    """``value`` on :data:`VALUE_RAMP` from ``low`` to ``high`` (clamped; the middle when ``low == high``)."""
    t = 0.5 if high <= low else min(1.0, max(0.0, (value - low) / (high - low)))
    position = t * (len(VALUE_RAMP) - 1)
    i = min(int(position), len(VALUE_RAMP) - 2)
    f = position - i
    a, b = VALUE_RAMP[i], VALUE_RAMP[i + 1]
    return _hex([a[c] + (b[c] - a[c]) * f for c in range(3)])


def segment_bands(
    segments: Sequence[Segment],
    class_names: Sequence[str] = (),
    class_colors: Mapping[str, str] | None = None,
    value_range: tuple[float, float] | None = None,
) -> list[LaneBand]:
    """The band of each segment, in order (module doc)."""
    values = [s.mean_value for s in segments if s.mean_value is not None]
    if value_range is None and values:
        value_range = (min(values), max(values))
    bands = []
    for n, s in enumerate(segments):
        key = f"segment{n}"
        if s.mean_value is not None:
            low, high = value_range or (s.mean_value, s.mean_value)
            bands.append(LaneBand(s.start, s.stop, value_color(s.mean_value, low, high), f"{s.mean_value:.4g}", key))
        elif s.uncertain or s.label is None:
            confidence = "" if s.mean_confidence is None else f" {s.mean_confidence:.2f}"
            bands.append(LaneBand(s.start, s.stop, _hex(UNCERTAIN_COLOR), f"uncertain{confidence}", key))
        else:
            confidence = "" if s.mean_confidence is None else f" {s.mean_confidence:.2f}"
            bands.append(LaneBand(s.start, s.stop, class_color(s.label, class_names, class_colors),
                                  f"{s.label}{confidence}", key))
    return bands
