"""The split between core (no Qt) and desktop_app cannot rot."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import core
from tests.conftest import REPO

QT_MODULES = ("PySide6", "shiboken6", "pyqtgraph", "desktop_app")


def all_core_modules() -> list[str]:
    return sorted(m.name for m in pkgutil.walk_packages(core.__path__, prefix="core."))


def test_importing_every_core_module_loads_no_qt() -> None:
    modules = all_core_modules()
    assert "core.video.open" in modules
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {QT_MODULES!r})\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"core loaded Qt modules: {result.stdout.strip()}"


def test_import_linter_contract_holds() -> None:
    result = subprocess.run(
        ["lint-imports", "--no-cache"],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "KEPT" in result.stdout


def test_the_command_modules_import_one_another_without_a_cycle() -> None:
    """``core.cli``'s modules form no import cycle (the ``project`` commands share their opening through
    ``core.cli.project_access``, which imports none of them)."""
    import grimp

    graph = grimp.build_graph("core")
    cli = sorted(m for m in graph.modules if m.startswith("core.cli."))
    assert "core.cli.project_access" in cli
    cycles = [(a, b) for a in cli for b in cli
              if a < b and graph.chain_exists(a, b) and graph.chain_exists(b, a)]
    assert cycles == []
