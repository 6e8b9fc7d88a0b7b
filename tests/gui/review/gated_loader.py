"""A model loader whose model holds its calls at a gate: a test sees a scoring job while it runs."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np

from core.models.files import load_model_file


class GatedLoader:
    """Loads the model and wraps it so that model calls after the first ``free`` wait for ``gate``."""

    def __init__(self, free: int = 2) -> None:
        self.free = free
        self.gate = threading.Event()
        self.loads = 0

    def __call__(self, path: Path) -> Any:
        self.loads += 1
        model = load_model_file(path)
        loader = self

        class Gated:
            calls = 0

            def predict_on_batch(self, batch: np.ndarray) -> Any:
                Gated.calls += 1
                if Gated.calls > loader.free:
                    assert loader.gate.wait(30), "the test never opened the gate"
                return model.predict_on_batch(batch)

            def __getattr__(self, name: str) -> Any:  # shapes and dtypes, as the run's check reads them
                return getattr(model, name)

        return Gated()
