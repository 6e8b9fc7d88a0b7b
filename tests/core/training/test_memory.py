"""The memory estimate of a training step, the batch chosen to fit, and out-of-memory retries."""

from __future__ import annotations

from pathlib import Path

import keras
import pytest

from core.models import build_model, make_spec
from core.runs import RunRecord
from core.training import events as ev
from core.training import memory, trainer
from core.training.data import TrainingData
from core.training.memory import (
    GB,
    OutOfMemoryError,
    StepEstimate,
    choose_batch,
    estimate_step_bytes,
    is_out_of_memory,
    layer_output_bytes,
)
from core.training.trainer import TrainingConfig, train
from tests.core.training.test_support import moving_squares, shifted


@pytest.fixture(scope="module")
def data() -> TrainingData:
    x, y = shifted(moving_squares(32, frames=5, size=16))
    return TrainingData(x, y)  # 32 clips, no validation


@pytest.fixture
def spec():
    return make_spec("predict", "default", frames=4, height=16, width=16, filters=(4,), kernels=(3,),
                     encoder_filters=4)


def test_layer_outputs_are_summed_over_every_layer_of_one_sample() -> None:
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Dense(3)(inputs)))
    assert layer_output_bytes(model) == (3 + 2) * 4  # float32, the input layer not counted


def test_the_estimate_grows_with_the_batch_and_the_frame_size() -> None:
    def per_clip(size: int) -> StepEstimate:
        return estimate_step_bytes(build_model(make_spec("anomaly", "conv-ae", frames=4, height=size, width=size)))

    small, large = per_clip(32), per_clip(64)
    assert 0 < small.per_clip < large.per_clip
    assert small.fixed == large.fixed > 0  # parameters do not depend on the frame size of a conv net
    assert [small.for_batch(b) for b in (1, 2, 4)] == sorted({small.for_batch(b) for b in (1, 2, 4)})
    assert large.for_batch(4) - large.for_batch(2) == 2 * large.per_clip


def test_the_largest_batch_that_fits_is_chosen_and_the_reason_given() -> None:
    estimate = StepEstimate(fixed=0, per_clip=int(1 * GB))
    assert choose_batch(8, estimate, int(10 * GB)).chosen == 8  # 8 GB of 8.5 usable
    choice = choose_batch(8, estimate, int(5 * GB))
    assert (choice.chosen, choice.changed) == (4, True)
    assert choice.reason == "requested batch 8, trained with 4: the estimate for 8 is 8.0 GB, 5.0 GB memory available"
    assert choose_batch(8, estimate, None).chosen == 8  # unknown memory: as asked


def test_when_one_clip_does_not_fit_one_line_says_what_does() -> None:
    with pytest.raises(OutOfMemoryError) as info:
        choose_batch(8, StepEstimate(int(0.1 * GB), int(31 * GB)), int(18 * GB), "memory",
                     lambda: ["--size 113x113 (batch 1 about 8.0 GB)"], "10x227x227x1")
    assert str(info.value) == ("not enough memory to train even one clip of 10x227x227x1 at a time: the estimate "
                               "for batch 1 is 31 GB, 18 GB available; what fits: --size 113x113 (batch 1 about 8.0 GB)")


def test_out_of_memory_errors_are_recognised() -> None:
    import tensorflow as tf

    assert is_out_of_memory(tf.errors.ResourceExhaustedError(None, None, "OOM when allocating tensor"))
    assert is_out_of_memory(MemoryError())
    assert is_out_of_memory(RuntimeError("CUDA out of memory. Tried to allocate 2 GiB"))
    assert not is_out_of_memory(ValueError("shapes do not match"))


def test_a_run_trains_with_the_batch_that_fits_and_records_why(spec, data, tmp_path: Path, monkeypatch) -> None:
    model = build_model(spec)
    per_input = 4 * 16 * 16 * 1 * 4 * 2
    estimate = estimate_step_bytes(model, per_input)
    available = int((estimate.for_batch(2) + estimate.per_clip // 2) / memory.USABLE_FRACTION)  # 2 fit, not 3
    monkeypatch.setattr(memory, "host_available", lambda: available)
    events: list = []
    result = train(spec, data, tmp_path / "run", progress=events.append,
                   config=TrainingConfig(epochs=1, batch_size=8, shuffle=False))
    assert result.status == "completed"
    assert sum(isinstance(e, ev.BatchEnded) for e in events) == 16  # 32 clips in batches of 2
    notes = [e.message for e in events if isinstance(e, ev.RunNote)]
    assert len(notes) == 1 and notes[0].startswith("requested batch 8, trained with 2: the estimate for 8 is")
    record = RunRecord.load(tmp_path / "run")
    assert record.batch_size == 2 and record.notes == notes and record.config["batch_size"] == 8


def test_an_out_of_memory_error_in_the_first_step_halves_the_batch(spec, data, tmp_path: Path, monkeypatch) -> None:
    import tensorflow as tf

    real_fit, batches = trainer._fit, []

    def fit_that_runs_out_of_memory_above_batch_2(model, fit_data, batch_size, *args):
        batches.append(batch_size)
        if batch_size > 2:
            raise tf.errors.ResourceExhaustedError(None, None, f"OOM when allocating tensor with shape[{batch_size}]")
        return real_fit(model, fit_data, batch_size, *args)

    monkeypatch.setattr(trainer, "_fit", fit_that_runs_out_of_memory_above_batch_2)
    events: list = []
    result = train(spec, data, tmp_path / "run", progress=events.append, config=TrainingConfig(epochs=1, batch_size=8))
    assert result.status == "completed" and batches == [8, 4, 2]
    assert sum(isinstance(e, ev.BatchEnded) for e in events) == 16
    record = RunRecord.load(tmp_path / "run")
    assert record.batch_size == 2
    assert record.notes == ["out of memory with batch 8 in the first step: retrying with batch 4",
                            "out of memory with batch 4 in the first step: retrying with batch 2"]


def test_out_of_memory_at_batch_1_fails_the_run_in_one_line(spec, data, tmp_path: Path, monkeypatch) -> None:
    import tensorflow as tf

    def fit(*args):
        raise tf.errors.ResourceExhaustedError(None, None, "OOM when allocating tensor\n" + "detail\n" * 40)

    monkeypatch.setattr(trainer, "_fit", fit)
    with pytest.raises(OutOfMemoryError) as info:
        train(spec, data, tmp_path / "run", config=TrainingConfig(epochs=1, batch_size=1))
    assert str(info.value).startswith("out of memory while training with batch 1 (after 0 steps")
    assert "\n" not in str(info.value)
    assert RunRecord.load(tmp_path / "run").status == "failed"
