"""The run record: ``run.json`` in the run folder, rewritten atomically after every epoch.

It holds what a run was (model spec, training config, data summary), where (device, library
versions, the training process), and what happened (status, history of per-epoch logs, best epoch,
duration, notes such as a smaller batch chosen to fit in memory). Training writes it; the CLI, the
desktop app, scoring and evaluation read it. ``state.json`` beside it holds what a resume needs.

Statuses: ``created`` (folder made, training not started), ``running``, ``completed``,
``stopped_early``, ``cancelled`` (Ctrl+C, SIGTERM, the GUI's Stop), ``failed``; and, never written but
shown by :meth:`RunRecord.effective_status`, ``interrupted``: the record says ``running`` but its process
is gone (killed, crashed). Cancelled and interrupted runs resume from their last finished epoch.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.atomic_write import write_json
from core.json_file import read_json_object
from core.runs.errors import RunError, RunFileError
from core.runs.process import ProcessId, is_alive
from core.runs.record_check import check_record

RECORD_FILE = "run.json"
STATE_FILE = "state.json"
LAST_CHECKPOINT = "last.keras"
BEST_CHECKPOINT = "best.keras"
#: The model files the trainer names in ``model_path``: the best checkpoint, or an LRCN's assembled clip model.
TRAINER_MODEL_FILES = (BEST_CHECKPOINT, "model.keras")
STATUSES = ("created", "running", "completed", "stopped_early", "cancelled", "failed", "interrupted")
#: Statuses from which ``--resume`` continues at the epoch after the last checkpoint.
RESUMABLE = ("cancelled", "interrupted", "failed")
RECORD_HINT = "This run cannot be resumed: start a new run (its checkpoints stay usable as model files)"
STATE_HINT = "This run cannot be resumed: start a new run (its model files stay usable for scoring)"


def read_json_file(path: Path, what: str, hint: str = "") -> dict[str, Any]:
    """A JSON object from ``path``, or :class:`RunFileError` naming the file, the problem and ``hint`` (what to do)."""
    try:
        return read_json_object(path, what, RunFileError, hint)
    except FileNotFoundError as exc:
        raise RunFileError(path, f"{what} not found") from exc


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
    #: the training process while ``running`` (``pid``, ``host``, ``started``), see :mod:`core.runs.process`
    process: dict[str, Any] | None = None
    #: what the trainer changed to make the run fit, e.g. the batch size chosen for the memory available
    notes: list[str] = field(default_factory=list)
    #: clips per training step actually used (``config["batch_size"]`` is the one asked for)
    batch_size: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """The record as ``run.json`` holds it: a non-finite number in the history or the best value (a
        diverged epoch's validation loss) is stored as ``null``, which strict JSON can hold and readers skip."""
        data = dataclasses.asdict(self)
        data["history"] = [{key: _finite_or_none(value) for key, value in row.items()} for row in self.history]
        data["best_value"] = _finite_or_none(self.best_value)
        return data

    def save(self, run_dir: Path) -> Path:
        path = Path(run_dir) / RECORD_FILE
        write_json(path, self.to_dict())
        return path

    @classmethod
    def load(cls, run_dir: Path) -> RunRecord:
        """The record of ``run_dir``; :class:`RunError` / :class:`RunFileError` when missing or damaged (every
        field typed and bounded, see :mod:`core.runs.record_check`: the error names ``run.json`` and the field)."""
        path = Path(run_dir) / RECORD_FILE
        if not path.is_file():
            raise RunError(f"{run_dir}: not a training run folder (no {RECORD_FILE})")
        data = read_json_file(path, "run record", RECORD_HINT)
        names = {f.name for f in dataclasses.fields(cls)}
        required = [f.name for f in dataclasses.fields(cls)
                    if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
        missing = [name for name in required if name not in data]
        if missing:
            raise RunFileError(path, f"damaged run record: no {', '.join(missing)}. {RECORD_HINT}")
        check_record(path, data, STATUSES, RECORD_HINT)
        return cls(**{k: v for k, v in data.items() if k in names})

    def error_level_path(self, run_dir: Path) -> Path | None:
        """Where the run's error-level model is (``data["error_level"]["file"]`` in ``run_dir``), ``None``
        for a run without one; :class:`RunFileError` for an entry that names no file of the run folder, or
        for a symbolic link."""
        entry = self.data.get("error_level")
        if not entry:
            return None
        name = entry.get("file") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not name or Path(name).name != name or name in (".", ".."):
            raise RunFileError(Path(run_dir) / RECORD_FILE,
                               f"the error_level entry names no file in the run folder: {_shown(entry)}")
        return run_file(run_dir, name)

    def motion_path(self, run_dir: Path) -> Path | None:
        """Where a predictor run's motion statistics are (``data["motion"]["file"]`` in ``run_dir``, written by
        ``framewatch fit-motion`` or when training ends), ``None`` for a run without them or a motion run (whose
        statistics are its model); :class:`RunFileError` for an entry that names no file of the folder."""
        entry = self.data.get("motion")
        if not entry or self.spec.get("family") == "motion":
            return None
        name = entry.get("file") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not name or Path(name).name != name or name in (".", ".."):
            raise RunFileError(Path(run_dir) / RECORD_FILE,
                               f"the motion entry names no file in the run folder: {_shown(entry)}")
        return run_file(run_dir, name)

    def model_file_path(self, run_dir: Path) -> Path | None:
        """The run's model file as ``model_path`` names it, always a file of ``run_dir``; ``None`` while the
        run has none (``model_path`` empty: training has not ended).

        ``model_path`` is a file name (``best.keras``, ``model.keras``). Records of earlier versions hold the
        path the trainer was given (``<project>/runs/<run>/best.keras``, absolute or relative to where it
        ran): a path that ends in one of the names the trainer wrote (:data:`TRAINER_MODEL_FILES`) and has no
        ``..`` in it is read as that file of ``run_dir``; its folders are never followed, so a record moved
        or copied with its folder still works and no record reaches a file outside its folder. Anything else
        (``../other/best.keras``, ``/elsewhere/x.keras``) is a :class:`RunFileError` naming ``run.json`` and
        ``model_path``, said without looking at that path; so is a symbolic link.
        """
        if not self.model_path:
            return None
        given = Path(self.model_path)
        name = given.name
        legacy = name in TRAINER_MODEL_FILES and ".." not in given.parts
        if not name or name in (".", "..") or (len(given.parts) > 1 and not legacy):
            raise RunFileError(Path(run_dir) / RECORD_FILE,
                               f"model_path names no file in the run folder: {_shown(self.model_path)} "
                               "(it must be a file name such as best.keras)")
        return run_file(run_dir, name)

    def effective_status(self) -> str:
        """``status``, except ``interrupted`` for a ``running`` run whose process on this host is gone."""
        if self.status != "running":
            return self.status
        process = ProcessId.from_dict(self.process)
        if process is None:  # written by a version that did not record its process
            return "running"
        return "interrupted" if is_alive(process) is False else "running"


def run_file(run_dir: Path, name: str) -> Path:
    """``run_dir / name`` (``name``: a plain file name), refused with :class:`RunFileError` when the run folder or
    that file is a symbolic link: a run's files are its own, and a link could make a record load, and
    ``export-run`` copy, a file from anywhere. The message does not say where a link points, or whether
    its target exists."""
    run_dir = Path(run_dir)
    for path in (run_dir, run_dir / name):
        if path.is_symlink():
            raise RunFileError(path, "is a symbolic link; a run's folder and files must be its own (links are "
                                     "not followed)")
    return run_dir / name


def _shown(value: Any) -> str:
    """``repr(value)``, cut to 80 characters (a record's entries can be long)."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def read_state(run_dir: Path) -> dict[str, Any] | None:
    """The resume state (``epoch`` = last finished epoch, plateau counters, learning rate), or ``None``.

    A damaged ``state.json`` raises :class:`RunFileError` naming it.
    """
    path = Path(run_dir) / STATE_FILE
    if not path.is_file():
        return None
    state = read_json_file(path, "resume state", STATE_HINT)
    epoch = state.get("epoch")
    if not isinstance(epoch, int) or isinstance(epoch, bool) or epoch < 0:
        raise RunFileError(path, f"damaged resume state: 'epoch' is {epoch!r}, not an epoch number. {STATE_HINT}")
    if "plateau" in state and not isinstance(state["plateau"], dict):
        raise RunFileError(path, f"damaged resume state: 'plateau' is not a JSON object. {STATE_HINT}")
    return state


def write_state(run_dir: Path, state: dict[str, Any]) -> None:
    write_json(Path(run_dir) / STATE_FILE, state)


def _finite_or_none(value: Any) -> Any:
    """``value``, or ``None`` for a float that is NaN or infinite."""
    return None if isinstance(value, float) and not math.isfinite(value) else value
