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
and ``framewatch export-run`` carries the file along.

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

    def record_entry(self) -> dict[str, Any]:
        """The run record's ``data["error_level"]``."""
        return {"file": self.path.name, "windows": self.windows, "videos": self.videos, "epochs": self.epochs,
                "loss": self.loss, "mean_error": self.mean_error, "seconds": round(self.seconds, 1)}


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
    started = time.monotonic()
    for name, value in (("epochs", epochs), ("batch size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ScoreError(f"error level: {name} must be a whole number >= 1, got {value!r}")
    model_run = run if isinstance(run, ScoringRun) else run_model(project.folder, run)
    if model_run.spec.task != "predict":
        raise ScoreError(f"{model_run.run_dir}: an error level is learned for next-frame predictors; run "
                         f"{model_run.run_id!r} is a {model_run.spec.task} model")
    if model_run.record.effective_status() == "running":
        raise ScoreError(f"{model_run.run_dir}: run {model_run.run_id!r} is still training; fit its error level "
                         "when it has finished")
    if is_model_folder(model_run.run_dir, model_run.record):
        raise ScoreError(f"{model_run.run_dir}: run {model_run.run_id!r} is a read-only model folder (exported or "
                         "shipped): fit the error level on the run it was exported from, then export that again")
    held = held_out_frames(project, model_run)
    if held is None:  # a run recorded before runs held out time: its train- and val-split videos
        videos = split_videos(project, model_run, "train") + split_videos(project, model_run, "val")
        spans = None
        if not videos:
            raise ScoreError(f"{project.folder}: no train- or val-split videos to learn the normal error level from")
    else:
        videos = [video for video in project.videos.values() if video.id in held]
        spans = {video.id: held[video.id] for video in videos}
        if not videos:
            raise ScoreError(f"{project.folder}: the project holds none of the footage run {model_run.run_id!r} "
                             "held out of its training, which its error level is learned from: fit it in the "
                             "project the run trained in")
    if load_model is None:
        from core.models.files import load_model_file as load_model
    predictor = model_run.load_model(load_model)
    clips, errors = _collect(predictor, model_run, videos, spans, progress, cancel)
    model, loss = _train(model_run, clips, errors, epochs, batch_size, seed, progress, cancel)
    from core.models.files import save_model

    path = model_run.run_dir / ERROR_LEVEL_FILE
    save_model(model, path)
    fit = ErrorLevelFit(path, len(clips), len(videos), epochs, loss, float(errors.mean(dtype=np.float64)),
                        time.monotonic() - started, _set_aside_events(project, model_run))
    record = dataclasses.replace(model_run.record, data={**model_run.record.data, "error_level": fit.record_entry()})
    record.save(model_run.run_dir)
    return fit


def _set_aside_events(project: Any, run: ScoringRun) -> Path | None:
    """The run's ``events.json`` renamed to :data:`EVENTS_SET_ASIDE`: its threshold and kept flagging are in
    the units of the errors before this level (the next scoring flags anew); ``None`` if it had none."""
    events = events_dir(project, run) / EVENTS_FILE
    if not events.is_file():
        return None
    aside = events.with_name(EVENTS_SET_ASIDE)
    events.replace(aside)
    return aside


def _collect(predictor: Any, run: ScoringRun, videos: list[Any], spans: dict[str, list[tuple[int, int]]] | None,
             progress: ProgressCallback | None, cancel: threading.Event | None) -> tuple[np.ndarray, np.ndarray]:
    """Every window's uint8 input clip and the predictor's squared error map of the frame after it: the
    windows of the whole ``videos``, or (``spans``, ``{video id: [(start, end), ...]}``) only those whose
    input frames and predicted frame all lie inside one span."""
    spec = run.spec
    pre = spec.preprocess
    length = spec.frames
    clip_bytes = length * pre.height * pre.width * pre.channels + pre.height * pre.width * 4  # + its float32 map
    if spans is not None:
        total: int | None = sum(max(0, end - start - length) for video in videos for start, end in spans[video.id])
    else:
        known = [video.frame_count for video in videos]
        total = sum(max(0, count - length) for count in known) if all(c is not None for c in known) else None
    step = max(1, math.ceil(total * clip_bytes / MAX_BYTES)) if total else 1
    limit = MAX_BYTES // clip_bytes
    clips: list[np.ndarray] = []
    errors: list[np.ndarray] = []
    pending: list[np.ndarray] = []
    targets: list[np.ndarray] = []
    seen = 0

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

    for video in videos:
        recent: deque[np.ndarray] = deque(maxlen=length)
        inside = None if spans is None else _inside(spans[video.id], length)
        with open_video(video.path) as source:
            for index, frame in enumerate(iter_resized(source, pre, cancel=cancel)):
                if inside is not None and index >= len(inside):
                    break
                if len(recent) == length and (inside is None or inside[index]):
                    if seen % step == 0 and len(clips) + len(pending) < limit:
                        pending.append(np.stack(recent))
                        targets.append(frame)
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
    return np.stack(clips), np.stack(errors)[..., None].astype(np.float32)


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
