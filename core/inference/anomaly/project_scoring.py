"""Score a project's videos with a training run's model: cached, resumable, thresholded, events kept.

:func:`score_project` is what ``framewatch score PROJECT --run RUN`` and the desktop app's scoring call:

1. **The model** is the run's (:class:`~core.runs.model.RunModel`: ``run.json``'s ``model_path``, a file of the
   run folder, checked against the record when loaded); what it takes (task,
   clip length, frame size, gray or colour, uint8 or float input) comes from the run record
   (:meth:`ScoringSpec.from_run`). It is loaded only when a frame needs scoring: a project whose scores are
   all cached opens without TensorFlow's start-up.
2. **Scores** go to the project's score cache (:class:`~core.inference.anomaly.score_cache.ScoreCache`,
   ``<project>/cache/scores/``), keyed by the model file, the video's content and the scoring parameters.
   The model files are fingerprinted once when scoring starts (:meth:`ScoringRun.pinned`) and every video is
   keyed by that; the model loaded is checked to be those very bytes, so a training run that replaces
   ``best.keras`` meanwhile never gets its new file's key attached to the old model's scores.
   A complete entry is used as it is; a partial one (a cancelled or crashed run) resumes at its
   ``frames_done``. Scores are written every :data:`SAVE_EVERY` frames and when the job is cancelled, so a
   cancel or a crash loses at most that many frames. Nothing is written to ``project.json``: scoring never
   needs the project's lock, and the project is only read.
3. **The threshold**, unless one is given, is calibrated (:func:`calibration_rule`: at about
   :data:`~core.inference.anomaly.regularity.DEFAULT_ALARM_RATE` false alarms a minute, or at a
   ``percentile`` of the frames, :meth:`Threshold.calibrate`) on the normal footage the run **held out** of
   its training (:func:`calibration_footage`: the spans ``run.json`` records in ``data["held_out"]``, whole videos or time blocks, found by content
   in any project holding them), never on frames the model learned from. The videos holding them are
   scored and cached whole; calibration takes their held-out slices, or, for a run whose error level was
   cross-fitted over its held-out blocks, each block's errors under a level fitted without it
   (:func:`held_out_parts`, :mod:`core.inference.anomaly.cross_fitted`). A run recorded before runs held out
   time (or with ``val_fraction`` 0) keeps the old rule, a percentile of the project's **train-split** videos, split as
   training split them (:func:`split_videos`: the videos the run recorded, by content; else the run's
   validation fraction and seed). A run refitted from the analyst's verdicts (``framewatch refit``) also
   calibrates on the frames of the events rejected for it then (:mod:`core.inference.anomaly.rejected_footage`).
4. **Events** are flagged on each scored video's smoothed errors (:func:`flag_events`, ``min_run``,
   ``merge_gap``: the run's recommended event rule unless told otherwise; a rate threshold counts its false
   alarms by the same rule), written to the run's ``events.json`` (:mod:`core.inference.anomaly.events_file`; events of
   videos not scored this time are kept when the threshold and flagging are unchanged) and returned with
   the project's verdicts attached.

Progress counts frames scored over all videos that need scoring; ``cancel`` stops between batches with
:class:`~core.errors.Cancelled` after saving what was scored. ``on_scores`` hears every video's errors as
they become known (the cached ones at once, then each frame as it is scored), for a chart that grows live.
"""

from __future__ import annotations

import dataclasses
import hashlib
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.data.spans import merge
from core.errors import Cancelled
from core.inference.anomaly.events import Event, attach_verdicts, check_flagging, flag_events
from core.inference.anomaly.events_file import RunEvents, check_replaceable, read_events, write_events
from core.inference.anomaly.regularity import (
    DEFAULT_ALARM_RATE,
    DEFAULT_MERGE_SECONDS,
    DEFAULT_PERCENTILE,
    DEFAULT_SMOOTH_SECONDS,
    Threshold,
)
from core.inference.anomaly.rejected_footage import recorded_rejected
from core.inference.anomaly.score_cache import CachedScores, ScoreCache, ScoreKey
from core.inference.anomaly.scoring import (
    DEFAULT_BATCH_SIZE,
    FrameScore,
    ScoringSpec,
    resolve_stride,
    score_video,
)
from core.inference.errors import ScoreError
from core.jobs import Progress, ProgressCallback, Stage, check_cancelled
from core.project.entities import Video
from core.runs import RunModel

#: ``on_scores(video_id, first_frame, errors)``: errors float32 ``(n,)`` of frames ``first_frame ..``.
ScoresCallback = Callable[[str, int, np.ndarray], None]

#: Frames scored between two writes of a video's partial scores to the cache.
SAVE_EVERY = 500


