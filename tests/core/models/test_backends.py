"""The presets build, train a step and round-trip through ``.keras`` on the other Keras backends.

Runs in a subprocess with ``KERAS_BACKEND`` set and TensorFlow unimportable (as on a machine with only that
backend); skipped where that backend is not installed.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO

CHECK = """
import json, os, sys, tempfile

class NoTensorFlow:  # a machine with only this backend: nothing may need TensorFlow (nor pay for importing it)
    def find_spec(self, name, path=None, target=None):
        if name == "tensorflow" or name.startswith("tensorflow."):
            raise ImportError(f"{{name}} is blocked in this test")
        return None

sys.meta_path.insert(0, NoTensorFlow())
import numpy as np
import keras
assert keras.backend.backend() == {backend!r}, keras.backend.backend()
from core.models import TASKS, build_model, make_spec, presets
from core.models.files import load_model_file
checked, ran, skipped, regress_heads = set(), [], [], set()
for task in TASKS:
    for name in presets(task):
        if name.startswith("lrcn-") or name == "motion":
            continue  # application backbones are Keras's own code; the motion scorer has no network
        spec = make_spec(task, name, frames=4, height=32, width=32, outputs=3 if task == "classify" else 1)
        if spec.family == "block_predictor":  # fewer future frames and blocks: the same layers, compiled sooner
            spec = spec.replace(future=2, translator_blocks=1)
        key = json.dumps(spec.to_dict(), sort_keys=True)
        if key in checked or (task == "regress" and type(spec) in regress_heads):
            # the same model under another task (anomaly's future-frame is the predict preset), or a regressor
            # whose backbone ran as a classifier: a family's regress head (one Dense layer) runs once
            skipped.append([task, name])
            continue
        checked.add(key)
        ran.append([task, name])
        if task == "regress":
            regress_heads.add(type(spec))
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
assert not any(m == "tensorflow" or m.startswith("tensorflow.") for m in sys.modules)
print("ok " + json.dumps({{"ran": ran, "skipped": skipped}}))
"""


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_presets_run_on_other_backends(backend: str) -> None:
    if importlib.util.find_spec(backend) is None:
        pytest.skip(f"{backend} is not installed")
    env = {**os.environ, "KERAS_BACKEND": backend}
    result = subprocess.run([sys.executable, "-c", CHECK.format(backend=backend)], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith("ok "), result.stdout[-3000:]
    from core.models import TASKS, presets

    done = json.loads(last[3:])
    ran, skipped = {tuple(r) for r in done["ran"]}, {tuple(s) for s in done["skipped"]}
    assert ran | skipped == {(task, name) for task in TASKS for name in presets(task)
                             if not name.startswith("lrcn-") and name != "motion"}  # no preset left out
    for task, name in skipped:  # each one skipped is a model that ran: the same one, or its classify twin
        assert (task == "anomaly" and ("predict", name) in ran) or (task == "regress" and ("classify", name) in ran)
    assert sum(task == "regress" for task, _ in ran) >= 1
