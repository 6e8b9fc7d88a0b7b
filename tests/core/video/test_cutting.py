"""Cutting subclips, equal pieces and frame folders: exact frames, progress, cancel, no half files."""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

from core.errors import Cancelled, FrameOutOfRangeError
from core.jobs import Progress
from core.video import open_video
from core.video.cutting import CutError, OutputExistsError, cut_subclip, extract_frames, split_equal
from tests.video_factory import decode_index, write_images, write_video


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_video(tmp_path_factory.mktemp("src") / "indexed.avi", 100, fps=20)


def test_cut_by_frames_is_frame_exact(indexed: Path, tmp_path: Path) -> None:
    events: list[Progress] = []
    out = cut_subclip(indexed, tmp_path / "part.mp4", 37, 61, unit="frames", progress=events.append)
    clip = open_video(out)
    assert clip.frame_count == 24 and clip.fps == pytest.approx(20)
    assert [decode_index(f) for f in clip.iter_frames(color="bgr")] == list(range(37, 61))
    assert events and events[-1].done == events[-1].total == 24


def test_cut_by_seconds_on_real_h264(bikes: Path, tmp_path: Path) -> None:
    out = cut_subclip(bikes, tmp_path / "bikes_2s.mkv", 4.0, 6.0)
    clip, source = open_video(out), open_video(bikes)
    assert clip.frame_count == 50 and clip.size == (640, 272)
    first = clip.read(0, "gray").astype(np.float32)
    errors = {k: np.abs(first - source.read(k, "gray").astype(np.float32)).mean() for k in (99, 100, 101)}
    assert min(errors, key=errors.get) == 100  # 4.0 s at 25 fps is frame 100


def test_cut_from_image_folder_with_odd_size(tmp_path: Path) -> None:
    folder = write_images(tmp_path / "seq", 30, width=65, height=47)
    out = cut_subclip(folder, tmp_path / "seq.mp4", 5, 15, unit="frames", fps=10)
    clip = open_video(out)
    assert clip.frame_count == 10 and clip.size == (66, 48) and clip.fps == pytest.approx(10)


def test_cut_rejects_bad_ranges_and_formats(indexed: Path, tmp_path: Path) -> None:
    with pytest.raises(CutError, match="empty or inverted"):
        cut_subclip(indexed, tmp_path / "x.mp4", 50, 40, unit="frames")
    with pytest.raises(CutError, match="before the first frame"):
        cut_subclip(indexed, tmp_path / "x.mp4", -1, 4)
    with pytest.raises(CutError, match="unknown output format '.gif'"):
        cut_subclip(indexed, tmp_path / "x.gif", 0, 4, unit="frames")
    with pytest.raises(FrameOutOfRangeError):
        cut_subclip(indexed, tmp_path / "x.mp4", 90, 120, unit="frames")
    assert not list(tmp_path.iterdir())  # nothing half-written left behind


def test_cancel_leaves_no_file(indexed: Path, tmp_path: Path) -> None:
    cancel = threading.Event()

    def progress(event: Progress) -> None:
        if event.done >= 16:
            cancel.set()

    with pytest.raises(Cancelled):
        cut_subclip(indexed, tmp_path / "c.mp4", 0, 100, unit="frames", progress=progress, cancel=cancel)
    assert not list(tmp_path.iterdir())


def test_split_equal(indexed: Path, tmp_path: Path) -> None:
    outputs = split_equal(indexed, tmp_path / "pieces", pieces=3, duration=1.0, offset=0.5)
    assert [p.name for p in outputs] == ["indexed_part01.mp4", "indexed_part02.mp4", "indexed_part03.mp4"]
    for i, path in enumerate(outputs):
        frames = [decode_index(f) for f in open_video(path).iter_frames(color="bgr")]
        assert frames == list(range(10 + 20 * i, 30 + 20 * i))
    with pytest.raises(CutError, match="need 110 frames, but the video has 100"):
        split_equal(indexed, tmp_path / "more", pieces=5, duration=1.0, offset=0.5)