@dataclass(frozen=True)
class ScoringRun(RunModel):
    """A run's model (:class:`~core.runs.model.RunModel`: folder, record, model file, error-level file) and
    what scoring feeds it (:class:`ScoringSpec`)."""

    spec: ScoringSpec
    #: the model file's fingerprint as :meth:`pinned` took it (``""``: not pinned, read from the file when asked)
    fingerprint: str = ""
    #: what scores the frames (:mod:`core.inference.anomaly.scorers`): ``prediction`` (the model's error),
    #: ``motion`` (motion statistics) or ``fused`` (both, on their held-out scales, combined by ``fusion``)
    scorer: str = "prediction"
    #: the motion scorer's run beside the predictor's, for ``fused``
    motion: ScoringRun | None = None
    #: how a fused run combines its scaled signals (:func:`~core.inference.anomaly.fusion.fuse`)
    fusion: str = "sum"
    #: what runs the model (:mod:`core.models.runtimes`): ``keras``, ``onnx``, ``openvino`` or
    #: ``openvino-bf16`` (the run's export for it, which must be fresh), or ``""``: the default runtime's export when the run has a fresh
    #: one and its package is installed, else Keras
    runtime: str = ""

    def model_key(self) -> str:
        """The fingerprint the model's scores are keyed by: the pinned one, else the model file's now."""
        from core.inference.model_fingerprint import model_fingerprint

        return self.fingerprint or model_fingerprint(self.model_path)

    def pinned(self) -> ScoringRun:
        """This run with its model files' fingerprints taken now (the model's, and the error level's in
        ``spec.error_level``): one scoring keys every video by them, and :meth:`load_models` then loads only
        files with these very bytes, so a checkpoint saved by a training run meanwhile is never keyed as the
        model that made the scores."""
        from core.inference.model_fingerprint import model_fingerprint

        spec = self.spec
        if self.error_level_path is not None:
            spec = dataclasses.replace(spec, error_level=model_fingerprint(self.error_level_path))
        motion = self.motion.pinned() if self.motion is not None else None
        return dataclasses.replace(self, spec=spec, fingerprint=model_fingerprint(self.model_path), motion=motion)

    def load_models(self, load_model: Callable[[Path], Any] | None = None) -> tuple[Any, Any]:
        """The model (checked against the record, :meth:`~core.runs.model.RunModel.check_model`) and the
        error-level model (``None`` without one), each read by ``load_model``.

        Each file is read once (:func:`~core.inference.model_fingerprint.load_fingerprinted`); for a pinned
        run, :class:`ScoreError` when what was loaded is not what was pinned (the file was replaced since).
        """
        from core.inference.model_fingerprint import load_fingerprinted

        exported = self._exported_models()
        if exported is not None:
            return exported
        if load_model is None:
            from core.models.files import load_model_file as load_model
        model, key = load_fingerprinted(self.model_path, load_model)
        self._check_unchanged(self.model_path, key, self.fingerprint)
        self.check_model(model)
        level = None
        if self.error_level_path is not None:
            level, level_key = load_fingerprinted(self.error_level_path, load_model)
            self._check_unchanged(self.error_level_path, level_key, self.spec.error_level if self.fingerprint else "")
        return model, level

    def _exported_models(self) -> tuple[Any, Any] | None:
        """The model and error-level model from the run's export for :attr:`runtime` (its default when
        ``""``), if it has one made from these very Keras files; ``None``: Keras loads them. :class:`ScoreError`
        when a runtime named explicitly has no fresh export; :class:`~core.models.runtimes.RuntimeMissing`
        when its package is missing (or, for a bf16 runtime, the CPU cannot compute bf16)."""
        from core.models.runtimes import load_runtime_model

        found = self._fresh_exports()
        if found is None:
            return None
        runtime, exports = found
        models = [load_runtime_model(export, runtime) for export in exports]
        return models[0], (models[1] if len(models) > 1 else None)

    def _fresh_exports(self, check: bool = True) -> tuple[str, list[Path]] | None:
        """The runtime that scores this run and its export files (model, then error level), or ``None`` when
        Keras does: :attr:`runtime` is ``keras``, or ``""`` and the default runtime cannot run here or the run
        has no fresh export for it. The errors of :meth:`_exported_models` for a runtime named explicitly;
        ``check=False``: none for a pinned file replaced since (that is for loading to refuse)."""
        from core.inference.model_fingerprint import model_fingerprint
        from core.models.runtimes import (
            DEFAULT_RUNTIME,
            RECORD_KEY,
            RuntimeMissing,
            fresh_export,
            require_runtime,
            runtime_format,
        )

        runtime = self.runtime or DEFAULT_RUNTIME
        if runtime == "keras" or self.model_path.suffix != ".keras":  # a motion model has no network
            return None
        fmt = runtime_format(runtime)
        entries = (self.record.data.get(RECORD_KEY) or {}).get(fmt) or {}
        if not entries and not self.runtime:  # the usual case, decided without importing the runtime
            return None
        try:
            require_runtime(runtime)
        except RuntimeMissing:
            if self.runtime:
                raise
            return None
        files = [(self.model_path, self.fingerprint)]
        if self.error_level_path is not None:
            files.append((self.error_level_path, self.spec.error_level if self.fingerprint else ""))
        found = []
        for path, pinned in files:
            key = model_fingerprint(path)
            if check:
                self._check_unchanged(path, key, pinned)
            export = fresh_export(path.parent, entries.get(path.name) if isinstance(entries, dict) else None,
                                  path, key)
            if export is None:
                if self.runtime:
                    raise ScoreError(f"{path}: run {self.run_id!r} has no {fmt} export made from this file "
                                     f"(none, or the file changed since): export it with framewatch export-run "
                                     f"--format {fmt}, or score with --runtime keras")
                return None
            found.append(export)
        return runtime, found

    def precision(self) -> str:
        """The precision this run's network computes its scores in: ``f32``, or ``bf16`` when a bf16 runtime
        scores it (named, or the default one with a fresh export); such scores have their own cache key."""
        from core.models.runtimes import DEFAULT_RUNTIME, score_precision

        if score_precision(self.runtime or DEFAULT_RUNTIME) == "f32":
            return "f32"
        found = self._fresh_exports(check=False)
        return "f32" if found is None else score_precision(found[0])

    def _check_unchanged(self, path: Path, loaded: str, pinned: str) -> None:
        if pinned and loaded != pinned:
            raise ScoreError(f"{path}: the model file of run {self.run_id!r} was replaced after this scoring began "
                             "(a training run saved a new checkpoint?); score again to use the new one")


