"""Files whose frames are not at ``k / fps``: AVI captures with dropped-frame slots (as empty index
slots, or as packets that hold no picture) and VFR MP4.

Random access must still give frame ``k`` of a sequential decode (before any scan), seconds must
name frames by their real timestamps, and the duration must be the real playing time.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from core.cli.main import main as cli
from core.errors import UnreadableVideoError
from core.project.importers import import_csv_labels
from core.project.project import Project
from core.video import open_video
from core.video.cutting import cut_subclip, extract_frames
from core.video.packets import evenly_timed, packet_list
from core.video.timing import first_frame_at, seconds_to_frames
from tests.video_factory import (
    decode_all,
    decode_index,
    transcode,
    write_gapped_avi,
    write_placeholder_avi,
    write_vfr_mp4,
    write_video,
)

pytestmark = pytest.mark.timeout(120)


def _gapped_slot(k: int, gaps_from: int = 250, every: int = 7, skip: int = 2) -> int:
    """Index slot of frame ``k`` in :func:`write_gapped_avi`'s file (its time is slot / 25 s)."""
    return k + skip * math.floor(max(k - gaps_from + every, 0) / every)


def _placeholder_slot(k: int) -> int:
    """Slot of frame ``k`` in :func:`write_placeholder_avi`'s default file (its time is slot / 15 s)."""
    return k if k < 12 else 12 + 6 * (k - 12)


def _late_slot(k: int) -> int:
    """Slot of frame ``k`` in the placeholder AVI whose dropped slots start after the first 250 frames."""
    return k if k < 250 else 250 + 3 * (k - 250)


def _vfr_ms(k: int, uneven_from: int = 250) -> int:
    """Timestamp in ms of frame ``k`` in :func:`write_vfr_mp4`'s file."""
    late = max(k - uneven_from, 0)
    return 40 * k + late * (late + 1)


@pytest.fixture(scope="module")
def timed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("timing")
    cfr = write_video(folder / "cfr.avi", 320, fps=25)
    return {
        "gapped-avi": write_gapped_avi(folder / "gapped.avi"),
        "gapped-from-start-avi": write_gapped_avi(folder / "early.avi", frames=120, gaps_from=5),
        "vfr-mp4": write_vfr_mp4(folder / "vfr.mp4"),
        "cfr-h264-mp4": transcode(cfr, folder / "cfr.mp4", "-c:v", "libx264", "-bf", "3", "-g", "40", "-pix_fmt", "yuv420p"),
        # dropped slots stored as 6-byte not-coded VOPs (the packet list shows them)
        "placeholder-avi": write_placeholder_avi(folder / "placeholder.avi"),
        # the same as 40-byte packets: only decoding the start of the file shows them
        "padded-placeholder-avi": write_placeholder_avi(folder / "padded.avi", placeholder_bytes=40),
        # 6-byte placeholders after the first 250 frames: past what decoding the start sees
        "late-placeholder-avi": write_placeholder_avi(folder / "late.avi", frames=300, slot_of=_late_slot),
    }


def test_the_fixtures_have_the_timing_they_claim(timed: dict[str, Path]) -> None:
    gapped = cv2.VideoCapture(str(timed["gapped-avi"]), cv2.CAP_FFMPEG)
    assert gapped.get(cv2.CAP_PROP_FRAME_COUNT) == _gapped_slot(319) + 1 == 340  # the header counts the slots
    gapped.release()
    for name, count in [("gapped-avi", 320), ("gapped-from-start-avi", 120), ("vfr-mp4", 320), ("cfr-h264-mp4", 320),
                        ("placeholder-avi", 68), ("padded-placeholder-avi", 68), ("late-placeholder-avi", 300)]:
        frames = decode_all(timed[name])
        assert [decode_index(f) for f in frames] == list(range(count)), name


