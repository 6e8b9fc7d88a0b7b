"""The training engine: events, checkpoints, run records, cancel, resume, NaN, plateau control, repeatability."""

from __future__ import annotations

import json
import threading
import zipfile
from pathlib import Path

import keras
import numpy as np
import pytest

from core.errors import Cancelled
from core.models import make_spec
from core.models.files import load_model_file
from core.runs import RunRecord, read_state
from core.training import events as ev
from core.training.callbacks import PlateauControl, TimeBudget
from core.training.data import TrainingData
from core.training.errors import ModelFileError, NonFiniteLossError, TrainingError
from core.training.trainer import ConfigError, TrainingConfig, resume, train
from tests.core.training.test_support import FRAMES, SIZE, moving_squares, shifted

BATCHES = 4  # 32 clips in batches of 8


@pytest.fixture(scope="module")
def data() -> TrainingData:
    x, y = shifted(moving_squares(40, frames=5, size=16))
    return TrainingData.from_arrays(x, y, validation_fraction=0.2)


@pytest.fixture
def spec():
    return make_spec("predict", "default", frames=4, height=16, width=16, filters=(4,), kernels=(3,),
                     encoder_filters=4)


def config(**changes) -> TrainingConfig:
    return TrainingConfig(**{"epochs": 3, "batch_size": 8, **changes})


def iterations(path: Path) -> int:
    return int(keras.ops.convert_to_numpy(load_model_file(path, compile=True).optimizer.iterations))


def test_a_run_emits_events_writes_checkpoints_and_a_record(spec, data, tmp_path: Path) -> None:
    events: list[ev.TrainingEvent] = []
    result = train(spec, data, tmp_path / "run", progress=events.append, config=config())
    assert result.status == "completed"
    assert isinstance(events[0], ev.RunStarted) and isinstance(events[-1], ev.RunEnded)
    kinds = [type(e).__name__ for e in events]
    assert kinds.count("EpochStarted") == kinds.count("EpochEnded") == 3
    assert kinds.count("BatchStarted") == kinds.count("BatchEnded") == 3 * BATCHES
    batch_ends = [e for e in events if isinstance(e, ev.BatchEnded)]
    assert [e.done for e in batch_ends] == list(range(1, 3 * BATCHES + 1))
    # batch is 0-based, as the events say (it once was the count done: "batch 5/4" under the bar, the curve a batch late)
    assert [e.batch for e in batch_ends] == list(range(BATCHES)) * 3
    assert all(e.total == 3 * BATCHES and e.batches == BATCHES for e in batch_ends)
    assert all(np.isfinite(e.loss) and "mse" in e.metrics and e.learning_rate > 0 for e in batch_ends)
    assert all(e.samples_per_s > 0 for e in batch_ends)
    assert (events[-1].done, events[-1].total) == (3 * BATCHES, 3 * BATCHES)  # batches, like every other event
    assert batch_ends[-1].eta_s == 0.0 and batch_ends[5].eta_s > 0
    epoch_ends = [e for e in events if isinstance(e, ev.EpochEnded)]
    assert all(e.val_loss is not None and e.checkpoint.endswith("last.keras") for e in epoch_ends)
    assert epoch_ends[0].is_best
    assert all(0.0 <= (e.fraction or 0.0) <= 1.0 for e in events)

    run = tmp_path / "run"
    assert {p.name for p in run.iterdir()} >= {"run.json", "state.json", "last.keras", "best.keras"}
    assert not list(run.glob(".*tmp*"))  # no temp files left behind
    record = json.loads((run / "run.json").read_text())
    assert record["status"] == "completed" and record["epochs_completed"] == 3
    assert [h["epoch"] for h in record["history"]] == [0, 1, 2]
    assert {"loss", "val_loss", "mse", "learning_rate"} <= set(record["history"][0])
    assert record["spec"]["preset"] == "default" and record["config"]["epochs"] == 3
    assert record["device"]["backend"] == keras.backend.backend()
    assert {"keras", "numpy", "python", "framewatch"} <= set(record["versions"])
    assert record["duration_s"] > 0 and record["monitor"] == "val_loss"
    assert record["data"]["train_clips"] == 32 and record["data"]["validation_clips"] == 8
    assert record["model_path"] == "best.keras"  # a file of the run folder, wherever the folder goes
    assert iterations(run / "last.keras") == 3 * BATCHES
    assert read_state(run)["epoch"] == 2