def test_extract_every_kth_frame(tmp_path: Path) -> None:
    folder = write_images(tmp_path / "seq", 40)
    written = extract_frames(folder, tmp_path / "out", every=7, start=3, stop=30)
    assert [p.name for p in written] == [f"{k:06d}.png" for k in range(3, 30, 7)]
    for path in written:
        assert decode_index(cv2.imread(str(path))) == int(path.stem)
    again = open_video(tmp_path / "out")
    assert again.frame_count == len(written)
    with pytest.raises(CutError, match="already exists"):
        extract_frames(folder, tmp_path / "out", every=7, start=3, stop=30)
    assert len(extract_frames(folder, tmp_path / "out", every=7, start=3, stop=30, overwrite=True)) == 4


@pytest.mark.parametrize("kind", ["file", "folder"])
def test_extract_from_past_the_end_is_an_error_not_an_empty_folder(tmp_path: Path, kind: str) -> None:
    source = write_video(tmp_path / "v.avi", 12, fps=10) if kind == "file" else write_images(tmp_path / "seq", 12)
    with pytest.raises(FrameOutOfRangeError, match="12"):
        extract_frames(source, tmp_path / "out", start=50)
    with pytest.raises(CutError, match="empty"):
        extract_frames(source, tmp_path / "out", start=5, stop=5)
    assert not (tmp_path / "out").exists()
    assert [p.name for p in extract_frames(source, tmp_path / "out", start=11)] == ["000011.png"]


def test_cut_keeps_the_audio_of_the_span(tmp_path: Path) -> None:
    from moviepy.video.io.ffmpeg_reader import ffmpeg_parse_infos

    from tests.video_factory import ffmpeg

    source = tmp_path / "av.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=160x120:rate=25", "-f", "lavfi", "-i", "sine=frequency=440",
           "-t", "4", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(source))
    out = cut_subclip(source, tmp_path / "cut.mp4", 1.0, 2.5)
    assert open_video(out).frame_count == 38  # frames 25..62 start in [1.0 s, 2.5 s)
    info = ffmpeg_parse_infos(str(out))
    assert info["audio_found"]
    assert abs(info["duration"] - 1.5) < 0.1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["av.mp4", "cut.mp4"]  # no temporary files left


@pytest.mark.parametrize(("start", "end"), [(float("nan"), 1.0), (0.0, float("inf"))])
def test_non_finite_cut_range_is_a_cut_error(tmp_path: Path, start: float, end: float) -> None:
    write_video(tmp_path / "v.avi", 10, fps=10)
    with pytest.raises(CutError, match="finite"):
        cut_subclip(tmp_path / "v.avi", tmp_path / "out.mp4", start, end)
    assert not (tmp_path / "out.mp4").exists()


def test_unwritable_outputs_are_cut_errors_naming_the_output(tmp_path: Path) -> None:
    source = write_video(tmp_path / "v.avi", 12, fps=10)
    (tmp_path / "afile").write_text("not a folder")
    with pytest.raises(CutError, match="is a file, not a folder") as info:
        cut_subclip(source, tmp_path / "afile" / "x.mp4", 0, 5, unit="frames")
    assert info.value.path == tmp_path / "afile"
    with pytest.raises(CutError, match="no such folder") as info:
        extract_frames(source, tmp_path / "afile" / "frames")
    assert info.value.path == tmp_path / "afile" / "frames"
    assert (tmp_path / "afile").read_text() == "not a folder"


def test_a_cut_never_overwrites_its_own_source(tmp_path: Path) -> None:
    source = write_video(tmp_path / "v.avi", 12, fps=10)
    before = source.read_bytes()
    with pytest.raises(CutError, match="source video itself"):
        cut_subclip(source, source, 0, 5, unit="frames")
    (tmp_path / "link.avi").symlink_to(source)
    with pytest.raises(CutError, match="source video itself"):
        cut_subclip(tmp_path / "link.avi", tmp_path / "." / "v.avi", 0, 5, unit="frames")
    assert source.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.avi", "v.avi"]


