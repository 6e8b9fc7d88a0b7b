"""Jobs the app runs in workers, as plain core functions: probing added videos, scanning frame counts,
thumbnails and the project summary (the same numbers as ``framewatch project info``)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from core.errors import Cancelled
from core.jobs import Progress
from core.project import Project
from core.project.probe import probe_videos
from core.project.scan import count_frames, scan_frame_counts
from core.project.summary import counts_per_video, project_summary
from core.video import open_video
from core.video.thumbnails import video_thumbnail
from tests.video_factory import write_images, write_video


def truncated_video(path: Path, frames: int = 40) -> Path:
    """An AVI whose header declares ``frames`` frames but whose second half is cut off."""
    write_video(path, frames, fps=10)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def test_probe_videos_reports_each_unreadable_file_and_keeps_the_others(tmp_path: Path) -> None:
    good = write_video(tmp_path / "good.avi", 12, fps=10)
    frames = write_images(tmp_path / "frames", 5)
    bad = tmp_path / "bad.mp4"
    bad.write_text("not a video")
    events: list[Progress] = []
    result = probe_videos([good, bad, frames], fps=4.0, progress=events.append)
    assert [v.name for v in result.videos] == ["good.avi", "frames"]
    assert [v.frame_count for v in result.videos] == [12, 5]
    assert result.videos[1].fps == 4.0 and result.videos[0].fps == 10.0  # fps is for image folders only
    assert len(result.problems) == 1 and result.problems[0].startswith(f"{bad}: ")
    assert events[-1] == Progress(3, 3, "done")
    unscanned = probe_videos([good], scan=False).videos[0]
    assert unscanned.frame_count is None and unscanned.declared_frame_count == 12
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        probe_videos([good], cancel=cancel)


def test_scan_records_the_frames_that_decode_as_one_undoable_edit(tmp_path: Path) -> None:
    clip = truncated_video(tmp_path / "cut.avi")
    whole = write_video(tmp_path / "whole.avi", 15, fps=10)
    project = Project.create(tmp_path / "proj")
    cut = project.add_video(clip, scan=False)
    done = project.add_video(whole)
    assert cut.frame_count is None and cut.known_frame_count == 40  # the header's claim
    decoded = count_frames(clip)
    assert 0 < decoded < 40
    events: list[Progress] = []
    result = scan_frame_counts(project, progress=events.append)
    assert [(s.name, s.before, s.after) for s in result.scanned] == [("cut.avi", None, decoded)]
    assert project.videos[cut.id].frame_count == decoded and project.videos[done.id].frame_count == 15
    assert events[-1].done == events[-1].total and all(e.message for e in events)
    assert project_summary(project, check_files=False).frames == decoded + 15
    project.undo()
    assert project.videos[cut.id].frame_count is None
    assert scan_frame_counts(project, rescan=True).scanned[-1].after == 15  # --all rescans every video


def test_scan_reports_missing_videos_and_a_cancel_changes_nothing(tmp_path: Path) -> None:
    clip = write_video(tmp_path / "a.avi", 20, fps=10)
    gone = write_video(tmp_path / "b.avi", 10, fps=10)
    project = Project.create(tmp_path / "proj")
    a = project.add_video(clip, scan=False)
    project.add_video(gone, scan=False)
    gone.unlink()
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        scan_frame_counts(project, cancel=cancel)
    assert project.videos[a.id].frame_count is None
    result = scan_frame_counts(project)
    assert [s.after for s in result.scanned] == [20]
    assert len(result.problems) == 1 and "b.avi" in result.problems[0]


def test_thumbnail_is_a_small_rgb_frame_a_tenth_of_the_way_in(tmp_path: Path) -> None:
    clip = write_video(tmp_path / "a.avi", 30, fps=10, width=320, height=240)
    picture = video_thumbnail(clip, max_size=80)
    assert picture.shape == (60, 80, 3) and picture.dtype.name == "uint8"
    with open_video(clip) as source:
        assert source.thumbnail(3, max_size=80).tolist() == picture.tolist()
    assert video_thumbnail(write_images(tmp_path / "f", 4, width=32, height=16), fps=5).shape == (16, 32, 3)


def test_summary_and_per_video_counts(tmp_path: Path) -> None:
    project = Project.create(tmp_path / "proj", name="Walkway")
    a = project.add_video(write_video(tmp_path / "a.avi", 30, fps=10), split="train")
    b = project.add_video(write_video(tmp_path / "b.avi", 20, fps=10), scan=False)
    project.add_class("walk")
    project.add_subclip(a.id, 0, 10, label="walk")
    project.add_subclip(a.id, 10, 20, label="walk")
    project.add_interval(b.id, 5, 9)
    counts = counts_per_video(project)
    assert (counts[a.id].subclips, counts[a.id].intervals) == (2, 0)
    assert (counts[b.id].subclips, counts[b.id].intervals) == (0, 1)
    data = project_summary(project).as_dict()
    assert data["videos"] == 2 and data["videos_by_split"] == {"train": 1, "auto": 1}
    assert data["frames"] == 50 and data["unscanned_videos"] == 1
    assert data["subclips_by_label"] == {"walk": 2} and data["abnormal_frames"] == 4
    assert data["issues"] == []
