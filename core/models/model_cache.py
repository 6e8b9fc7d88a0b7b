"""The model a view last loaded, kept alive so that the next job on the same file reuses it.

A rollout keeps its compiled step with the model object (:mod:`core.inference.rollout.rollout`), so loading the
file again for every position of the player would trace the step again each time. :class:`ModelCache`
holds one model, keyed by its file and the file's modification time (a retrained run's new checkpoint is
loaded afresh). :meth:`ModelCache.get` is called from worker threads; a lock makes two jobs that ask at
once load the file once.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any


class ModelCache:
    """One loaded Keras model, by file; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: tuple[str, int] | None = None
        self._model: Any = None
        self.loads = 0  # how many times a file was read (tests, diagnostics)

    def get(self, path: str | Path) -> Any:
        """The model in ``path``, loaded now unless it is the one held (same file, same modification time)."""
        from core.models.files import load_model_file

        path = Path(path)
        key = (str(path.resolve()), path.stat().st_mtime_ns if path.exists() else 0)
        with self._lock:
            if key != self._key:
                self._model = load_model_file(path)
                self._key = key
                self.loads += 1
            return self._model
