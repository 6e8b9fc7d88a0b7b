"""Render :class:`~core.jobs.Progress` events on stderr: a tqdm bar on a terminal, plain lines in a log.

The bar is named for the job's stage when its reports carry one (``calibrating the threshold``, then
``scoring``). A job started with its output sent to a file (``framewatch train ... 2> train.log``, ``nohup``, a
scheduler) gets no bar, whose carriage returns would fill the file: instead one plain line at most every
:data:`LOG_INTERVAL_S` seconds (and at the end) says how far it is, so an hours-long run can be followed.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from types import TracebackType

from tqdm import tqdm

from core.jobs import Progress

#: Seconds between the plain progress lines written when stderr is not a terminal.
LOG_INTERVAL_S = 60.0


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


class ProgressBar:
    """A callable progress sink for core jobs: ``with ProgressBar("cut") as bar: job(progress=bar)``.

    ``enabled``: draw the bar (default: when stderr is a terminal). Without the bar, plain lines are
    logged every ``log_interval_s`` seconds (``None``: never); ``clock`` is for tests.
    """

    def __init__(self, description: str, unit: str = "frame", enabled: bool | None = None,
                 log_interval_s: float | None = LOG_INTERVAL_S, clock: Callable[[], float] = time.monotonic) -> None:
        enabled = sys.stderr.isatty() if enabled is None else enabled
        self._bar = tqdm(desc=description, unit=unit, file=sys.stderr, dynamic_ncols=True, leave=True,
                         disable=not enabled)
        self._description = description
        self._units = unit + ("es" if unit.endswith(("ch", "sh", "s", "x")) else "s")  # plural, for the log
        self._log_interval = None if enabled else log_interval_s
        self._clock = clock
        self._started = clock()
        self._logged_at = self._started
        self._last: Progress | None = None
        self._last_logged: Progress | None = None

    def __call__(self, event: Progress) -> None:
        if event.stage is not None and event.stage.label != self._description:  # a job's next part: its name
            self._description = event.stage.label
            self._bar.set_description_str(self._description, refresh=False)
        if event.total is not None and self._bar.total != event.total:
            self._bar.total = event.total
        self._bar.n = event.done
        if event.message:
            self._bar.set_postfix_str(event.message, refresh=False)
        self._bar.refresh()
        self._last = event
        if self._log_interval is not None and self._clock() - self._logged_at >= self._log_interval:
            self._log(event)

    def _log(self, event: Progress) -> None:
        now = self._clock()
        elapsed = now - self._started
        parts = [f"{self._description}: {event.done:,.0f}"]
        if event.total:
            parts[0] += f"/{event.total:,.0f} {self._units} ({100 * event.done / event.total:.0f}%)"
        else:
            parts[0] += f" {self._units}"
        parts.append(f"{_duration(elapsed)} elapsed")
        if event.total and 0 < event.done < event.total:
            parts.append(f"eta {_duration(elapsed * (event.total - event.done) / event.done)}")
        if event.message:
            parts.append(event.message)
        print(", ".join(parts), file=sys.stderr, flush=True)
        self._logged_at = now
        self._last_logged = event

    def write(self, line: str) -> None:
        """Print ``line`` on stderr above the bar (the bar is drawn again below it)."""
        self._bar.write(line, file=sys.stderr)

    def close(self) -> None:
        if self._log_interval is not None and self._last is not None and self._last is not self._last_logged \
                and self._clock() - self._started >= self._log_interval:
            self._log(self._last)  # where a long job ended
        self._bar.close()

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