def run_model(project_folder: str | Path, run: str | Path, scorer: str | None = None) -> ScoringRun:
    """The model of run ``run`` (a name under ``<project>/runs/`` or a run folder), as scoring uses it, with
    ``scorer`` (``prediction``, ``motion``, ``fused``; ``None``: the run's default,
    :func:`~core.inference.anomaly.scorers.with_scorer`).

    The errors of :meth:`RunModel.open <core.runs.model.RunModel.open>` (an unknown run, one without a model
    file, a damaged record), and :class:`ScoreError` for a run whose model does not score frames (a
    classifier) or whose error-level file is missing.
    """
    found = RunModel.open(project_folder, run)
    spec = ScoringSpec.from_run(found.record.spec, found.record.data)
    level_path = _error_level_file(found.run_dir, found.error_level_path)
    if level_path is not None:
        from core.inference.model_fingerprint import model_fingerprint

        spec = dataclasses.replace(spec, error_level=model_fingerprint(level_path))
    from core.inference.anomaly.scorers import with_scorer

    return with_scorer(ScoringRun(found.run_dir, found.record, found.model_path, level_path, spec), scorer)


def _error_level_file(run_dir: Path, path: Path | None) -> Path | None:
    """The run's error-level model file ``path``, if its record names one; :class:`ScoreError` if it is missing."""
    if path is not None and not path.is_file():
        raise ScoreError(f"{path}: the error-level model of run {run_dir.name!r} is missing; fit it again with "
                         "framewatch fit-error-level")
    return path


@dataclass(frozen=True)
class VideoScores:
    """One video's scores: ``errors`` float32 ``(frames,)``, the ``events`` flagged (verdicts attached)
    and how many frames were scored now (``0``: all came from the cache)."""

    video_id: str
    name: str
    errors: np.ndarray
    events: list[Event] = field(default_factory=list)
    scored_now: int = 0

    @property
    def frames(self) -> int:
        return int(self.errors.shape[0])

    @property
    def peak(self) -> tuple[int, float] | None:
        """``(frame, error)`` of the video's highest error, or ``None`` for no frames."""
        if not self.frames:
            return None
        frame = int(np.argmax(self.errors))
        return frame, float(self.errors[frame])


@dataclass(frozen=True)
class ProjectScores:
    """What :func:`score_project` did: the run, the threshold used, each video's scores and ``events_path``."""

    run: ScoringRun
    stride: int
    threshold: Threshold
    videos: list[VideoScores]
    events_path: Path
    flagging: dict[str, Any]


def split_videos(project: Any, run: RunModel, split: str) -> list[Video]:
    """The project's videos that training put in ``split`` (``train``, ``val``, ``test``), in project order.

    The videos the run's record names (``data["splits"]``, by content) are in the split it names, in any
    project that holds them; the others are split by the rules of :mod:`core.data.splits` with the run's
    validation fraction and seed, which depend on the videos' content, not on the project's ids.
    """
    from core.data.splits import DEFAULT_VAL_FRACTION, replay_splits

    options = run.record.data.get("options") or {}
    splits = replay_splits(project.data, run.record.data.get("splits"), float(options.get("val_fraction", DEFAULT_VAL_FRACTION)),
                           int(run.record.config.get("seed", 0)))
    return [video for video in project.videos.values() if splits[video.id] == split]


def held_out_frames(project: Any, run: RunModel) -> dict[str, list[tuple[int, int]]] | None:
    """``{video id: [(start, end), ...]}``: the frames of ``project`` that ``run`` held out of its training
    (``data["held_out"]``, :mod:`core.data.held_out`), found by content in any project holding that footage
    (``{}`` when this project holds none of it). ``None`` for a run recorded before runs held out time, or
    one that held nothing out (``val_fraction`` 0): the old rule (whole train/val-split videos) applies."""
    from core.data.held_out import replay_held_out

    held = replay_held_out(project.data, run.record.data.get("held_out"))
    if held is None or held.mode == "none":
        return None
    return held.held


def calibration_footage(project: Any, run: RunModel) -> list[tuple[Video, list[tuple[int, int]] | None]]:
    """The normal footage a threshold for ``run`` is calibrated on: ``[(video, spans)]``, ``spans`` ``None``
    for the whole video.

    * The frames the run held out of its training (:func:`held_out_frames`): never a frame the model
      learned from.
    * If this project holds none of them (another project scored with the run): the train-split videos
      (:func:`split_videos`) whose content the run did not train on at all.
    * A run recorded before runs held out time (no ``data["held_out"]``) or with nothing held out: its
      train-split videos, the old rule.

    A run refitted from the analyst's verdicts (``framewatch refit``) adds the frames of its rejected events
    it recorded then (:func:`~core.inference.anomaly.rejected_footage.recorded_rejected`).
    """
    footage = _normal_footage(project, run)
    rejected = recorded_rejected(project, run)
    if not rejected:
        return footage
    spans_of = {video.id: spans for video, spans in footage}
    for video_id, spans in rejected.items():
        if video_id not in spans_of:
            spans_of[video_id] = spans
        elif spans_of[video_id] is not None:  # a whole video holds them already
            spans_of[video_id] = merge([*spans_of[video_id], *spans])
    return [(video, spans_of[video.id]) for video in project.videos.values() if video.id in spans_of]


def _normal_footage(project: Any, run: RunModel) -> list[tuple[Video, list[tuple[int, int]] | None]]:
    """:func:`calibration_footage` without the rejected events."""
    held = held_out_frames(project, run)
    if held is None:
        return [(video, None) for video in split_videos(project, run, "train")]
    if held:
        return [(video, held[video.id]) for video in project.videos.values() if video.id in held]
    recorded = run.record.data.get("held_out") or {}
    trained = {entry.get("content") for entry in recorded.get("trained") or () if isinstance(entry, dict)}
    return [(video, None) for video in split_videos(project, run, "train") if video.fingerprint.key not in trained]


@dataclass(frozen=True)
class CalibrationRule:
    """How a threshold is calibrated for a run (:func:`calibration_rule`): at a false-alarm ``rate`` (a minute)
    or at a ``percentile`` of the normal frames, the errors smoothed over ``smoothing`` frames; and the event
    rule flagging then uses (``min_run``, ``merge_gap``), which a rate counts its events by."""

    percentile: float | None
    rate: float | None
    smoothing: int
    min_run: int = 1
    merge_gap: int = 0

    def calibrate(self, parts: Sequence[np.ndarray], fps: float) -> Threshold:
        """The threshold of normal footage ``parts`` (one error series per stretch) at ``fps``."""
        if self.rate is not None:
            return Threshold.calibrate(parts, window=self.smoothing, smoothing="causal", rate=self.rate, fps=fps,
                                       min_run=self.min_run, merge_gap=self.merge_gap)
        return Threshold.calibrate(parts, self.percentile, self.smoothing, "causal")


