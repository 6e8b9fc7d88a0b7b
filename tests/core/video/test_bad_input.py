"""Bad input gives the project's VideoError naming the file and the problem, never a hang or a traceback."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from core.cli.main import main as cli
from core.errors import (
    CorruptVideoError,
    EmptyVideoError,
    FrameOutOfRangeError,
    FrameSizeMismatchError,
    UnsupportedFormatError,
    VideoError,
    VideoNotFoundError,
)
from core.video import open_video
from tests.conftest import REPO
from tests.video_factory import ffmpeg, write_images

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def truncated_faststart(bikes: Path, tmp_path: Path) -> Path:
    """bikes.mp4 with its index moved to the front, then cut to 40 % of its bytes: header says 250 frames."""
    whole = tmp_path / "faststart.mp4"
    ffmpeg("-i", str(bikes), "-c", "copy", "-movflags", "+faststart", str(whole))
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(whole.read_bytes()[: int(whole.stat().st_size * 0.4)])
    return truncated


def _cli_error(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert cli(list(args)) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.startswith("framewatch: error: ")
    return err


def test_missing_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.mp4"
    with pytest.raises(VideoNotFoundError, match="nope.mp4: no such file"):
        open_video(missing)
    assert "nope.mp4" in _cli_error(capsys, "info", str(missing))


def test_empty_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty.mp4"
    empty.touch()
    with pytest.raises(EmptyVideoError, match=r"empty.mp4: the file is empty \(0 bytes\)"):
        open_video(empty)
    assert "empty.mp4" in _cli_error(capsys, "info", str(empty))


def test_random_bytes_named_mp4(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    noise = tmp_path / "noise.mp4"
    noise.write_bytes(np.random.default_rng(0).integers(0, 256, 200_000, dtype=np.uint8).tobytes())
    with pytest.raises(CorruptVideoError, match="noise.mp4: cannot be opened as a video"):
        open_video(noise)
    assert "noise.mp4" in _cli_error(capsys, "info", str(noise))


def test_text_file_with_video_name(tmp_path: Path) -> None:
    text = tmp_path / "notes.avi"
    text.write_text("these are my notes, not a video\n" * 100)
    with pytest.raises(CorruptVideoError, match="notes.avi"):
        open_video(text)


def test_truncated_file_without_index(bikes: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """bikes.mp4 keeps its index at the end: cut the file and nothing can be decoded."""
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(bikes.read_bytes()[:200_000])
    with pytest.raises(CorruptVideoError, match="cut.mp4: cannot be opened"):
        open_video(cut)
    assert "cut.mp4" in _cli_error(capsys, "info", str(cut))


def test_truncated_file_reports_frames_that_decode(truncated_faststart: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = open_video(truncated_faststart)
    assert source.metadata.declared_frame_count == 250
    decoded = source.frame_count
    assert 0 < decoded < 250
    assert source.metadata.truncated
    assert len(list(source.iter_frames(color="gray"))) == decoded
    with pytest.raises(FrameOutOfRangeError, match=f"truncated.mp4: frame 200 is out of range: only {decoded} of the 250"):
        source.read(200)
    with pytest.raises(FrameOutOfRangeError, match="truncated"):
        list(open_video(truncated_faststart).iter_frames(0, 250))
    assert cli(["info", str(truncated_faststart), "--json"]) == 0
    out = capsys.readouterr().out
    assert f'"frame_count": {decoded}' in out and '"truncated": true' in out


def test_unscanned_read_past_truncation_learns_the_true_count(truncated_faststart: Path) -> None:
    source = open_video(truncated_faststart)
    with pytest.raises(FrameOutOfRangeError):
        source.read(240)
    expected = open_video(truncated_faststart).frame_count
    assert source.frame_count == expected


def test_folder_without_images(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "nothing"
    folder.mkdir()
    (folder / "readme.txt").write_text("no images here")
    with pytest.raises(EmptyVideoError, match="nothing: the folder holds no images"):
        open_video(folder)
    assert "nothing" in _cli_error(capsys, "info", str(folder))


def test_folder_with_mixed_image_sizes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = write_images(tmp_path / "mixed", 6)
    cv2.imwrite(str(folder / "4.png"), np.zeros((30, 40, 3), np.uint8))
    source = open_video(folder)
    with pytest.raises(FrameSizeMismatchError, match=r"4.png \(frame 4\) is 40x30 but the sequence is 64x48"):
        source.scan()
    with pytest.raises(FrameSizeMismatchError):
        list(open_video(folder).iter_frames())
    assert "4.png" in _cli_error(capsys, "info", str(folder))


def test_frame_that_fails_to_decode_mid_stream(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = write_images(tmp_path / "broken", 8, ext=".jpg")
    (folder / "5.jpg").write_bytes(b"\xff\xd8\xff\xe0 definitely not a jpeg")
    source = open_video(folder)
    frames = source.iter_frames()
    for _ in range(5):
        next(frames)
    with pytest.raises(CorruptVideoError, match=r"broken: image 5.jpg \(frame 5\) does not decode"):
        next(frames)
    assert "5.jpg" in _cli_error(capsys, "info", str(folder))


def test_single_image_is_not_a_video(tmp_path: Path) -> None:
    folder = write_images(tmp_path / "one", 1)
    with pytest.raises(UnsupportedFormatError, match="open the folder"):
        open_video(folder / "0.png")


def test_out_of_range_reads(bikes: Path) -> None:
    source = open_video(bikes)
    with pytest.raises(FrameOutOfRangeError, match="frame -1"):
        source.read(-1)
    assert source.frame_count == 250
    with pytest.raises(FrameOutOfRangeError, match="frame 250 is out of range: the source has 250 frames"):
        source.read(250)
    with pytest.raises(IndexError):  # also an IndexError, for generic code
        source.read(1000)


def test_every_error_is_a_video_error() -> None:
    for kind in (VideoNotFoundError, EmptyVideoError, CorruptVideoError, UnsupportedFormatError,
                 FrameSizeMismatchError, FrameOutOfRangeError):
        assert issubclass(kind, VideoError)


def test_cli_in_a_real_process_prints_no_traceback(tmp_path: Path) -> None:
    noise = tmp_path / "noise.mp4"
    noise.write_bytes(random.Random(3).randbytes(50_000))  # seeded: some random bytes parse as a container
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    framewatch = shutil.which("framewatch")
    command = [framewatch] if framewatch else [sys.executable, "-m", "core.cli.main"]
    result = subprocess.run([*command, "info", str(noise)], capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"framewatch: error: {noise}: "), result.stderr


@pytest.mark.parametrize("fps", [0.0, -5.0, float("nan"), float("inf")])
def test_image_folder_refuses_a_frame_rate_that_is_not_positive(tmp_path: Path, fps: float) -> None:
    folder = write_images(tmp_path / "seq", 3)
    with pytest.raises(ValueError, match="positive"):
        open_video(folder, fps=fps)
    assert open_video(folder, fps=2.5).fps == 2.5 and open_video(folder).fps == 10


def test_an_image_removed_after_opening_is_reported_as_gone_not_corrupt(tmp_path: Path) -> None:
    from core.errors import VideoNotFoundError

    folder = write_images(tmp_path / "seq", 5)
    source = open_video(folder)
    (folder / "3.png").unlink()
    with pytest.raises(VideoNotFoundError, match="3.png"):
        source.read(3)


def test_a_video_file_moved_after_opening_is_reported_as_gone_not_corrupt(tmp_path: Path) -> None:
    from core.errors import VideoNotFoundError
    from tests.video_factory import write_video

    path = write_video(tmp_path / "v.avi", 20, fps=10)
    source = open_video(path)
    path.rename(tmp_path / "moved.avi")
    with pytest.raises(VideoNotFoundError, match="moved or deleted"):
        next(source.iter_frames())
    source.close()
