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


def test_cut_needs_a_range(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = write_video(tmp_path / "src.avi", 10)
    for extra, missing in (([], "missing --start and --end"), (["--start", "1"], "missing --end"),
                           (["--pieces", "2"], "--pieces needs --duration")):
        with pytest.raises(SystemExit) as info:
            cli(["cut", str(source), "-o", str(tmp_path / "a.mp4"), *extra])
        assert info.value.code == 2  # a usage error, as argparse's own (it was 1)
        assert missing in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["src.avi"]


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


def _one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_cut_into_its_own_source_through_a_missing_folder_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    source = write_video(tmp_path / "b.avi", 30, fps=10)
    before = source.read_bytes()
    monkeypatch.chdir(tmp_path)
    code = cli(["cut", "b.avi", "-o", "newdir/../b.avi", "--start", "0", "--end", "1", "--overwrite"])
    assert code == 2 and "source video itself" in _one_error_line(capsys.readouterr().err)
    assert source.read_bytes() == before and not (tmp_path / "newdir").exists()


def test_cut_and_frames_refuse_an_existing_output_unless_overwrite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = write_video(tmp_path / "v.avi", 30, fps=10)
    out = tmp_path / "cut.mp4"
    out.write_bytes(b"earlier work")
    assert cli(["cut", str(source), "-o", str(out), "--start", "0", "--end", "1"]) == 2
    assert _one_error_line(capsys.readouterr().err) == (
        f"framewatch: error: {out}: already exists (give --overwrite to replace it)")
    assert out.read_bytes() == b"earlier work"
    assert cli(["cut", str(source), "-o", str(out), "--start", "0", "--end", "1", "--overwrite"]) == 0
    assert open_video(out).frame_count == 10

    frames = tmp_path / "frames"
    frames.mkdir()
    (frames / "000020.png").write_bytes(b"mine")
    assert cli(["frames", str(source), "-o", str(frames), "--every", "10"]) == 2
    assert _one_error_line(capsys.readouterr().err) == (
        f"framewatch: error: {frames / '000020.png'}: already exists (give --overwrite to replace it)")
    assert sorted(p.name for p in frames.iterdir()) == ["000020.png"]
    assert cli(["frames", str(source), "-o", str(frames), "--every", "10", "--overwrite"]) == 0
    assert sorted(p.name for p in frames.iterdir()) == ["000000.png", "000010.png", "000020.png"]


def test_frames_past_the_end_write_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = write_video(tmp_path / "v.avi", 25, fps=10)
    assert cli(["frames", str(source), "-o", str(tmp_path / "f"), "--start", "20", "--end", "30"]) == 2
    assert "only 25 frames decode" in _one_error_line(capsys.readouterr().err)
    assert cli(["cut", str(source), "-o", str(tmp_path / "c.mp4"), "--frames", "--start", "20", "--end", "30"]) == 2
    assert "only 25 frames decode" in _one_error_line(capsys.readouterr().err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v.avi"]


@pytest.mark.parametrize(
    "args",
    [
        ["--start", "0", "--end", "1e308"],
        ["--start", "1e308", "--end", "1e308"],
        ["--start", "1e300", "--end", "1e301"],
        ["--pieces", "100000", "--duration", "1"],  # the most --pieces takes: far more than the video has
        ["--pieces", "2", "--duration", "1e308"],
        ["--pieces", "2", "--duration", "1", "--offset", "1e308"],
        ["--pieces", "2", "--duration", "1e308", "--frames"],
    ],
)
def test_huge_numbers_are_one_line_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str]) -> None:
    source = write_video(tmp_path / "v.avi", 10, fps=10)
    assert cli(["cut", str(source), "-o", str(tmp_path / "out.mp4"), *args]) == 2
    assert _one_error_line(capsys.readouterr().err).startswith("framewatch: error: ")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v.avi"]


def test_a_killed_cut_leaves_no_temporary_file_after_the_next_cut(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    from tests.conftest import REPO
    from tests.video_factory import ffmpeg

    source = tmp_path / "long.avi"  # 1500 frames: long enough to be caught mid-encode
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-t", "60", "-c:v", "mjpeg", "-q:v", "5", str(source))
    out = tmp_path / "out"
    out.mkdir()
    argv = [sys.executable, "-m", "core.cli.main", "cut", str(source), "-o", str(out / "cut.mp4"), "--start", "0",
            "--end", "60"]
    proc = subprocess.Popen(argv, cwd=REPO, start_new_session=True, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not any(p.stat().st_size > 0 for p in out.glob(".cut.*.part.mp4")) and proc.poll() is None:
        assert time.monotonic() < deadline, "the cut never started writing"
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGKILL)  # the CLI and its encoder, mid-encode
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the cut finished before it could be killed"
    assert [p.name for p in out.iterdir() if p.name.startswith(".cut.")]  # what a kill leaves behind
    assert not (out / "cut.mp4").exists()

    assert subprocess.run([*argv[:-4], "--start", "0", "--end", "1"], cwd=REPO, timeout=300).returncode == 0
    assert sorted(p.name for p in out.iterdir()) == ["cut.mp4"]
    assert open_video(out / "cut.mp4").frame_count == 25