def test_a_folder_with_a_run_is_not_overwritten(spec, data, tmp_path: Path) -> None:
    train(spec, data, tmp_path / "run", config=config(epochs=1))
    with pytest.raises(TrainingError, match="already holds a training run"):
        train(spec, data, tmp_path / "run", config=config(epochs=1))


def test_cancel_stops_within_one_batch_and_the_run_resumes(spec, data, tmp_path: Path) -> None:
    cancel = threading.Event()
    seen: list[ev.TrainingEvent] = []

    def progress(event: ev.TrainingEvent) -> None:
        seen.append(event)
        if isinstance(event, ev.BatchEnded) and event.epoch == 1 and event.batch == 1:  # its second batch
            cancel.set()

    run = tmp_path / "run"
    with pytest.raises(Cancelled):
        train(spec, data, run, progress=progress, cancel=cancel, config=config())
    batch_starts = [e for e in seen if isinstance(e, ev.BatchStarted)]
    assert (batch_starts[-1].epoch, batch_starts[-1].batch) == (1, 1)  # no batch began after the cancel
    assert isinstance(seen[-1], ev.RunEnded) and seen[-1].status == "cancelled"
    assert (seen[-1].done, seen[-1].total) == (BATCHES, 3 * BATCHES)  # the finished epoch's batches
    record = RunRecord.load(run)
    assert record.status == "cancelled" and record.epochs_completed == 1
    assert read_state(run)["epoch"] == 0
    assert iterations(run / "last.keras") == BATCHES  # the checkpoint of the last finished epoch

    events: list[ev.TrainingEvent] = []
    result = resume(run, data, progress=events.append)
    assert result.status == "completed"
    assert events[0].initial_epoch == 1
    assert [e.epoch for e in events if isinstance(e, ev.EpochStarted)] == [1, 2]
    assert [h["epoch"] for h in result.history] == [0, 1, 2]
    assert iterations(run / "last.keras") == 3 * BATCHES  # optimizer state carried over
    assert len(result.record.resumes) == 1


def test_a_run_cancelled_before_its_first_checkpoint_is_not_resumed(spec, data, tmp_path: Path) -> None:
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):  # e.g. a NaN loss in the first epoch: no checkpoint to continue from
        train(spec, data, tmp_path / "run", cancel=cancel, config=config(epochs=1))
    before = (tmp_path / "run" / "run.json").read_bytes()
    for learning_rate in (None, 1e-4):
        with pytest.raises(TrainingError, match="run 'run' has no checkpoint to resume from .*train a new run"):
            resume(tmp_path / "run", data, learning_rate=learning_rate)
    assert (tmp_path / "run" / "run.json").read_bytes() == before
    assert RunRecord.load(tmp_path / "run").status == "cancelled"


def test_an_exported_run_is_read_only_and_resume_never_trains_over_its_model(spec, data, tmp_path: Path) -> None:
    from core.runs.export import export_run

    train(spec, data, tmp_path / "run", config=config(epochs=1))
    out = export_run(tmp_path / "run", tmp_path / "exported")
    before = {path.name: path.read_bytes() for path in out.iterdir()}
    for epochs in (None, 5):
        with pytest.raises(TrainingError, match="run 'exported' is a read-only model folder .*cannot be resumed"):
            resume(out, data, epochs=epochs)
    assert {path.name: path.read_bytes() for path in out.iterdir()} == before


def test_resume_continues_a_finished_run_with_more_epochs(spec, data, tmp_path: Path) -> None:
    run = tmp_path / "run"
    train(spec, data, run, config=config(epochs=2))
    with pytest.raises(TrainingError, match="already finished 2 epochs"):
        resume(run, data)
    lr_before = read_state(run)["learning_rate"]
    result = resume(run, data, epochs=4)
    assert [h["epoch"] for h in result.history] == [0, 1, 2, 3]
    assert iterations(run / "last.keras") == 4 * BATCHES
    assert result.history[2]["learning_rate"] == pytest.approx(lr_before)
    assert RunRecord.load(run).config["epochs"] == 4


class Poisonable(keras.utils.PyDataset):
    """Batches of next-frame pairs (a streamed dataset); once ``poisoned``, batch 2 has NaN targets."""

    def __init__(self, x: np.ndarray, y: np.ndarray) -> None:
        super().__init__()
        self.x, self.y, self.poisoned = x, y, False

    def __len__(self) -> int:
        return len(self.x) // 8

    def __getitem__(self, index: int):
        sl = slice(index * 8, index * 8 + 8)
        y = self.y[sl].copy()
        if self.poisoned and index == 1:
            y[:] = np.nan
        return self.x[sl], y


