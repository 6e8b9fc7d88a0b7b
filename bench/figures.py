"""What a benchmark reports: figures with their targets, judged, rendered as one table and recorded.

A benchmark's ``figures(argv, quick)`` returns a list of :class:`Figure`. The runner
(``python -m bench``) prints them as one table, ``benchmark | figure | value | target | result``, and
appends a dated section with the command and that table to ``docs/benchmarks.md``.
"""

from __future__ import annotations

import datetime as _dt
import json
import operator
import sys
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # the old script entry points (python3 bench/bench_video.py) start in bench/
    sys.path.insert(0, str(REPO))

from core.atomic_write import write_text  # noqa: E402

COMPARISONS = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt}
PASS, FAIL, SKIP, INFO = "PASS", "FAIL", "SKIP", "-"


def parse_target(target: str) -> tuple[str, float]:
    """``">= 0.80"`` -> ``(">=", 0.8)``; a ``ValueError`` names the target when it is not one of those forms."""
    parts = target.split()
    if len(parts) != 2 or parts[0] not in COMPARISONS:
        raise ValueError(f"target {target!r}: expected a comparison ({', '.join(COMPARISONS)}) and a number")
    try:
        return parts[0], float(parts[1])
    except ValueError:
        raise ValueError(f"target {target!r}: {parts[1]!r} is not a number") from None


@dataclass(frozen=True)
class Figure:
    """One measured figure.

    ``value`` is in ``unit`` (``"s"``, ``"ms"``, ``"MB"``, ``"fps"``, ``"x"`` for a ratio, ``""`` for a
    bare number). ``target`` is a comparison with a number in the same unit, e.g. ``">= 0.80"``; a
    figure without one is reported, not judged. ``skipped`` is the reason a figure could not be
    measured here (its value is then ``None``): a skip is never a pass. ``error`` is why a benchmark
    could not finish (a crash): that figure fails whatever its value.
    """

    name: str
    value: float | None
    unit: str = ""
    target: str | None = None
    note: str = ""
    skipped: str = ""
    error: str = ""

    def __post_init__(self) -> None:
        if self.target is not None:
            parse_target(self.target)
        if self.value is None and not (self.skipped or self.error):
            raise ValueError(f"figure {self.name!r} has no value and no reason for skipping it")

    @property
    def result(self) -> str:
        """``PASS`` / ``FAIL`` against the target, ``SKIP`` when not measured, ``-`` when there is no target."""
        if self.error:
            return FAIL
        if self.skipped:
            return SKIP
        if self.target is None:
            return INFO
        op, bound = parse_target(self.target)
        return PASS if COMPARISONS[op](self.value, bound) else FAIL

    @property
    def failed(self) -> bool:
        return self.result == FAIL

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> Figure:
        return cls(**data)


def format_value(value: float) -> str:
    """A readable number: whole numbers from 100 up, one decimal from 10, else three significant digits."""
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


def _with_unit(text: str, unit: str) -> str:
    if not unit:
        return text
    return f"{text}{unit}" if unit in ("x", "%") else f"{text} {unit}"


def table(rows: Iterable[tuple[str, Figure]]) -> str:
    """A Markdown table (aligned, so it reads as well in a terminal) of ``(benchmark, figure)`` rows."""
    header = ("benchmark", "figure", "value", "target", "result", "note")
    lines = []
    for bench, fig in rows:
        value = "-" if fig.value is None else _with_unit(format_value(fig.value), fig.unit)
        target = "-" if fig.target is None else _with_unit(fig.target, fig.unit)
        note = fig.error or fig.skipped or fig.note
        cells = (bench, fig.name, value, target, fig.result, note)
        lines.append(tuple(c.replace("|", "\\|") for c in cells))  # a "|" in a note must not split the row
    widths = [max(len(h), *(len(line[i]) for line in lines)) if lines else len(h) for i, h in enumerate(header)]
    right = {2, 3}  # numbers align right

    def row(cells: tuple[str, ...]) -> str:
        return "| " + " | ".join(c.rjust(w) if i in right else c.ljust(w)
                                 for i, (c, w) in enumerate(zip(cells, widths, strict=True))) + " |"

    rule = "|" + "|".join("-" * (w + 1) + ":" if i in right else "-" * (w + 2) for i, w in enumerate(widths)) + "|"
    return "\n".join([row(header), rule, *(row(line) for line in lines)])


def record(path: Path, command: str, rows: list[tuple[str, Figure]], machine: str,
           when: _dt.datetime | None = None, wall_s: float | None = None) -> str:
    """Append a dated section with ``command``, ``machine`` and the table of ``rows`` to ``path``.

    The file is rewritten atomically (its old text first, unchanged), so an interrupted run cannot
    truncate the results already recorded. Returns the section appended.
    """
    when = when or _dt.datetime.now().astimezone()
    failed = sum(fig.failed for _, fig in rows)
    verdict = "every judged figure met its target" if not failed else f"{failed} figure(s) missed the target"
    lines = [f"## Run of {when:%Y-%m-%d %H:%M}", "", f"Command: `{command}`", "", f"Machine: {machine}."]
    if wall_s is not None:
        lines.append(f"Wall time {wall_s:,.0f} s; {verdict}.")
    else:
        lines.append(f"Result: {verdict}.")
    section = "\n".join([*lines, "", table(rows), ""])
    old = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    write_text(path, old.rstrip("\n") + "\n\n" + section)
    return section


def write_figures(path: Path, figures: list[Figure]) -> None:
    """Figures as JSON, for the runner that started this benchmark in a child process."""
    path.write_text(json.dumps([f.to_json() for f in figures]), encoding="utf-8")


def read_figures(path: Path) -> list[Figure]:
    return [Figure.from_json(d) for d in json.loads(path.read_text(encoding="utf-8"))]