def test_a_cut_past_the_end_fails_before_encoding_anything(tmp_path: Path) -> None:
    source = write_video(tmp_path / "v.avi", 30, fps=10)
    events: list[Progress] = []
    with pytest.raises(FrameOutOfRangeError, match="ends at frame 10000, but only 30 frames decode"):
        cut_subclip(source, tmp_path / "out.mp4", 0, 1000, progress=events.append)
    assert events == []  # nothing was decoded and encoded only to be thrown away
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v.avi"]


def _pixel_format(path: Path) -> str:
    import re
    import subprocess

    import imageio_ffmpeg

    info = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)],
                          capture_output=True, text=True, timeout=60).stderr
    match = re.search(r"Video: [^,]+, (\w+)", info)
    assert match, info
    return match.group(1)


@pytest.mark.parametrize("extension", [".mp4", ".webm"])
def test_cuts_are_4_2_0_so_every_player_decodes_them(tmp_path: Path, extension: str) -> None:
    folder = tmp_path / "odd"
    folder.mkdir()
    for i in range(6):
        cv2.imwrite(str(folder / f"{i}.png"), np.full((121, 161, 3), 40 * i, np.uint8))
    out = cut_subclip(folder, tmp_path / f"cut{extension}", 0, 4, unit="frames")
    assert _pixel_format(out) == "yuv420p"  # not High 4:4:4 H.264, not RGB (profile 1) VP9
    with open_video(out) as video:
        assert video.size == (162, 122) and video.frame_count == 4  # padded by a pixel, never cropped


def test_fractional_frame_numbers_are_refused_not_rounded(tmp_path: Path) -> None:
    source = write_video(tmp_path / "v.avi", 20, fps=10)
    with pytest.raises(CutError, match="whole"):
        cut_subclip(source, tmp_path / "out.mp4", 2.5, 8, unit="frames")
    with pytest.raises(CutError, match="whole"):
        split_equal(source, tmp_path / "pieces", 2, 2.5, unit="frames")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v.avi"]


def test_an_output_through_a_folder_not_yet_made_is_still_seen_to_be_the_source(tmp_path: Path) -> None:
    source = write_video(tmp_path / "b.avi", 30, fps=10)
    before = source.read_bytes()
    with pytest.raises(CutError, match="source video itself"):  # it used to make newdir and replace b.avi
        cut_subclip(source, tmp_path / "newdir" / ".." / "b.avi", 0, 5, unit="frames", overwrite=True)
    assert source.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.avi"]  # newdir not created


def test_a_piece_named_like_the_source_is_refused_before_any_piece_is_written(tmp_path: Path) -> None:
    pieces = tmp_path / "pieces"
    pieces.mkdir()
    real = write_video(pieces / "link_part02.avi", 30, fps=10)  # a piece of an earlier split, cut again via a link
    before = real.read_bytes()
    (tmp_path / "link.avi").symlink_to(real)
    with pytest.raises(CutError, match="source video itself"):
        split_equal(tmp_path / "link.avi", pieces, pieces=2, duration=1.0, extension=".avi", overwrite=True)
    assert real.read_bytes() == before
    assert sorted(p.name for p in pieces.iterdir()) == ["link_part02.avi"]  # piece 1 was not written either