def test_nan_loss_stops_the_run_and_keeps_the_last_good_checkpoint(spec, data, tmp_path: Path) -> None:
    stream = Poisonable(data.x, data.y)
    run = tmp_path / "run"
    events: list[ev.TrainingEvent] = []

    def progress(event: ev.TrainingEvent) -> None:
        events.append(event)
        if isinstance(event, ev.EpochEnded):
            stream.poisoned = True

    with pytest.raises(NonFiniteLossError, match=r"became nan at epoch 2, batch \d.*last good checkpoint.*last\.keras"):
        train(spec, TrainingData(stream, batch_size=8), run, progress=progress, config=config(epochs=3))
    assert events[-1].status == "failed" and "nan" in events[-1].error
    record = RunRecord.load(run)
    assert record.status == "failed" and record.epochs_completed == 1 and "nan" in record.error
    model = load_model_file(run / "last.keras")
    assert all(np.all(np.isfinite(w)) for w in model.get_weights())
    assert read_state(run)["epoch"] == 0

    # the failed run resumes from its last good checkpoint, here with clean data and a lower learning rate
    result = resume(run, TrainingData(Poisonable(data.x, data.y), batch_size=8), learning_rate=1e-4)
    assert result.status == "completed" and [h["epoch"] for h in result.history] == [0, 1, 2]
    assert result.history[1]["learning_rate"] == pytest.approx(1e-4)


def test_plateau_control_reduces_the_learning_rate_then_stops_early() -> None:
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    plateau = PlateauControl("val_loss", patience=3, lr_patience=2, lr_factor=0.5, min_lr=1e-4)
    plateau.set_model(model)
    lrs, stops = [], []
    for epoch, value in enumerate([1.0, 0.9, 0.95, 0.96, 0.97]):
        model.stop_training = False
        plateau.on_epoch_end(epoch, {"val_loss": value, "loss": 0.1})
        lrs.append(float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)))
        stops.append(model.stop_training)
    assert lrs == pytest.approx([1e-3, 1e-3, 1e-3, 5e-4, 5e-4])
    assert stops == [False, False, False, False, True]
    assert plateau.state["best"] == 0.9 and plateau.state["best_epoch"] == 1 and plateau.state["stopped_early"]
    # the state round-trips: a resumed controller goes on counting where it left off
    again = PlateauControl("val_loss", patience=3, lr_patience=2, state=json.loads(json.dumps(plateau.state)))
    assert again.state["wait"] == 3


def test_early_stopping_ends_a_run_as_stopped_early(spec, data, tmp_path: Path) -> None:
    # min_delta so large that no epoch after the first counts as an improvement
    result = train(spec, data, tmp_path / "run", config=config(epochs=10, patience=2, min_delta=100.0))
    assert result.status == "stopped_early" and len(result.history) == 3
    assert RunRecord.load(tmp_path / "run").best_epoch == 0


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_time_budget_stops_at_the_first_batch_boundary_past_it() -> None:
    clock = _Clock()
    budget = TimeBudget(60.0, clock=clock)
    budget.set_model(keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)]))
    budget.set_params({"steps": 5})
    budget.model.stop_training = False
    budget.on_train_begin()
    budget.on_epoch_begin(0)
    clock.now += 59.0
    budget.on_train_batch_end(0)
    assert budget.reached is None and not budget.model.stop_training
    budget.on_train_begin()  # a retried fit keeps the first start
    clock.now += 1.0
    budget.on_train_batch_end(1)
    assert budget.reached == (0, 2, 5) and budget.model.stop_training


def test_an_annealing_time_budget_warms_up_then_follows_a_cosine_to_the_floor() -> None:
    clock = _Clock()
    budget = TimeBudget(100.0, clock=clock, anneal=True)
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="mse")
    budget.set_model(model)
    budget.on_train_begin()
    rates = []
    for elapsed in (0.0, 1.5, 3.0, 51.5, 100.0, 150.0):
        clock.now = 100.0 + elapsed
        budget.on_train_batch_begin(0)
        rates.append(float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)))
    assert rates[0] == pytest.approx(0.0005)  # the warm-up starts at 5% of the rate
    assert rates[1] == pytest.approx(0.005) and rates[2] == pytest.approx(0.01)  # 3% of the budget: the full rate
    assert rates[3] == pytest.approx(0.01 * (0.02 + 0.98 * 0.5))  # half way through the cosine
    assert rates[4] == pytest.approx(0.0002) and rates[5] == pytest.approx(0.0002)  # the floor, 2%
    plain = TimeBudget(100.0, clock=clock)  # without anneal the rate is left alone
    plain.set_model(model)
    plain.on_train_begin()
    plain.on_train_batch_begin(0)
    assert float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)) == pytest.approx(0.0002)

