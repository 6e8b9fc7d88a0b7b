"""The runner behind ``python -m bench NAME|all [--quick] [--no-record] [options of NAME]``.

Prints one table (benchmark | figure | value | target | result) and appends it, dated, with the
command, to docs/benchmarks.md. Exit status: 0 when every figure with a target met it, 1 when any
missed it (or a benchmark crashed), 2 for a bad command line.
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import textwrap
import time
import traceback
from pathlib import Path

from bench.figures import REPO, Figure, read_figures, record, table, write_figures
from bench.registry import Benchmark, FiguresFn, discover

DOCS = REPO / "docs" / "benchmarks.md"
QUICK_LIMIT_S = 900  # python -m bench all --quick must fit in 15 minutes on 2 cores


def _parser(benchmarks: dict[str, Benchmark]) -> argparse.ArgumentParser:
    listing = "\n".join(f"  {name:<10} {b.summary}" for name, b in benchmarks.items())
    notes = ("Options after NAME that are not the runner's go to the benchmark: `python -m bench NAME --help` "
             "lists them. Exit status: 0 when every figure with a target meets it; 1 when any figure misses its "
             "target or a benchmark fails to run; 2 for a bad command line. A figure that cannot be measured here "
             "is marked SKIP with the reason, never PASS.")
    parser = argparse.ArgumentParser(
        prog="python -m bench", add_help=False, formatter_class=argparse.RawDescriptionHelpFormatter,
        usage="python -m bench NAME|all [--quick] [--no-record] [--record FILE] [options of NAME]",
        description=textwrap.fill("Run a benchmark (or all of them), print every figure beside its target, and "
                                  "append the table, dated and with the command, to docs/benchmarks.md.", 100),
        epilog=f"benchmarks:\n{listing}\n  {'all':<10} every benchmark above, each in its own process\n\n"
               + textwrap.fill(notes, 100),
    )
    parser.add_argument("name", nargs="?", metavar="NAME", help="a benchmark below, or all")
    parser.add_argument("--quick", action="store_true",
                        help=f"shorter variants; `all --quick` takes under {QUICK_LIMIT_S // 60} minutes on 2 cores")
    parser.add_argument("--no-record", action="store_true", help="print the table only; do not append it to the docs")
    parser.add_argument("--record", type=Path, default=DOCS, metavar="FILE",
                        help="append the results here (default: docs/benchmarks.md)")
    parser.add_argument("-h", "--help", action="store_true", help="show this help (NAME --help: the benchmark's options)")
    parser.add_argument("--figures-out", type=Path, help=argparse.SUPPRESS)  # a child run of `all` reports here
    return parser


def _crash_figure(error: str) -> Figure:
    return Figure("ran to the end", None, error=error)


def run_here(bench: Benchmark, argv: list[str], quick: bool) -> list[Figure]:
    """Run ``bench`` in this process; a crash becomes one failing figure with the error, after its traceback."""
    try:
        return bench.run(argv, quick)
    except Exception as error:  # noqa: BLE001 - any crash is reported as a failed figure, then the rest go on
        traceback.print_exc()
        return [_crash_figure(f"{type(error).__name__}: {error}".splitlines()[0])]


def run_child(name: str, quick: bool) -> list[Figure]:
    """Run benchmark ``name`` in a fresh Python process, so no benchmark's threads or caches disturb the next one."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "figures.json"
        cmd = [sys.executable, "-m", "bench", name, "--no-record", "--figures-out", str(out)]
        cmd += ["--quick"] if quick else []
        done = subprocess.run(cmd, cwd=REPO)
        if out.exists():
            return read_figures(out)
        return [_crash_figure(f"exited with status {done.returncode} before reporting (see its output above)")]


def machine(load_before: float) -> str:
    """Cores, memory, platform and the load around the run: the shared machine's load is part of the figure."""
    try:
        mem = f", {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB"
    except (ValueError, OSError, AttributeError):
        mem = ""
    load = ""
    if hasattr(os, "getloadavg"):
        load = f", 1-minute load average {load_before:.2f} at the start and {os.getloadavg()[0]:.2f} at the end"
    return f"{os.cpu_count()} CPU cores{mem}, {platform.system()} {platform.machine()}, " \
           f"Python {platform.python_version()}{load}"


def main(argv: list[str] | None = None, benchmarks: dict[str, Benchmark] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    benchmarks = discover() if benchmarks is None else benchmarks
    parser = _parser(benchmarks)
    args, rest = parser.parse_known_args(argv)
    if args.help:
        if args.name in benchmarks:
            benchmarks[args.name].run(["--help"], args.quick)  # its parser prints its options and exits
        parser.print_help()
        return 0
    if args.name is None:
        parser.print_usage(sys.stderr)
        print("python -m bench: error: name a benchmark or all (--help lists them)", file=sys.stderr)
        return 2
    if args.name != "all" and args.name not in benchmarks:
        print(f"python -m bench: error: unknown benchmark {args.name!r}; known: {', '.join(benchmarks)}, all",
              file=sys.stderr)
        return 2
    if args.name == "all" and rest:
        print(f"python -m bench: error: options {' '.join(rest)!r} belong to one benchmark; not valid with all",
              file=sys.stderr)
        return 2

    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    started = time.perf_counter()
    rows: list[tuple[str, Figure]] = []
    if args.name == "all":
        for name, bench in benchmarks.items():
            print(f"== {name}: {bench.summary}", flush=True)
            figures = run_here(bench, [], args.quick) if bench.function else run_child(name, args.quick)
            rows += [(name, f) for f in figures]
        wall = time.perf_counter() - started
        rows.append(("all", Figure("wall time", wall, "s", f"< {QUICK_LIMIT_S}" if args.quick else None,
                                   note="quick variants, 2-core target" if args.quick else "")))
    else:
        figures = run_here(benchmarks[args.name], rest, args.quick)
        if args.figures_out:
            write_figures(args.figures_out, figures)
            return 1 if any(f.failed for f in figures) else 0
        rows = [(args.name, f) for f in figures]
        wall = time.perf_counter() - started

    print()
    print(table(rows))
    failed = [f"{bench}: {fig.name}" for bench, fig in rows if fig.failed]
    print(f"FAIL ({len(failed)}): {'; '.join(failed)}" if failed else "PASS: every figure with a target met it")
    if not args.no_record:
        command = shlex.join(["python", "-m", "bench", *(a for a in argv if a != "--no-record")])
        record(args.record, command, rows, machine(load_before), wall_s=wall)
        print(f"recorded in {args.record}")
    return 1 if failed else 0


def run_script(name: str, fn: FiguresFn, summary: str = "") -> int:
    """The old script entry point (``python3 bench/bench_NAME.py [options]``): its table, nothing recorded."""
    return main([name, "--no-record", *sys.argv[1:]], {name: Benchmark(name, summary, function=fn)})
