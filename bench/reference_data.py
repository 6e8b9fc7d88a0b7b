"""Where the benchmarks find the reference data (UCSD Ped2, MNIST, the clips): ``../shared/data``.

It lies beside the repository; ``--data`` on a benchmark overrides it.
"""

from __future__ import annotations

from pathlib import Path

from bench.figures import REPO


def default_data_dir() -> Path:
    """``shared/data`` beside the repository."""
    return REPO.parent / "shared" / "data"