def test_a_time_budget_ends_the_run_stopped_early_and_resume_trains_on(spec, data, tmp_path: Path) -> None:
    # a budget shorter than any batch: the run stops after the first batch of each invocation
    run = tmp_path / "run"
    events: list[ev.TrainingEvent] = []
    result = train(spec, data, run, progress=events.append, config=config(max_minutes=1e-9))
    assert result.status == "stopped_early"
    record = RunRecord.load(run)
    assert record.notes[-1].startswith("time budget of 1e-09 minutes reached in epoch 1/3 after 1 of 4 batches")
    assert any(isinstance(e, ev.RunNote) and "time budget" in e.message for e in events)
    assert len([e for e in events if isinstance(e, ev.BatchEnded)]) == 1
    ended = [e for e in events if isinstance(e, ev.EpochEnded)]
    assert [(e.done, e.total) for e in ended] == [(1, 3 * BATCHES)]  # the batches done, not the epoch's length
    # the shortened epoch was validated and checkpointed like a whole one
    assert record.epochs_completed == 1 and "val_loss" in record.history[0]
    assert (run / "best.keras").is_file() and iterations(run / "last.keras") == 1
    assert read_state(run)["epoch"] == 0

    # per invocation: a resume gets the budget again and starts at the next epoch
    again = resume(run, data)
    assert again.status == "stopped_early" and [h["epoch"] for h in again.history] == [0, 1]
    assert iterations(run / "last.keras") == 2
    assert again.record.notes[-1].startswith("time budget of 1e-09 minutes reached in epoch 2/3 after 1 of 4")
    # a new budget replaces the run's: the last epoch runs whole and the run completes
    last = resume(run, data, max_minutes=60.0)
    assert last.status == "completed" and iterations(run / "last.keras") == 2 + BATCHES
    assert last.record.config["max_minutes"] == 60.0


def test_a_step_budget_anneals_over_its_steps_and_the_further_budget_leads() -> None:
    clock = _Clock()
    budget = TimeBudget(None, clock=clock, anneal=True, max_steps=100)
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="mse")
    budget.set_model(model)
    budget.set_params({"steps": 40})
    budget.model.stop_training = False
    budget.on_train_begin()
    budget.on_epoch_begin(0)

    def rate() -> float:
        return float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))

    budget.on_train_batch_begin(0)
    assert rate() == pytest.approx(0.0005)  # no step done: the start of the warm-up, however long it took
    clock.now += 1e6  # time does not count without a time budget
    for batch in range(3):
        budget.on_train_batch_end(batch)
    budget.on_train_batch_begin(3)
    assert rate() == pytest.approx(0.01)  # 3 of 100 steps: the warm-up is over
    for batch in range(3, 51):
        budget.on_train_batch_end(batch % 40)
    budget.on_train_batch_begin(0)
    assert rate() == pytest.approx(0.01 * (0.02 + 0.98 * 0.5 * (1 + np.cos(np.pi * 48 / 97))))
    assert budget.reached is None and not model.stop_training
    for batch in range(51, 100):
        budget.on_train_batch_end(batch % 40)
    assert budget.reached == (0, 20, 40) and model.stop_training  # after the 100th step (batch 20 of the epoch)

    both = TimeBudget(100.0, clock=clock, anneal=True, max_steps=1000)  # with both, the further one leads
    model.optimizer.learning_rate.assign(0.01)  # the rate the run starts with
    both.set_model(model)
    both.set_params({"steps": 40})
    both.model.stop_training = False
    both.on_train_begin()
    clock.now += 50.0
    both.on_train_batch_end(0)
    assert both.share() == pytest.approx(0.5)  # half the time, 1 of 1000 steps
    both.on_train_batch_begin(1)
    assert rate() == pytest.approx(0.01 * (0.02 + 0.98 * 0.5 * (1 + np.cos(np.pi * 0.47 / 0.97))))
    with pytest.raises(ValueError, match="max_seconds or max_steps"):
        TimeBudget(None)


