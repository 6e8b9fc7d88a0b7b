"""The device check's paths (bench/device_check.py) run on JAX with TensorFlow unimportable.

A child process with ``KERAS_BACKEND=jax`` and a ``sys.meta_path`` finder that refuses ``tensorflow``
trains a tiny next-frame model on Moving MNIST, evaluates it beside the baselines, trains a tiny anomaly
run on two UCSD Ped2 training videos, scores a Ped2 test video with it and with the shipped model, and
loads the model as a Ray scoring worker does, and reads the device list. Skipped where JAX is not installed (``pip install "jax[cpu]"``).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

CHILD = """
import itertools, json, sys, tempfile
from pathlib import Path

class NoTensorFlow:
    def find_spec(self, name, path=None, target=None):
        if name == "tensorflow" or name.startswith("tensorflow."):
            raise ImportError(f"{name} is blocked in this test")
        return None

sys.meta_path.insert(0, NoTensorFlow())
import keras
assert keras.backend.backend() == "jax", keras.backend.backend()
from core.cli.main import main

data, work = Path(sys.argv[1]), Path(tempfile.mkdtemp())
out = {}
tiny = ["--size", "16", "--filters", "4,4", "--sequences", "8", "--batch-size", "4", "--steps-per-epoch", "2"]
assert main(["train", "--task", "predict", "--dataset", "moving-mnist", "--mnist", str(data / "mnist"),
             "--runs-dir", str(work), "--name", "mm", "--epochs", "1", *tiny]) == 0
import contextlib, io
text = io.StringIO()
with contextlib.redirect_stdout(text):
    assert main(["evaluate", "--dataset", "moving-mnist", "--mnist", str(data / "mnist"), "--run", str(work / "mm"),
                 "--sequences", "3", "--given", "4", "--future", "3", "--json"]) == 0
out["evaluate"] = json.loads(text.getvalue())

from core.project import Project
from core.project.importers import import_ucsd
from core.training.from_project import train_project
from core.training.request import TrainingRequest
from core.inference.anomaly.project_scoring import run_model
from core.inference.anomaly.scoring import score_video

project = Project.create(work / "ped2", name="ped2")
import_ucsd(project, data / "ucsd_ped2")
project.save()
videos = sorted(project.videos.values(), key=lambda v: v.id)
train = tuple(v.id for v in videos if v.split == "train")[:2]
test = next(v for v in videos if v.split == "test")
result = train_project(project, TrainingRequest("anomaly", run_name="tiny", height=16, width=24, filters=(4, 4, 4),
                                                videos=train, epochs=1, batch_size=2, steps_per_epoch=2,
                                                patience=0, lr_patience=0, motion=False))
out["anomaly_status"] = str(result.status)
for name, run in (("tiny", "tiny"), ("shipped", str(Path(sys.argv[2])))):
    scoring = run_model(project.folder, run)
    model, level = scoring.load_models()
    scores = list(itertools.islice(score_video(model, test.path, scoring.spec, error_level=level), 12))
    out[name] = [float(s.error) for s in scores]
from core.distributed.worker import SegmentWorker  # a Ray worker (score --workers) loads its model
worker = SegmentWorker(str(project.folder), run_model(project.folder, "tiny"), stride=1, batch_size=4)
worker._load()
out["worker_loaded"] = worker.model is not None
out["tensorflow_loaded"] = any(m == "tensorflow" or m.startswith("tensorflow.") for m in sys.modules)
from core.training.devices import list_devices
out["devices"] = [d.kind for d in list_devices()]
print("RESULT " + json.dumps(out))
"""


def test_device_check_paths_run_on_jax_without_tensorflow(data_dir: Path) -> None:
    if importlib.util.find_spec("jax") is None:
        pytest.skip("jax is not installed")
    env = {**os.environ, "KERAS_BACKEND": "jax"}
    shipped = REPO / "resources" / "models" / "ped2-future-frame"
    result = subprocess.run([sys.executable, "-c", CHILD, str(data_dir), str(shipped)], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-4000:]
    out = json.loads(next(line for line in result.stdout.splitlines() if line.startswith("RESULT "))[7:])
    assert out["tensorflow_loaded"] is False and out["worker_loaded"] is True
    report = out["evaluate"]
    assert report["preset"] == "simvp" and report["frame_size"] == [16, 16]  # the predict task's default
    for who in ("model", "blank_frame", "copy_last_frame"):
        assert [s["step"] for s in report[who]["steps"]] == [1, 2, 3]
        assert report[who]["mean"]["sse"] > 0
    assert out["anomaly_status"].endswith("completed")
    for name in ("tiny", "shipped"):
        errors = out[name]
        assert len(errors) == 12 and all(e >= 0 for e in errors)
        assert len(set(errors)) > 1  # real scores of real frames, not a constant
    assert out["devices"][0] == "CPU"


def test_the_device_check_reads_every_figure_of_the_reference_cpu_and_prints_ratios() -> None:
    from bench import device_check

    cpu = json.loads(device_check.CPU_FILE.read_text())
    assert cpu["command"].startswith("python3 bench/device_check.py") and "--record-cpu" not in cpu["command"]
    figures = device_check.figures(cpu["results"])
    assert all(value is not None for value in figures.values()), figures
    faster = json.loads(json.dumps(cpu["results"]))
    faster["ped2_scoring"]["frames_per_s"] = 4 * cpu["results"]["ped2_scoring"]["frames_per_s"]
    del faster["ped2_training"]  # a stage that did not run prints "-" and no ratio
    rows = {line[:42].strip(): line[42:].split() for line in device_check.table(faster, cpu).splitlines()[1:]}
    assert rows["Ped2 scoring, frames/s (decode incl.)"][-1] == "4.00x"
    assert rows["Ped2 training, clips/s"][0] == "-" and len(rows["Ped2 training, clips/s"]) == 2
    assert rows["Moving MNIST MSE/frame (blank)"][-1] == "1.00x"
