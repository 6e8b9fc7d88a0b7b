"""Train a model as a long job: ``train(spec, data, run_dir, progress, cancel)`` and ``resume(run_dir, ...)``.

A run folder holds ``run.json`` (the :class:`~core.runs.record.RunRecord`), ``state.json``
(what a resume needs: last finished epoch, best value, plateau counters, learning rate),
``last.keras`` (every epoch, optimizer included) and ``best.keras`` (best ``monitor`` value so far);
an LRCN trained on cached features also has ``encoder.keras`` and, at the end, ``model.keras`` (the
full clip model). All files are written atomically.

Events (see :mod:`core.training.events`) go to ``progress``; ``cancel`` (a ``threading.Event``) stops
the run within one batch with :class:`~core.errors.Cancelled`, leaving it resumable from the last
finished epoch. A NaN or infinite loss raises :class:`~core.training.errors.NonFiniteLossError` and
keeps the last good checkpoint.

Repeatability: the seed goes to ``keras.utils.set_random_seed`` (Python, NumPy and backend RNGs:
weight initialisation, shuffling, dropout). On the CPU, two runs with the same seed, data and thread
count give the same losses up to float rounding from multi-threaded reductions; with
``deterministic=True`` TensorFlow's op determinism is switched on and they match exactly (slower).
A resumed run reseeds with ``seed + epoch``, so it is repeatable but not bit-identical to an
uninterrupted run.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import keras

from core.errors import Cancelled, FramewatchError
from core.jobs import ProgressCallback, Stage, check_cancelled, with_stage
from core.models.files import load_model_file, save_model
from core.models.registry import build_model
from core.models.specs import LRCNSpec, ModelSpec, spec_from_dict
from core.runs.process import this_process
from core.runs.record import BEST_CHECKPOINT, LAST_CHECKPOINT, RECORD_FILE, RunRecord, read_state, write_state
from core.runs.resume_rule import resume_refusal
from core.training import events as ev
from core.training import memory
from core.training.callbacks import Checkpointer, EventEmitter, Guard, PlateauControl, TimeBudget
from core.training.data import TrainingData
from core.training.devices import configure_devices, library_versions
from core.training.errors import ConfigError, NonFiniteLossError, TrainingError
from core.training.memory import (
    BatchChoice,
    OutOfMemoryError,
    choose_batch,
    estimate_step_bytes,
    is_out_of_memory,
)
from core.training.options import TrainingConfig


@dataclass(frozen=True)
class RunResult:
    run_dir: Path
    status: str
    record: RunRecord
    model_path: Path | None
    model: Any = None

    @property
    def history(self) -> list[dict[str, float]]:
        return self.record.history


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def train(
    spec: ModelSpec,
    data: TrainingData,
    run_dir: str | Path,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    config: TrainingConfig | None = None,
    on_record: Any = None,
) -> RunResult:
    """Start a new run in ``run_dir`` (created; must not hold a run yet) and train to the end.

    ``on_record(record)`` (optional) is called with the :class:`RunRecord` after every epoch and at
    the end, e.g. to store it in a project. Returns a :class:`RunResult`; raises ``Cancelled``,
    ``NonFiniteLossError`` or ``TrainingError`` with the run folder left resumable.
    """
    config = config or TrainingConfig()
    run_dir = Path(run_dir)
    if (run_dir / RECORD_FILE).exists():
        raise TrainingError(f"{run_dir} already holds a training run: resume it, or choose a new run folder")
    run_dir.mkdir(parents=True, exist_ok=True)
    has_val = data.validation is not None
    record = RunRecord(
        run_id=run_dir.name, task=spec.task, preset=spec.preset, spec=spec.to_dict(), config=config.to_dict(),
        data=data.summary(), created=_now(), monitor=config.monitor if has_val else "loss",
    )
    record.save(run_dir)
    return _run(spec, config, data, run_dir, record, None, progress, cancel, on_record)


def resume(
    run_dir: str | Path,
    data: TrainingData,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    epochs: int | None = None,
    on_record: Any = None,
    learning_rate: float | None = None,
    max_minutes: float | None = None,
    steps_per_epoch: int | None = None,
) -> RunResult:
    """Continue the run in ``run_dir`` at the epoch after its last checkpoint, optimizer state included.

    :class:`TrainingError` (one line naming the run) for a run without a checkpoint to continue from: a
    read-only model folder (exported or shipped) or a run that never finished an epoch
    (:mod:`core.runs.resume_rule`); nothing is written to such a folder.

    ``epochs`` raises the run's total epoch count (e.g. to train a finished run longer);
    ``learning_rate`` replaces the saved one (e.g. lower, after the loss became NaN); ``max_minutes``
    replaces the run's time budget; ``steps_per_epoch`` the batches of each epoch from here on (kept in the
    record, so a later resume keeps it too). A budget applies per invocation: a run stopped by its budget
    resumes at the epoch after the shortened one with the full budget again (early stopping by patience,
    by contrast, needs a larger ``epochs``).
    """
    run_dir = Path(run_dir)
    record = RunRecord.load(run_dir)
    refusal = resume_refusal(run_dir, record)
    if refusal:  # a read-only model folder, or a run with no finished epoch: nothing to continue from
        raise TrainingError(refusal)
    if record.effective_status() == "running":
        where = record.process or {}
        raise TrainingError(f"{run_dir}: the run is still training (process {where.get('pid')} on "
                            f"{where.get('host')}): stop it before resuming")
    spec = spec_from_dict(record.spec)
    config = TrainingConfig.from_dict(record.config)
    if epochs is not None:
        config = dataclasses.replace(config, epochs=epochs)
    if max_minutes is not None:
        config = dataclasses.replace(config, max_minutes=max_minutes)
    if steps_per_epoch is not None:
        config = dataclasses.replace(config, steps_per_epoch=steps_per_epoch)
    record.config = config.to_dict()
    state = read_state(run_dir)
    done = (state["epoch"] + 1) if state else 0
    patience_stop = bool(state and state.get("plateau", {}).get("stopped_early"))
    if done >= config.epochs or (patience_stop and epochs is None):
        raise TrainingError(f"{run_dir}: the run already finished {done} epochs ({record.status}); "
                            "give a larger epoch count to train further")
    record.resumes.append(_now())
    record.error = ""
    if state and learning_rate:
        state["learning_rate"] = float(learning_rate)
    if state and state.get("plateau", {}).get("stopped_early"):
        state["plateau"].update(stopped_early=False, wait=0)
    return _run(spec, config, data, run_dir, record, state, progress, cancel, on_record)


def _prepare_cached_lrcn(spec: LRCNSpec, data: TrainingData, run_dir: Path, config: TrainingConfig,
                         progress: ProgressCallback | None, cancel: threading.Event | None):
    """Encoder (built or loaded from ``encoder.keras``), head model, and feature-level training data."""
    from core.models import lrcn
    from core.models.compile import compile_model
    from core.training.feature_cache import cached_features, cached_sequence_features

    key = data.description.get("cache_key")
    if not data.is_arrays and not (key and hasattr(data.x, "__getitem__") and hasattr(data.x, "__len__")):
        raise TrainingError("training an LRCN on cached features needs the clips as arrays, or a batch sequence "
                            "in a fixed order with a cache_key in the data description")
    encoder_path = run_dir / "encoder.keras"
    if encoder_path.is_file():
        encoder = load_model_file(encoder_path)
    else:
        encoder = lrcn.build_frame_encoder(spec)
        save_model(encoder, encoder_path)
    cache_dir = Path(config.feature_cache_dir) if config.feature_cache_dir else run_dir / "features"
    if spec.weights in (None, "", "none", "None"):
        key = f"{key}:seed{config.seed}"  # random weights differ per seed
    validation = None
    if data.is_arrays:
        x, y = cached_features(spec, encoder, data.x, cache_dir, config.seed, progress, cancel), data.y
        if isinstance(data.validation, tuple):
            xv = cached_features(spec, encoder, data.validation[0], cache_dir, config.seed, progress, cancel)
            validation = (xv, data.validation[1])
    else:
        x, y = cached_sequence_features(spec, encoder, data.x, f"{key}:train", cache_dir, progress, cancel)
        if data.validation is not None:
            validation = cached_sequence_features(spec, encoder, data.validation, f"{key}:val", cache_dir,
                                                  progress, cancel)
    head = compile_model(lrcn.build_sequence_head(spec, int(x.shape[-1])), spec)
    return encoder, head, TrainingData(x, y, validation, data.batch_size, data.description)


def _run(spec: ModelSpec, config: TrainingConfig, data: TrainingData, run_dir: Path, record: RunRecord,
         state: dict[str, Any] | None, progress: ProgressCallback | None, cancel: threading.Event | None,
         on_record: Any) -> RunResult:
    started = time.perf_counter()
    prior_duration = record.duration_s
    emit = progress or (lambda event: None)
    initial_epoch = (state["epoch"] + 1) if state else 0
    model = None
    encoder = None
    emitter: EventEmitter | None = None
    cached = isinstance(spec, LRCNSpec) and spec.cache_features

    def publish() -> None:
        record.duration_s = prior_duration + (time.perf_counter() - started)
        record.save(run_dir)
        if on_record is not None:
            on_record(record)

    def finish(status: str, error: str = "") -> None:
        record.status = status
        record.error = error
        record.finished = _now()
        publish()
        batches = emitter.batches if emitter is not None and emitter.batches else 1  # done/total count batches
        emit(ev.RunEnded(
            done=record.epochs_completed * batches, total=config.epochs * batches,
            epoch=max(0, record.epochs_completed - 1),
            epochs=config.epochs, elapsed_s=time.perf_counter() - started, status=status,
            epochs_completed=record.epochs_completed, best_epoch=record.best_epoch, best_value=record.best_value,
            monitor=record.monitor, model_path=str(record.model_file_path(run_dir) or ""), error=error,
            message=f"{status} after {record.epochs_completed} epochs" + (f": {error}" if error else ""),
        ))

    with contextlib.ExitStack() as placement:  # the model's keras.device scope, when one is chosen
        try:
            check_cancelled(cancel, "training")
            data.check(spec)
            try:
                setup = configure_devices(config.mixed_precision, config.reserve_cores, config.cpu_threads, config.device)
            except ValueError as exc:
                raise ConfigError(str(exc)) from None
            if setup.placement is not None:
                placement.enter_context(keras.device(setup.placement))
            record.device = setup.to_dict()
            record.versions = library_versions()
            keras.utils.set_random_seed(config.seed + initial_epoch)
            if config.deterministic and keras.backend.backend() == "tensorflow":
                import tensorflow as tf

                tf.config.experimental.enable_op_determinism()
            fit_data = data
            if cached:
                encoder, model, fit_data = _prepare_cached_lrcn(spec, data, run_dir, config,
                                                                with_stage(progress, Stage.PREPARING), cancel)
            else:
                model = build_model(spec)
            last = run_dir / LAST_CHECKPOINT
            if state:  # resume checked that the checkpoint is there (core.runs.resume_rule)
                model = load_model_file(last, compile=True)
                if state.get("learning_rate"):
                    model.optimizer.learning_rate = float(state["learning_rate"])
            if config.jit_compile != "auto":
                model.jit_compile = bool(config.jit_compile)

            has_val = fit_data.validation is not None
            monitor = config.monitor if has_val else "loss"
            record.monitor = monitor
            plateau = PlateauControl(monitor, config.patience or None, config.lr_patience or None, config.lr_factor,
                                     config.min_lr, config.min_delta, state.get("plateau") if state else None)

            def on_saved(epoch: int, logs: dict[str, float], is_best: bool) -> None:
                lr = float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))  # for the next epoch
                record.history.append({"epoch": epoch, **logs, "learning_rate": plateau.epoch_learning_rate,
                                       "time": _now()})
                record.epochs_completed = epoch + 1
                record.best_epoch = plateau.state["best_epoch"]
                record.best_value = plateau.state["best"]
                write_state(run_dir, {"epoch": epoch, "plateau": dict(plateau.state), "learning_rate": lr,
                                      "seed": config.seed})
                publish()

            checkpointer = Checkpointer(run_dir, plateau, on_saved)
            anneal = getattr(spec, "lr_schedule", "") == "budget-cosine"
            budget = TimeBudget(config.max_minutes * 60.0 if config.max_minutes else None, anneal=anneal,
                                max_steps=config.max_steps) if config.max_minutes or config.max_steps else None
            guard = Guard(cancel, lambda: checkpointer.last_path or (str(last) if last.is_file() else ""))
            arrays = fit_data.is_arrays or cached
            requested = config.batch_size if arrays else (fit_data.batch_size or config.batch_size)
            choice = _choose_batch(spec, model, requested, setup.gpu, fit_data)
            batch_size = choice.chosen
            if choice.changed:
                _note(record, emit, choice.reason)
            record.batch_size = batch_size
            clips = None if config.steps_per_epoch else fit_data.summary().get("train_clips")
            emitter = EventEmitter(emit, config.epochs, initial_epoch, batch_size, checkpointer, started,
                                   int(clips) if clips else None)
            steps = StepCounter()
            record.status = "running"
            record.process = this_process().to_dict()  # a run whose process is gone shows as interrupted
            publish()
            emit(ev.RunStarted(
                done=0, total=None, epoch=initial_epoch, epochs=config.epochs, run_dir=str(run_dir),
                initial_epoch=initial_epoch, device=setup.summary, parameters=int(model.count_params()),
                message=("resuming at" if initial_epoch else "starting") + f" epoch {initial_epoch + 1}/{config.epochs} "
                f"on {setup.summary}, batch {batch_size}",
            ))
            fit_args: dict[str, Any] = dict(
                epochs=config.epochs, initial_epoch=initial_epoch,
                callbacks=[steps, guard, *([budget] if budget else []), plateau, checkpointer, emitter], verbose=0,
                steps_per_epoch=config.steps_per_epoch,
            )
            if has_val:
                fit_args["validation_steps"] = config.validation_steps
            for retry in range(MAX_OOM_RETRIES + 1):
                steps.count = 0
                try:
                    _fit(model, fit_data, batch_size, requested, arrays, config, fit_args)
                    break
                except Exception as exc:
                    if not is_out_of_memory(exc) or isinstance(exc, FramewatchError):
                        raise
                    if steps.count or batch_size == 1 or retry == MAX_OOM_RETRIES or not (arrays or _can_rebatch(fit_data)):
                        raise OutOfMemoryError(
                            f"out of {choice.where} while training with batch {batch_size} (after {steps.count} steps "
                            "of this attempt): train with a smaller --batch-size or --size, fewer --frames, or a "
                            "smaller preset" + ("; the run is resumable from its last finished epoch"
                                                if record.epochs_completed else "")) from None
                    smaller = max(1, batch_size // 2)
                    _note(record, emit, f"out of {choice.where} with batch {batch_size} in the first step: retrying with "
                                        f"batch {smaller}")
                    batch_size = emitter.batch_size = record.batch_size = smaller
                    publish()
        except Cancelled:
            _finish_model(record, run_dir, spec, encoder, cached)
            finish("cancelled", "cancelled by the user; resume to continue from the last finished epoch")
            raise
        except NonFiniteLossError as exc:
            _finish_model(record, run_dir, spec, encoder, cached)
            finish("failed", str(exc))
            raise
        except FramewatchError as exc:
            finish("failed", str(exc))
            raise
        except KeyboardInterrupt:
            _finish_model(record, run_dir, spec, encoder, cached)
            finish("cancelled", "interrupted; resume to continue from the last finished epoch")
            raise
        except Exception as exc:
            message = f"training failed: {type(exc).__name__}: {exc}"
            finish("failed", message)
            raise TrainingError(message) from exc
    status = "stopped_early" if plateau.state.get("stopped_early") else "completed"
    if budget is not None and budget.reached is not None and record.epochs_completed < config.epochs:
        status = "stopped_early"
        _note(record, emit, _budget_note(config.max_minutes, budget.reached, config.epochs, config.max_steps,
                                         budget.steps))
    final = _finish_model(record, run_dir, spec, encoder, cached)
    finish(status)
    return RunResult(run_dir, status, record, record.model_file_path(run_dir), final)


#: How often a real out-of-memory error in the first step halves the batch before the run fails.
MAX_OOM_RETRIES = 4


class StepCounter(keras.callbacks.Callback):
    """Training steps finished in the current ``fit`` call (an out-of-memory error after the first is not retried)."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self.count += 1