def test_a_step_budget_ends_the_run_stopped_early_and_is_kept_in_the_record(spec, data, tmp_path: Path) -> None:
    result = train(spec, data, tmp_path / "run", config=config(max_steps=BATCHES + 2))
    assert result.status == "stopped_early"
    record = RunRecord.load(tmp_path / "run")
    assert record.notes[-1].startswith(f"step budget of {BATCHES + 2} steps reached in epoch 2/3 after 2 of 4 batches")
    assert record.epochs_completed == 2 and record.config["max_steps"] == BATCHES + 2
    assert iterations(tmp_path / "run" / "last.keras") == BATCHES + 2


@pytest.mark.parametrize("steps", [0, -3, 2.5, True])
def test_a_step_budget_must_be_a_whole_number_of_steps(steps) -> None:
    with pytest.raises(ConfigError, match="step budget"):
        TrainingConfig(max_steps=steps)


@pytest.mark.parametrize("minutes", [0.0, -1.0, float("nan"), float("inf")])
def test_a_time_budget_must_be_a_positive_number_of_minutes(minutes: float) -> None:
    with pytest.raises(ConfigError, match="time budget must be a positive number of minutes"):
        TrainingConfig(max_minutes=minutes)


def test_same_seed_same_losses_other_seed_other_losses(spec, data, tmp_path: Path) -> None:
    def losses(seed: int, name: str) -> list[float]:
        result = train(spec, data, tmp_path / name, config=config(epochs=2, seed=seed))
        return [h["loss"] for h in result.history] + [h["val_loss"] for h in result.history]

    a, b, c = losses(3, "a"), losses(3, "b"), losses(4, "c")
    np.testing.assert_allclose(a, b, rtol=1e-4)
    assert not np.allclose(a, c, rtol=1e-4)


def test_data_that_does_not_fit_the_model_is_refused(spec, tmp_path: Path) -> None:
    x = np.zeros((4, FRAMES, SIZE, SIZE, 1), np.float32)
    with pytest.raises(TrainingError, match=r"shape \(8, 32, 32, 1\) per clip but the model .* takes \(4, 16, 16, 1\)"):
        train(spec, TrainingData(x, x), tmp_path / "run")
    labels = make_spec("classify", "default", frames=4, height=16, width=16, outputs=2)
    clips = np.zeros((4, 4, 16, 16, 1), np.float32)
    with pytest.raises(TrainingError, match=r"class labels must be in \[0, 2\)"):
        train(labels, TrainingData(clips, np.array([0, 1, 2, 1])), tmp_path / "run2")