def holds_out_time(run: RunModel) -> bool:
    """Whether ``run`` recorded normal footage it held out of its training (``data["held_out"]``)."""
    recorded = run.record.data.get("held_out")
    return isinstance(recorded, dict) and recorded.get("mode", "none") != "none"


def footage_fps(videos: Iterable[Video]) -> float:
    """The frame rate of ``videos`` together (weighted by their frames; 25 where unknown)."""
    rates = [(float(v.fps or 25.0), float(v.known_frame_count or 1)) for v in videos]
    total = sum(weight for _, weight in rates)
    return sum(fps * weight for fps, weight in rates) / total if total else 25.0


def calibration_rule(run: RunModel, percentile: float | None = None, rate: float | None = None,
                     smoothing: int | None = None, fps: float = 25.0, min_run: int | None = None,
                     merge_gap: int | None = None) -> CalibrationRule:
    """The rule a threshold for ``run`` is calibrated by: ``percentile`` when given; else for a run that held
    normal time out (:func:`holds_out_time`) the false-alarm ``rate`` (default
    :data:`~core.inference.anomaly.regularity.DEFAULT_ALARM_RATE`), else (a run recorded before runs held
    time out: it is calibrated on footage it trained on, whose tail says nothing of new footage's) the
    :data:`~core.inference.anomaly.regularity.DEFAULT_PERCENTILE`. ``smoothing`` (frames) when given, else the
    run's recommendation (``data["scoring"]["smooth"]``, ``framewatch export-run --smooth``), else for a run
    that held time out :data:`DEFAULT_SMOOTH_SECONDS` at ``fps``, else 1. The event rule, ``min_run`` and
    ``merge_gap`` (frames), when given, else the run's recommendation (``data["scoring"]``, ``framewatch
    export-run --min-run --merge-gap``), else a minimum run of 1 and, for a run that held time out, a merge gap of
    :data:`~core.inference.anomaly.regularity.DEFAULT_MERGE_SECONDS` at ``fps`` (else 0): every run of frames
    above the threshold is an event, and events that close are one."""
    if percentile is not None and rate is not None:
        raise ScoreError("a threshold is calibrated at a percentile or at a false-alarm rate: give one of them")
    recommended = (run.record.data.get("scoring") or {}).get("smooth")
    held = holds_out_time(run)
    if smoothing is None:
        smoothing = int(recommended) if recommended else (
            max(1, round(DEFAULT_SMOOTH_SECONDS * fps)) if held else 1)
    scoring = run.record.data.get("scoring") or {}
    if min_run is None:
        min_run = int(scoring.get("min_run") or 1)
    if merge_gap is None:
        recorded = scoring.get("merge_gap")
        merge_gap = int(recorded) if recorded is not None else (
            round(DEFAULT_MERGE_SECONDS * fps) if held else 0)
    check_flagging(0.0, min_run, merge_gap)
    events = {"min_run": int(min_run), "merge_gap": int(merge_gap)}
    if percentile is None and (rate is not None or held):
        return CalibrationRule(None, DEFAULT_ALARM_RATE if rate is None else float(rate), int(smoothing), **events)
    return CalibrationRule(DEFAULT_PERCENTILE if percentile is None else float(percentile), None, int(smoothing),
                           **events)


def calibration_errors(errors: np.ndarray, spans: list[tuple[int, int]] | None) -> list[np.ndarray]:
    """The parts of one video's ``errors`` a threshold is calibrated on: all of them (``spans`` ``None``),
    or one slice per span (frames past the scores' end left out)."""
    if spans is None:
        return [errors]
    return [errors[start:min(end, len(errors))] for start, end in spans if min(end, len(errors)) > start]


def held_out_parts(run: ScoringRun, footage: Sequence[tuple[Video, list[tuple[int, int]] | None]],
                   errors: Mapping[str, np.ndarray], project: Any = None, stride: int | None = None) -> list[np.ndarray]:
    """The error series a threshold for ``run`` is calibrated on: of a prediction run whose error level was
    cross-fitted over its held-out blocks, each block's errors under the fold level that never learned from it
    (:func:`~core.inference.anomaly.cross_fitted.cross_fitted_parts`, when they cover ``footage`` exactly and
    belong to the level ``run`` is pinned to); of a fused run with such errors (and ``project``, whose score
    cache holds both signals of ``footage`` at ``stride``), the fused series made with them
    (:func:`fused_calibration`); otherwise the slices of ``footage`` in the scored ``errors`` (``{video id:
    series}``, :func:`calibration_errors`)."""
    from core.inference.anomaly.cross_fitted import cross_fitted_parts

    parts = cross_fitted_parts(run, footage) if run.scorer == "prediction" else None
    if run.scorer == "fused" and project is not None:
        from core.inference.anomaly.scorers import fused_parts

        signals = fused_parts(run)
        found = fused_calibration(run, footage, lambda i, held: cached_video_scores(
            project, signals[i], held.id, stride if i == 0 else None))
        parts = None if found is None else found[1]
    if parts is not None:
        return parts
    return [part for video, spans in footage for part in calibration_errors(errors[video.id], spans)]


def project_run_id(project: Any, run: RunModel) -> str:
    """The id verdicts on this run's events carry: the project's run entry for the run folder, else its name."""
    folder = run.run_dir.resolve()
    for entry in project.runs.values():
        run_dir = (entry.config or {}).get("run_dir")
        if run_dir and Path(run_dir).resolve() == folder:
            return entry.id
    return run.run_id


