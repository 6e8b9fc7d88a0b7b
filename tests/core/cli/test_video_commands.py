"""``framewatch --help | info | cut | frames``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.cli.main import main as cli
from core.video import open_video
from tests.video_factory import decode_index, write_video


def test_help_lists_sub_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for command in ("info", "cut", "frames"):
        assert command in out


def test_info_bikes(bikes: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["info", str(bikes), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["frame_count"], data["fps"], data["width"], data["height"]) == (250, 25.0, 640, 272)
    assert data["declared_frame_count"] == 250 and data["codec"] == "h264" and data["seek_mode"] in ("seek", "sequential")
    assert cli(["info", str(bikes)]) == 0
    table = capsys.readouterr().out
    assert "640x272" in table and "frames (decoded)   250" in table


def test_info_ped2_folder(ped2: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["info", str(ped2 / "testing" / "01"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["frame_count"] == 180 and data["kind"] == "image_sequence"


def test_cut_and_frames_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = write_video(tmp_path / "src.avi", 60, fps=10)
    assert cli(["cut", str(source), "-o", str(tmp_path / "a.mp4"), "--start", "12", "--end", "20", "--frames"]) == 0
    assert [decode_index(f) for f in open_video(tmp_path / "a.mp4").iter_frames(color="bgr")] == list(range(12, 20))
    assert cli(["cut", str(source), "-o", str(tmp_path / "p"), "--pieces", "2", "--duration", "2", "--offset", "1"]) == 0
    assert sorted(p.name for p in (tmp_path / "p").iterdir()) == ["src_part01.mp4", "src_part02.mp4"]
    assert cli(["frames", str(source), "-o", str(tmp_path / "f"), "--every", "20", "--format", "jpg"]) == 0
    assert sorted(p.name for p in (tmp_path / "f").iterdir()) == ["000000.jpg", "000020.jpg", "000040.jpg"]
    assert "wrote 3 images" in capsys.readouterr().out


def test_cut_needs_a_range(tmp_path: Path) -> None:
    source = write_video(tmp_path / "src.avi", 10)
    with pytest.raises(SystemExit, match="give --start and --end"):
        cli(["cut", str(source), "-o", str(tmp_path / "a.mp4")])


@pytest.mark.parametrize(
    "args",
    [
        ["frames", "{v}", "-o", "{out}", "--every", "0"],
        ["cut", "{v}", "-o", "{out}", "--pieces", "0", "--duration", "1"],
        ["cut", "{v}", "-o", "{out}", "--pieces", "2", "--duration", "-1"],
        ["cut", "{v}", "-o", "{out}/a.mp4", "--start", "nan", "--end", "1"],
        ["cut", "{v}", "-o", "{out}/a.mp4", "--start", "0", "--end", "inf"],
        ["info", "{v}", "--fps", "-5"],
    ],
)
def test_bad_numbers_are_usage_errors_not_tracebacks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    write_video(tmp_path / "v.avi", 10, fps=10)
    argv = [a.format(v=tmp_path / "v.avi", out=tmp_path / "out") for a in args]
    with pytest.raises(SystemExit) as info:
        cli(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "error: argument" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()