def test_model_files_with_problems_give_clear_errors(spec, tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="missing.keras: model file not found"):
        load_model_file(tmp_path / "missing.keras")
    text = tmp_path / "notes.keras"
    text.write_text("hello")
    with pytest.raises(ModelFileError, match="notes.keras: not a Keras model file"):
        load_model_file(text)
    other = tmp_path / "weights.txt"
    other.write_text("1 2 3")
    with pytest.raises(ModelFileError, match=r"expected \.keras or \.h5"):
        load_model_file(other)
    archive = tmp_path / "other.keras"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("readme.txt", "not a model")
    with pytest.raises(ModelFileError, match="without config.json"):
        load_model_file(archive)

    from core.models import build_model

    good = tmp_path / "good.keras"
    build_model(spec).save(good)
    old = tmp_path / "old.keras"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(old, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "metadata.json":
                meta = json.loads(data)
                meta["keras_version"] = "2.15.0"
                data = json.dumps(meta).encode()
            dst.writestr(item, data)
    with pytest.raises(ModelFileError, match=r"saved by Keras 2\.15\.0; this is Keras 3"):
        load_model_file(old)

    inputs = keras.Input((3,))
    lam = keras.Model(inputs, keras.layers.Lambda(lambda t: t * 2)(inputs))
    lam.save(tmp_path / "lambda.keras")
    with pytest.raises(ModelFileError, match="Lambda layers"):
        load_model_file(tmp_path / "lambda.keras")


def test_truncated_and_damaged_model_files_give_model_file_errors(spec, tmp_path: Path) -> None:
    from core.models import build_model

    good = tmp_path / "good.keras"
    build_model(spec).save(good)
    truncated = tmp_path / "truncated.keras"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(ModelFileError, match="truncated.keras: not a Keras model file, or a truncated one"):
        load_model_file(truncated)
    damaged = tmp_path / "damaged.keras"
    with zipfile.ZipFile(damaged, "w") as z:
        z.writestr("config.json", "{}")
        z.writestr("metadata.json", "{not json")
    with pytest.raises(ModelFileError, match="damaged.keras: damaged Keras model file"):
        load_model_file(damaged)


def test_history_and_epoch_events_carry_the_rate_each_epoch_trained_with(spec, data, tmp_path: Path) -> None:
    events: list = []
    # min_delta so large that only the first epoch counts as an improvement: the rate halves after epochs 2 and 3
    result = train(spec, data, tmp_path / "run", progress=events.append,
                   config=config(epochs=3, lr_patience=1, patience=0, min_delta=1e9))
    lr = spec.learning_rate
    assert [h["learning_rate"] for h in result.history] == pytest.approx([lr, lr, lr / 2])
    ended = [e.learning_rate for e in events if isinstance(e, ev.EpochEnded)]
    started = [e.learning_rate for e in events if isinstance(e, ev.EpochStarted)]
    assert ended == pytest.approx([lr, lr, lr / 2]) and started == pytest.approx([lr, lr, lr / 2])
    assert read_state(tmp_path / "run")["learning_rate"] == pytest.approx(lr / 4)  # what a resume continues with


def test_clips_per_second_counts_the_short_last_batch(spec, data, tmp_path: Path, monkeypatch) -> None:
    import core.training.callbacks as callbacks

    ticks = iter(range(10**6))  # a clock that advances one second per reading: every batch takes as long
    monkeypatch.setattr(callbacks.time, "perf_counter", lambda: float(next(ticks)))
    events: list = []
    x, y = data.x[:10], data.y[:10]  # batches of 8 and 2 clips
    train(spec, TrainingData(x, y), tmp_path / "run", progress=events.append, config=config(epochs=1, shuffle=False))
    first, last = [e.samples_per_s for e in events if isinstance(e, ev.BatchEnded)]
    assert last == pytest.approx(first * 2 / 8)


def test_checkpoints_are_flushed_to_disk_before_they_replace_the_previous_one(spec, tmp_path: Path,
                                                                              monkeypatch) -> None:
    import os

    from core.atomic_write import copy_file
    from core.models import build_model, files

    log: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (log.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(os, "replace", lambda a, b: (log.append(f"replace {Path(b).name}"), real_replace(a, b))[1])
    files.save_model(build_model(spec), tmp_path / "last.keras")
    copy_file(tmp_path / "last.keras", tmp_path / "best.keras")
    assert log.index("replace last.keras") > 0 and log[log.index("replace last.keras") - 1] == "fsync"
    assert log[log.index("replace best.keras") - 1] == "fsync"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.keras", "last.keras"]  # no temp files left


def test_a_failed_checkpoint_write_keeps_the_previous_file_and_no_temp_file(spec, tmp_path: Path) -> None:
    from core.models import build_model, files

    model = build_model(spec)
    files.save_model(model, tmp_path / "last.keras")
    before = (tmp_path / "last.keras").read_bytes()

    class Broken:
        def save(self, path):
            Path(path).write_bytes(b"partial")
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        files.save_model(Broken(), tmp_path / "last.keras")
    assert (tmp_path / "last.keras").read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["last.keras"]


def test_clips_whose_dtype_does_not_match_the_model_input_are_refused(spec, data, tmp_path: Path) -> None:
    frames = (data.x * 255).astype(np.uint8)
    with pytest.raises(TrainingError, match=r"clips are uint8 frames but the model takes float32 in \[0, 1\]"):
        train(spec, TrainingData(frames, data.y), tmp_path / "run1", config=config(epochs=1))
    with pytest.raises(TrainingError, match="takes raw uint8 frames"):
        train(spec.replace(input_dtype="uint8"), TrainingData(data.x, data.y), tmp_path / "run2",
              config=config(epochs=1))


def test_a_run_on_the_cpu_says_so_and_a_missing_gpu_fails_with_a_clear_error(spec, data, tmp_path: Path) -> None:
    result = train(spec, data, tmp_path / "cpu", config=config(epochs=1, device="cpu"))
    assert result.status == "completed" and result.record.device["placement"] == "cpu:0"
    assert result.record.config["device"] == "cpu"
    with pytest.raises(ConfigError, match="device must be auto, cpu, gpu or gpu:N"):
        config(device="npu")
    if not result.record.device["gpu"]:
        with pytest.raises(ConfigError, match="sees no GPU"):
            train(spec, data, tmp_path / "gpu", config=config(epochs=1, device="gpu:0"))
        assert RunRecord.load(tmp_path / "gpu").status == "failed"