def test_existing_outputs_are_replaced_only_when_asked(indexed: Path, tmp_path: Path) -> None:
    target = tmp_path / "cut.mp4"
    target.write_bytes(b"the analyst's earlier cut")
    with pytest.raises(OutputExistsError, match="already exists") as info:
        cut_subclip(indexed, target, 0, 5, unit="frames")
    assert info.value.path == target and target.read_bytes() == b"the analyst's earlier cut"
    cut_subclip(indexed, target, 0, 5, unit="frames", overwrite=True)
    assert open_video(target).frame_count == 5

    pieces = tmp_path / "pieces"
    pieces.mkdir()
    (pieces / "indexed_part02.mp4").write_bytes(b"keep me")
    with pytest.raises(OutputExistsError, match="indexed_part02.mp4: already exists"):
        split_equal(indexed, pieces, pieces=2, duration=1.0)
    assert sorted(p.name for p in pieces.iterdir()) == ["indexed_part02.mp4"]  # part01 not written first
    assert len(split_equal(indexed, pieces, pieces=2, duration=1.0, overwrite=True)) == 2
    assert open_video(pieces / "indexed_part02.mp4").frame_count == 20


def test_frames_past_the_end_fail_before_any_image_is_written(tmp_path: Path) -> None:
    source = write_video(tmp_path / "v.avi", 30, fps=10)
    with pytest.raises(FrameOutOfRangeError, match="ends at frame 40, but only 30 frames decode"):
        extract_frames(source, tmp_path / "out", start=25, stop=40)  # it wrote 25..29, then failed
    assert not (tmp_path / "out").exists()


def test_frames_refuse_existing_images_of_the_range_before_writing_any(tmp_path: Path) -> None:
    source = write_video(tmp_path / "v.avi", 30, fps=10)
    out = tmp_path / "out"
    out.mkdir()
    (out / "000014.png").write_bytes(b"mine")
    (out / "000015.png").write_bytes(b"not in the range")
    with pytest.raises(OutputExistsError, match="000014.png: already exists"):
        extract_frames(source, out, every=7, stop=20)
    assert sorted(p.name for p in out.iterdir()) == ["000014.png", "000015.png"]  # 000000 and 000007 not written
    assert len(extract_frames(source, out, every=7, stop=20, overwrite=True)) == 3
    assert (out / "000015.png").read_bytes() == b"not in the range"


def test_frames_never_write_into_their_source_folder(tmp_path: Path) -> None:
    folder = write_images(tmp_path / "seq", 5)
    with pytest.raises(CutError, match="source folder itself"):
        extract_frames(folder, tmp_path / "seq" / ".", overwrite=True)
    assert sorted(p.name for p in folder.iterdir()) == [f"{i}.png" for i in range(5)]


@pytest.mark.parametrize(("start", "end"), [(0.0, 1e308), (1e308, 1e308 * 1.5)])
def test_times_too_large_for_any_video_are_cut_errors(indexed: Path, tmp_path: Path, start: float, end: float) -> None:
    with pytest.raises(CutError, match="beyond the end of any video"):
        cut_subclip(indexed, tmp_path / "out.mp4", start, end)
    with pytest.raises(CutError, match="2 pieces of 1 seconds from 1e\\+308 seconds are beyond the end of any video"):
        split_equal(indexed, tmp_path / "pieces", 2, 1.0, offset=start or end)
    assert not list(tmp_path.iterdir())


def test_an_unwritable_folder_is_named_with_its_reason_not_broken_pipe(indexed: Path, tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        if _can_create_in(locked):  # root ignores folder permissions: sysfs refuses even root
            locked = Path("/sys/fs")
            if not locked.is_dir() or _can_create_in(locked):
                pytest.skip("no folder this user cannot write to")
        before = sorted(locked.iterdir())
        with pytest.raises(CutError, match="permission denied") as info:
            cut_subclip(indexed, locked / "cut.mp4", 0, 5, unit="frames")
        assert info.value.path == locked
        with pytest.raises(CutError, match="permission denied"):
            extract_frames(indexed, locked / "frames")
        assert sorted(locked.iterdir()) == before
    finally:
        (tmp_path / "locked").chmod(0o755)


def _can_create_in(folder: Path) -> bool:
    try:
        (folder / "probe").write_bytes(b"")
    except OSError:
        return False
    (folder / "probe").unlink()
    return True
