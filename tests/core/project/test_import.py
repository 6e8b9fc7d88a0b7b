"""Importers (UCSD, class folders, CSV) and exporters (CSV, JSON, subclip videos)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from core.cli.main import main
from core.project import Project, ProjectValidationError
from core.project.exporters import export_csv, export_json, export_subclip_videos
from core.project.importers import (
    import_class_folders,
    import_csv_labels,
    import_ucsd,
    parse_ucsd_ground_truth,
)
from tests.video_factory import decode_index, write_images, write_video


# -- UCSD Ped2, the real data set (imported once per session, through the CLI) ---------------------
@pytest.fixture(scope="session")
def ped2_project(ped2: Path, tmp_path_factory: pytest.TempPathFactory) -> Project:
    folder = tmp_path_factory.mktemp("ped2") / "project"
    assert main(["project", "import-ucsd", str(ped2), str(folder)]) == 0
    return Project.open(folder)


def test_ped2_import_has_every_video_and_the_ground_truth(ped2_project: Project, capsys: pytest.CaptureFixture) -> None:
    videos = list(ped2_project.videos.values())
    train = [v for v in videos if v.split == "train"]
    test = [v for v in videos if v.split == "test"]
    assert (len(train), len(test)) == (16, 12)
    assert sum(v.frame_count for v in train) == 2550 and sum(v.frame_count for v in test) == 2010
    assert all((v.kind, v.width, v.height, v.fps) == ("image_sequence", 360, 240, 10.0) for v in videos)
    assert sum(i.end - i.start for i in ped2_project.intervals.values()) == 1648
    assert ped2_project.validate() == []


def test_ped2_ranges_are_converted_from_one_based_inclusive(ped2_project: Project) -> None:
    first = ped2_project.video("testing/01")
    [interval] = ped2_project.intervals_of(first.id)
    assert (interval.start, interval.end) == (60, 180)  # gt_frame = [61:180]: files 060.jpg .. 179.jpg
    third = ped2_project.video("testing/03")
    assert [(i.start, i.end) for i in ped2_project.intervals_of(third.id)] == [(0, 146)]  # [1:146]


def test_ped2_per_frame_ground_truth(ped2_project: Project) -> None:
    from core.data import frame_labels, split_frame_labels

    labels = split_frame_labels(ped2_project.data, "test")
    assert len(labels) == 12 and sum(len(v) for v in labels.values()) == 2010
    assert sum(int(v.sum()) for v in labels.values()) == 1648
    first = frame_labels(ped2_project.data, ped2_project.video("testing/01").id)
    assert not first[:60].any() and first[60:].all() and len(first) == 180


def test_ped2_anomaly_training_data_is_split_by_video(ped2_project: Project) -> None:
    from core.data import anomaly_batches
    from core.preprocessing import PreprocessSpec

    spec = PreprocessSpec(height=32, width=32, grayscale=True)
    train = anomaly_batches(ped2_project, spec, "train", length=10, frame_steps=(1, 2), stride=5, batch_size=32)
    val = anomaly_batches(ped2_project, spec, "val", length=10, frame_steps=(1, 2), stride=5)
    train_videos, val_videos = set(train.samples.video_ids), set(val.samples.video_ids)
    assert len(train_videos) == 13 and len(val_videos) == 3 and not train_videos & val_videos
    assert all(ped2_project.videos[v].name.startswith("training/") for v in train_videos | val_videos)
    x, y = train[0]
    assert x.shape == (32, 10, 32, 32, 1) and x.dtype == np.float32 and y is x
    assert float(x.min()) >= 0.0 and float(x.max()) <= 1.0


def test_ped2_project_file_keeps_paths_relative(ped2_project: Project) -> None:
    doc = json.loads(ped2_project.path.read_text())
    assert all(not v["path"].startswith("/") for v in doc["videos"])


# -- UCSD layout, generated ------------------------------------------------------------------------
def _ucsd(root: Path, gt_lines: list[str], test_lengths: tuple[int, ...] = (12, 15)) -> Path:
    write_images(root / "Train" / "Train001", 10, ext=".tif")
    for n, count in enumerate(test_lengths, 1):
        write_images(root / "Test" / f"Test{n:03d}", count, ext=".tif")
    write_images(root / "Test" / "Test001_gt", 3, ext=".bmp")  # pixel masks: not a video
    body = "TestVideoFile = {};\n" + "".join(f"TestVideoFile{{end+1}}.gt_frame = [{g}];\n" for g in gt_lines)
    (root / "Test" / "UCSDped1.m").write_text(body)
    return root


def test_ground_truth_parser_handles_several_ranges(tmp_path: Path) -> None:
    m = tmp_path / "gt.m"
    m.write_text("% comment gt_frame = [9:9]\nx.gt_frame = [61:180];\ny.gt_frame = [5:90, 140:200];\nz.gt_frame = [7];\n")
    assert parse_ucsd_ground_truth(m) == [[(60, 180)], [(4, 90), (139, 200)], [(6, 7)]]
    m.write_text("x.gt_frame = [9:3];\n")
    with pytest.raises(ProjectValidationError, match="line 1: range 9:3 is inverted"):
        parse_ucsd_ground_truth(m)


def test_ucsd_style_import_with_tif_folders_and_several_ranges(tmp_path: Path) -> None:
    root = _ucsd(tmp_path / "ped1", ["1:3, 8:12", "15"])
    project = Project.create(tmp_path / "p")
    result = import_ucsd(project, root)
    names = [project.videos[i].name for i in result.videos]
    assert names == ["Train/Train001", "Test/Test001", "Test/Test002"]
    spans = sorted((project.videos[i.video_id].name, i.start, i.end) for i in project.intervals.values())
    assert spans == [("Test/Test001", 0, 3), ("Test/Test001", 7, 12), ("Test/Test002", 14, 15)]
    assert project.undo_stack.undo_text.startswith("Import UCSD") and project.undo()
    assert not project.videos and not project.intervals


def test_ucsd_import_refuses_mismatched_or_out_of_range_ground_truth(tmp_path: Path) -> None:
    project = Project.create(tmp_path / "p")
    with pytest.raises(ProjectValidationError, match="1 gt_frame lines for 2 test videos"):
        import_ucsd(project, _ucsd(tmp_path / "a", ["1:3"]))
    with pytest.raises(ProjectValidationError, match=r"go past the end of the video \(12 frames"):
        import_ucsd(project, _ucsd(tmp_path / "b", ["1:13", "1:2"]))
    assert not project.videos and not project.dirty  # all or nothing


# -- class folders and subclip export ------------------------------------------------------------
@pytest.fixture
def class_root(tmp_path: Path) -> Path:
    root = tmp_path / "clips"
    for split, label, name, frames in [("train", "walk", "a.avi", 20), ("train", "run", "b.avi", 24),
                                       ("test", "walk", "c.avi", 16)]:
        (root / split / label).mkdir(parents=True, exist_ok=True)
        write_video(root / split / label / name, frames, fps=10)
    return root


def test_class_folders_become_labelled_whole_video_subclips(tmp_path: Path, class_root: Path) -> None:
    project = Project.create(tmp_path / "p")
    result = import_class_folders(project, class_root)
    assert sorted(result.classes) == ["run", "walk"]
    clips = sorted((project.videos[s.video_id].name, s.start, s.end, s.label) for s in project.subclips.values())
    assert clips == [("test/walk/c.avi", 0, 16, "walk"), ("train/run/b.avi", 0, 24, "run"),
                     ("train/walk/a.avi", 0, 20, "walk")]
    assert {v.name: v.split for v in project.videos.values()}["test/walk/c.avi"] == "test"


def test_exported_subclip_videos_reimport_as_class_folders(tmp_path: Path, class_root: Path) -> None:
    project = Project.create(tmp_path / "p")
    import_class_folders(project, class_root)
    a = project.video("train/walk/a.avi")
    part = project.add_subclip(a.id, 5, 12, label="run", split="val")
    written = export_subclip_videos(project, tmp_path / "out", [part.id])
    assert written == [tmp_path / "out" / "val" / "run" / "train_walk_a.avi_000005-000012.mp4"]
    again = Project.create(tmp_path / "q")
    import_class_folders(again, tmp_path / "out")
    [video] = again.videos.values()
    assert (video.frame_count, video.split) == (7, "val")
    from core.video import open_video

    with open_video(video.path) as source:
        assert [decode_index(source.read(k, "bgr")) for k in range(7)] == list(range(5, 12))


def test_subclip_export_never_overwrites_one_clip_with_another(tmp_path: Path) -> None:
    project = Project.create(tmp_path / "p")
    for folder, width in (("a", 64), ("b", 80)):
        (tmp_path / folder).mkdir()
        project.add_video(write_video(tmp_path / folder / "clip.avi", 20, fps=10, width=width))
    project.add_class("walk")
    clips = [project.add_subclip(v.id, 2, 9, label="walk") for v in project.videos.values()]
    written = export_subclip_videos(project, tmp_path / "out")
    assert len(set(written)) == 2 and all(p.is_file() for p in written)
    from core.video import open_video

    for clip, path in zip(clips, written, strict=True):
        with open_video(path) as source:
            assert source.frame_count == 7
            assert source.size == (project.videos[clip.video_id].width, project.videos[clip.video_id].height)


# -- CSV -----------------------------------------------------------------------------------------
@pytest.fixture
def labelled(tmp_path: Path) -> Project:
    project = Project.create(tmp_path / "p")
    write_video(tmp_path / "v.avi", 50, fps=10)
    project.add_video(tmp_path / "v.avi")
    project.add_class("walk")
    project.add_target("rating", 0, 5)
    project.save()
    return project


def test_csv_import_with_header_seconds_and_values(labelled: Project, tmp_path: Path) -> None:
    write_video(tmp_path / "w.avi", 30, fps=10)
    (tmp_path / "labels.csv").write_text(
        "video,start,end,label,split\nv.avi,0,1.5,walk,train\nw.avi,1,2,4.5,val\n# comment\n\nv.avi,2,3,jog,train\n"
    )
    result = import_csv_labels(labelled, tmp_path / "labels.csv", unit="seconds", create_classes=True)
    assert result.classes == ["jog"] and len(result.videos) == 1  # w.avi was added
    rows = sorted((labelled.videos[s.video_id].name, s.start, s.end, s.label, s.value, s.split)
                  for s in labelled.subclips.values())
    assert rows == [("v.avi", 0, 15, "walk", None, "train"), ("v.avi", 20, 30, "jog", None, "train"),
                    ("w.avi", 10, 20, None, 4.5, "val")]
    assert labelled.undo() and not labelled.subclips and "jog" not in labelled.classes


def test_csv_errors_name_the_line_and_nothing_is_imported(labelled: Project, tmp_path: Path) -> None:
    (tmp_path / "bad.csv").write_text("v.avi,0,10,walk\nv.avi,10,5,walk\nv.avi,0,10,swim\nnope.avi,0,1,walk\n")
    with pytest.raises(ProjectValidationError) as info:
        import_csv_labels(labelled, tmp_path / "bad.csv")
    message = str(info.value)
    assert "3 bad row(s)" in message and "bad.csv, line 2" in message and "not after start" in message
    assert "line 3" in message and "'swim' is not in the label schema" in message and "line 4" in message
    assert not labelled.subclips and not labelled.dirty


# -- CSV and JSON export ---------------------------------------------------------------------------
def test_csv_and_json_exports_hold_everything_and_csv_reimports(labelled: Project, tmp_path: Path) -> None:
    v = next(iter(labelled.videos.values()))
    labelled.add_subclip(v.id, 0, 10, label="walk", split="train", note='with "quotes", commas')
    labelled.add_subclip(v.id, 10, 20, value=3.0)
    labelled.add_interval(v.id, 30, 40)
    labelled.set_verdict(v.id, 30, 40, "rejected", note="a shadow", run_id="r1", score=0.7)
    paths = export_csv(labelled, tmp_path / "csv")
    assert [p.name for p in paths] == ["subclips.csv", "classes.csv", "intervals.csv", "verdicts.csv"]
    with open(tmp_path / "csv" / "subclips.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows[0]["note"] == 'with "quotes", commas' and rows[0]["end_s"] == "1.0" and rows[1]["value"] == "3.0"
    verdicts = list(csv.DictReader((tmp_path / "csv" / "verdicts.csv").read_text().splitlines()))
    assert verdicts[0]["verdict"] == "rejected" and verdicts[0]["run"] == "r1"
    doc = json.loads(export_json(labelled, tmp_path / "all.json").read_text())
    assert doc["frames"] == "0-based, end exclusive"
    assert len(doc["subclips"]) == 2 and doc["intervals"][0]["start"] == 30 and doc["classes"][0]["name"] == "walk"
    # the subclip table re-imports into a fresh project with the same schema
    again = Project.create(tmp_path / "again")
    again.add_video(v.path)
    again.add_class("walk")
    again.add_target("rating", 0, 5)
    import_csv_labels(again, tmp_path / "csv" / "subclips.csv")
    strip = lambda s: (s.start, s.end, s.label, s.value, s.split, s.note)  # noqa: E731
    assert sorted(map(strip, again.subclips.values()), key=str) == sorted(map(strip, labelled.subclips.values()), key=str)


def test_csv_seconds_take_the_frames_a_cut_takes(labelled: Project, tmp_path: Path) -> None:
    # v.avi is 10 fps: 0.25 s..1.25 s holds the frames that start at 0.3 .. 1.2 s, i.e. [3, 13)
    (tmp_path / "half.csv").write_text("v.avi,0.25,1.25,walk\n")
    import_csv_labels(labelled, tmp_path / "half.csv", unit="seconds")
    assert [(s.start, s.end) for s in labelled.subclips.values()] == [(3, 13)]


def test_an_export_never_replaces_the_project_file_or_a_video(labelled: Project, tmp_path: Path) -> None:
    from core.project import ProjectError

    saved = labelled.path.read_bytes()
    video = next(iter(labelled.videos.values()))
    frames = video.path.read_bytes()
    with pytest.raises(ProjectError, match="the project file"):
        export_json(labelled, labelled.path)
    with pytest.raises(ProjectError, match=f"video {video.name}"):
        export_json(labelled, video.path)
    assert labelled.path.read_bytes() == saved and video.path.read_bytes() == frames
    assert Project.open(labelled.folder).subclips == labelled.subclips


def test_csv_rows_find_same_named_videos_by_path_never_by_first_name(tmp_path: Path) -> None:
    project = Project.create(tmp_path / "p")
    for folder, frames in (("a", 20), ("b", 30)):
        (tmp_path / folder).mkdir()
        project.add_video(write_video(tmp_path / folder / "clip.avi", frames, fps=10))
    project.add_class("walk")
    first, second = project.videos.values()
    (tmp_path / "labels.csv").write_text("b/clip.avi,0,25,walk\n")  # only the second has 25 frames
    import_csv_labels(project, tmp_path / "labels.csv")
    assert [s.video_id for s in project.subclips.values()] == [second.id]
    (tmp_path / "ambiguous.csv").write_text("clip.avi,0,5,walk\n")
    with pytest.raises(ProjectValidationError, match="2 videos are called 'clip.avi'"):
        import_csv_labels(project, tmp_path / "ambiguous.csv")


def test_class_folder_videos_without_a_frame_count_need_a_scan(tmp_path: Path, class_root: Path) -> None:
    from core.errors import VideoError
    from tests.video_factory import transcode

    # a live-stream MKV declares no frame count: without a scan the clip's length is unknown
    transcode(write_video(tmp_path / "src.avi", 18, fps=10), class_root / "train" / "walk" / "live.mkv",
              "-c:v", "libx264", "-pix_fmt", "yuv420p", "-live", "1")
    with pytest.raises(VideoError, match="declares no frame count"):
        import_class_folders(Project.create(tmp_path / "p"), class_root, scan=False)
    skipping = Project.create(tmp_path / "q")
    result = import_class_folders(skipping, class_root, scan=False, skip_unreadable=True)
    assert len(result.videos) == 3 and any("live.mkv" in s for s in result.skipped)
    scanned = Project.create(tmp_path / "r")
    import_class_folders(scanned, class_root)
    assert {v.name: v.frame_count for v in scanned.videos.values()}["train/walk/live.mkv"] == 18


def test_ucsd_import_skips_videos_already_in_the_project(tmp_path: Path) -> None:
    root = _ucsd(tmp_path / "ds", ["2:5", "1:4"])
    project = Project.create(tmp_path / "p")
    existing = project.add_video(root / "Test" / "Test001")
    result = import_ucsd(project, root)
    assert len(result.videos) == 2 and len(project.videos) == 3  # Train001 and Test002 added, Test001 reused
    assert result.skipped == [f"{existing.path}: already in the project as video {existing.name!r}"]
    spans = sorted((project.videos[i.video_id].name, i.start, i.end) for i in project.intervals.values())
    assert spans == sorted([(existing.name, 1, 5), ("Test/Test002", 0, 4)])  # ground truth to the existing video
    with pytest.raises(ProjectValidationError, match="already in the project"):
        import_ucsd(project, root)  # nothing left to add
    project.undo()
    assert list(project.videos) == [existing.id] and not project.intervals


def test_csv_and_json_exports_report_progress_and_stop_when_cancelled(labelled: Project, tmp_path: Path) -> None:
    import threading

    from core.errors import Cancelled

    events = []
    export_csv(labelled, tmp_path / "csv", progress=events.append)
    assert [(e.done, e.total) for e in events] == [(0, 4), (1, 4), (2, 4), (3, 4), (4, 4)]
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        export_csv(labelled, tmp_path / "cancelled", cancel=cancel)
    assert not (tmp_path / "cancelled" / "subclips.csv").exists()
    with pytest.raises(Cancelled):
        export_json(labelled, tmp_path / "cancelled.json", cancel=cancel)
    assert not (tmp_path / "cancelled.json").exists()
    events.clear()
    export_json(labelled, tmp_path / "all.json", progress=events.append)
    assert events[-1].done == events[-1].total == 1


def test_ucsd_one_recording_joins_the_training_videos_losslessly_in_order(tmp_path: Path, capsys) -> None:
    from core.video import open_video

    root = _ucsd(tmp_path / "ped1", ["1:3", "15"])
    write_images(root / "Train" / "Train002", 7, ext=".tif")
    joined = tmp_path / "footage" / "normal.avi"
    assert main(["project", "import-ucsd", str(root), str(tmp_path / "p"), "--one-recording", str(joined)]) == 0
    assert "imported 1 training and 2 test videos" in capsys.readouterr().out
    project = Project.open(tmp_path / "p")
    train = [v for v in project.videos.values() if v.split == "train"]
    assert [v.name for v in train] == ["Train/normal.avi"] and train[0].path == joined.resolve()
    with open_video(joined) as source, open_video(root / "Train" / "Train001", fps=10) as first, \
            open_video(root / "Train" / "Train002", fps=10) as second:
        frames = list(source.iter_frames(color="bgr"))
        expected = [*first.iter_frames(color="bgr"), *second.iter_frames(color="bgr")]
    assert len(frames) == 17 and all(np.array_equal(a, b) for a, b in zip(frames, expected, strict=True))
    assert [decode_index(f) for f in frames] == [*range(10), *range(7)]
    assert sorted((project.videos[i.video_id].name, i.start, i.end) for i in project.intervals.values()) == [
        ("Test/Test001", 0, 3), ("Test/Test002", 14, 15)]
    project.close()
    assert main(["project", "import-ucsd", str(root), str(tmp_path / "q"), "--one-recording", str(joined)]) == 2
    assert "normal.avi: already exists" in capsys.readouterr().err
