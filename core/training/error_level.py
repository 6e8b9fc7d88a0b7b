"""Fit a run's error-level model (:mod:`core.models.error_level`) on the project's normal footage.

:func:`fit_error_level` runs the run's next-frame predictor over every window lying wholly inside the normal
footage the run **held out** of its training (``data["held_out"]``, :mod:`core.data.held_out`: whole videos
or time blocks, found by content), so the level learned is the error of normal footage the predictor never
saw, not of frames it memorised; a run recorded before runs held out time uses its train- and val-split
videos, as before. It keeps each input clip
and the predictor's squared error map of the frame after it, and trains the small error-level network to
predict those maps. The network is written to ``error_level.keras`` in the run folder and the run record
says so (``data["error_level"]``); the run's ``events.json``, flagged in the old units, is set aside as
``events.before-error-level.json``; from then on scoring divides each frame's squared errors by the level
it predicts (:func:`~core.inference.anomaly.scoring.score_video`), the score cache keys the scores by both files,
and ``framewatch export-run`` carries the file along. With two or more held-out blocks it also **cross-fits**:
one more level per fold of the blocks (up to :data:`~core.inference.anomaly.cross_fitted.MAX_FOLDS`), each on
the other folds' windows, scores each block's windows with its own fold's level and keeps those errors in
``error_level_calibration.npz``, which the threshold is calibrated on (:mod:`core.inference.anomaly.cross_fitted`):
a level fitted on the calibration frames would make them look more normal than new footage.

It takes a couple of minutes on a 2-core CPU for UCSD Ped2's 16 training videos (2,500 windows of 64x96);
the clips and error maps kept are capped at :data:`MAX_BYTES` (an even sample of the windows beyond it), so
memory stays bounded on long footage. Progress counts windows while the predictor runs, then training steps; ``cancel``
stops between batches with :class:`~core.errors.Cancelled` and leaves the run as it was.
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

import numpy as np

from core.data.spans import merge
from core.errors import Cancelled
from core.inference.anomaly.events_file import EVENTS_FILE
from core.inference.anomaly.project_scoring import (
    ScoringRun,
    events_dir,
    held_out_frames,
    run_model,
    split_videos,
)
from core.inference.anomaly.scoring import squared_errors
from core.inference.errors import ScoreError
from core.jobs import ProgressCallback, Stage, check_cancelled, report
from core.preprocessing.frames import iter_resized
from core.runs import is_model_folder
from core.video.open import open_video

#: The run folder's file of the error-level model.
ERROR_LEVEL_FILE = "error_level.keras"
#: What the run's ``events.json`` is renamed to when its errors change units (:func:`fit_error_level`).
EVENTS_SET_ASIDE = "events.before-error-level.json"
#: The most bytes of input clips and error maps kept for training (an even sample of the windows beyond it).
MAX_BYTES = 256 * 1024 * 1024
DEFAULT_EPOCHS = 16
DEFAULT_BATCH_SIZE = 16
#: Windows per predictor call while the training data is collected.
_PREDICT_BATCH = 32


@dataclasses.dataclass(frozen=True)
class ErrorLevelFit:
    """What :func:`fit_error_level` did: the file written, the windows (of how many videos) it learned
    from, the epochs, the final loss, the mean squared error of the predictor on them, and the seconds taken."""

    path: Path
    windows: int
    videos: int
    epochs: int
    loss: float
    mean_error: float
    seconds: float
    #: where the run's previous ``events.json`` went (its threshold was in the old units), if it had one
    events_set_aside: Path | None = None
    #: folds of held-out blocks cross-fitted for the threshold's calibration (0: none, :func:`train_error_level`)
    folds: int = 0
    #: the file of cross-fitted calibration errors written, if any
    #: (:data:`~core.inference.anomaly.cross_fitted.CALIBRATION_FILE`)
    calibration: Path | None = None

    def record_entry(self) -> dict[str, Any]:
        """The run record's ``data["error_level"]``."""
        entry = {"file": self.path.name, "windows": self.windows, "videos": self.videos, "epochs": self.epochs,
                 "loss": self.loss, "mean_error": self.mean_error, "seconds": round(self.seconds, 1)}
        if self.calibration is not None:
            entry["cross_fitted"] = {"file": self.calibration.name, "folds": self.folds}
        return entry