def _budget_note(minutes: float | None, reached: tuple[int, int, int | None], epochs: int,
                 max_steps: int | None = None, steps: int = 0) -> str:
    """``time budget of M minutes reached in epoch E after B of N batches; ...``: why a run stopped."""
    epoch, batches, per_epoch = reached
    where = f"epoch {epoch + 1}/{epochs} after {batches}" + (f" of {per_epoch}" if per_epoch else "") + " batches"
    what = f"step budget of {max_steps} steps" if max_steps and steps >= max_steps else \
        f"time budget of {minutes:g} minutes"
    return (f"{what} reached in {where}; that epoch counts as finished "
            "(resume to train on, with the budget again)")


def _note(record: RunRecord, emit: ProgressCallback, text: str) -> None:
    """A change the trainer made to make the run fit: kept in ``run.json`` and shown in the progress output."""
    record.notes.append(text)
    emit(ev.RunNote(done=0, total=None, message=text))


def _can_rebatch(data: TrainingData) -> bool:
    return hasattr(data.x, "rebatch")


def _rebatch(stream: Any, batch_size: int, requested: int) -> Any:
    """A ``tf.data`` stream of batches of ``requested`` clips cut into batches of ``batch_size``."""
    return stream if stream is None or batch_size >= requested else stream.rebatch(batch_size)