def events_dir(project: Any, run: RunModel) -> Path:
    """The folder of ``run``'s ``events.json`` for ``project``: the run folder of one of the project's own
    runs; for a run folder elsewhere (a shipped or exported model, another project's run), which scoring
    never writes into, ``<project>/cache/events/<run name>-<hash of its path>/``."""
    folder = run.run_dir.resolve()
    if folder.parent == Path(project.runs_dir).resolve():
        return run.run_dir
    digest = hashlib.sha1(str(folder).encode("utf-8")).hexdigest()[:10]
    return Path(project.cache_dir) / "events" / f"{run.run_dir.name}-{digest}"


def score_key(run: ScoringRun, video: Video, stride: int | None = None) -> ScoreKey:
    """The score cache's key of ``video`` scored by ``run`` (``stride``: the run's default when ``None``); a
    fused run's scores are computed from its two signals' entries (:func:`score_keys`)."""
    if run.scorer == "fused":
        raise ScoreError(f"run {run.run_id!r} is scored fused: its scores come from two cache entries (score_keys)")
    params = run.spec.params(resolve_stride(run.spec, stride))
    precision = run.precision() if run.spec.scorer == "model" else "f32"
    if precision != "f32":  # reduced-precision scores never pass for (or mix with) f32 ones
        params["precision"] = precision
    return ScoreKey.of_model(run.model_key(), video.fingerprint, params)


def score_keys(run: ScoringRun, video: Video, stride: int | None = None) -> list[ScoreKey]:
    """The score cache's keys ``run``'s scores of ``video`` are read from: one, or a fused run's prediction and
    motion entries (each keyed by its model file's fingerprint and scorer)."""
    if run.scorer != "fused":
        return [score_key(run, video, stride)]
    from core.inference.anomaly.scorers import fused_parts

    prediction, motion = fused_parts(run)
    return [score_key(prediction, video, stride), score_key(motion, video)]


def _fused_series(run: ScoringRun, parts: Sequence[np.ndarray], scales: Sequence[float]) -> np.ndarray:
    """A fused run's series from its signals' ``parts`` (trimmed to the shorter: a decoder may give one frame
    more or less at another size) and their held-out ``scales``."""
    from core.inference.anomaly.fusion import fuse

    frames = min(len(part) for part in parts)
    return fuse([part[:frames] for part in parts], scales, run.fusion)


def fused_calibration(run: ScoringRun, footage: list[tuple[Video, list[tuple[int, int]] | None]],
                      series: Callable[[int, Video], np.ndarray | None]
                      ) -> tuple[tuple[float, float], list[np.ndarray]] | None:
    """A fused run's two scales and the fused series of its held-out normal ``footage``, one per span: each
    signal's :data:`~core.inference.anomaly.scorers.SCALE_PERCENTILE` th percentile there, and the signals
    divided by them and combined. ``series(i, video)`` gives signal ``i``'s scores of a video (``None``:
    unknown, and so is the answer).

    Where the predictor's error level was cross-fitted over the held-out blocks
    (:func:`~core.inference.anomaly.cross_fitted.cross_fitted_blocks`), its held-out errors are those, each
    block's under the fold level that never learned from it, as for the prediction scorer: the level's own
    errors there look more normal than new footage does (the level learned them), which would put the
    prediction's scale, and the threshold, too low. Each block then starts at its first cross-fitted frame."""
    from core.inference.anomaly.cross_fitted import cross_fitted_blocks
    from core.inference.anomaly.fusion import scale_of
    from core.inference.anomaly.scorers import SCALE_PERCENTILE, fused_parts

    if not footage:
        raise ScoreError(f"no held-out normal footage of run {run.run_id!r} in this project to put its prediction "
                         "and motion scores on a common scale (score with --scorer prediction or motion)")
    values: list[list[np.ndarray]] = [[], []]
    for video, spans in footage:
        for i in range(2):
            found = series(i, video)
            if found is None:
                return None
            values[i] += calibration_errors(found, spans)
    crossed = cross_fitted_blocks(fused_parts(run)[0], footage)
    if crossed is not None and len(crossed) == len(values[1]):
        values = [[errors for _, errors in crossed], [motion[offset:] for (offset, _), motion in
                                                      zip(crossed, values[1], strict=True)]]
    names = ("prediction", "motion")
    scales = tuple(scale_of(np.concatenate(part) if part else np.zeros(0), SCALE_PERCENTILE,
                            f"run {run.run_id!r}'s {name} scores") for name, part in zip(names, values, strict=True))
    parts = [_fused_series(run, pair, scales) for pair in zip(*values, strict=True) if min(len(p) for p in pair)]
    return scales, parts


def cached_video_scores(project: Any, run: ScoringRun, video: str, stride: int | None = None) -> np.ndarray | None:
    """``video``'s errors (float32 ``(frames,)``) if ``run`` scored all of it before, else ``None``.

    Reads only the score cache (no model, no video decoding): what a viewer shows at once for a scored video.
    A fused run's needs both signals of the video, and of its held-out footage, cached whole.
    """
    if run.scorer == "fused":
        from core.inference.anomaly.scorers import fused_parts

        parts = fused_parts(run)
        signals = [cached_video_scores(project, part, video, stride if i == 0 else None)
                   for i, part in enumerate(parts)]
        if any(signal is None for signal in signals):
            return None
        try:
            found = fused_calibration(run, calibration_footage(project, run),
                                      lambda i, held: cached_video_scores(project, parts[i], held.id,
                                                                          stride if i == 0 else None))
        except ScoreError:  # no held-out footage here, or none above 0: scoring says why
            return None
        return None if found is None else _fused_series(run, signals, found[0])
    entry = ScoreCache(project.folder).read(score_key(run, project.video(video), stride))
    return entry.scores if entry is not None and entry.complete else None


