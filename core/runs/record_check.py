"""The checks a ``run.json`` passes before it becomes a :class:`~core.runs.record.RunRecord`.

A run record is read by many (scoring, evaluation, rollout, resume, the runs list, the desktop app) and may
have been edited by hand, damaged, or crafted. It is checked once, when it is read: every field has its
type, every number is finite and within bounds, the model spec builds a spec (:func:`~core.models.specs.spec_from_dict`
with its own bounds: ``spec.frames: 1e308`` is refused), and the entries that readers take numbers from
(``config``: seed, epochs, batch size, steps; ``process.pid``; ``data.options.val_fraction``) are numbers
of the right kind. A field that fails is a :class:`~core.runs.errors.RunFileError` naming ``run.json``
and the field, never a traceback further on.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.runs.errors import RunFileError
from core.runs.process import MAX_PID

#: Epoch, batch and step counts a record may hold; beyond them lies damage, not a run.
MAX_COUNT = 10**9
#: Seconds a run may have trained (about 300 years).
MAX_SECONDS = 10**10
#: Random seeds (NumPy takes 0 .. 2**32 - 1).
MAX_SEED = 2**32 - 1


def _whole(low: int, high: int, optional: bool = False) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if optional and value is None:
            return ""
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not low <= value <= high:
            return f"a whole number from {low} to {high}"
        return ""
    return check


def _real(low: float, high: float, optional: bool = False) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if optional and value is None:
            return ""
        if (isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value)
                or not low <= value <= high):
            return f"a number from {low:g} to {high:g}"
        return ""
    return check


def _kind(kind: type | tuple[type, ...], optional: bool = False) -> Callable[[Any], str]:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = {dict: "a JSON object", list: "a JSON list", str: "text"}

    def check(value: Any) -> str:
        if optional and value is None:
            return ""
        return "" if isinstance(value, kinds) else " or ".join(names[k] for k in kinds) + (" or null" if optional else "")
    return check


def _list_of(kind: type) -> Callable[[Any], str]:
    names = {dict: "JSON objects", str: "texts"}

    def check(value: Any) -> str:
        if not isinstance(value, list) or not all(isinstance(item, kind) for item in value):
            return f"a JSON list of {names[kind]}"
        return ""
    return check


#: Top-level fields of ``run.json``: what each must be.
FIELDS: dict[str, Callable[[Any], str]] = {
    "run_id": _kind(str), "task": _kind(str), "preset": _kind(str), "spec": _kind(dict), "config": _kind(dict),
    "data": _kind(dict), "status": _kind(str), "created": _kind(str), "finished": _kind(str, optional=True),
    "duration_s": _real(0, MAX_SECONDS), "epochs_completed": _whole(0, MAX_COUNT),
    "best_epoch": _whole(0, MAX_COUNT, optional=True), "best_value": _real(-1e300, 1e300, optional=True),
    "monitor": _kind(str), "history": _list_of(dict), "device": _kind(dict), "versions": _kind(dict),
    "model_path": _kind(str), "error": _kind(str), "resumes": _list_of(str), "process": _kind(dict, optional=True),
    "notes": _list_of(str), "batch_size": _whole(1, MAX_COUNT, optional=True),
}
#: Entries of ``config`` (the training config) that readers take numbers from.
CONFIG_FIELDS: dict[str, Callable[[Any], str]] = {
    "seed": _whole(0, MAX_SEED), "epochs": _whole(1, MAX_COUNT), "batch_size": _whole(1, MAX_COUNT),
    "steps_per_epoch": _whole(1, MAX_COUNT, optional=True), "validation_steps": _whole(1, MAX_COUNT, optional=True),
    "patience": _whole(0, MAX_COUNT), "lr_patience": _whole(0, MAX_COUNT),
    "max_minutes": _real(1e-9, 1e9, optional=True), "max_steps": _whole(1, MAX_COUNT, optional=True),
    "lr_factor": _real(1e-9, 0.999999),
    "min_lr": _real(0, 1e9), "min_delta": _real(0, 1e300), "reserve_cores": _whole(0, 100_000),
    "cpu_threads": _whole(1, 100_000, optional=True), "monitor": _kind(str), "device": _kind(str),
}
#: Entries of ``process`` (the training process of a running run).
PROCESS_FIELDS: dict[str, Callable[[Any], str]] = {"pid": _whole(1, MAX_PID), "host": _kind(str),
                                                   "started": _kind(str)}
#: Entries of ``data``: the data options and preprocessing training used, the class names.
DATA_FIELDS: dict[str, Callable[[Any], str]] = {"options": _kind(dict), "preprocess": _kind(dict),
                                                "class_names": _list_of(str), "scoring": _kind(dict),
                                                "decision": _kind(dict)}


def check_record(path: Path, data: dict[str, Any], statuses: tuple[str, ...], hint: str) -> None:
    """Raise :class:`RunFileError` (``path``, the field and what it must be, then ``hint``) for the first
    field of ``data`` (a parsed ``run.json``) that is not what a run record holds."""
    from core.tasks import TASKS

    def refuse(field: str, value: Any, must: str) -> None:
        shown = repr(value)
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        raise RunFileError(path, f"damaged run record: {field} is {shown}, not {must}. {hint}")

    for group, fields, prefix in ((data, FIELDS, ""), (data.get("config"), CONFIG_FIELDS, "config."),
                                  (data.get("process"), PROCESS_FIELDS, "process."),
                                  (data.get("data"), DATA_FIELDS, "data.")):
        if not isinstance(group, dict):
            continue
        for name, check in fields.items():
            if name in group and (must := check(group[name])):
                refuse(prefix + name, group[name], must)
    if data.get("status", "created") not in statuses:
        refuse("status", data.get("status"), f"one of {', '.join(statuses)}")
    if data.get("task") not in TASKS:
        refuse("task", data.get("task"), f"one of {', '.join(TASKS)}")
    options = (data.get("data") or {}).get("options")
    if isinstance(options, dict) and "val_fraction" in options and (must := _real(0, 0.999999)(options["val_fraction"])):
        refuse("data.options.val_fraction", options["val_fraction"], must)
    _check_spec(path, data["spec"], hint)


def _check_spec(path: Path, spec: dict[str, Any], hint: str) -> None:
    """The model spec builds a spec of its family (every option typed and bounded by the spec itself)."""
    from core.models.errors import SpecError
    from core.models.specs import spec_from_dict

    try:
        spec_from_dict(spec)
    except (SpecError, TypeError, ValueError, OverflowError) as exc:
        raise RunFileError(path, f"damaged run record: spec: {exc}. {hint}") from None
