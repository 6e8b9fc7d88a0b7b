"""``framewatch`` as a whole: every usage error exits 2 with one line; a closed stdout is no traceback."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from core.cli.main import build_parser, main
from tests.conftest import REPO
from tests.video_factory import write_video

#: Commands that run with no arguments at all (the others must say what is missing).
RUN_BARE = {("presets",), ("devices",)}


def _commands(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.append((*prefix, name))
                found.extend(_commands(sub, (*prefix, name)))
    return found


def test_the_command_list_is_the_one_these_tests_know() -> None:
    assert set(_commands(build_parser())) == {
        ("info",), ("cut",), ("frames",), ("project",), ("train",), ("presets",), ("runs",), ("export-run",), ("devices",),
        ("score",), ("evaluate",), ("fit-error-level",), ("fit-motion",), ("trust",), ("refit",), ("predict",), ("classify",),
        *(("project", verb) for verb in ("new", "add-video", "edit-video", "import-ucsd", "import-folders", "import-moving-mnist", "label", "normal",
                                          "verdict", "export", "info", "relink", "scan")),
    }


@pytest.mark.parametrize("command", sorted(set(_commands(build_parser())) - RUN_BARE), ids=" ".join)
def test_every_command_without_arguments_exits_2_naming_what_is_missing(
    command: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        main(list(command))
    assert info.value.code == 2
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if "error:" in line]
    assert len(errors) == 1 and "required" in errors[0], err
    assert errors[0].startswith(f"framewatch {' '.join(command)}: error:") and "Traceback" not in err


def test_arguments_that_do_not_go_together_exit_2_before_anything_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = write_video(tmp_path / "v.avi", 10, fps=10)
    cases = [
        (["cut", str(source), "-o", str(tmp_path / "c.mp4")], "framewatch cut: error: missing --start and --end"),
        (["cut", str(source), "-o", str(tmp_path / "c.mp4"), "--pieces", "2"], "--pieces needs --duration"),
        (["cut", str(source), "-o", str(tmp_path / "c.mp4"), "--pieces", "2", "--duration", "1", "--start", "0"],
         "not both"),
        (["train", str(tmp_path / "proj")], "framewatch train: error: missing --task"),  # it exited 1
    ]
    for argv, message in cases:
        with pytest.raises(SystemExit) as info:
            main(argv)
        err = capsys.readouterr().err
        assert info.value.code == 2 and message in err, err
        assert len([line for line in err.splitlines() if "error:" in line]) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v.avi"]


def test_a_closed_stdout_ends_quietly_without_a_traceback(tmp_path: Path) -> None:
    source = write_video(tmp_path / "v.avi", 10, fps=10)
    proc = subprocess.Popen([sys.executable, "-m", "core.cli.main", "info", "--json", str(source)], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader went away, as `| head -1` does, before a byte was written
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(timeout=120) == 141
    assert err == ""  # no BrokenPipeError traceback, no "Exception ignored" at exit
