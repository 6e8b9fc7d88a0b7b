"""A run's model: which file of a run folder is its model, the one rule everything that loads one follows.

Scoring, evaluation, fitting an error level, rollout (``framewatch predict``, the Predicted frames dock),
window classification, ``export-run``, and the training panel's "Score this run" all open a run's model
through :meth:`RunModel.open` / :func:`model_file`, so a run folder that works for one works for all:

* ``best`` (the default): the file the record's ``model_path`` names (:meth:`RunRecord.model_file_path
  <core.runs.record.RunRecord.model_file_path>`, always a file of the run folder): ``best.keras`` of a
  trained run, ``model.keras`` of an exported or shipped one, or of an LRCN trained on cached features.
  A run whose training has not ended (still training, or killed) has no ``model_path`` yet: its
  ``best.keras`` so far is used, except for an LRCN trained on cached features, whose checkpoints hold
  the sequence head only.
* ``last``: ``last.keras``, the trainer's checkpoint of the last finished epoch (not for a cached-feature
  LRCN, for the same reason).
* any other name (``framewatch export-run --checkpoint FILE``): that file of the run folder.

Nothing outside the run folder is ever read: names with folders are refused, and so are a run folder or
a model file that is a symbolic link. A model file that does not fit its record (another input size,
another task's output) is refused by :meth:`RunModel.check_model` before it is used.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.runs.errors import RunError, RunFileError
from core.runs.folders import find_run_dir
from core.runs.record import BEST_CHECKPOINT, LAST_CHECKPOINT, RECORD_FILE, RunRecord, run_file

#: The model files :func:`model_file` knows by a name of their own, and what the CLI says of them.
CHECKPOINTS = ("best", "last")
CHECKPOINT_HELP = ("best (default): the run's model, the one scoring uses (run.json's model_path; best.keras so far "
                   "while the run trains); last: its last finished epoch (last.keras)")


def _head_only(record: RunRecord) -> bool:
    """An LRCN trained on cached features: its checkpoints hold the sequence head, not a clip model."""
    return bool(record.spec.get("cache_features"))


def model_file(run_dir: str | Path, record: RunRecord, checkpoint: str = "best") -> Path:
    """The model file of the run in ``run_dir`` (module doc): ``checkpoint`` ``best``, ``last`` or a file name.

    :class:`RunError` for a run without that model (never trained an epoch, a missing file);
    :class:`RunFileError` for a record whose ``model_path`` names no file of the folder, or a symbolic link.
    """
    run_dir = Path(run_dir)
    name = run_dir.name
    if checkpoint == "best":
        path = record.model_file_path(run_dir)
        if path is None and not _head_only(record) and run_file(run_dir, BEST_CHECKPOINT).is_file():
            path = run_dir / BEST_CHECKPOINT  # training has not ended (or was killed): its best epoch so far
        if path is None:
            raise RunError(f"{run_dir}: run {name!r} has no model yet (status {record.effective_status()}): "
                           "train it for at least one epoch first")
    elif checkpoint == "last":
        if _head_only(record):
            raise RunError(f"{run_dir}: run {name!r} was trained on cached features: its {LAST_CHECKPOINT} holds "
                           "the sequence head only; use its model (the best checkpoint)")
        path = run_file(run_dir, LAST_CHECKPOINT)
    else:
        if not checkpoint or Path(checkpoint).name != checkpoint or checkpoint in (".", ".."):
            raise RunError(f"{checkpoint!r}: not a file name of the run folder {run_dir} (give a name such as "
                           "best.keras or last.keras)")
        path = run_file(run_dir, checkpoint)
    if not path.is_file():
        raise RunError(f"{path}: the model file of run {name!r} is missing")
    return path


@dataclass(frozen=True)
class RunModel:
    """A run's model as everything that loads one sees it: the run folder, its record (checked when read,
    :mod:`core.runs.record_check`), the model file (:func:`model_file`) and the error-level model
    (``data["error_level"]``, a file of the folder) or ``None``. The error-level file's existence is
    checked by the scoring that needs it."""

    run_dir: Path
    record: RunRecord
    model_path: Path
    error_level_path: Path | None

    @classmethod
    def open(cls, project_folder: str | Path, run: str | Path, checkpoint: str = "best") -> RunModel:
        """Run ``run`` (a name under ``<project>/runs/`` or a run folder) and its ``checkpoint`` model file.

        :class:`RunError` for an unknown run or one without that model; :class:`RunFileError` for a
        damaged record or a symbolic link.
        """
        run_dir = find_run_dir(project_folder, run)
        return cls.of(run_dir, checkpoint)

    @classmethod
    def of(cls, run_dir: str | Path, checkpoint: str = "best") -> RunModel:
        """The model of the run folder ``run_dir`` (as :meth:`open`)."""
        run_dir = Path(run_dir)
        run_file(run_dir, RECORD_FILE)
        record = RunRecord.load(run_dir)
        return cls(run_dir, record, model_file(run_dir, record, checkpoint), record.error_level_path(run_dir))

    @property
    def run_id(self) -> str:
        return self.record.run_id or self.run_dir.name

    def expected_input(self) -> tuple[int, int, int, int]:
        """``(frames, height, width, channels)`` of the clips the record says the model takes."""
        from core.models.specs import spec_from_dict

        return spec_from_dict(self.record.spec).input_shape

    def check_model(self, model: Any) -> Any:
        """``model`` if it fits the record: input clips of the record's shape, and output frames of its size
        (``predict``, ``anomaly``) or ``outputs`` values per clip (``classify``, ``regress``); else
        :class:`RunFileError` naming the model file and ``run.json``."""
        from core.models.specs import spec_from_dict

        spec = spec_from_dict(self.record.spec)
        problem = _mismatch(model, spec)
        if problem:
            raise RunFileError(self.model_path, f"does not match the run's {RECORD_FILE}: {problem} (was the file "
                               "replaced, or the record edited?)")
        return model

    def load_model(self, load: Callable[[Path], Any] | None = None) -> Any:
        """The model, read by ``load`` (default :func:`~core.models.files.load_model_file`, safe mode) and
        checked against the record (:meth:`check_model`)."""
        if load is None:
            from core.models.files import load_model_file as load
        return self.check_model(load(self.model_path))

    def load_models(self, load: Callable[[Path], Any] | None = None) -> tuple[Any, Any]:
        """The model (checked, :meth:`load_model`) and the error-level model (``None`` without one)."""
        if load is None:
            from core.models.files import load_model_file as load
        level = None if self.error_level_path is None else load(self.error_level_path)
        return self.load_model(load), level


def _shape(value: Any) -> tuple | None:
    """A Keras model's single input or output shape, ``None`` for several."""
    if isinstance(value, list):
        return tuple(value[0]) if len(value) == 1 else None
    return tuple(value) if value is not None else None