def fit_error_level(project: Any, run: str | Path | ScoringRun, *, epochs: int = DEFAULT_EPOCHS,
                    batch_size: int = DEFAULT_BATCH_SIZE, seed: int = 0, load_model: Any = None,
                    progress: ProgressCallback | None = None,
                    cancel: threading.Event | None = None) -> ErrorLevelFit:
    """Fit and save ``run``'s error-level model on ``project``'s held-out normal footage (module doc).

    :class:`ScoreError` for a run whose model is not a next-frame predictor, a run still training, a
    project without held-out footage (or, for an older run, train- or val-split footage) long enough for
    one window, bad ``epochs`` / ``batch_size``;
    :class:`~core.errors.Cancelled` when ``cancel`` is set (nothing is written).
    """
    model_run = run if isinstance(run, ScoringRun) else run_model(project.folder, run)
    check_fittable(model_run)
    fit = train_error_level(project, model_run, model_run.run_dir / ERROR_LEVEL_FILE, epochs=epochs,
                            batch_size=batch_size, seed=seed, load_model=load_model, progress=progress,
                            cancel=cancel, cross_fit=True)
    fit = dataclasses.replace(fit, events_set_aside=_set_aside_events(project, model_run))
    record = dataclasses.replace(model_run.record, data={**model_run.record.data, "error_level": fit.record_entry()})
    record.save(model_run.run_dir)
    return fit


def check_fittable(model_run: ScoringRun) -> None:
    """:class:`ScoreError` unless ``model_run`` may have its error level fitted: a next-frame predictor,
    not still training, not a read-only model folder (exported or shipped)."""
    if model_run.spec.task != "predict":
        raise ScoreError(f"{model_run.run_dir}: an error level is learned for next-frame predictors; run "
                         f"{model_run.run_id!r} is a {model_run.spec.task} model")
    if model_run.record.effective_status() == "running":
        raise ScoreError(f"{model_run.run_dir}: run {model_run.run_id!r} is still training; fit its error level "
                         "when it has finished")
    if is_model_folder(model_run.run_dir, model_run.record):
        raise ScoreError(f"{model_run.run_dir}: run {model_run.run_id!r} is a read-only model folder (exported or "
                         "shipped): fit the error level on the run it was exported from, then export that again")


