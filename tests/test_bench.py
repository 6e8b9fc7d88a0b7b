"""The benchmark runner (``python -m bench``): registry, figure table, recording, exit status.

No real benchmark runs here: the runner is driven with fake benchmarks registered by the test.
"""

from __future__ import annotations

import ast
import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

from bench.figures import Figure, read_figures, record, table, write_figures
from bench.registry import Benchmark, discover
from bench.runner import main
from tests.conftest import REPO

BENCH = REPO / "bench"


def fake(figures: list[Figure], seen: list | None = None) -> Benchmark:
    def run(argv: list[str], quick: bool) -> list[Figure]:
        if seen is not None:
            seen.append((argv, quick))
        return figures

    return Benchmark("fake", "a fake benchmark", function=run)


def test_registry_lists_every_benchmark_module_and_each_defines_figures() -> None:
    modules = sorted(p.stem.removeprefix("bench_") for p in BENCH.glob("bench_*.py"))
    found = discover()
    assert sorted(found) == modules
    assert {"video", "project", "gui", "training"} <= set(found)
    assert "gui_screenshot" not in found  # makes README screenshots; not a benchmark
    for name, bench in found.items():
        tree = ast.parse((BENCH / f"bench_{name}.py").read_text())
        defs = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
        assert "figures" in defs, name
        assert [a.arg for a in defs["figures"].args.args] == ["argv", "quick"], name
        assert bench.summary and bench.module == f"bench.bench_{name}"


def test_a_new_module_in_the_folder_is_a_new_benchmark(tmp_path: Path) -> None:
    (tmp_path / "bench_decode.py").write_text('"""Decode speed.\n\nMore."""\n\ndef figures(argv, quick):\n    return []\n')
    (tmp_path / "helper.py").write_text('"""Not a benchmark."""\n')
    found = discover(tmp_path)
    assert list(found) == ["decode"]
    assert found["decode"].summary == "Decode speed."


def test_figures_are_judged_against_their_targets() -> None:
    assert Figure("ratio", 0.80, "x", ">= 0.80").result == "PASS"  # the bound itself meets >=
    assert Figure("ratio", 0.79, "x", ">= 0.80").result == "FAIL"
    assert Figure("growth", 100.0, "MB", "< 100").result == "FAIL"  # ... but not <
    assert Figure("stall", 50.0, "ms", "<= 50").result == "PASS"
    assert Figure("latency", 12.0, "ms").result == "-"  # no target: reported, not judged
    skipped = Figure("fps", None, "x", ">= 0.9", skipped="no display")
    assert skipped.result == "SKIP" and not skipped.failed
    with pytest.raises(ValueError, match="'about 0.8'"):
        Figure("ratio", 1.0, target="about 0.8")
    with pytest.raises(ValueError, match="no value"):
        Figure("ratio", None)


def test_figures_cross_from_a_child_process_unchanged(tmp_path: Path) -> None:
    figures = [Figure("ratio", 0.92, "x", ">= 0.80", note="n"), Figure("fps", None, "x", ">= 0.9", skipped="why"),
               Figure("ran to the end", None, error="OSError: gone")]
    write_figures(tmp_path / "f.json", figures)
    back = read_figures(tmp_path / "f.json")
    assert back == figures
    assert [f.result for f in back] == ["PASS", "SKIP", "FAIL"]


def test_table_shows_value_target_and_result_of_every_figure() -> None:
    text = table([
        ("video", Figure("decode ratio", 0.92, "x", ">= 0.80", note="median of 5")),
        ("video", Figure("RSS growth", 140.0, "MB", "< 100")),
        ("gui", Figure("p99 stall", None, "ms", "<= 50", skipped="no display")),
        ("gui", Figure("max stall", 6.4, "ms")),
    ])
    assert "a \\| b" in table([("x", Figure("f", 1.0, note="a | b"))])  # a pipe in a note stays in its cell
    lines = text.splitlines()
    assert [c.strip() for c in lines[0].strip("|").split("|")] == \
        ["benchmark", "figure", "value", "target", "result", "note"]
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in lines[2:]]
    assert rows == [
        ["video", "decode ratio", "0.92x", ">= 0.80x", "PASS", "median of 5"],
        ["video", "RSS growth", "140 MB", "< 100 MB", "FAIL", ""],
        ["gui", "p99 stall", "-", "<= 50 ms", "SKIP", "no display"],
        ["gui", "max stall", "6.4 ms", "-", "-", ""],
    ]
    assert len({len(line) for line in lines}) == 1  # aligned columns


def test_record_appends_a_dated_section_and_keeps_what_was_there(tmp_path: Path) -> None:
    docs = tmp_path / "benchmarks.md"
    old = "# Benchmarks\n\n## Video core (issue 2)\n\nearlier figures\n"
    docs.write_text(old)
    rows = [("video", Figure("decode ratio", 0.92, "x", ">= 0.80"))]
    when = dt.datetime(2026, 11, 24, 9, 30)
    record(docs, "python -m bench video --quick", rows, "2 CPU cores", when=when, wall_s=31.0)
    first = docs.read_text()
    assert first.startswith(old.rstrip("\n"))
    section = first[len(old):]
    assert "## Run of 2026-11-24 09:30" in section
    assert "Command: `python -m bench video --quick`" in section
    assert "Machine: 2 CPU cores." in section and "Wall time 31 s; every judged figure met its target." in section
    assert table(rows) in section

    record(docs, "python -m bench all", [("gui", Figure("ratio", 0.5, "x", ">= 0.9"))], "2 CPU cores", when=when)
    second = docs.read_text()
    assert second.startswith(first.rstrip("\n")) and second.count("## Run of") == 2
    assert "1 figure(s) missed the target" in second[len(first):]