class _Scorer:
    """Scores videos through the cache, loading the model on first need, counting progress over videos."""

    def __init__(self, project: Any, run: ScoringRun, stride: int, batch_size: int, total: int | None,
                 progress: ProgressCallback | None, cancel: threading.Event | None,
                 load_model: Callable[[Path], Any], on_scores: ScoresCallback | None = None) -> None:
        self.project, self.run, self.stride, self.batch_size = project, run, stride, batch_size
        self.on_scores = on_scores
        self.cache = ScoreCache(project.folder)
        self.total, self.done = total, 0
        self.progress, self.cancel = progress, cancel
        self.stage = Stage.SCORING  # what the frames scored now are for (calibrating or scoring)
        self.load_model = load_model
        self.model: Any = None
        self.error_level: Any = None
        self.parts: list[_Scorer] = []  # a fused run's prediction and motion scorers
        self.scales: tuple[float, float] | None = None
        self._known: dict[str, list[tuple[np.ndarray, int]]] = {}  # a fused run's signals of calibration videos
        if run.scorer == "fused":
            from core.inference.anomaly.scorers import fused_parts

            prediction, motion = fused_parts(run)
            self.parts = [_Scorer(project, prediction, stride, batch_size, None, self._part_progress, cancel,
                                  load_model),
                          _Scorer(project, motion, resolve_stride(motion.spec, None), batch_size, None,
                                  self._part_progress, cancel, load_model)]

    def _part_progress(self, event: Progress) -> None:
        if self.progress is not None:
            self.progress(Progress(sum(part.done for part in self.parts), self.total, event.message, self.stage))

    def _fused_scores(self, video: Video) -> tuple[np.ndarray, int]:
        """A fused run's scores of ``video``: both signals through the cache, on their held-out scales."""
        if self.scales is None:
            stage, self.stage = self.stage, Stage.CALIBRATING
            try:
                found = fused_calibration(self.run, calibration_footage(self.project, self.run),
                                          self._calibration_signal)
                self.scales = None if found is None else found[0]
            finally:
                self.stage = stage
        signals = self._known.pop(video.id, None) or self._signals(video)
        fused = _fused_series(self.run, [signal for signal, _ in signals], self.scales)
        self._tell(video, 0, fused)
        return fused, sum(now for _, now in signals)

    def _calibration_signal(self, i: int, video: Video) -> np.ndarray:
        """Signal ``i`` of a calibration video (both signals are scored together, and kept for its scoring)."""
        if video.id not in self._known:
            self._known[video.id] = self._signals(video)
        return self._known[video.id][i][0]

    def _signals(self, video: Video) -> list[tuple[np.ndarray, int]]:
        """A fused run's prediction and motion scores of ``video`` (each through the cache under its own key) and
        the frames of each scored now: from one decode when both have frames to score
        (:mod:`~core.inference.anomaly.shared_decode`), else each by its own pass."""
        from core.inference.anomaly.shared_decode import can_share

        for part in self.parts:
            part.stage = self.stage
        pending = [_Pending(part, video) for part in self.parts]
        prediction, motion = self.parts
        if any(entry.complete for entry in pending) or not can_share(video.path, prediction.run.spec,
                                                                      motion.run.spec):
            return [part.score_pending(entry) for part, entry in zip(self.parts, pending, strict=True)]
        return self._shared_pass(video, pending)

    def _shared_pass(self, video: Video, pending: list[_Pending]) -> list[tuple[np.ndarray, int]]:
        """Both signals of ``video`` from one decode, the flow computed while the predictor runs."""
        from core.inference.anomaly.shared_decode import MOTION, score_shared

        prediction, motion = self.parts
        for part in self.parts:
            part.load()
        predicted, moved = pending
        try:
            for signal, score in score_shared(prediction.model, prediction.error_level, motion.model, video.path,
                                              prediction.run.spec, motion.run.spec, prediction.stride,
                                              prediction.batch_size, (predicted.start, moved.start),
                                              predicted.forward, self.cancel):
                if signal == MOTION:
                    moved.add(score)
                    motion.done = moved.base + len(moved.done) - moved.start
                else:
                    predicted.add(score)
        except BaseException as exc:
            for entry in pending:
                entry.stopped(isinstance(exc, Cancelled))
            raise
        return [entry.finish() for entry in pending]

    def key(self, video: Video) -> ScoreKey:
        return score_key(self.run, video, self.stride)

    def cached(self, video: Video) -> CachedScores | None:
        return self.cache.read(self.key(video))

    def load(self) -> None:
        """Load the run's model (and error level) if not yet loaded."""
        if self.model is None:
            self.model, self.error_level = self.run.load_models(self.load_model)

    def scores(self, video: Video) -> tuple[np.ndarray, int]:
        """The video's errors (from the cache, scoring what is missing) and how many frames were scored now."""
        if self.parts:
            return self._fused_scores(video)
        return self.score_pending(_Pending(self, video))

    def score_pending(self, pending: _Pending) -> tuple[np.ndarray, int]:
        """:meth:`scores` of the video ``pending`` holds what the cache had of: its own pass over the video."""
        if pending.complete:
            return pending.finish()
        self.load()
        try:
            for score in score_video(self.model, pending.video.path, self.run.spec, self.stride, self.batch_size,
                                     start=pending.start, progress=pending.forward, cancel=self.cancel,
                                     error_level=self.error_level):
                pending.add(score)
        except BaseException as exc:
            pending.stopped(isinstance(exc, Cancelled))
            raise
        return pending.finish()

    def _tell(self, video: Video, first: int, errors: np.ndarray) -> None:
        if self.on_scores is not None:
            self.on_scores(video.id, first, errors)