@pytest.mark.parametrize(("name", "slot_of", "count", "size"), [
    ("placeholder-avi", _placeholder_slot, 68, 6), ("padded-placeholder-avi", _placeholder_slot, 68, 40),
    ("late-placeholder-avi", _late_slot, 300, 6),
])
def test_placeholder_fixtures_list_every_slot_as_an_evenly_spaced_packet(
    timed: dict[str, Path], name: str, slot_of: Callable[[int], int], count: int, size: int
) -> None:
    """The header and the packet list agree on every slot, 1/15 s apart; fewer frames decode, at their slots' times."""
    slots = slot_of(count - 1) + 1
    capture = cv2.VideoCapture(str(timed[name]), cv2.CAP_FFMPEG)
    assert capture.get(cv2.CAP_PROP_FRAME_COUNT) == slots
    times = []
    while capture.grab():
        times.append(capture.get(cv2.CAP_PROP_POS_MSEC))
    capture.release()
    assert times == pytest.approx([slot_of(k) * 1000 / 15 for k in range(count)])
    packets = packet_list(timed[name])
    assert packets is not None and evenly_timed(packets.times_s, 15.0, slots)
    assert sorted(set(packets.sizes))[0] == size and packets.sizes.count(size) == slots - count


@pytest.mark.parametrize("name", ["gapped-avi", "gapped-from-start-avi", "vfr-mp4", "cfr-h264-mp4", "placeholder-avi",
                                  "padded-placeholder-avi", "late-placeholder-avi"])
@pytest.mark.parametrize("order", ["random", "ascending", "descending"])
def test_every_frame_by_random_access_equals_the_sequential_decode(timed: dict[str, Path], name: str, order: str) -> None:
    """A fresh source, no scan asked for: ``read(k)`` for every ``k`` is frame ``k`` byte for byte."""
    sequential = decode_all(timed[name])
    indices = list(range(len(sequential)))
    if order == "random":
        random.Random(11).shuffle(indices)
    elif order == "descending":
        indices.reverse()
    source = open_video(timed[name])
    for k in indices:
        assert np.array_equal(source.read(k, color="bgr"), sequential[k]), f"{name}: frame {k} ({order})"


def test_gapped_file_is_scanned_before_seeking_and_then_seeks(timed: dict[str, Path]) -> None:
    source = open_video(timed["gapped-avi"])
    assert decode_index(source.read(300, color="bgr")) == 300
    meta = source.metadata
    assert meta.frame_count == 320 and meta.declared_frame_count == 340  # the timestamps were learned
    assert meta.even_timing is False and meta.seek_mode == "seek"


def test_evenly_timed_file_seeks_without_a_scan(timed: dict[str, Path]) -> None:
    source = open_video(timed["cfr-h264-mp4"])
    assert decode_index(source.read(300, color="bgr")) == 300
    assert decode_index(source.read(20, color="bgr")) == 20
    meta = source.metadata
    assert meta.seek_mode == "seek" and meta.even_timing is True
    assert meta.frame_count is None  # proven from the packet list: nothing was decoded in full


def test_real_h264_keeps_seeking_without_a_scan(bikes: Path) -> None:
    source = open_video(bikes)
    assert source.read(200).shape == (272, 640, 3)
    assert source.metadata.seek_mode == "seek" and source.metadata.frame_count is None


def test_duration_is_the_real_playing_time(timed: dict[str, Path]) -> None:
    gapped = open_video(timed["gapped-avi"]).scan()
    assert gapped.duration_s == pytest.approx((_gapped_slot(319) + 1) / 25)  # 13.6 s, not 320 / 25 = 12.8 s
    vfr_source = open_video(timed["vfr-mp4"])
    vfr = vfr_source.scan()
    assert vfr.duration_s == pytest.approx(_vfr_ms(319) / 1000 + 1 / vfr.fps)
    cfr = open_video(timed["cfr-h264-mp4"]).scan()
    assert cfr.even_timing is True and cfr.duration_s == pytest.approx(320 / 25)


