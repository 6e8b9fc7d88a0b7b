"""The video reader: metadata, streaming, frame-accurate random access, thumbnails."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from core.video import file_source as fs
from core.video import open_video
from tests.video_factory import decode_index, transcode, write_images, write_video


def test_bikes_metadata(bikes: Path) -> None:
    source = open_video(bikes)
    meta = source.scan()
    assert (meta.width, meta.height, meta.fps, meta.codec) == (640, 272, 25.0, "h264")
    assert meta.declared_frame_count == 250 and meta.frame_count == 250
    assert meta.duration_s == pytest.approx(10.0)
    assert not meta.truncated
    assert source.size == (640, 272) and len(source) == 250


def test_ped2_folder_is_an_image_sequence(ped2: Path) -> None:
    source = open_video(ped2 / "testing" / "01")
    assert source.frame_count == 180
    meta = source.metadata
    assert (meta.kind, meta.width, meta.height, meta.codec) == ("image_sequence", 360, 240, "jpg")
    assert source.read(0).shape == (240, 360, 3)
    assert source.read(179, color="gray").shape == (240, 360)


def test_image_folder_uses_natural_sort(tmp_path: Path) -> None:
    folder = write_images(tmp_path / "seq", 12)
    source = open_video(folder, fps=5)
    assert [p.name for p in source.files][:3] == ["0.png", "1.png", "2.png"]
    assert [p.name for p in source.files][-2:] == ["10.png", "11.png"]
    assert [decode_index(f) for f in source.iter_frames(color="bgr")] == list(range(12))
    assert source.fps == 5


def _formats(tmp_path: Path) -> dict[str, Path]:
    base = write_video(tmp_path / "base.avi", 120, fps=25)
    return {
        "mjpeg-avi": base,
        "h264-bframes-mp4": transcode(base, tmp_path / "h264.mp4", "-c:v", "libx264", "-bf", "3", "-g", "40", "-pix_fmt", "yuv420p"),
        "mpeg2-ps": transcode(base, tmp_path / "mpeg2.mpg", "-c:v", "mpeg2video", "-q:v", "3", "-g", "12"),
        "h264-ts": transcode(base, tmp_path / "h264.ts", "-c:v", "libx264", "-bf", "3", "-g", "30", "-pix_fmt", "yuv420p"),
        "mpeg4-avi": transcode(base, tmp_path / "mpeg4.avi", "-c:v", "mpeg4", "-bf", "2", "-q:v", "3"),
    }


@pytest.fixture(scope="module")
def formats(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return _formats(tmp_path_factory.mktemp("formats"))


@pytest.mark.parametrize("name", ["mjpeg-avi", "h264-bframes-mp4", "mpeg2-ps", "h264-ts", "mpeg4-avi"])
def test_random_access_equals_sequential_decode(formats: dict[str, Path], name: str) -> None:
    source = open_video(formats[name])
    sequential = list(source.iter_frames(color="bgr"))
    assert len(sequential) == source.frame_count == 120
    assert [decode_index(f) for f in sequential] == list(range(120))
    order = list(range(120))
    random.Random(7).shuffle(order)
    for k in order[:60] + [0, 119, 1, 118, 60]:
        assert np.array_equal(source.read(k, color="bgr"), sequential[k]), f"{name}: frame {k}"


def test_random_access_on_real_h264(bikes: Path) -> None:
    source = open_video(bikes)
    sequential = list(source.iter_frames(color="gray"))
    for k in random.Random(3).sample(range(250), 40) + [249, 0, 125]:
        assert np.array_equal(source.read(k, color="gray"), sequential[k]), k
    assert source.seek_mode in ("seek", "sequential")


def test_seeking_is_verified_where_the_header_declares_no_frame_count(tmp_path: Path) -> None:
    # a raw H.264 stream has no container: no frame count, no timestamps to check a seek against
    raw = transcode(write_video(tmp_path / "base.avi", 300, fps=10), tmp_path / "raw.h264",
                    "-c:v", "libx264", "-bf", "2", "-g", "50", "-pix_fmt", "yuv420p")
    source = open_video(raw)
    assert source.metadata.declared_frame_count == 0
    source.scan()  # verification after a scan must probe the frames that decode, not the header's none
    assert source.frame_count == 300
    for k in [250, 120, 299, 5, 180, 2]:
        assert decode_index(source.read(k, color="bgr")) == k, k


def test_iter_frames_range_and_step(formats: dict[str, Path]) -> None:
    source = open_video(formats["h264-bframes-mp4"])
    assert [decode_index(f) for f in source.iter_frames(17, 90, 9, color="bgr")] == list(range(17, 90, 9))
    assert [decode_index(f) for f in source.iter_frames(100, step=7, color="bgr")] == list(range(100, 120, 7))
    assert list(source.iter_frames(5, 5)) == []


def test_lying_container_falls_back_to_sequential(formats: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """Seeks land 5 frames late while the timestamps claim the asked frame: only verification can tell."""
    original_seek = fs._Decoder.seek_near
    asked: dict[str, int] = {}

    def late_seek(self: fs._Decoder, index: int) -> bool:
        asked["index"] = index
        return original_seek(self, index + 5)

    monkeypatch.setattr(fs._Decoder, "seek_near", late_seek)
    monkeypatch.setattr(fs.FileVideoSource, "_index_of_pts", lambda self, pts: asked["index"])
    source = open_video(formats["h264-bframes-mp4"])
    assert source.seek_mode == "sequential"
    for k in (90, 10, 60, 119, 3):
        assert decode_index(source.read(k, color="bgr")) == k


def test_sequential_mode_is_exact(formats: dict[str, Path]) -> None:
    source = open_video(formats["mpeg2-ps"])
    source._seek_mode = "sequential"
    sequential = list(source.iter_frames(color="bgr"))
    for k in (100, 3, 50, 49, 119, 0):
        assert np.array_equal(source.read(k, color="bgr"), sequential[k])


def test_color_modes_and_thumbnail(bikes: Path) -> None:
    source = open_video(bikes)
    rgb, bgr, gray = source.read(10, "rgb"), source.read(10, "bgr"), source.read(10, "gray")
    assert rgb.shape == (272, 640, 3) and rgb.dtype == np.uint8
    assert np.array_equal(rgb, bgr[:, :, ::-1])
    assert gray.shape == (272, 640)
    thumb = source.thumbnail(max_size=160)
    assert thumb.shape == (68, 160, 3)
    with pytest.raises(ValueError):
        source.read(0, color="hsv")


def test_metadata_to_dict_is_json_ready(bikes: Path) -> None:
    import json

    data = open_video(bikes).scan().to_dict()
    assert json.loads(json.dumps(data))["frame_count"] == 250


def test_a_closed_file_source_does_not_reopen_its_file(tmp_path: Path) -> None:
    source = open_video(write_video(tmp_path / "v.avi", 120, fps=25))
    source.read(3)
    source.close()
    for use in (lambda: source.read(100), lambda: source.read(0), lambda: next(source.iter_frames())):
        with pytest.raises(ValueError, match="closed"):
            use()
    assert not source._decoder.cap.isOpened()
