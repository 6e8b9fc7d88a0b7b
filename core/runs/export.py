"""A run as a portable model folder: ``framewatch export-run``.

A run folder holds what training needs (checkpoints with the optimizer's state, ``state.json``, the
training process, the project's paths). :func:`export_run` writes what *using* the model needs, in a new
folder that scoring, evaluation and the desktop app accept wherever they take a run folder:

* ``model.keras``: the run's model file (the best checkpoint by default), its weights only: no
  optimizer state, so it is about a third of the checkpoint's size;
* ``run.json``: the run record (spec, preprocessing and data options, training config, history, device,
  versions, duration), with ``status`` as the run ended and ``model_path`` ``model.keras``; what only made
  sense on the training machine (the project folder, the training process, the feature cache) is left
  out, so the folder can be copied anywhere, shipped with an application, or put under version control;
  ``data["scoring"]`` holds the frame error and smoothing the model is meant to be scored with, if given;
* ``error_level.keras``: the run's error-level model, if it has one (``framewatch fit-error-level``), weights
  only as well;
* ``motion.npz``: a next-frame run's motion statistics, if it has them (``framewatch fit-motion``), for
  ``--scorer motion`` and ``fused``;
* with ``formats`` (``--format onnx|openvino``): the model and its error-level model in a faster runtime's
  format beside them (``model.onnx``; ``model.xml`` and ``model.bin``: :mod:`core.models.runtimes`),
  recorded in ``run.json`` (``data["runtime"]``) with the fingerprint of the Keras file each came from, so
  scoring uses them only while they match it.

A motion run (the ``motion`` preset) has no network: its statistics are exported as ``motion.npz``
(:data:`MOTION_MODEL_FILE`, read and written again, so a damaged file is refused) in place of ``model.keras``.

The model is loaded with ``safe_mode=True``. The folder is written whole or not at all: it is built in
a temporary folder beside it and swapped in (:func:`~core.atomic_write.atomic_folder`), so an export that
fails or is killed at any point leaves the previous export complete (never one run's weights beside
another's record) and the next export cleans up after it. A previous export is replaced only with
``overwrite``; a folder holding files an export does not write (a training run's checkpoints) never.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

from core.runs.errors import RunError
from core.runs.model import RunModel
from core.runs.record import RECORD_FILE, RunRecord

MODEL_FILE = "model.keras"
#: The model file of an exported motion run.
MOTION_MODEL_FILE = "motion.npz"
#: Where ``run.json``'s ``data`` records the runtime exports (:data:`core.models.runtimes.RECORD_KEY`).
RUNTIME_KEY = "runtime"
#: Record entries that name the training machine's files or processes.
_LOCAL_DATA = ("project", "cache_key")
_LOCAL_CONFIG = ("feature_cache_dir",)


def portable_record(record: RunRecord, note: str = "", scoring: dict | None = None,
                    model_file: str = MODEL_FILE) -> RunRecord:
    """``record`` without the training machine's paths and process, pointing at ``model_file``;
    ``scoring`` (``error``, ``smooth``, ``min_run``, ``merge_gap``) is stored as ``data["scoring"]``, the scoring
    it recommends."""
    data = {key: value for key, value in record.data.items() if key not in _LOCAL_DATA}
    if scoring:
        data["scoring"] = {**(data.get("scoring") or {}), **scoring}
    config = {key: value for key, value in record.config.items() if key not in _LOCAL_CONFIG}
    notes = [*record.notes, note] if note else list(record.notes)
    return dataclasses.replace(record, data=data, config=config, process=None, model_path=model_file,
                               notes=notes)


def export_run(run_dir: str | Path, out_dir: str | Path, *, checkpoint: str = "", overwrite: bool = False,
               scoring: dict | None = None, formats: Sequence[str] = ()) -> Path:
    """Write run ``run_dir``'s model and record to ``out_dir`` (created); returns ``out_dir``.

    ``checkpoint``: ``best`` (default: the record's model), ``last``, or a model file name in the run folder
    (:func:`~core.runs.model.model_file`: nothing outside the run folder is read, links are refused).
    ``scoring``: the scoring the model is meant for (``{"error": "worst-patches", "smooth": 3}``): scoring
    and evaluation use it when not told otherwise.
    ``formats``: runtimes to export the model (and error-level model) for as well (``onnx``, ``openvino``;
    :class:`~core.models.runtimes.RuntimeMissing` without their packages, checked before anything is written).
    :class:`RunError` for a run without a model, an existing export without ``overwrite``, or a folder with
    other files; :class:`~core.runs.errors.RunFileError` for a model file that does not match the record;
    :class:`~core.models.errors.ModelFileError` for a model file that cannot be loaded.
    """
    from core.atomic_write import atomic_folder, restore_folder
    from core.models.files import load_model_file

    run_dir, out_dir = Path(run_dir), Path(out_dir)
    formats = list(dict.fromkeys(formats))
    if formats:
        from core.models.runtimes import require

        for fmt in formats:
            require(fmt, export=True)
    found = RunModel.of(run_dir, checkpoint or "best")  # a file of the run folder, never one elsewhere
    record, source = found.record, found.model_path
    if out_dir.resolve() == run_dir.resolve():
        raise RunError(f"{out_dir}: is the run folder itself; export to another folder")
    level = record.error_level_path(run_dir)
    if level is not None and not level.is_file():
        raise RunError(f"{level}: the run's error-level model is missing; fit it again with "
                       "framewatch fit-error-level")
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        restore_folder(out_dir)  # what a killed export left: the previous folder back, temporary ones gone
    except OSError as exc:
        raise RunError(f"{out_dir}: cannot create the folder ({exc.strerror or exc})") from exc
    _check_replaceable(out_dir, overwrite)
    if record.spec.get("family") == "motion":
        if formats:
            raise RunError(f"{run_dir}: a motion run has no network to export for {', '.join(formats)}")
        return _export_motion(found, out_dir, scoring)
    model = found.load_model(load_model_file)
    weights_only = _without_optimizer(model)
    levels = _without_optimizer(load_model_file(level)) if level is not None else None
    motion_path = record.motion_path(run_dir)  # a predictor's motion statistics (framewatch fit-motion)
    motion = load_model_file(motion_path) if motion_path is not None else None
    try:
        with atomic_folder(out_dir) as part:
            weights_only.save(part / MODEL_FILE)
            if levels is not None:
                levels.save(part / level.name)
            if motion is not None:
                from core.motion.model import save_motion_model

                save_motion_model(motion, part / motion_path.name)
            exported = portable_record(record, f"exported from run {record.run_id!r} ({source.name})", scoring)
            if formats:
                models = [(MODEL_FILE, weights_only)] + ([(level.name, levels)] if levels is not None else [])
                exported = dataclasses.replace(exported, data={**exported.data,
                                                               RUNTIME_KEY: _export_runtimes(part, models, formats)})
            exported.save(part)
    except OSError as exc:
        raise RunError(f"{out_dir}: cannot write the exported run ({exc.strerror or exc})") from exc
    return out_dir


def _export_runtimes(folder: Path, models: list[tuple[str, object]], formats: list[str]) -> dict:
    """Export each ``(file name, Keras model)`` of ``folder`` for each format; ``{format: {file name: entry}}``
    (:func:`~core.models.runtimes.export_record`) for ``run.json``."""
    from core.inference.model_fingerprint import model_fingerprint
    from core.models.runtimes import export_model, export_record

    done: dict[str, dict] = {}
    for fmt in formats:
        for name, model in models:
            keras_path = folder / name
            written = export_model(model, keras_path, fmt)
            done.setdefault(fmt, {})[name] = export_record(folder, name, written, model_fingerprint(keras_path))
    return done


def _export_motion(found: RunModel, out_dir: Path, scoring: dict | None) -> Path:
    """A motion run's export: its statistics (loaded, checked against the record, written again) and record."""
    from core.atomic_write import atomic_folder
    from core.models.files import load_model_file
    from core.motion.model import save_motion_model

    model = found.load_model(load_model_file)
    record = found.record
    try:
        with atomic_folder(out_dir) as part:
            save_motion_model(model, part / MOTION_MODEL_FILE)
            portable_record(record, f"exported from run {record.run_id!r} ({found.model_path.name})", scoring,
                            MOTION_MODEL_FILE).save(part)
    except OSError as exc:
        raise RunError(f"{out_dir}: cannot write the exported run ({exc.strerror or exc})") from exc
    return out_dir


def _check_replaceable(out_dir: Path, overwrite: bool) -> None:
    """:class:`RunError` unless ``out_dir`` is missing, empty, or (with ``overwrite``) a previous export.

    The whole folder is replaced, so a folder holding anything an export does not write (a training run's
    checkpoints, someone's notes) is refused even with ``overwrite``: nothing is lost.
    """
    if not (out_dir.exists() or out_dir.is_symlink()):
        return
    if not out_dir.is_dir():
        raise RunError(f"{out_dir}: exists and is not a folder")
    try:
        names = sorted(entry.name for entry in out_dir.iterdir())
    except OSError as exc:
        raise RunError(f"{out_dir}: cannot be read ({exc.strerror or exc})") from exc
    if not names:
        return
    exported = {MODEL_FILE, MOTION_MODEL_FILE, RECORD_FILE}
    try:
        previous_level = RunRecord.load(out_dir).error_level_path(out_dir)
    except RunError:  # not a readable export: only the files every export writes are its own
        previous_level = None
    if previous_level is not None:
        exported.add(previous_level.name)
    try:
        runtimes = RunRecord.load(out_dir).data.get(RUNTIME_KEY) or {}
    except RunError:
        runtimes = {}
    for entries in runtimes.values() if isinstance(runtimes, dict) else ():
        for entry in entries.values() if isinstance(entries, dict) else ():
            if isinstance(entry, dict):
                exported.update(str(entry[key]) for key in ("file", "weights") if isinstance(entry.get(key), str))
    foreign = [name for name in names if name not in exported]
    if foreign:
        raise RunError(f"{out_dir}: holds files an export does not write ({', '.join(foreign[:5])}"
                       f"{', ...' if len(foreign) > 5 else ''}); export to a new or empty folder")
    if not overwrite:
        raise RunError(f"{out_dir / names[0]}: already exists (use --overwrite to replace the exported run)")


def _without_optimizer(model):
    """An uncompiled copy of ``model`` with its weights (so the file carries no optimizer state)."""
    import keras

    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    return copy
