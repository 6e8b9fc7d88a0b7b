"""Keras callbacks of a training run: guard (cancel, NaN), plateau control, checkpoints, events.

They run in this order each epoch end: :class:`Guard` (a NaN/inf validation loss fails the run before
anything is saved), :class:`PlateauControl` (best value, reduce-LR-on-plateau, early stopping, with
state that survives a resume), :class:`Checkpointer` (``last.keras`` every epoch, ``best.keras`` on
improvement, ``state.json``), :class:`EventEmitter` (events for the GUI/CLI).

Cancel and NaN are raised as exceptions from the batch hooks, so ``fit`` stops within one batch and
skips the rest of the epoch (validation included); the files of the last finished epoch stay intact.
:class:`TimeBudget` stops differently: at the first batch boundary past the budget it asks ``fit`` to
stop, so the epoch in progress ends there, is validated and checkpointed like any other epoch.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras

from core.atomic_write import copy_file
from core.jobs import check_cancelled
from core.models.files import save_model
from core.training import events as ev
from core.training.errors import NonFiniteLossError


def current_learning_rate(model: keras.Model) -> float:
    try:
        return float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
    except Exception:  # noqa: BLE001 - no optimizer yet, or a schedule
        return float("nan")


def _floats(logs: dict[str, Any] | None) -> dict[str, float]:
    out = {}
    for key, value in (logs or {}).items():
        try:
            out[key] = float(keras.ops.convert_to_numpy(value))
        except (TypeError, ValueError):
            continue
    return out


class Guard(keras.callbacks.Callback):
    """Raises :class:`~core.errors.Cancelled` when ``cancel`` is set and
    :class:`~core.training.errors.NonFiniteLossError` when a loss is NaN or infinite."""

    def __init__(self, cancel: threading.Event | None, last_checkpoint: Callable[[], str]) -> None:
        super().__init__()
        self.cancel = cancel
        self.last_checkpoint = last_checkpoint
        self.epoch = 0

    def _non_finite(self, what: str, value: float, batch: int | None = None) -> None:
        where = f"epoch {self.epoch + 1}" + (f", batch {batch + 1}" if batch is not None else "")
        kept = self.last_checkpoint()
        raise NonFiniteLossError(
            f"{what} became {value} at {where}; training stopped. "
            + (f"The last good checkpoint is kept: {kept}" if kept else "No epoch had finished, so there is no checkpoint")
            + ". Try a lower learning rate, or check the data for NaN values."
        )

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch
        check_cancelled(self.cancel, "training")

    def on_train_batch_begin(self, batch, logs=None):
        check_cancelled(self.cancel, "training")

    def on_train_batch_end(self, batch, logs=None):
        loss = _floats(logs).get("loss")
        if loss is not None and not math.isfinite(loss):
            self._non_finite("the training loss", loss, batch)
        check_cancelled(self.cancel, "training")

    def on_test_batch_end(self, batch, logs=None):
        check_cancelled(self.cancel, "training")

    def on_epoch_end(self, epoch, logs=None):
        values = _floats(logs)
        for key in ("loss", "val_loss"):
            if key in values and not math.isfinite(values[key]):
                self._non_finite("the validation loss" if key == "val_loss" else "the training loss", values[key])


class TimeBudget(keras.callbacks.Callback):
    """Stops training at the first batch boundary after ``max_seconds`` of training (``fit`` time) or after
    ``max_steps`` batches, whichever comes first (either may be ``None``).

    The clock starts at the first ``on_train_begin`` (a retried ``fit`` after an out-of-memory error
    keeps it), so preparing data and building the model are not counted; the steps count from there too.
    When the budget runs out mid-epoch, ``model.stop_training`` ends the epoch after the current batch:
    Keras still runs that epoch's validation and ``on_epoch_end``, so the shortened epoch is checkpointed
    and counted as finished. ``reached`` then holds ``(epoch, batches done, batches per epoch)``.

    With ``anneal`` (specs whose ``lr_schedule`` is ``"budget-cosine"``), the learning rate also follows
    the budget: a linear warm-up over its first :data:`WARMUP` share, then a cosine from the rate the run
    started with down to :data:`FLOOR` of it at the end of the budget, set before every batch (this
    overrides any reduction on a plateau inside the budget). With both budgets the share is the larger of
    the two (time spent / ``max_seconds``, steps done / ``max_steps``).
    """

    #: Share of the budget the warm-up takes.
    WARMUP = 0.03
    #: Learning rate at the end of the budget, as a share of the starting one.
    FLOOR = 0.02

    def __init__(self, max_seconds: float | None, clock: Callable[[], float] = time.perf_counter,
                 anneal: bool = False, max_steps: int | None = None) -> None:
        super().__init__()
        if not max_seconds and not max_steps:
            raise ValueError("a budget needs max_seconds or max_steps")
        self.max_seconds = max_seconds
        self.max_steps = max_steps
        self.clock = clock
        self.anneal = anneal
        self.base_rate: float | None = None
        self.began: float | None = None
        self.steps = 0
        self.epoch = 0
        self.reached: tuple[int, int, int | None] | None = None

    def on_train_begin(self, logs=None):
        if self.began is None:
            self.began = self.clock()
        if self.anneal and self.base_rate is None:
            rate = current_learning_rate(self.model)
            self.base_rate = rate if math.isfinite(rate) and rate > 0 else None

    def rate_at(self, share: float) -> float:
        """The annealed learning rate after ``share`` (0..1) of the budget."""
        base = float(self.base_rate or 0.0)
        share = min(max(share, 0.0), 1.0)
        if share < self.WARMUP:
            return base * max(share / self.WARMUP, 0.05)
        progress = (share - self.WARMUP) / (1.0 - self.WARMUP)
        return base * (self.FLOOR + (1.0 - self.FLOOR) * 0.5 * (1.0 + math.cos(math.pi * progress)))

    def share(self) -> float:
        """How much of the budget is spent (0..1 and beyond): the larger of the time and the step shares."""
        shares = [self.steps / self.max_steps] if self.max_steps else []
        if self.max_seconds:
            shares.append((self.clock() - (self.began or 0.0)) / self.max_seconds)
        return max(shares)

    def on_train_batch_begin(self, batch, logs=None):
        if self.anneal and self.base_rate:
            self.model.optimizer.learning_rate.assign(self.rate_at(self.share()))

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        self.steps += 1
        if self.reached is None and self.share() >= 1.0:
            self.reached = (self.epoch, batch + 1, self.params.get("steps"))
            self.model.stop_training = True


class PlateauControl(keras.callbacks.Callback):
    """Tracks the best ``monitor`` value; reduce-LR-on-plateau and early stopping with resumable state.

    ``patience`` (early stopping) and ``lr_patience`` count epochs without an improvement of more
    than ``min_delta``; ``None`` or 0 turns either off. The learning rate is multiplied by ``lr_factor``
    (not below ``min_lr``). ``state`` (a dict) round-trips through ``state.json``.
    """

    def __init__(self, monitor: str, patience: int | None, lr_patience: int | None, lr_factor: float = 0.5,
                 min_lr: float = 1e-6, min_delta: float = 0.0, state: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.monitor = monitor
        self.patience = patience
        self.lr_patience = lr_patience
        self.lr_factor = lr_factor
        self.min_lr = min_lr
        self.min_delta = min_delta
        self.state: dict[str, Any] = {"best": None, "best_epoch": None, "wait": 0, "lr_wait": 0, "stopped_early": False}
        self.state.update(state or {})
        self.improved = False
        #: the learning rate the last epoch trained with (before any reduction at its end)
        self.epoch_learning_rate = float("nan")

    def on_epoch_end(self, epoch, logs=None):
        self.epoch_learning_rate = current_learning_rate(self.model)
        values = _floats(logs)
        value = values.get(self.monitor, values.get("loss"))
        s = self.state
        self.improved = value is not None and (s["best"] is None or value < s["best"] - self.min_delta)
        if self.improved:
            s.update(best=value, best_epoch=epoch, wait=0, lr_wait=0)
            return
        s["wait"] += 1
        s["lr_wait"] += 1
        if self.lr_patience and s["lr_wait"] >= self.lr_patience:
            lr = current_learning_rate(self.model)
            new = max(lr * self.lr_factor, self.min_lr)
            if new < lr:
                self.model.optimizer.learning_rate = new
            s["lr_wait"] = 0
        if self.patience and s["wait"] >= self.patience:
            s["stopped_early"] = True
            self.model.stop_training = True


class Checkpointer(keras.callbacks.Callback):
    """Every epoch: ``last.keras`` (optimizer included), ``best.keras`` when ``plateau`` improved, then
    ``on_saved(epoch, logs, is_best)`` (the trainer writes ``state.json`` and ``run.json`` there)."""

    def __init__(self, run_dir: Path, plateau: PlateauControl,
                 on_saved: Callable[[int, dict[str, float], bool], None]) -> None:
        super().__init__()
        self.run_dir = Path(run_dir)
        self.plateau = plateau
        self.on_saved = on_saved
        self.last_path = ""
        self.last_is_best = False

    def on_epoch_end(self, epoch, logs=None):
        last = self.run_dir / "last.keras"
        save_model(self.model, last)
        if self.plateau.improved:
            copy_file(last, self.run_dir / "best.keras")
        self.last_path = str(last)
        self.last_is_best = self.plateau.improved
        self.on_saved(epoch, _floats(logs), self.plateau.improved)


class EventEmitter(keras.callbacks.Callback):
    """Turns Keras hooks into :mod:`core.training.events` sent to ``emit``."""

    def __init__(self, emit: Callable[[ev.TrainingEvent], None], epochs: int, initial_epoch: int,
                 batch_size: int | None, checkpointer: Checkpointer, started: float,
                 clips_per_epoch: int | None = None) -> None:
        """``clips_per_epoch`` (when known) makes clips/s count the short last batch of an epoch as it is."""
        super().__init__()
        self.clips_per_epoch = clips_per_epoch
        self.emit = emit
        self.epochs = epochs
        self.initial_epoch = initial_epoch
        self.batch_size = batch_size
        self.checkpointer = checkpointer
        self.started = started
        self.batches: int | None = None
        #: training batches done in the current epoch (fewer than ``batches`` when a time budget cut it short)
        self.epoch_batches = 0
        self.epoch = initial_epoch
        self.batch_began = 0.0
        self.epoch_began = 0.0
        self.batch_times: list[float] = []
        self.epoch_overheads: list[float] = []
        self.samples_per_s = 0.0

    def _common(self, batch: int, finished: bool = False) -> dict[str, Any]:
        """The fields of an event about ``batch`` (0-based) of the epoch; ``done`` counts it once ``finished``."""
        total = self.epochs * self.batches if self.batches else None
        done = (self.epoch * (self.batches or 0)) + batch + int(finished)
        return dict(done=done, total=total, epoch=self.epoch, epochs=self.epochs, batch=batch,
                    batches=self.batches, elapsed_s=time.perf_counter() - self.started)

    def _clips_in(self, batch: int) -> int:
        """Clips in batch ``batch`` of an epoch (the last one may be short)."""
        if self.clips_per_epoch and self.batch_size:
            return max(0, min(self.batch_size, self.clips_per_epoch - batch * self.batch_size))
        return self.batch_size or 0

    def _eta(self, batches_left_in_epoch: int) -> float | None:
        if not self.batches or not self.batch_times:
            return None
        recent = self.batch_times[-50:]
        per_batch = sorted(recent)[len(recent) // 2]
        epochs_left = self.epochs - self.epoch - 1
        overhead = (sum(self.epoch_overheads) / len(self.epoch_overheads)) if self.epoch_overheads else 0.0
        return (batches_left_in_epoch + epochs_left * self.batches) * per_batch + epochs_left * overhead

    def on_train_begin(self, logs=None):
        self.batches = self.params.get("steps")

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch
        self.epoch_batches = 0
        self.epoch_began = time.perf_counter()
        lr = current_learning_rate(self.model)
        self.emit(ev.EpochStarted(**self._common(0), learning_rate=lr,
                                  message=f"epoch {epoch + 1}/{self.epochs} (learning rate {lr:.3g})"))

    def on_train_batch_begin(self, batch, logs=None):
        self.batch_began = time.perf_counter()
        self.emit(ev.BatchStarted(**self._common(batch), message=f"epoch {self.epoch + 1}/{self.epochs}"))

    def on_train_batch_end(self, batch, logs=None):
        self.epoch_batches = batch + 1
        took = time.perf_counter() - self.batch_began
        if batch > 0 or self.epoch > self.initial_epoch:  # the very first batch includes tracing
            self.batch_times.append(took)
        if self.batch_size and took > 0:
            self.samples_per_s = self._clips_in(batch) / took
        values = _floats(logs)
        loss = values.pop("loss", float("nan"))
        left = (self.batches - batch - 1) if self.batches else 0
        self.emit(ev.BatchEnded(
            **self._common(batch, finished=True), loss=loss, metrics=values,
            learning_rate=current_learning_rate(self.model),
            samples_per_s=self.samples_per_s, eta_s=self._eta(left),
            message=f"epoch {self.epoch + 1}/{self.epochs} loss {loss:.4g}",
        ))

    def on_epoch_end(self, epoch, logs=None):
        values = _floats(logs)
        took = time.perf_counter() - self.epoch_began
        batches = self.epoch_batches or self.batches or 0
        if batches and self.batch_times:
            self.epoch_overheads.append(max(0.0, took - batches * self.batch_times[-1]))
        clips = sum(self._clips_in(b) for b in range(batches)) if self.batch_size else 0
        rate = (clips / took) if (clips and took > 0) else self.samples_per_s
        val = values.get("val_loss")
        loss = values.get("loss", float("nan"))
        text = f"epoch {epoch + 1}/{self.epochs} loss {loss:.4g}" + (f" val_loss {val:.4g}" if val is not None else "")
        self.emit(ev.EpochEnded(
            **self._common(batches), loss=loss, val_loss=val, metrics=values,
            learning_rate=self.checkpointer.plateau.epoch_learning_rate, samples_per_s=rate, eta_s=self._eta(0),
            checkpoint=self.checkpointer.last_path, is_best=self.checkpointer.last_is_best, message=text,
        ))