def _mismatch(model: Any, spec: Any) -> str:
    """What about ``model`` does not fit ``spec`` (``""``: it fits)."""
    if spec.family == "motion":  # no network: a motion model of the record's working size
        grid = getattr(model, "grid", None)
        if grid is None or not hasattr(model, "cell_map"):
            return "it is not a motion model (a motion run's model is its motion statistics, motion.npz)"
        if (grid.height, grid.width) != (spec.height, spec.width):
            return (f"the motion model works at {grid.width}x{grid.height}, the record's spec says "
                    f"{spec.width}x{spec.height}")
        return ""
    try:
        given, made = _shape(model.input_shape), _shape(model.output_shape)
    except (AttributeError, ValueError, TypeError):
        return "it is not a model with one input and one output"
    if given is None or made is None:
        return "the model has several inputs or outputs"
    expected = tuple(spec.input_shape)
    if tuple(given[1:]) != expected:
        return (f"the model takes clips of {_text(given[1:])}, the record's spec says {_text(expected)} "
                "(frames, height, width, channels)")
    if spec.task in ("predict", "anomaly"):
        if len(made) != 5 or tuple(made[2:]) != expected[1:]:
            return f"the model gives {_text(made[1:])}, not frames of {_text(expected[1:])} for a {spec.task} run"
    elif len(made) != 2 or made[1] != spec.outputs:
        return f"the model gives {_text(made[1:])} per clip, not {spec.outputs} value(s) for a {spec.task} run"
    return ""


def _text(shape: tuple) -> str:
    return "x".join("?" if v is None else str(v) for v in shape)