class _Pending:
    """One video's scores by one (single-signal) scorer while they are made: what its cache entry held, then the
    frames scored now, saved every :data:`SAVE_EVERY` frames, when stopped, and when complete."""

    def __init__(self, scorer: _Scorer, video: Video) -> None:
        self.scorer, self.video = scorer, video
        self.key = scorer.key(video)
        self.entry = scorer.cache.read(self.key)
        self.complete = self.entry is not None and self.entry.complete
        self.done: list[float] = [] if self.entry is None or self.complete else self.entry.scores.tolist()
        self.start = self.last_saved = len(self.done)
        self.base = scorer.done  # the scorer's frames done before this video
        if self.complete or self.start:
            scorer._tell(video, 0, self.entry.scores)

    def forward(self, event: Progress) -> None:
        """A scoring pass's progress (frames of this video read) as the scorer's over all its videos."""
        scorer = self.scorer
        if scorer.progress is not None:
            scorer.done = self.base + max(0, int(event.done) - self.start)
            scorer.progress(Progress(scorer.done, scorer.total, self.video.name, scorer.stage))

    def add(self, score: FrameScore) -> None:
        self.done.append(score.error)
        self.scorer._tell(self.video, score.index, np.array([score.error], np.float32))
        if len(self.done) - self.last_saved >= SAVE_EVERY:
            self.save(False)
            self.last_saved = len(self.done)

    def save(self, complete: bool) -> None:
        known = self.video.frame_count if self.video.frame_count is not None and self.video.frame_count > 0 else None
        count = len(self.done) if complete else (known if known is not None and known > len(self.done) else None)
        self.scorer.cache.write(CachedScores(self.key, np.asarray(self.done, np.float32), count, None, self.video.id))

    def stopped(self, cancelled: bool) -> None:
        """The pass stopped (cancelled, crashed, or a bad frame): keep what was scored for the next run."""
        if not self.complete and (cancelled or len(self.done) > self.last_saved):
            self.save(False)

    def finish(self) -> tuple[np.ndarray, int]:
        """The video's scores, saved complete, and how many frames were scored now."""
        if self.complete:
            return self.entry.scores, 0
        self.save(True)
        self.complete = True
        self.scorer.done = self.base + len(self.done) - self.start
        self.entry = CachedScores(self.key, np.asarray(self.done, np.float32), len(self.done), None, self.video.id)
        return self.entry.scores, len(self.done) - self.start


def _frames_to_score(scorer: _Scorer, videos: Iterable[Video]) -> int | None:
    """Frames still to score over ``videos`` (``None`` when a video's frame count is unknown)."""
    if scorer.parts:
        counts = [_frames_to_score(part, videos) for part in scorer.parts]
        return None if None in counts else sum(counts)
    total = 0
    for video in videos:
        entry = scorer.cached(video)
        if entry is not None and entry.complete:
            continue
        if video.frame_count is None:
            return None
        total += max(0, video.frame_count - (entry.frames_done if entry else 0))
    return total


def _load_model(path: Path) -> Any:
    from core.models.files import load_model_file

    return load_model_file(path)


def score_videos(project: Any, run: str | Path | ScoringRun, videos: Sequence[Video], stride: int | None = None,
                 batch_size: int = DEFAULT_BATCH_SIZE, progress: ProgressCallback | None = None,
                 cancel: threading.Event | None = None, load_model: Callable[[Path], Any] = _load_model,
                 stage: Stage = Stage.SCORING, scorer: str | None = None) -> dict[str, np.ndarray]:
    """``{video id: errors}`` (float32 ``(frames,)``) of ``videos`` scored whole by ``run``, through the score
    cache (what is cached is read, the rest scored and cached), with no threshold and no events written:
    what measuring a run on its held-out footage needs. Progress counts frames scored, in ``stage``; ``scorer``
    as for :func:`run_model` (a :class:`ScoringRun` given keeps its own)."""
    model = (run if isinstance(run, ScoringRun) else run_model(project.folder, run, scorer)).pinned()
    scorer = _Scorer(project, model, resolve_stride(model.spec, stride), batch_size, None, progress, cancel,
                     load_model)
    scorer.total = _frames_to_score(scorer, videos)
    scorer.stage = stage
    return {video.id: scorer.scores(video)[0] for video in videos}