def train_error_level(project: Any, model_run: ScoringRun, path: Path, *,
                      extra: dict[str, list[tuple[int, int]]] | None = None, epochs: int = DEFAULT_EPOCHS,
                      batch_size: int = DEFAULT_BATCH_SIZE, seed: int = 0, load_model: Any = None,
                      progress: ProgressCallback | None = None,
                      cancel: threading.Event | None = None, cross_fit: bool = False) -> ErrorLevelFit:
    """Fit ``model_run``'s error-level model on its held-out normal footage, and on the ``extra`` spans
    (``{video id: [(start, end), ...]}``, footage it never trained on: a review's rejected events), and
    write it to ``path``; the run's record and events are left alone (:func:`fit_error_level` updates them).

    ``cross_fit``: when the run held out two or more blocks of time (or videos) and every window was kept (no
    sampling beyond :data:`MAX_BYTES`), also fit one level per fold of the blocks on the other folds' windows and
    write each block's errors under its own fold's level beside ``path``
    (:mod:`core.inference.anomaly.cross_fitted`): the threshold is then calibrated on frames no level it is
    divided by learned from. The errors of :func:`fit_error_level`; :class:`~core.errors.Cancelled` before
    ``path`` is written."""
    started = time.monotonic()
    for name, value in (("epochs", epochs), ("batch size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ScoreError(f"error level: {name} must be a whole number >= 1, got {value!r}")
    held = held_out_frames(project, model_run)
    spans: dict[str, list[tuple[int, int]] | None]
    if held is None:  # a run recorded before runs held out time: its train- and val-split videos
        videos = split_videos(project, model_run, "train") + split_videos(project, model_run, "val")
        spans = {video.id: None for video in videos}
        if not videos and not extra:
            raise ScoreError(f"{project.folder}: no train- or val-split videos to learn the normal error level from")
    else:
        videos = [video for video in project.videos.values() if video.id in held]
        spans = {video.id: held[video.id] for video in videos}
        if not videos and not extra:
            raise ScoreError(f"{project.folder}: the project holds none of the footage run {model_run.run_id!r} "
                             "held out of its training, which its error level is learned from: fit it in the "
                             "project the run trained in")
    for video_id, more in (extra or {}).items():
        if video_id not in spans:
            spans[video_id] = list(more)
        elif spans[video_id] is not None:
            spans[video_id] = merge([*spans[video_id], *more])
    videos = [video for video in project.videos.values() if video.id in spans]
    if load_model is None:
        from core.models.files import load_model_file as load_model
    predictor = model_run.load_model(load_model)
    clips, errors, where = _collect(predictor, model_run, videos, spans, progress, cancel)
    model, loss = _train(model_run, clips, errors, epochs, batch_size, seed, progress, cancel)
    folds = None
    if cross_fit and held is not None and not extra and where is not None:
        folds = _cross_fit(model_run, videos, spans, clips, errors, where, epochs, batch_size, seed, progress, cancel)
    from core.inference.anomaly.cross_fitted import CALIBRATION_FILE, save_calibration
    from core.inference.model_fingerprint import model_fingerprint
    from core.models.files import save_model

    save_model(model, path)
    calibration = path.with_name(CALIBRATION_FILE)
    if folds is not None:
        save_calibration(calibration, model_fingerprint(path), *folds[1:])
    elif cross_fit:  # a file of an earlier level would be ignored (another fingerprint); leave none behind
        calibration.unlink(missing_ok=True)
    return ErrorLevelFit(path, len(clips), len(videos), epochs, loss, float(errors.mean(dtype=np.float64)),
                         time.monotonic() - started, folds=folds[0] if folds else 0,
                         calibration=calibration if folds else None)


def _cross_fit(model_run: ScoringRun, videos: list[Any], spans: dict[str, list[tuple[int, int]] | None],
               clips: np.ndarray, errors: np.ndarray, where: np.ndarray, epochs: int, batch_size: int, seed: int,
               progress: ProgressCallback | None, cancel: threading.Event | None,
               ) -> tuple[int, list[dict[str, Any]], list[dict[str, np.ndarray]]] | None:
    """Fold levels and each held-out block's errors under its own fold's level (``train_error_level``'s
    ``cross_fit``): ``(folds, blocks, errors)`` for :func:`~core.inference.anomaly.cross_fitted.save_calibration`,
    or ``None`` with fewer than two blocks holding windows. ``where`` ``(windows, 2)``: each window's video
    (index into ``videos``) and predicted frame."""
    from core.inference.anomaly.cross_fitted import MAX_FOLDS
    from core.inference.anomaly.scoring import ERRORS, frame_error
    from core.models.error_level import expected_squared_error

    length = model_run.spec.frames
    blocks, members = [], []
    for v, video in enumerate(videos):
        for start, end in spans[video.id] or ():
            inside = np.flatnonzero((where[:, 0] == v) & (where[:, 1] >= start + length) & (where[:, 1] < end))
            if inside.size:
                blocks.append({"content": video.fingerprint.key, "start": int(start), "end": int(end),
                               "first": int(where[inside[0], 1])})
                members.append(inside[np.argsort(where[inside, 1])])
    if len(blocks) < 2:
        return None
    count = min(MAX_FOLDS, len(blocks))
    series: list[dict[str, np.ndarray]] = [{} for _ in blocks]
    for fold in range(count):
        mine = [i for i in range(len(blocks)) if i % count == fold]
        others = np.concatenate([members[i] for i in range(len(blocks)) if i % count != fold])
        report(progress, 0, None, f"cross-fitting the error level: fold {fold + 1} of {count}", Stage.ERROR_LEVEL)
        level, _ = _train(model_run, clips[others], errors[others], epochs, batch_size, seed + 1 + fold, progress,
                          cancel)
        for i in mine:
            index = members[i]
            expected = np.concatenate([expected_squared_error(level, clips[index[j:j + _PREDICT_BATCH]])
                                       for j in range(0, len(index), _PREDICT_BATCH)])
            relative = errors[index, ..., 0] / expected
            series[i] = {name: np.array([frame_error(m, name) for m in relative], np.float32) for name in ERRORS}
            blocks[i]["fold"] = fold
    return count, blocks, series


def _set_aside_events(project: Any, run: ScoringRun) -> Path | None:
    """The run's ``events.json`` renamed to :data:`EVENTS_SET_ASIDE`: its threshold and kept flagging are in
    the units of the errors before this level (the next scoring flags anew); ``None`` if it had none."""
    events = events_dir(project, run) / EVENTS_FILE
    if not events.is_file():
        return None
    aside = events.with_name(EVENTS_SET_ASIDE)
    events.replace(aside)
    return aside


def _collect(predictor: Any, run: ScoringRun, videos: list[Any], spans: dict[str, list[tuple[int, int]] | None],
             progress: ProgressCallback | None, cancel: threading.Event | None,
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Every window's uint8 input clip and the predictor's squared error map of the frame after it, of
    ``videos``: ``spans`` ``{video id: [(start, end), ...] or None}`` says which windows of a video, those
    whose input frames and predicted frame all lie inside one span, or (``None``) all of them. Third: each
    window's video (index into ``videos``) and predicted frame, ``(windows, 2)``, or ``None`` when the windows
    are an even sample (beyond :data:`MAX_BYTES`)."""
    spec = run.spec
    pre = spec.preprocess
    length = spec.frames
    clip_bytes = length * pre.height * pre.width * pre.channels + pre.height * pre.width * 4  # + its float32 map
    counts = [sum(max(0, end - start - length) for start, end in spans[video.id]) if spans[video.id] is not None
              else None if video.frame_count is None else max(0, video.frame_count - length) for video in videos]
    total: int | None = None if None in counts else sum(counts)
    step = max(1, math.ceil(total * clip_bytes / MAX_BYTES)) if total else 1
    limit = MAX_BYTES // clip_bytes
    clips: list[np.ndarray] = []
    errors: list[np.ndarray] = []
    pending: list[np.ndarray] = []
    targets: list[np.ndarray] = []
    where: list[tuple[int, int]] = []
    seen = 0
    sampled = step > 1

    def run_batch() -> None:
        check_cancelled(cancel, "fitting the error level")
        batch = np.stack(pending)
        output = np.asarray(predictor.predict_on_batch(spec.model_input(batch)))
        if output.ndim != batch.ndim or output.shape[-3:-1] != batch.shape[-3:-1]:
            raise ScoreError(f"{run.model_path}: the model gave output {output.shape} for clips {batch.shape}: "
                             "it does not predict frames")
        clips.extend(batch)
        errors.extend(squared_errors(output[:, -1], np.stack(targets)))
        pending.clear()
        targets.clear()
        report(progress, seen, total, "running the predictor on the normal videos", Stage.ERROR_LEVEL)

    for v, video in enumerate(videos):
        recent: deque[np.ndarray] = deque(maxlen=length)
        inside = None if spans[video.id] is None else _inside(spans[video.id], length)
        with open_video(video.path) as source:
            for index, frame in enumerate(iter_resized(source, pre, cancel=cancel)):
                if inside is not None and index >= len(inside):
                    break
                if len(recent) == length and (inside is None or inside[index]):
                    if seen % step == 0 and len(clips) + len(pending) < limit:
                        pending.append(np.stack(recent))
                        targets.append(frame)
                        where.append((v, index))
                    else:
                        sampled = True
                        if len(pending) == _PREDICT_BATCH:
                            run_batch()
                    seen += 1
                recent.append(frame)
    if pending:
        run_batch()
    if not clips:
        names = ", ".join(str(video.path) for video in videos[:3]) + (" ..." if len(videos) > 3 else "")
        raise ScoreError(f"{names}: the normal footage held out of training is too short: predicting one frame "
                         f"takes {length + 1} frames")
    located = None if sampled else np.asarray(where, np.int64).reshape(-1, 2)
    return np.stack(clips), np.stack(errors)[..., None].astype(np.float32), located


def _inside(spans: list[tuple[int, int]], length: int) -> np.ndarray:
    """``(frames,)`` bool: frame ``t`` is a window's predicted frame whose ``length`` input frames
    ``t - length .. t - 1`` and itself lie inside one of ``spans``."""
    last = max((end for _, end in spans), default=0)
    inside = np.zeros(last, bool)
    for start, end in spans:
        inside[start + length:end] = True
    return inside


def _train(run: ScoringRun, clips: np.ndarray, errors: np.ndarray, epochs: int, batch_size: int, seed: int,
           progress: ProgressCallback | None, cancel: threading.Event | None) -> tuple[Any, float]:
    import keras

    from core.models.error_level import build_error_level_model, compile_error_level

    keras.utils.set_random_seed(seed)
    _, length, height, width, channels = clips.shape
    model = compile_error_level(build_error_level_model(length, height, width, channels,
                                                        mean_error=float(errors.mean()), seed=seed))
    steps = math.ceil(len(clips) / batch_size)
    stopped: list[bool] = []

    class Watch(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.epoch = 0

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            if cancel is not None and cancel.is_set():
                stopped.append(True)
                self.model.stop_training = True
            report(progress, self.epoch * steps + batch + 1, epochs * steps, f"epoch {self.epoch + 1}/{epochs}",
                   Stage.ERROR_LEVEL)

    history = model.fit(clips, errors, batch_size=batch_size, epochs=epochs, shuffle=True, verbose=0,
                        callbacks=[Watch()])
    if stopped:
        raise Cancelled("fitting the error level cancelled")
    losses = history.history.get("loss") or [float("nan")]
    loss = float(losses[-1])
    if not math.isfinite(loss):
        raise ScoreError(f"{run.run_dir}: fitting the error level diverged (loss {loss}); nothing was written")
    return model, loss
