"""Run-folder files: JSON records and model checkpoints, written through :mod:`core.atomic_write`.

A crash mid-write leaves the previous file in place, and a killed write's temporary file is removed by
the next write of the same file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from core.atomic_write import atomic_output, copy_file, write_json

__all__ = ["copy_file", "read_json", "save_model", "write_json"]

def read_json(path: Path) -> Any:
    with open(path, encoding="utf-8") as f:
        return json.load(f)

def save_model(model: Any, path: Path) -> None:
    """``model.save`` (optimizer included) to a temporary ``.keras`` file, then renamed onto ``path``."""
    with atomic_output(path) as tmp:
        model.save(tmp)
