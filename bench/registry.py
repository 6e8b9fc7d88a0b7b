"""The benchmarks ``python -m bench`` knows: every ``bench/bench_NAME.py`` module, found by its file name.

A benchmark module defines ``figures(argv: list[str], quick: bool) -> list[Figure]``: it parses its own
options from ``argv`` (so ``python -m bench NAME --its-option`` passes them through), prints whatever
detail it likes while it runs, and returns its figures (:mod:`bench.figures`). With ``quick`` it runs
a shorter variant of itself, small enough that every quick run together fits in 15 minutes on 2 cores.
Adding a benchmark is adding such a file; nothing else needs to list it.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.figures import Figure

BENCH_DIR = Path(__file__).resolve().parent
PREFIX = "bench_"

FiguresFn = Callable[[list[str], bool], list[Figure]]


@dataclass(frozen=True)
class Benchmark:
    """A named benchmark; ``run`` is the module's ``figures`` function, imported on first use."""

    name: str
    summary: str
    module: str = ""
    function: FiguresFn | None = None

    def run(self, argv: list[str], quick: bool) -> list[Figure]:
        fn = self.function or importlib.import_module(self.module).figures
        return fn(argv, quick)


def _summary(path: Path) -> str:
    """First line of the module's docstring, read without importing it (TensorFlow takes seconds to load)."""
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def discover(folder: Path = BENCH_DIR) -> dict[str, Benchmark]:
    """``{name: Benchmark}`` for every ``bench_NAME.py`` in ``folder``, sorted by name."""
    found = {}
    for path in sorted(folder.glob(f"{PREFIX}*.py")):
        name = path.stem[len(PREFIX):]
        found[name] = Benchmark(name, _summary(path), module=f"bench.{path.stem}")
    return found
