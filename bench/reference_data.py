"""Where the benchmarks find the reference data (UCSD Ped2, MNIST, the clips): ``shared/data``.

It lies beside the repository (``../shared/data``); for a git worktree, beside the main checkout it
was made from. ``--data`` on a benchmark overrides it.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from bench.figures import REPO


def _main_checkout() -> Path | None:
    """The main checkout's folder when ``REPO`` is a git worktree of it, else ``None``."""
    try:
        out = subprocess.run(["git", "rev-parse", "--path-format=absolute", "--git-common-dir"], cwd=REPO,
                             capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    common = Path(out.stdout.strip())
    return common.parent if out.returncode == 0 and common.name == ".git" else None


def default_data_dir() -> Path:
    """``../shared/data`` beside the repository, or beside its main checkout; the first that exists."""
    candidates = [REPO.parent / "shared" / "data"]
    main = _main_checkout()
    if main is not None:
        candidates.append(main.parent / "shared" / "data")
    return next((c for c in candidates if c.is_dir()), candidates[0])
