"""The tasks Framewatch trains models for: one list of names, and what the data layer calls each.

``predict`` (next-frame prediction), ``anomaly`` (reconstruction autoencoder), ``classify`` (one class
per clip) and ``regress`` (a number per clip) are the names users see in the CLI, the GUI, model specs,
presets and run records. :mod:`core.data` names its sample tables after what a sample holds
(``next_frame``, ``anomaly``, ``classification``, ``regression``); :data:`DATASET_TASKS` is the one
table between the two vocabularies.
"""

from __future__ import annotations

#: The tasks, in menu order.
TASKS: tuple[str, ...] = ("predict", "anomaly", "classify", "regress")

#: Task -> the name of its sample table in :mod:`core.data`.
DATASET_TASKS: dict[str, str] = {
    "predict": "next_frame",
    "anomaly": "anomaly",
    "classify": "classification",
    "regress": "regression",
}

#: The data layer's names, in the order of :data:`TASKS`.
DATASET_TASK_NAMES: tuple[str, ...] = tuple(DATASET_TASKS[task] for task in TASKS)


def is_task(name: str) -> bool:
    return name in TASKS


def tasks_text() -> str:
    """``"predict, anomaly, classify, regress"``: for error messages."""
    return ", ".join(TASKS)