def test_info_json_reports_the_real_duration(timed: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["info", str(timed["gapped-avi"]), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["duration_s"] == pytest.approx(13.6)
    assert (data["frame_count"], data["declared_frame_count"], data["even_timing"]) == (320, 340, False)


def test_seconds_name_frames_by_their_timestamps(timed: dict[str, Path]) -> None:
    source = open_video(timed["gapped-avi"])
    # frame 250 is at slot 252 (10.08 s): [10.0, 10.1) holds it alone; 10.0 * 25 would say frames 250..252
    assert source.frames_between(10.0, 10.1) == (250, 251)
    assert source.frame_at_time(_gapped_slot(300) / 25) == 300
    assert source.frame_at_time(_gapped_slot(300) / 25 + 0.001) == 301
    vfr = open_video(timed["vfr-mp4"])
    assert vfr.frames_between(_vfr_ms(280) / 1000, _vfr_ms(300) / 1000) == (280, 300)


@pytest.mark.parametrize(("name", "slot_of", "count"), [
    ("placeholder-avi", _placeholder_slot, 68), ("padded-placeholder-avi", _placeholder_slot, 68),
    ("late-placeholder-avi", _late_slot, 300),
])
def test_seconds_skip_the_slots_of_packets_that_hold_no_picture(
    timed: dict[str, Path], name: str, slot_of: Callable[[int], int], count: int
) -> None:
    """The report: [2, 4) s was frames 30-59 (``seconds * fps``); it holds the frames whose slots are 30-59."""
    source = open_video(timed[name])
    for start, end in [(2.0, 4.0), (0.5, 1.0), (16.0, 17.0), (20.0, 22.0)]:
        expected = [k for k in range(count) if start <= slot_of(k) / 15 < end]
        first, stop = source.frames_between(start, end)
        assert list(range(first, stop)) == expected, (name, start, end)
    assert source.metadata.even_timing is False and source.metadata.frame_count == count
    assert source.time_of_frame(count - 1) == pytest.approx(slot_of(count - 1) / 15)


def test_time_of_frame_is_the_real_start_time_and_inverts_frame_at_time(timed: dict[str, Path]) -> None:
    """Cut audio and exports go from frames back to seconds: on a gapped file by the real timestamps."""
    source = open_video(timed["gapped-avi"])
    assert source.time_of_frame(300) == pytest.approx(_gapped_slot(300) / 25)
    for k in (0, 1, 239, 250, 300, 319):
        assert source.frame_at_time(source.time_of_frame(k)) == k
    count = source.frame_count
    assert source.time_of_frame(count) == pytest.approx(source.time_of_frame(count - 1) + 1 / 25)
    cfr = open_video(timed["cfr-h264-mp4"])
    assert cfr.time_of_frame(100) == 100 / 25


def test_a_time_too_large_for_any_video_is_a_value_error_not_an_overflow() -> None:
    with pytest.raises(ValueError, match="beyond the end of any video"):
        first_frame_at(1e308, 25.0)
    with pytest.raises(ValueError, match="beyond the end of any video"):
        seconds_to_frames(0.0, 1e308, 25.0, np.arange(10) / 25)


def test_seconds_on_evenly_timed_files_follow_the_frame_rate_rule(timed: dict[str, Path]) -> None:
    source = open_video(timed["cfr-h264-mp4"])
    rng = random.Random(5)
    times = [k / 25 for k in range(0, 330, 7)] + [rng.uniform(-1, 14) for _ in range(200)] + [0.1 * 3, 12.8, 20.0]
    for t in times:
        assert source.frame_at_time(t) == math.ceil(t * 25 - 1e-6), t


@pytest.mark.parametrize("fps", [25.0, 30000 / 1001, 10.0, 59.94])
def test_the_timestamp_rule_reduces_to_the_frame_rate_rule(fps: float) -> None:
    """Evenly spaced timestamps (as a scan measures them, in ms) give exactly ``ceil(t * fps)``."""
    times = np.array([round(k * 1000 / fps, 6) / 1000 for k in range(500)])
    rng = random.Random(int(fps))
    for t in [k / fps for k in range(-3, 520)] + [rng.uniform(-2, 20) for _ in range(500)] + [0.1, 1 / 3]:
        assert first_frame_at(t, fps, times) == first_frame_at(t, fps), (fps, t)
    assert seconds_to_frames(1.0, 2.0, fps, times) == seconds_to_frames(1.0, 2.0, fps)


def test_cut_in_seconds_takes_the_content_at_those_times(timed: dict[str, Path], tmp_path: Path) -> None:
    out = cut_subclip(timed["gapped-avi"], tmp_path / "cut.avi", _gapped_slot(290) / 25, _gapped_slot(300) / 25)
    assert [decode_index(f) for f in decode_all(out)] == list(range(290, 300))


def test_extracted_frames_are_the_frames_their_names_say(timed: dict[str, Path], tmp_path: Path) -> None:
    """The report: ``frames --start 50`` wrote earlier frames under later names on a gapped AVI."""
    written = extract_frames(timed["gapped-avi"], tmp_path / "frames", start=300, stop=320, every=3)
    assert [int(p.stem) for p in written] == list(range(300, 320, 3))
    assert [decode_index(cv2.imread(str(p))) for p in written] == list(range(300, 320, 3))


def test_labels_and_csv_imports_in_seconds_use_the_timestamps(timed: dict[str, Path], tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "proj"
    assert cli(["project", "new", str(folder)]) == 0
    assert cli(["project", "add-video", str(folder), str(timed["gapped-avi"])]) == 0
    start, end = _gapped_slot(260) / 25, _gapped_slot(270) / 25
    assert cli(["project", "label", str(folder), "--video", "gapped.avi", "--start", str(start),
                "--end", str(end), "--seconds", "--anomaly"]) == 0
    assert "abnormal frames [260, 270)" in capsys.readouterr().out
    csv_file = tmp_path / "labels.csv"
    csv_file.write_text(f"video,start,end,label\ngapped.avi,{start},{end},walk\n")
    project = Project.open(folder)
    result = import_csv_labels(project, csv_file, unit="seconds", create_classes=True)
    clip = project.data.subclips[result.subclips[0]]
    assert (clip.start, clip.end) == (260, 270)


def test_unreadable_file_says_permission_denied(timed: dict[str, Path], monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    path = timed["cfr-h264-mp4"]
    real_access = __import__("os").access
    monkeypatch.setattr("os.access", lambda p, mode, **kw: False if Path(p) == path else real_access(p, mode, **kw))
    with pytest.raises(UnreadableVideoError, match="cfr.mp4: cannot be read: permission denied"):
        open_video(path)
    assert cli(["info", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cfr.mp4" in err and "permission denied" in err
    assert "not a format FFmpeg reads" not in err


def test_cli_frames_and_cuts_on_a_file_whose_dropped_slots_are_packets(timed: dict[str, Path], tmp_path: Path) -> None:
    """The report: ``frames``/``cut --frames`` wrote frames 39-46 for 49-56 and ``cut --start 2 --end 4`` frames 30-59."""
    source = timed["placeholder-avi"]
    assert cli(["frames", str(source), "-o", str(tmp_path / "frames"), "--start", "49", "--end", "57"]) == 0
    written = sorted((tmp_path / "frames").glob("*.png"))
    assert [decode_index(cv2.imread(str(p))) for p in written] == list(range(49, 57))
    assert cli(["cut", str(source), "-o", str(tmp_path / "frames.avi"), "--frames", "--start", "49", "--end", "57"]) == 0
    assert [decode_index(f) for f in decode_all(tmp_path / "frames.avi")] == list(range(49, 57))
    assert cli(["cut", str(source), "-o", str(tmp_path / "seconds.avi"), "--start", "2", "--end", "4"]) == 0
    assert [decode_index(f) for f in decode_all(tmp_path / "seconds.avi")] == list(range(15, 20))


def test_labels_in_seconds_skip_the_slots_of_packets_that_hold_no_picture(
    timed: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The report: ``label --seconds`` 2 to 4 recorded [30, 60); frames 15-19 are the ones shown then."""
    folder = tmp_path / "proj"
    assert cli(["project", "new", str(folder)]) == 0
    assert cli(["project", "add-video", str(folder), str(timed["placeholder-avi"])]) == 0
    assert cli(["project", "label", str(folder), "--video", "placeholder.avi", "--start", "2", "--end", "4",
                "--seconds", "--anomaly"]) == 0
    assert "abnormal frames [15, 20)" in capsys.readouterr().out