def score_project(
    project: Any,
    run: str | Path | ScoringRun,
    videos: Sequence[str] | None = None,
    stride: int | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    threshold: Threshold | float | None = None,
    percentile: float | None = None,
    smoothing: int | None = None,
    min_run: int | None = None,
    merge_gap: int | None = None,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    load_model: Callable[[Path], Any] = _load_model,
    error: str | None = None,
    on_scores: ScoresCallback | None = None,
    on_threshold: Callable[[Threshold], None] | None = None,
    scorer: str | None = None,
    alarm_rate: float | None = None,
) -> ProjectScores:
    """Score ``videos`` (ids, names or paths; ``None``: every video of the project) with ``run``'s model.

    ``project`` is an open :class:`~core.project.Project` (read-only is enough). ``threshold``: flag with
    this one instead of calibrating on the held-out normal footage (:func:`calibration_rule`: at about
    ``alarm_rate`` false alarms a minute there, or at ``percentile`` of its frames; causal ``smoothing`` over
    that many frames); a number is a threshold set by hand, met by errors smoothed over ``smoothing``
    frames (:meth:`Threshold.manual`). ``min_run`` and ``merge_gap``: the event rule (default the run's,
    :func:`calibration_rule`), which a calibrated rate threshold counts its false alarms by too. ``error``: how a
    frame's squared errors become its error (``mse`` or ``worst-patches``,
    :func:`~core.inference.anomaly.scoring.frame_error`; default: the run's recommendation, else ``mse``).
    ``load_model`` loads the model file (tests count its calls). ``on_scores(video_id, first_frame,
errors)`` is called on the scoring thread with each video's errors as they become known: a cached video's
(or a partial entry's) at once, then every frame scored, one at a time; the calibration videos are
included, so a listener keeps the ids it wants. ``on_threshold(threshold)`` is called once the threshold
is known: the calibration videos are scored first, so it comes before any target video's frame is scored
and a live chart can flag events as the frames arrive. Returns a
    :class:`ProjectScores`; raises :class:`ScoreError` (no normal footage to calibrate on, a video
    too short), the errors of :func:`run_model` and of reading a video, each naming the file. ``scorer``:
    ``prediction``, ``motion`` or ``fused`` (:mod:`core.inference.anomaly.scorers`; default the run's own; a
    :class:`ScoringRun` given keeps its own). A fused run's on_scores hears each video's fused series whole.
    """
    model = (run if isinstance(run, ScoringRun) else run_model(project.folder, run, scorer)).pinned()
    if error is not None and error != model.spec.error:
        model = dataclasses.replace(model, spec=dataclasses.replace(model.spec, error=error))
    stride = resolve_stride(model.spec, stride)
    targets = [project.video(key) for key in videos] if videos is not None else list(project.videos.values())
    footage = [] if threshold is not None else calibration_footage(project, model)
    calibration = [video for video, _ in footage]
    fps = footage_fps(calibration or targets)
    rule = calibration_rule(model, percentile, alarm_rate, smoothing, fps, min_run, merge_gap)
    min_run, merge_gap = rule.min_run, rule.merge_gap
    if threshold is not None and not isinstance(threshold, Threshold):
        threshold = Threshold.manual(threshold, rule.smoothing)
    if threshold is None and not calibration:
        raise ScoreError(f"{project.folder}: no normal footage to calibrate the threshold on (no train-split "
                         "videos, or none the run did not train on): add videos of normal footage with split "
                         "train (framewatch project add-video --split train, or Set Split in the app's Videos "
                         "list), or set a threshold")
    check_replaceable(events_dir(project, model))  # before any scoring: its events.json will be replaced
    scorer = _Scorer(project, model, stride, batch_size, None, progress, cancel, load_model, on_scores)
    scorer.total = _frames_to_score(scorer, {video.id: video for video in [*calibration, *targets]}.values())
    errors: dict[str, tuple[np.ndarray, int]] = {}
    scorer.stage = Stage.CALIBRATING  # the videos holding the footage the threshold is calibrated on
    for video in calibration:
        errors[video.id] = scorer.scores(video)  # whole videos are scored and cached; calibration slices them
    scorer.stage = Stage.SCORING
    if threshold is None:
        parts = held_out_parts(model, footage, {key: found for key, (found, _) in errors.items()}, project, stride)
        threshold = dataclasses.replace(rule.calibrate(parts, fps), videos=len(calibration))
    threshold = dataclasses.replace(threshold, min_run=min_run, merge_gap=merge_gap)  # the rule it flags with
    if on_threshold is not None:
        on_threshold(threshold)
    for video in targets:
        if video.id not in errors:
            errors[video.id] = scorer.scores(video)
    flagging = {"threshold": threshold.value, "min_run": min_run, "merge_gap": merge_gap, "stride": stride,
                "scorer": model.scorer}
    run_id = project_run_id(project, model)
    verdicts = list(project.verdicts.values())
    results = []
    for video in targets:
        series, now = errors[video.id]
        events = flag_events(threshold.smooth(series), threshold.value, min_run, merge_gap, video.id)
        results.append(VideoScores(video.id, video.name, series, attach_verdicts(events, verdicts, run_id), now))
    events_path = _store_events(events_dir(project, model), threshold, flagging, results)
    return ProjectScores(model, stride, threshold, results, events_path, flagging)


def reflag_project(project: Any, run: str | Path | ScoringRun, threshold: Threshold, min_run: int = 1,
                   merge_gap: int = 0, stride: int | None = None, progress: ProgressCallback | None = None,
                   cancel: threading.Event | None = None) -> ProjectScores:
    """Flag again, at ``threshold`` with ``min_run`` and ``merge_gap``, every video ``run`` has scored whole
    (its cached scores: no model is loaded and no frame decoded), and replace the run's ``events.json``.

    What keeping a threshold moved on the chart does. Videos without complete cached scores are left out
    (``framewatch score`` scores them). The flagging values are checked as
    :func:`~core.inference.anomaly.events.flag_events` checks them (:class:`ScoreError`); ``progress`` hears one
    report per video and ``cancel`` stops before the file is written (:class:`Cancelled`).
    """
    model = (run if isinstance(run, ScoringRun) else run_model(project.folder, run)).pinned()
    stride = resolve_stride(model.spec, stride)
    check_flagging(threshold.value, min_run, merge_gap)
    run_id = project_run_id(project, model)
    verdicts = list(project.verdicts.values())
    results = []
    videos = list(project.videos.values())
    for number, video in enumerate(videos):
        check_cancelled(cancel, "flagging")
        if progress is not None:
            progress(Progress(number, len(videos), video.name, Stage.FLAGGING))
        series = cached_video_scores(project, model, video.id, stride)
        if series is None:
            continue
        events = flag_events(threshold.smooth(series), threshold.value, min_run, merge_gap, video.id)
        results.append(VideoScores(video.id, video.name, series, attach_verdicts(events, verdicts, run_id)))
    flagging = {"threshold": threshold.value, "min_run": int(min_run), "merge_gap": int(merge_gap), "stride": stride,
                "scorer": model.scorer}
    run_dir = events_dir(project, model)
    path = write_events(run_dir, RunEvents([event for result in results for event in result.events], threshold,
                                           flagging))
    return ProjectScores(model, stride, threshold, results, path, flagging)


def _store_events(run_dir: Path, threshold: Threshold, flagging: dict[str, Any],
                  results: list[VideoScores]) -> Path:
    """Write the run's ``events.json``: these videos' events, and the others' kept if flagged alike."""
    scored = {result.video_id for result in results}
    kept: list[Event] = []
    previous = read_events(run_dir)  # a damaged or newer events.json is refused, never replaced
    if previous is not None and previous.threshold == threshold and dict(previous.flagging) == flagging:
        kept = [event for event in previous.events if event.video_id not in scored]
    events = kept + [event for result in results for event in result.events]
    return write_events(run_dir, RunEvents(events, threshold, flagging))
