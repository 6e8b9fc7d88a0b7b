"""The metrics are pure numpy: importing every evaluation module loads no TensorFlow, Keras, SciPy or Qt."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import core.evaluation
from tests.conftest import REPO

HEAVY = ("tensorflow", "keras", "scipy", "skimage", "sklearn", "cv2", "PySide6", "desktop_app")


def test_evaluation_imports_numpy_alone() -> None:
    modules = sorted(m.name for m in pkgutil.iter_modules(core.evaluation.__path__, prefix="core.evaluation."))
    assert "core.evaluation.roc" in modules and "core.evaluation.frames" in modules
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        f"print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"core.evaluation loaded: {result.stdout.strip()}"