def _fit(model: Any, data: TrainingData, batch_size: int, requested: int, arrays: bool, config: TrainingConfig,
         fit_args: dict[str, Any]) -> None:
    """``model.fit`` with ``batch_size`` clips per step (arrays: sliced by Keras; streams: rebatched)."""
    if arrays:
        model.fit(data.x, data.y, batch_size=batch_size, shuffle=config.shuffle,
                  validation_data=data.validation, **fit_args)
        return
    stream = _rebatch(data.x, batch_size, requested) if _can_rebatch(data) else data.x
    validation = data.validation
    if validation is not None and _can_rebatch(data) and hasattr(validation, "rebatch"):
        validation = _rebatch(validation, batch_size, requested)
    if config.steps_per_epoch and hasattr(stream, "repeat"):  # tf.data: epochs of N steps, not one pass
        stream = stream.repeat()
    model.fit(stream, shuffle=False, validation_data=validation, **fit_args)


def _choose_batch(spec: ModelSpec, model: Any, requested: int, gpu: bool, data: TrainingData) -> BatchChoice:
    """The batch to train with: the requested one when its memory estimate fits, else the largest that does."""
    if not data.is_arrays and not _can_rebatch(data):  # the stream's batches are what they are
        return BatchChoice(requested, requested)
    per_input = math.prod(spec.input_shape) * (1 if spec.input_dtype == "uint8" else 4) * 2  # x and y
    estimate = estimate_step_bytes(model, per_input)
    available, where = memory.available_memory(gpu)
    shape = "x".join(str(d) for d in spec.input_shape)
    return choose_batch(requested, estimate, available, where, lambda: _what_fits(spec, available or 0), shape)


