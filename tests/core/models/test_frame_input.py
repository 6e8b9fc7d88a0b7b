"""Models that take raw uint8 frames give what the float model gives on frames / 255, and save safely."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.models.errors import SpecError
from core.models.registry import build_model, make_spec
from tests.conftest import REPO


@pytest.mark.parametrize("task", ["predict", "anomaly", "regress"])
def test_uint8_model_equals_float_model_on_scaled_frames(task: str) -> None:
    float_spec = make_spec(task, None, frames=4, height=16, width=16)
    raw_spec = float_spec.replace(input_dtype="uint8")
    float_model, raw_model = build_model(float_spec), build_model(raw_spec)
    raw_model.set_weights(float_model.get_weights())
    frames = np.random.default_rng(0).integers(0, 256, (2, *float_spec.input_shape), dtype=np.uint8)
    expected = float_model.predict(frames.astype(np.float32) / 255, verbose=0)
    assert np.allclose(raw_model.predict(frames, verbose=0), expected, atol=1e-5)
    if task in ("predict", "anomaly"):  # uint8 target frames: the loss scales them like the inputs
        # target frames of the output's shape (a block predictor, the predict default, gives more frames than
        # this clip has)
        targets = np.random.default_rng(1).integers(0, 256, expected.shape, dtype=np.uint8)
        raw_loss = raw_model.evaluate(frames, targets, verbose=0, return_dict=True)
        float_loss = float_model.evaluate(frames / np.float32(255), targets / np.float32(255), verbose=0,
                                          return_dict=True)
        for name, value in float_loss.items():
            assert raw_loss[name] == pytest.approx(value, rel=1e-4), name


def test_uint8_model_trains_and_loads_in_safe_mode(tmp_path: Path) -> None:
    from core.models.files import load_model_file

    spec = make_spec("anomaly", "conv-ae", frames=4, height=16, width=16, input_dtype="uint8")
    model = build_model(spec)
    rng = np.random.default_rng(1)
    clips = np.repeat(rng.integers(0, 256, (8, 1, 16, 16, 1), dtype=np.uint8), 4, axis=1)
    history = model.fit(clips, clips, epochs=6, batch_size=4, verbose=0).history["loss"]
    assert history[-1] < history[0]
    model.save(tmp_path / "m.keras")
    loaded = load_model_file(tmp_path / "m.keras", compile=True)
    assert np.allclose(loaded.predict(clips, verbose=0), model.predict(clips, verbose=0), atol=1e-6)
    assert loaded.evaluate(clips, clips, verbose=0) == pytest.approx(model.evaluate(clips, clips, verbose=0), rel=1e-5)


def test_input_dtype_is_checked() -> None:
    with pytest.raises(SpecError, match="input_dtype"):
        make_spec("anomaly", "conv-ae", input_dtype="float16")


def test_uint8_model_file_loads_in_a_fresh_process(tmp_path: Path) -> None:
    """A program that only calls load_model_file (e.g. to evaluate a finished run) can read a uint8 model."""
    import subprocess
    import sys

    spec = make_spec("anomaly", "conv-ae", frames=2, height=16, width=16, input_dtype="uint8",
                     encoder=((4, 3, 2), (4, 3, 2)), recurrent=(4,))
    build_model(spec).save(tmp_path / "m.keras")
    code = ("import sys; from core.models.files import load_model_file; "
            "m = load_model_file(sys.argv[1], compile=True); print(m.inputs[0].dtype, m.loss.__name__)")
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path / "m.keras")], capture_output=True, text=True,
                          cwd=REPO, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "uint8 scaled_mean_squared_error" in done.stdout
