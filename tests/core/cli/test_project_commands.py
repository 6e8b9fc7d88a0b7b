"""``framewatch project ...``: the CLI twin of the project editing in the app."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.cli.main import main
from core.project import Project
from tests.video_factory import write_video


def run(capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def folder(tmp_path: Path, capsys: pytest.CaptureFixture) -> Path:
    write_video(tmp_path / "walk.avi", 40, fps=10)
    proj = tmp_path / "proj"
    assert run(capsys, "project", "new", str(proj), "--name", "Walkway")[0] == 0
    code, out, _ = run(capsys, "project", "add-video", str(proj), str(tmp_path / "walk.avi"), "--split", "train")
    assert code == 0 and "walk.avi  64x48  10 fps  40 frames" in out
    return proj


def test_label_subclips_intervals_and_info(folder: Path, capsys: pytest.CaptureFixture) -> None:
    code, out, _ = run(capsys, "project", "label", str(folder), "--video", "walk.avi", "--start", "0", "--end", "10",
                       "--class", "walk", "--create-class")
    assert code == 0 and "frames [0, 10) of walk.avi: walk" in out
    assert run(capsys, "project", "label", str(folder), "--video", "walk.avi", "--start", "1", "--end", "2.5",
               "--seconds", "--anomaly")[0] == 0
    code, out, _ = run(capsys, "project", "info", str(folder))
    assert code == 0 and "Walkway" in out and "subclips           1 (walk: 1)" in out
    assert "anomaly intervals  1 (15 abnormal frames)" in out
    data = json.loads(run(capsys, "project", "info", str(folder), "--json")[1])
    assert data["videos_by_split"] == {"train": 1} and data["issues"] == []
    project = Project.open(folder)
    assert [(i.start, i.end) for i in project.intervals.values()] == [(10, 25)]


def test_errors_are_one_line_with_exit_code_2(folder: Path, capsys: pytest.CaptureFixture) -> None:
    code, _, err = run(capsys, "project", "label", str(folder), "--video", "walk.avi", "--start", "5", "--end", "3",
                       "--class", "walk", "--create-class")
    assert code == 2 and "end frame 3 is not after start frame 5" in err and err.count("\n") == 1
    code, _, err = run(capsys, "project", "label", str(folder), "--video", "walk.avi", "--start", "0", "--end", "3",
                       "--class", "swim")
    assert code == 2 and "'swim' is not in the label schema" in err
    code, _, err = run(capsys, "project", "info", str(folder.parent / "nothing"))
    assert code == 2 and "no project here" in err
    code, _, err = run(capsys, "project", "new", str(folder))
    assert code == 2 and "already exists" in err


def test_csv_label_import_and_exports(folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "labels.csv").write_text("walk.avi,0,10,walk,train\nwalk.avi,10,20,run,train\n")
    code, out, _ = run(capsys, "project", "label", str(folder), "--csv", str(tmp_path / "labels.csv"), "--create-class")
    assert code == 0 and "imported 2 subclips" in out and "new classes: walk, run" in out
    assert run(capsys, "project", "export", str(folder), "-o", str(tmp_path / "csv"))[0] == 0
    assert (tmp_path / "csv" / "subclips.csv").read_text().count("\n") == 3
    assert run(capsys, "project", "export", str(folder), "-o", str(tmp_path / "x.json"), "--format", "json")[0] == 0
    assert len(json.loads((tmp_path / "x.json").read_text())["subclips"]) == 2
    code, out, _ = run(capsys, "project", "export", str(folder), "-o", str(tmp_path / "clips"), "--format", "videos")
    assert code == 0 and "wrote 2 subclip videos" in out
    assert sorted(p.parent.name for p in (tmp_path / "clips").rglob("*.mp4")) == ["run", "walk"]


def test_import_folders_creates_the_project(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    for n, (split, label) in enumerate([("train", "a"), ("train", "b"), ("test", "a")]):
        (tmp_path / "src" / split / label).mkdir(parents=True)
        write_video(tmp_path / "src" / split / label / f"{split}{label}.avi", 12 + n)  # distinct content
    code, out, _ = run(capsys, "project", "import-folders", str(tmp_path / "src"), str(tmp_path / "new"))
    assert code == 0 and "imported 3 videos as labelled clips (a: 2, b: 1)" in out
    assert len(Project.open(tmp_path / "new").subclips) == 3


def test_editing_commands_protect_an_unrecovered_autosave(folder: Path, capsys: pytest.CaptureFixture) -> None:
    project = Project.open(folder)
    project.add_class("pending")
    project.autosave()  # a crashed session left unsaved work behind
    code, _, err = run(capsys, "project", "label", str(folder), "--video", "walk.avi", "--start", "0", "--end", "5",
                       "--class", "x", "--create-class")
    assert code == 2 and "--recover" in err
    assert run(capsys, "project", "label", str(folder), "--video", "walk.avi", "--start", "0", "--end", "5",
               "--class", "x", "--create-class", "--recover")[0] == 0
    assert set(Project.open(folder).classes) == {"pending", "x"}


def test_export_offers_the_options_its_autosave_message_names(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    project = Project.open(folder)
    project.add_class("pending")
    project.autosave()  # a crashed session left unsaved work behind
    code, _, err = run(capsys, "project", "export", str(folder), "-o", str(tmp_path / "out"))
    assert code == 2 and "--recover" in err
    assert run(capsys, "project", "export", str(folder), "-o", str(tmp_path / "out"), "--recover")[0] == 0
    assert "pending" in (tmp_path / "out" / "classes.csv").read_text()
    assert "pending" not in Project.open(folder, recover=False).classes  # exporting saved nothing
    assert Project.open(folder).recovery is not None


def test_relink_after_a_move(folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "walk.avi").rename(tmp_path / "elsewhere.avi")
    code, out, _ = run(capsys, "project", "info", str(folder))
    assert code == 1 and "walk.avi is missing" in out
    code, out, _ = run(capsys, "project", "relink", str(folder), "--video", "walk.avi", "--path",
                       str(tmp_path / "elsewhere.avi"))
    assert code == 0 and run(capsys, "project", "info", str(folder))[0] == 0


def test_label_in_seconds_takes_the_frames_a_cut_takes(folder: Path, capsys: pytest.CaptureFixture) -> None:
    from core.video import open_video
    from core.video.cutting import to_frame_range

    # 10 fps: 0.25 s..1.25 s holds the frames that start at 0.3 .. 1.2 s, i.e. [3, 13), as a cut takes them
    assert run(capsys, "project", "label", str(folder), "--video", "walk.avi", "--start", "0.25", "--end", "1.25",
               "--seconds", "--anomaly")[0] == 0
    project = Project.open(folder)
    with open_video(folder / ".." / "walk.avi") as video:
        expected = to_frame_range(video, 0.25, 1.25, "seconds")
    assert expected == (3, 13)
    assert [(i.start, i.end) for i in project.intervals.values()] == [expected]


@pytest.mark.parametrize("bad", ["nan", "inf"])
def test_label_with_a_non_finite_frame_is_an_error_not_a_traceback(
    folder: Path, capsys: pytest.CaptureFixture, bad: str
) -> None:
    with pytest.raises(SystemExit) as info:
        run(capsys, "project", "label", str(folder), "--video", "walk.avi", "--start", "0", "--end", bad, "--anomaly")
    err = capsys.readouterr().err
    assert info.value.code == 2 and "finite" in err and "Traceback" not in err
    assert not Project.open(folder).intervals


def test_add_video_without_a_scan_does_not_claim_a_frame_count(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    from tests.video_factory import transcode

    live = transcode(write_video(tmp_path / "src.avi", 12, fps=10), tmp_path / "live.mkv",
                     "-c:v", "libx264", "-pix_fmt", "yuv420p", "-live", "1")
    code, out, _ = run(capsys, "project", "add-video", str(folder), str(live), "--no-scan")
    assert code == 0 and "frame count unknown" in out and " 0 frames" not in out
    code, out, _ = run(capsys, "project", "add-video", str(folder), str(tmp_path / "src.avi"), "--no-scan")
    assert code == 0 and "12 frames declared (not scanned)" in out


def test_scan_counts_the_frames_of_videos_added_without_a_scan(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    clip = write_video(tmp_path / "cut.avi", 40, fps=10)
    clip.write_bytes(clip.read_bytes()[: clip.stat().st_size // 2])  # the header still declares 40
    proj = tmp_path / "proj"
    assert run(capsys, "project", "new", str(proj))[0] == 0
    assert run(capsys, "project", "add-video", str(proj), str(clip), "--no-scan")[0] == 0
    code, out, _ = run(capsys, "project", "info", str(proj))
    assert "40 frames (1 not scanned: project scan)" in out
    code, out, err = run(capsys, "project", "scan", str(proj))
    (video,) = Project.open(proj).videos.values()
    decoded = video.frame_count
    assert code == 0 and 0 < decoded < 40
    assert out == f"cut.avi: {decoded} frames (was not scanned)\n"
    code, out, _ = run(capsys, "project", "info", str(proj), "--json")
    data = json.loads(out)
    assert data["frames"] == decoded and data["unscanned_videos"] == 0
    code, out, _ = run(capsys, "project", "scan", str(proj))
    assert code == 0 and "already has a scanned frame count" in out
    clip.unlink()
    code, out, err = run(capsys, "project", "scan", str(proj), "--all")
    assert code == 2 and err.startswith("not scanned: ") and "cut.avi" in err


def test_exports_refuse_existing_files_unless_overwrite(folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert run(capsys, "project", "label", str(folder), "--video", "walk.avi", "--start", "0", "--end", "10",
               "--class", "walk", "--create-class")[0] == 0
    (tmp_path / "csv").mkdir()
    (tmp_path / "csv" / "verdicts.csv").write_text("my own notes\n")
    (tmp_path / "x.json").write_text("{}")
    clip = tmp_path / "clips" / "train" / "walk" / "walk.avi_000000-000010.mp4"
    clip.parent.mkdir(parents=True)
    clip.write_bytes(b"an earlier export")
    for fmt, out, existing in (("csv", "csv", tmp_path / "csv" / "verdicts.csv"), ("json", "x.json", tmp_path / "x.json"),
                               ("videos", "clips", clip)):
        code, _, err = run(capsys, "project", "export", str(folder), "-o", str(tmp_path / out), "--format", fmt)
        assert code == 2 and f"{existing}: already exists (give --overwrite to replace it)" in err
        assert err.count("\n") == 1
    assert sorted(p.name for p in (tmp_path / "csv").iterdir()) == ["verdicts.csv"]  # checked before writing any
    assert (tmp_path / "csv" / "verdicts.csv").read_text() == "my own notes\n"
    assert (tmp_path / "x.json").read_text() == "{}" and clip.read_bytes() == b"an earlier export"
    for fmt, out in (("csv", "csv"), ("json", "x.json"), ("videos", "clips")):
        assert run(capsys, "project", "export", str(folder), "-o", str(tmp_path / out), "--format", fmt,
                   "--overwrite")[0] == 0
    assert "walk" in (tmp_path / "csv" / "subclips.csv").read_text()
    assert json.loads((tmp_path / "x.json").read_text())["project"] == "Walkway"
    from core.video import open_video

    assert open_video(clip).frame_count == 10


def test_exports_never_replace_the_project_or_its_videos(folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    before = (folder / "project.json").read_bytes()
    code, _, err = run(capsys, "project", "export", str(folder), "-o", str(folder / "new" / ".." / "project.json"),
                       "--format", "json", "--overwrite")
    assert code == 2 and "is the project file" in err
    assert (folder / "project.json").read_bytes() == before and not (folder / "new").exists()


def test_label_seconds_too_large_for_any_video_is_one_line(folder: Path, capsys: pytest.CaptureFixture) -> None:
    code, _, err = run(capsys, "project", "label", str(folder), "--video", "walk.avi", "--start", "0", "--end", "1e308",
                       "--seconds", "--anomaly")
    assert code == 2 and "beyond the end of any video" in err and err.count("\n") == 1
    assert not Project.open(folder).intervals


def test_an_export_clears_what_a_killed_export_left(folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from tests.core.test_atomic_write import dead_pid, leftover

    target = tmp_path / "labels.json"
    half = leftover(target, dead_pid())  # a JSON export killed mid-write
    assert run(capsys, "project", "export", str(folder), "-o", str(target), "--format", "json")[0] == 0
    assert not half.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["labels.json", "proj", "walk.avi"]


def test_a_subclip_export_never_replaces_a_video_of_the_project(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    assert run(capsys, "project", "label", str(folder), "--video", "walk.avi", "--start", "0", "--end", "10",
               "--class", "walk", "--create-class")[0] == 0
    clips = tmp_path / "clips"
    (clips / "train" / "walk").mkdir(parents=True)
    inside = write_video(clips / "train" / "walk" / "walk.avi_000000-000010.mp4", 12, fps=10, fourcc="mp4v")
    assert run(capsys, "project", "add-video", str(folder), str(inside))[0] == 0
    before = inside.read_bytes()
    for extra in ([], ["--overwrite"]):  # a project video sits where the clip would go
        code, _, err = run(capsys, "project", "export", str(folder), "-o", str(clips / "x" / ".."), "--format",
                           "videos", *extra)
        assert code == 2 and "of the project: writing over it would destroy it" in err and err.count("\n") == 1
        assert inside.read_bytes() == before


def test_edit_video_renames_and_sets_the_split_and_refuses_a_files_frame_rate(folder: Path,
                                                                              capsys: pytest.CaptureFixture) -> None:
    code, out, _ = run(capsys, "project", "edit-video", str(folder), "walk.avi", "--name", "walkway-1", "--split", "test")
    assert code == 0 and "walkway-1  split test  10 fps" in out
    code, out, _ = run(capsys, "project", "edit-video", str(folder), "walkway-1", "--split", "auto")
    assert code == 0 and "split auto" in out
    project = Project.open(folder, read_only=True)
    (video,) = project.videos.values()
    assert (video.name, video.split) == ("walkway-1", None)
    project.close()
    code, _, err = run(capsys, "project", "edit-video", str(folder), "walkway-1", "--fps", "25")
    assert code == 2 and "only an image folder's can be set" in err and err.count("\n") == 1
    code, _, err = run(capsys, "project", "edit-video", str(folder), "walkway-1")
    assert code == 2 and "give --name, --split or --fps" in err


def test_verdicts_from_the_command_line_and_confirm_as_interval(folder: Path, capsys: pytest.CaptureFixture) -> None:
    code, out, _ = run(capsys, "project", "verdict", str(folder), "--video", "walk.avi", "--start", "5", "--end", "12",
                       "--verdict", "rejected", "--note", "a shadow")
    assert code == 0 and "rejected event [5, 12) of walk.avi" in out
    code, out, _ = run(capsys, "project", "verdict", str(folder), "--video", "walk.avi", "--start", "5", "--end", "12",
                       "--verdict", "confirmed", "--interval")
    assert code == 0 and "confirmed event [5, 12)" in out and "interval" in out
    project = Project.open(folder, read_only=True)
    assert [(v.start, v.end, v.verdict) for v in project.verdicts.values()] == [(5, 12, "confirmed")]  # replaced
    assert [(i.start, i.end, i.source) for i in project.intervals.values()] == [(5, 12, "review")]
    project.close()
    code, _, err = run(capsys, "project", "verdict", str(folder), "--video", "walk.avi", "--start", "0", "--end", "3",
                       "--verdict", "unsure", "--interval")
    assert code == 2 and "give --verdict confirmed" in err
    code, _, err = run(capsys, "project", "verdict", str(folder), "--video", "walk.avi", "--start", "30", "--end", "90",
                       "--verdict", "unsure")
    assert code == 2 and "walk.avi" in err and err.count("\n") == 1
    code, _, err = run(capsys, "project", "verdict", str(folder), "--video", "walk.avi", "--start", "0", "--end", "3",
                       "--verdict", "unsure", "--run", "nope")
    assert code == 2 and "no training run 'nope'" in err


def test_normal_spans_are_marked_listed_and_removed(folder: Path, capsys: pytest.CaptureFixture) -> None:
    code, out, _ = run(capsys, "project", "normal", str(folder), "walk.avi", "--start", "0", "--end", "30")
    assert code == 0 and "normal frames [0, 30) of walk.avi (3.0 s)" in out
    first = out.split()[0]
    # 10 fps: 0.25 s..1.25 s are the frames [3, 13), as label --seconds and a cut take them
    code, out, _ = run(capsys, "project", "normal", str(folder), "walk.avi", "--start", "0.25", "--end", "1.25",
                       "--seconds", "--note", "before the door opens")
    assert code == 0 and "normal frames [3, 13) of walk.avi" in out
    second = out.split()[0]
    assert run(capsys, "project", "label", str(folder), "--video", "walk.avi", "--start", "25", "--end", "35",
               "--anomaly")[0] == 0
    code, out, _ = run(capsys, "project", "normal", str(folder), "--list")
    assert code == 0 and out.splitlines() == [f"{first}  walk.avi  frames [0, 30)  3.0 s",
                                              f"{second}  walk.avi  frames [3, 13)  1.0 s  before the door opens"]
    listed = json.loads(run(capsys, "project", "normal", str(folder), "walk.avi", "--list", "--json")[1])
    assert [(s["start"], s["end"], s["note"]) for s in listed] == [(0, 30, ""), (3, 13, "before the door opens")]
    code, out, _ = run(capsys, "project", "info", str(folder))
    assert code == 0 and "normal spans       2 (30 frames of normal footage)" in out
    assert f"warning: normal span {first} [0, 30) of walk.avi overlaps anomaly interval [25, 35)" in out
    code, out, _ = run(capsys, "project", "normal", str(folder), "--remove", first)
    assert code == 0 and "removed 1 normal span" in out
    assert [(s.start, s.end) for s in Project.open(folder, read_only=True).normal_spans.values()] == [(3, 13)]


def test_normal_span_mistakes_are_one_line_errors(folder: Path, capsys: pytest.CaptureFixture) -> None:
    code, _, err = run(capsys, "project", "normal", str(folder), "walk.avi", "--start", "30", "--end", "50")
    assert code == 2 and "normal span of walk.avi: frames [30, 50) go past the end of the video" in err
    code, _, err = run(capsys, "project", "normal", str(folder), "walk.avi")
    assert code == 2 and "give --start and --end (mark a span), --list, or --remove ID" in err
    code, _, err = run(capsys, "project", "normal", str(folder), "--remove", "0123456789abcdef")
    assert code == 2 and "no normal span '0123456789abcdef'" in err
    code, _, err = run(capsys, "project", "normal", str(folder), "walk.avi", "--start", "1.5", "--end", "4")
    assert code == 2 and "frame numbers must be whole" in err
    assert not Project.open(folder, read_only=True).normal_spans