def _what_fits(spec: ModelSpec, available: int) -> list[str]:
    """CLI options that would fit one clip in ``available`` bytes: a smaller size, fewer frames, another preset."""
    from core.models.registry import get_preset, presets

    budget = available * memory.USABLE_FRACTION

    def need(candidate: ModelSpec) -> int | None:
        if hasattr(candidate, "weights"):
            candidate = candidate.replace(weights=None)  # no download to estimate
        try:
            built = build_model(candidate, compile=False)
        except Exception:  # noqa: BLE001 - a size this family cannot take: not an option
            return None
        per_input = math.prod(candidate.input_shape) * 2
        return estimate_step_bytes(built, per_input).for_batch(1)

    options = []
    for scale in (0.75, 0.5, 0.25):
        height, width = int(spec.height * scale), int(spec.width * scale)
        if min(height, width) >= 16 and (bytes_ := need(spec.replace(height=height, width=width))) is not None \
                and bytes_ <= budget:
            options.append(f"--size {height}x{width} (batch 1 about {memory.gb(bytes_)})")
            break
    if spec.frames >= 4 and (bytes_ := need(spec.replace(frames=spec.frames // 2))) is not None and bytes_ <= budget:
        options.append(f"--frames {spec.frames // 2} (about {memory.gb(bytes_)})")
    for name in presets(spec.task):
        if name == spec.preset:
            continue
        other = get_preset(spec.task, name)
        bytes_ = need(other.replace(frames=spec.frames, channels=spec.channels, input_dtype=spec.input_dtype))
        if bytes_ is not None and bytes_ <= budget:
            options.append(f"--preset {name} at {other.height}x{other.width} (about {memory.gb(bytes_)})")
            break
    return options


def _finish_model(record: RunRecord, run_dir: Path, spec: ModelSpec, encoder: Any, cached: bool) -> Any:
    """Point the record at the model to use (best checkpoint; ``model_path`` is a file name of the run folder,
    :meth:`~core.runs.record.RunRecord.model_file_path`); for a cached LRCN assemble the clip model."""
    best = run_dir / BEST_CHECKPOINT
    if not best.is_file():
        return None
    if not cached:
        record.model_path = best.name
        return None
    from core.models import lrcn

    head = load_model_file(best)
    full = lrcn.assemble(spec, encoder, head)
    path = run_dir / "model.keras"
    save_model(full, path)
    record.model_path = path.name
    return full
