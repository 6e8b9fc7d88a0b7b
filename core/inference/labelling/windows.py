"""A long video, window by window, through a clip classifier or regressor: a result per window, then segments.

:func:`classify_windows` reads a video once, frame by frame (at the run's frame size, gray or RGB, or as
speed maps when the run learnt from them: :mod:`core.motion.speed`), and
runs the model of a ``classify`` or ``regress`` run (the LRCN, Conv3D and Conv3D-LSTM families; a run
trained on cached backbone features has its whole clip model in ``model.keras``, which its record points
to) on clip windows of the run's length, in batches. It yields a :class:`WindowResult` per window, in
order, one window after the model has run on it (the next window says where its frames end), so results
arrive while the video is read and memory stays flat: only the frames of the windows in flight are held.

* **Windows** start every ``stride`` frames (``1 <= stride <= frames``, default ``frames``: windows side by
  side). Frames after the last regular window are covered by one last window ending at the last frame.
* **Which frames a window labels** (:attr:`WindowResult.covers`): from its start up to the start of the
  next window; the last regular window labels up to its own end, and the last window (ending at the last
  frame) only the frames no regular window reached. So every frame gets exactly one window's result.
* **Classification**: the model's softmax gives the class probabilities; the label is the most likely
  class (names from the run record's ``data.class_names``; an output without a name is ``class N``), the
  confidence its probability. A run whose record holds a :class:`Decision` (``data.decision``: a class and a
  probability threshold, chosen on held-out clips for a classifier whose probabilities are not calibrated)
  labels a window with that class when its probability is above the threshold, else with the most likely
  other class. With ``min_confidence`` a window below it is ``uncertain``.
* **Regression**: the model's single output is the window's value.

:func:`merge_segments` joins consecutive windows into :class:`Segment` s: classified windows with the
same label (uncertain windows form their own segments, whatever their top class), with the mean and
lowest confidence; regressed windows whose values fall in the same bin of ``bin_width`` (``[k w, (k+1)
w)``), with the mean, lowest and highest value, or one segment per window without ``bin_width``.

:func:`window_model` reads a run's model file and what it takes; :func:`classify_video` does it all for
one video and adds the segments' times. A video shorter than one window raises
:class:`~core.inference.errors.ScoreError` naming it.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from core.inference.clip_input import (
    DEFAULT_BATCH_SIZE,
    ClipInput,
    declared_frames,
    resolve_stride,
    too_short,
)
from core.inference.errors import ScoreError
from core.jobs import ProgressCallback, check_cancelled, report
from core.preprocessing.frames import iter_resized
from core.preprocessing.windows import iter_clip_windows
from core.runs import RunModel
from core.video.open import open_video
from core.video.source import VideoSource

#: Tasks whose models give one result per clip.
WINDOW_TASKS = ("classify", "regress")


@dataclass(frozen=True)
class WindowSpec(ClipInput):
    """What :func:`classify_windows` needs to know of a model: ``classify`` or ``regress``, clip length, input."""

    TASKS: ClassVar[tuple[str, ...]] = WINDOW_TASKS

    def wrong_task(self) -> str:
        return (f"a {self.task} model gives no result per window: window classification needs a classify "
                "or regress run")


@dataclass(frozen=True)
class WindowResult:
    """One window's result. ``start``, ``stop``: the clip's frames ``[start, stop)``; ``covers``: the frames
    ``[first, stop)`` whose result this is (module doc). Classification: ``label``, ``class_index``,
    ``confidence`` (the label's probability) and every class's ``probabilities``; ``uncertain`` when the
    confidence is below the ``min_confidence`` asked for. Regression: ``value``."""

    index: int
    start: int
    stop: int
    covers: tuple[int, int]
    label: str | None = None
    class_index: int | None = None
    confidence: float | None = None
    probabilities: tuple[float, ...] = ()
    value: float | None = None
    uncertain: bool = False

    def text(self) -> str:
        """What an annotated frame shows: ``walk 0.93``, ``uncertain (walk 0.41)`` or ``value 3.25``."""
        if self.value is not None:
            return f"value {self.value:.4g}"
        shown = f"{self.label} {self.confidence:.2f}"
        return f"uncertain ({shown})" if self.uncertain else shown

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"index": self.index, "start": self.start, "stop": self.stop,
                                "covers": list(self.covers)}
        if self.value is not None:
            data["value"] = self.value
        else:
            data.update(label=self.label, class_index=self.class_index, confidence=self.confidence,
                        probabilities=list(self.probabilities), uncertain=self.uncertain)
        return data


@dataclass(frozen=True)
class Segment:
    """Consecutive windows merged: frames ``[start, stop)`` and how many ``windows``.

    Classification: ``label`` (``None`` for a run of uncertain windows, ``uncertain`` True), the mean and
    lowest ``confidence`` of its windows. Regression: ``label`` the bin (``"[2, 3)"``, or the window's
    value without bins) and the mean, lowest and highest ``value``. ``start_s`` / ``stop_s``: when its first
    frame starts and its last ends, in seconds (filled by :func:`classify_video`).
    """

    start: int
    stop: int
    windows: int
    label: str | None
    uncertain: bool = False
    mean_confidence: float | None = None
    min_confidence: float | None = None
    mean_value: float | None = None
    min_value: float | None = None
    max_value: float | None = None
    start_s: float | None = None
    stop_s: float | None = None

    def to_dict(self) -> dict[str, Any]:
        data = {"start": self.start, "stop": self.stop, "start_s": self.start_s, "stop_s": self.stop_s,
                "windows": self.windows, "label": self.label}
        if self.mean_value is not None:
            data.update(mean_value=self.mean_value, min_value=self.min_value, max_value=self.max_value)
        else:
            data.update(uncertain=self.uncertain, mean_confidence=self.mean_confidence,
                        min_confidence=self.min_confidence)
        return data


@dataclass(frozen=True)
class Decision:
    """How a classifier's probabilities become a label: class ``class_index`` when its probability is above
    ``threshold``, else the most likely other class (instead of the most likely class).

    A run record holds it as ``data.decision`` (``{"class_index": 1, "threshold": 0.2, ...}``; other
    entries, such as how it was chosen, are kept for readers). With two classes, ``threshold`` 0.5 is the
    plain most-likely-class rule.
    """

    class_index: int
    threshold: float

    def __post_init__(self) -> None:
        if isinstance(self.class_index, bool) or not isinstance(self.class_index, int) or self.class_index < 0:
            raise ScoreError(f"decision class must be a class index >= 0, got {self.class_index!r}")
        if (isinstance(self.threshold, bool) or not isinstance(self.threshold, int | float)
                or not math.isfinite(self.threshold) or not 0.0 <= self.threshold < 1.0):
            raise ScoreError(f"decision threshold must be a probability from 0 to below 1, got {self.threshold!r}")

    @classmethod
    def from_record(cls, entry: Any, classes: int | None = None) -> Decision:
        """From a run record's ``data.decision``; :class:`ScoreError` saying what is wrong with it."""
        if not isinstance(entry, dict) or "class_index" not in entry or "threshold" not in entry:
            raise ScoreError(f"the run's data.decision must be an object with class_index and threshold, got {entry!r}")
        decision = cls(entry["class_index"], entry["threshold"])
        if classes is not None and decision.class_index >= classes:
            raise ScoreError(f"the run's data.decision names class {decision.class_index}, but the run has "
                             f"{classes} classes")
        return decision

    def to_dict(self) -> dict[str, Any]:
        return {"class_index": self.class_index, "threshold": self.threshold}

    def choose(self, probabilities: np.ndarray) -> int:
        """The class of one window's ``probabilities``."""
        if self.class_index >= len(probabilities):
            raise ScoreError(f"the decision names class {self.class_index}, but the model gives "
                             f"{len(probabilities)} class probabilities")
        if probabilities[self.class_index] > self.threshold:
            return self.class_index
        others = np.array(probabilities, dtype=np.float64)
        others[self.class_index] = -np.inf
        return int(np.argmax(others))


@dataclass(frozen=True)
class WindowModel(RunModel):
    """A run's clip model as window classification sees it: the run's model (:class:`~core.runs.model.RunModel`:
    folder, record, model file), its input, its class names and its :class:`Decision`, if its record has one."""

    spec: WindowSpec
    class_names: tuple[str, ...] = ()
    decision: Decision | None = None


def window_model(project_folder: str | Path, run: str | Path) -> WindowModel:
    """The model of run ``run`` (a name under ``<project>/runs/`` or a run folder), for windows.

    The errors of :meth:`RunModel.open <core.runs.model.RunModel.open>` (an unknown run, one without a model
    file, a damaged record); :class:`ScoreError` for a run whose task gives no result per clip (an anomaly
    or next-frame model), naming the run.
    """
    found = RunModel.open(project_folder, run)
    record, run_dir = found.record, found.run_dir
    if record.task not in WINDOW_TASKS:
        raise ScoreError(f"{run_dir}: run {run_dir.name!r} is a model for the {record.task!r} task, which gives no "
                         "result per window: window classification needs a classify or regress run")
    names = record.data.get("class_names") if isinstance(record.data, dict) else None
    names = tuple(str(n) for n in names) if isinstance(names, list) else ()
    entry = record.data.get("decision") if isinstance(record.data, dict) else None
    try:
        decision = None if entry is None else Decision.from_record(entry, len(names) or None)
    except ScoreError as exc:
        raise ScoreError(f"{run_dir / 'run.json'}: {exc}") from None
    return WindowModel(run_dir, record, found.model_path, found.error_level_path,
                       WindowSpec.from_run(record.spec, record.data), names, decision)


def check_min_confidence(value: float | None) -> float | None:
    """``value`` if it is a probability in [0, 1] (or ``None``), else :class:`ScoreError`."""
    if value is not None and not (isinstance(value, int | float) and not isinstance(value, bool)
                                  and math.isfinite(value) and 0.0 <= value <= 1.0):
        raise ScoreError(f"minimum confidence must be a probability from 0 to 1, got {value!r}")
    return value


def classify_windows(
    model: Any,
    source: VideoSource | str | Path,
    spec: WindowSpec,
    class_names: Sequence[str] = (),
    stride: int | None = None,
    min_confidence: float | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    decision: Decision | None = None,
) -> Iterator[WindowResult]:
    """Yield a :class:`WindowResult` per window of ``source``, in order (module doc).

    ``model`` is a Keras model (anything with ``predict_on_batch``) taking clips of ``spec``; ``source`` a
    :class:`~core.video.VideoSource` or a path. ``progress`` receives frames read (of the frame count the
    header declares); ``cancel`` stops between batches with :class:`~core.errors.Cancelled`. ``decision``:
    how probabilities become labels (default: the most likely class).
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ScoreError(f"batch size must be a whole number of windows >= 1, got {batch_size!r}")
    check_min_confidence(min_confidence)
    stride = resolve_stride(spec, stride)
    owned = not isinstance(source, VideoSource)
    video = open_video(source) if owned else source
    try:
        yield from _windows(model, video, spec, tuple(class_names), stride, min_confidence, batch_size,
                            progress, cancel, decision)
    finally:
        if owned:
            video.close()


def _results(model: Any, clips: np.ndarray, spec: WindowSpec, source: VideoSource, names: tuple[str, ...],
             min_confidence: float | None, decision: Decision | None = None) -> list[dict[str, Any]]:
    """The model's result for each clip of the batch, as :class:`WindowResult` fields."""
    output = np.asarray(model.predict_on_batch(spec.model_input(clips)), dtype=np.float64)
    if output.ndim != 2 or output.shape[0] != clips.shape[0] or (spec.task == "regress" and output.shape[1] != 1):
        wanted = "(clips, 1) values" if spec.task == "regress" else "(clips, classes) probabilities"
        raise ScoreError(f"{source.path}: the model gave output {output.shape} for clips {clips.shape}, not "
                         f"{wanted}: it is not a {spec.task} model")
    if spec.task == "regress":
        return [{"value": float(row[0])} for row in output]
    results = []
    for row in output:
        best = int(np.argmax(row)) if decision is None else decision.choose(row)
        confidence = float(row[best])
        results.append({"label": names[best] if best < len(names) else f"class {best}", "class_index": best,
                        "confidence": confidence, "probabilities": tuple(float(p) for p in row),
                        "uncertain": min_confidence is not None and confidence < min_confidence})
    return results


def _windows(model, source, spec, names, stride, min_confidence, batch_size, progress, cancel, decision):
    length = spec.frames
    total = declared_frames(source)
    last: deque[np.ndarray] = deque(maxlen=length)  # the video's last frames, for the window ending there
    read = 0
    clips: list[np.ndarray] = []
    starts: list[int] = []
    held: list[WindowResult] = []  # the last window run, whose covered frames end where the next one starts
    index = 0

    def frames() -> Iterator[np.ndarray]:
        nonlocal read
        for frame in iter_resized(source, spec.preprocess, 0, cancel=cancel):
            last.append(frame)
            read += 1
            yield frame

    def run(covers_from: int | None = None) -> Iterator[WindowResult]:
        nonlocal index
        check_cancelled(cancel, "classification")
        fields = _results(model, np.stack(clips), spec, source, names, min_confidence, decision)
        for start, found in zip(starts, fields, strict=True):
            result = WindowResult(index, start, start + length,
                                  (start if covers_from is None else covers_from, start + length), **found)
            index += 1
            if held:  # the window before ends where this one's frames begin
                previous = held.pop()
                yield replace(previous, covers=(previous.covers[0], result.covers[0]))
            held.append(result)
        report(progress, read, total, "classifying")
        clips.clear()
        starts.clear()

    for k, clip in enumerate(iter_clip_windows(frames(), length, stride)):
        clips.append(clip)
        starts.append(k * stride)
        if len(clips) == batch_size:
            yield from run()
    if read < length:
        raise too_short(source, read, length, f"for one window of {length}")
    end = (starts[-1] if starts else held[-1].start) + length  # the end of the last regular window
    if clips:
        yield from run()
    if end < read:  # frames no regular window reached: one last window ending at the last frame
        clips.append(np.stack(last))
        starts.append(read - length)
        yield from run(covers_from=end)
    report(progress, read, read, "classifying")
    final = held.pop()
    yield replace(final, covers=(final.covers[0], final.stop))


def _bin(value: float, width: float) -> int:
    return math.floor(value / width)


def merge_segments(windows: Sequence[WindowResult], bin_width: float | None = None) -> list[Segment]:
    """Consecutive ``windows`` (in order, as :func:`classify_windows` gives them) merged into segments.

    Segments span the frames the windows cover (``covers``). See the module doc for what merges.
    """
    if bin_width is not None and not (math.isfinite(bin_width) and bin_width > 0):
        raise ScoreError(f"bin width must be a positive number, got {bin_width!r}")
    groups: list[list[WindowResult]] = []
    for window in windows:
        if groups and _same_group(groups[-1][-1], window, bin_width):
            groups[-1].append(window)
        else:
            groups.append([window])
    return [_segment(group, bin_width) for group in groups]


def _same_group(a: WindowResult, b: WindowResult, bin_width: float | None) -> bool:
    if a.value is not None and b.value is not None:
        return bin_width is not None and _bin(a.value, bin_width) == _bin(b.value, bin_width)
    if a.uncertain or b.uncertain:
        return a.uncertain and b.uncertain
    return a.label == b.label


def _segment(group: list[WindowResult], bin_width: float | None) -> Segment:
    start, stop = group[0].covers[0], group[-1].covers[1]
    if group[0].value is not None:
        values = [w.value for w in group if w.value is not None]
        if bin_width is None:
            label = f"{values[0]:.4g}"
        else:
            k = _bin(values[0], bin_width)
            label = f"[{k * bin_width:.4g}, {(k + 1) * bin_width:.4g})"
        return Segment(start, stop, len(group), label, mean_value=float(np.mean(values)),
                       min_value=float(min(values)), max_value=float(max(values)))
    confidences = [w.confidence for w in group if w.confidence is not None]
    uncertain = group[0].uncertain
    return Segment(start, stop, len(group), None if uncertain else group[0].label, uncertain,
                   float(np.mean(confidences)), float(min(confidences)))


@dataclass(frozen=True)
class VideoWindows:
    """One video classified: its ``path``, ``frames`` and ``fps``, every window and the merged segments."""

    path: Path
    frames: int
    fps: float
    stride: int
    windows: list[WindowResult] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)

    def to_dict(self, with_windows: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {"path": str(self.path), "frames": self.frames, "fps": self.fps,
                                "stride": self.stride, "segments": [s.to_dict() for s in self.segments]}
        if with_windows:
            data["windows"] = [w.to_dict() for w in self.windows]
        return data


def classify_video(
    model: Any,
    source: str | Path,
    run: WindowModel,
    stride: int | None = None,
    min_confidence: float | None = None,
    bin_width: float | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> VideoWindows:
    """Classify (or regress) every window of the video at ``source`` with ``run``'s loaded ``model`` and merge
    the windows into segments, with their times (real timestamps on a variable-rate file). The run's
    :class:`Decision`, if its record has one, labels the windows."""
    with open_video(source) as video:
        windows = list(classify_windows(model, video, run.spec, run.class_names, stride, min_confidence,
                                        batch_size, progress, cancel, run.decision))
        frames = windows[-1].covers[1]
        segments = [replace(s, start_s=video.time_of_frame(s.start), stop_s=video.time_of_frame(s.stop))
                    for s in merge_segments(windows, bin_width)]
        return VideoWindows(video.path, frames, float(video.fps), resolve_stride(run.spec, stride), windows,
                            segments)
