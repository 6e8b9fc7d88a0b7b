"""Render :class:`~core.jobs.Progress` events as a terminal progress bar (tqdm, on stderr)."""

from __future__ import annotations

import sys
from types import TracebackType

from tqdm import tqdm

from core.jobs import Progress


class ProgressBar:
    """A callable progress sink for core jobs: ``with ProgressBar("cut") as bar: job(progress=bar)``."""

    def __init__(self, description: str, unit: str = "frame", enabled: bool | None = None) -> None:
        self._bar = tqdm(
            desc=description, unit=unit, file=sys.stderr, dynamic_ncols=True, leave=True,
            disable=not sys.stderr.isatty() if enabled is None else not enabled,
        )

    def __call__(self, event: Progress) -> None:
        if event.total is not None and self._bar.total != event.total:
            self._bar.total = event.total
        self._bar.n = event.done
        if event.message:
            self._bar.set_postfix_str(event.message, refresh=False)
        self._bar.refresh()

    def close(self) -> None:
        self._bar.close()

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
