"""The presets build, train a step and round-trip through ``.keras`` on the other Keras backends.

Runs in a subprocess with ``KERAS_BACKEND`` set; skipped where that backend is not installed.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO

CHECK = """
import os, tempfile
import numpy as np
import keras
assert keras.backend.backend() == {backend!r}, keras.backend.backend()
from core.models import TASKS, build_model, make_spec, presets
from core.models.files import load_model_file
for task in TASKS:
    for name in presets(task):
        if name.startswith("lrcn-") or name == "motion":
            continue  # application backbones are Keras's own code; the motion scorer has no network
        spec = make_spec(task, name, frames=4, height=32, width=32, outputs=3 if task == "classify" else 1)
        if spec.family == "block_predictor":  # fewer future frames and blocks: the same layers, compiled sooner
            spec = spec.replace(future=2, translator_blocks=1)
        model = build_model(spec)
        x = np.random.rand(2, *spec.input_shape).astype("float32")
        y = {{"classify": np.array([0, 1]), "regress": np.ones((2, 1), "float32")}}.get(task, x)
        if spec.family == "block_predictor":  # the next spec.future frames
            y = np.random.rand(2, spec.future, *spec.input_shape[1:]).astype("float32")
        model.train_on_batch(x, y)
        path = os.path.join(tempfile.mkdtemp(), "m.keras")
        model.save(path)
        np.testing.assert_allclose(np.asarray(load_model_file(path).predict_on_batch(x)),
                                   np.asarray(model.predict_on_batch(x)), atol=1e-4)
print("ok")
"""


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_presets_run_on_other_backends(backend: str) -> None:
    if importlib.util.find_spec(backend) is None:
        pytest.skip(f"{backend} is not installed")
    env = {**os.environ, "KERAS_BACKEND": backend}
    result = subprocess.run([sys.executable, "-c", CHECK.format(backend=backend)], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("ok")