def test_a_failing_figure_gives_a_nonzero_exit_and_is_recorded_as_fail(tmp_path: Path) -> None:
    docs = tmp_path / "benchmarks.md"
    failing = {"fake": fake([Figure("ok", 1.0, "x", ">= 0.5"), Figure("too slow", 2.0, "s", "< 1")])}
    assert main(["fake", "--record", str(docs)], failing) == 1
    text = docs.read_text()
    assert "Command: `python -m bench fake --record" in text
    assert "| FAIL   |" in text and "| PASS   |" in text

    passing = {"fake": fake([Figure("ok", 1.0, "x", ">= 0.5"), Figure("info", 3.0, "s")])}
    assert main(["fake", "--no-record"], passing) == 0
    assert docs.read_text() == text  # --no-record leaves the file alone


def test_options_pass_through_and_quick_reaches_the_benchmark() -> None:
    seen: list = []
    benchmarks = {"fake": fake([Figure("ok", 1.0)], seen)}
    assert main(["fake", "--quick", "--no-record", "--repeats", "3"], benchmarks) == 0
    assert main(["fake", "--no-record"], benchmarks) == 0
    assert seen == [(["--repeats", "3"], True), ([], False)]


def test_a_crashing_benchmark_is_a_failure_not_a_pass(capsys: pytest.CaptureFixture[str]) -> None:
    def crash(argv: list[str], quick: bool) -> list[Figure]:
        raise RuntimeError("decoder vanished")

    assert main(["boom", "--no-record"], {"boom": Benchmark("boom", "", function=crash)}) == 1
    out, err = capsys.readouterr()
    assert "Traceback" in err and "decoder vanished" in err  # the detail, for whoever reads the log
    row = next(line for line in out.splitlines() if line.startswith("| boom"))
    assert [c.strip() for c in row.strip("|").split("|")] == \
        ["boom", "ran to the end", "-", "-", "FAIL", "RuntimeError: decoder vanished"]


def test_all_runs_every_benchmark_into_one_table_with_its_wall_time(capsys: pytest.CaptureFixture[str]) -> None:
    seen_a: list = []
    seen_b: list = []
    benchmarks = {"a": fake([Figure("one", 1.0, "x", ">= 0.5")], seen_a),
                  "b": fake([Figure("two", 9.0, "ms", "<= 5")], seen_b)}
    assert main(["all", "--quick", "--no-record"], benchmarks) == 1
    assert seen_a == seen_b == [([], True)]
    out = capsys.readouterr().out
    assert "| a " in out and "| b " in out
    assert "| all       | wall time" in out and "< 900 s" in out
    assert "FAIL (1): b: two" in out


def test_bad_command_lines_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    benchmarks = {"fake": fake([])}
    assert main(["nosuch", "--no-record"], benchmarks) == 2
    assert "unknown benchmark 'nosuch'; known: fake, all" in capsys.readouterr().err
    assert main(["all", "--repeats", "3"], benchmarks) == 2
    assert main([], benchmarks) == 2


def test_help_in_a_subprocess_lists_the_benchmarks_and_the_exit_status() -> None:
    done = subprocess.run([sys.executable, "-m", "bench", "--help"], cwd=REPO, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    for name in discover():
        assert f"\n  {name} " in done.stdout
    assert "--quick" in done.stdout and "--no-record" in done.stdout
    words = " ".join(done.stdout.split())
    assert "Exit status: 0 when every figure with a target meets it; 1 when any figure misses its target" in words


def test_old_script_entry_point_still_starts() -> None:
    done = subprocess.run([sys.executable, "bench/bench_video.py", "--help"], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "--skip-memory" in done.stdout


def test_peak_rss_of_a_child_counts_what_it_allocated_and_returns_its_result() -> None:
    import numpy as np

    from bench.peak_rss import peak_rss

    ballast = np.full(300_000_000, 3, np.uint8)  # a large parent must not mask the child's own peak
    small = peak_rss("result = {'n': 1}")
    del ballast
    big = peak_rss("import numpy as np\nblocks = [np.full(2_000_000, 3, np.uint8) for _ in range(100)]\n"
                   "result = {'n': sum(int(b.sum()) // 3 for b in blocks)}")
    assert small["n"] == 1 and big["n"] == 200_000_000
    assert big["peak_rss_mb"] - small["peak_rss_mb"] > 100  # 200 MB written in the child


def test_a_failing_child_raises() -> None:
    from bench.peak_rss import peak_rss

    with pytest.raises(subprocess.CalledProcessError):
        peak_rss("raise SystemExit(3)")
