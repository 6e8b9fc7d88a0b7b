"""The run record: ``run.json`` in the run folder, rewritten atomically after every epoch.

It holds what a run was (model spec, training config, data summary), where (device, library
versions), and what happened (status, history of per-epoch logs, best epoch, duration). The desktop
app lists a project's runs from these files; :func:`core.training.trainer.resume` reads them back.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.training.files import read_json, write_json

RECORD_FILE = "run.json"
STATE_FILE = "state.json"
STATUSES = ("created", "running", "completed", "stopped_early", "cancelled", "failed")


@dataclass
class RunRecord:
    run_id: str
    task: str
    preset: str
    spec: dict[str, Any]
    config: dict[str, Any]
    data: dict[str, Any] = field(default_factory=dict)
    status: str = "created"
    created: str = ""
    finished: str | None = None
    duration_s: float = 0.0
    epochs_completed: int = 0
    best_epoch: int | None = None
    best_value: float | None = None
    monitor: str = "val_loss"
    history: list[dict[str, float]] = field(default_factory=list)
    device: dict[str, Any] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    model_path: str = ""
    error: str = ""
    resumes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def save(self, run_dir: Path) -> Path:
        path = Path(run_dir) / RECORD_FILE
        write_json(path, self.to_dict())
        return path

    @classmethod
    def load(cls, run_dir: Path) -> RunRecord:
        path = Path(run_dir) / RECORD_FILE
        if not path.is_file():
            from core.training.errors import TrainingError

            raise TrainingError(f"{run_dir}: not a training run folder (no {RECORD_FILE})")
        data = read_json(path)
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


def read_state(run_dir: Path) -> dict[str, Any] | None:
    """The resume state (``epoch`` = last finished epoch, plateau counters, learning rate), or ``None``."""
    path = Path(run_dir) / STATE_FILE
    return read_json(path) if path.is_file() else None


def write_state(run_dir: Path, state: dict[str, Any]) -> None:
    write_json(Path(run_dir) / STATE_FILE, state)
