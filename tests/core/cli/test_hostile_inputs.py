"""Every hostile input to ``framewatch`` gets one line on stderr naming the problem and exit code 2, never a
traceback, and changes nothing: numbers out of range, outputs that are the project's own videos, damaged
run files, imports that fail, symbolic-link loops."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from core.cli.main import build_parser, main
from core.cli.number_options import Number, WholeNumber
from tests.core.inference.scoring_project import make_project, save_run
from tests.video_factory import write_video

HUGE = "99999999999999999999"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny scoring project (``train0.avi``, ``train1.avi``, ``test.avi``) with an anomaly run ``tiny`` and
    a next-frame run ``pred``."""
    folder = make_project(tmp_path_factory.mktemp("hostile") / "proj")
    save_run(folder)
    save_run(folder, "pred", task="predict")
    return folder


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    """``framewatch ARGV`` in this process: its exit code and the non-empty lines it wrote to stderr."""
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's usage errors
        code = exc.code
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, [line for line in err.splitlines() if line.strip()]


def assert_refused(argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]) -> str:
    code, lines = run_cli(argv, capsys)
    assert code == 2 and len(lines) == 1 and "error:" in lines[0] and expected in lines[0], (code, lines)
    return lines[0]


NUMBERS = [
    (["score", "{p}", "--run", "tiny", "--all", "--smooth", HUGE], "argument --smooth: must be a whole number from 1 to 10,000"),
    (["evaluate", "{p}", "--run", "tiny", "--smooth", "0"], "argument --smooth: must be a whole number from 1"),
    (["score", "{p}", "--run", "tiny", "--all", "--min-run", HUGE], "argument --min-run"),
    (["score", "{p}", "--run", "tiny", "--all", "--batch-size", HUGE], "argument --batch-size"),
    (["score", "{p}", "--run", "tiny", "--all", "--percentile", "1e308"], "argument --percentile"),
    (["export-run", "{p}", "--run", "tiny", "--to", "{t}/out", "--smooth", HUGE], "argument --smooth"),
    (["fit-error-level", "{p}", "--run", "pred", "--seed", HUGE], "argument --seed: must be a whole number from 0 to 4,294,967,295"),
    (["fit-error-level", "{p}", "--run", "pred", "--epochs", HUGE], "argument --epochs"),
    (["predict", "{p}", "--run", "pred", "--video", "{v}", "--start", "0", "--future", HUGE],
     "argument --future: must be a whole number from 1 to 1,000"),
    (["predict", "{p}", "--run", "pred", "--video", "{v}", "--start", "0", "-o", "{t}/p.gif", "--fps", "5e-324"],
     "argument --fps: must be a number from 0.001 to 1,000, not 5e-324"),
    (["evaluate", "--dataset", "moving-mnist", "--mnist", "m", "--run", "r", "--sequences", HUGE], "argument --sequences"),
    (["evaluate", "--dataset", "moving-mnist", "--mnist", "m", "--run", "r", "--future", HUGE], "argument --future"),
    (["train", "--dataset", "moving-mnist", "--mnist", "m", "--runs-dir", "{t}/runs", "--task", "predict",
      "--sequences", HUGE], "argument --sequences: must be a whole number from 1 to 100,000"),
    (["train", "{p}", "--task", "anomaly", "--threads", HUGE], "argument --threads"),
    (["train", "{p}", "--task", "anomaly", "--seed", HUGE], "argument --seed"),
    (["train", "{p}", "--task", "anomaly", "--epochs", HUGE], "argument --epochs"),
    (["train", "{p}", "--task", "anomaly", "--max-minutes", "1e308"], "argument --max-minutes"),
    (["frames", "{v}", "-o", "{t}/frames", "--end", HUGE], "argument --end: must be a whole number from 0 to"),
    (["cut", "{v}", "-o", "{t}/pieces", "--pieces", HUGE, "--duration", "1"], "argument --pieces"),
    (["info", "{v}", "--fps", "5e-324"], "argument --fps"),
    (["project", "import-ucsd", "{t}/none", "{t}/new", "--fps", "5e-324"], "argument --fps"),
    (["project", "label", "{p}", "--video", "test.avi", "--start", "0", "--end", "5", "--value", "nan"],
     "argument --value: must be a finite number"),
    (["project", "normal", "{p}", "test.avi", "--start", "0", "--end", "inf"], "argument --end: must be a finite number"),
    (["project", "verdict", "{p}", "--video", "test.avi", "--start", "0", "--end", HUGE, "--verdict", "confirmed"],
     "argument --end"),
    (["project", "label", "{p}", "--video", "test.avi", "--start", "0", "--end", "5", "--anomaly", "--wait", "1e308"],
     "argument --wait"),
    (["classify", "{p}", "--run", "c", "--all", "--stride", HUGE], "argument --stride"),
    (["classify", "{p}", "--run", "c", "--all", "--bin", "5e-324"], "argument --bin: must be a number from 1e-06"),
]


@pytest.mark.parametrize(("argv", "expected"), NUMBERS, ids=[" ".join(a[:1] + [a[-2]]) for a, _ in NUMBERS])
def test_numbers_out_of_range_are_one_line_usage_errors_before_anything_runs(
        project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], expected: str) -> None:
    before = (project / "project.json").read_text()
    video = project.parent / "proj-videos" / "test.avi"
    line = assert_refused([a.format(p=project, t=tmp_path, v=video) for a in argv], expected, capsys)
    assert line.startswith("framewatch ") and "--help" in line
    assert list(tmp_path.iterdir()) == [] and (project / "project.json").read_text() == before


def _number_options(parser: argparse.ArgumentParser) -> list[tuple[str, argparse.Action]]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found += _number_options(sub)
        elif action.option_strings and action.type in (int, float):
            found.append((parser.prog, action))
    return found


def test_every_number_option_is_bounded_and_states_its_range_in_help() -> None:
    parser = build_parser()
    # train's --frames, --stride, --val-fraction, --lr and --lr-factor are checked, with their ranges, by the
    # training request itself (the app builds the same one)
    core_checked = {"--frames", "--stride", "--val-fraction", "--lr", "--lr-factor"}
    unbounded = [f"{prog} {action.option_strings[-1]}" for prog, action in _number_options(parser)
                 if not (prog == "framewatch train" and action.option_strings[-1] in core_checked)]
    assert unbounded == []
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
    help_text = " ".join(commands["predict"].format_help().split())
    assert "frames to predict (default 10) [1 to 1,000]" in help_text


def test_number_types_refuse_nan_infinity_and_text() -> None:
    for kind in (WholeNumber(1, 10), Number(0.0, 10.0)):
        for text in ("nan", "inf", "-inf", "ten", "1e400", "11"):
            with pytest.raises(argparse.ArgumentTypeError):
                kind(text)
    assert WholeNumber(1, 10)("10") == 10 and Number(0.0, 1.0, above_low=True)("1") == 1.0
    with pytest.raises(argparse.ArgumentTypeError, match="more than 0"):
        Number(0.0, 1.0, above_low=True)("0")


def test_an_image_folder_at_a_frame_rate_near_zero_is_refused_so_exports_never_write_infinity(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import cv2

    from core.project import Project, ProjectValidationError
    from tests.video_factory import index_frame

    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(3):
        cv2.imwrite(str(folder / f"{i:03d}.png"), index_frame(i, 32, 24))
    project = Project.create(tmp_path / "p")
    try:
        with pytest.raises(ProjectValidationError, match="frames per second must be from 0.001 to 1000"):
            project.add_video(folder, fps=5e-324)
        video = project.add_video(folder, fps=10)
        with pytest.raises(ProjectValidationError, match="frames per second must be from 0.001 to 1000"):
            project.update_video(video.id, fps=5e-324)
    finally:
        project.close()
    assert json.loads((tmp_path / "p" / "project.json").read_text())["videos"] == []  # nothing saved


def test_a_smoothing_window_past_the_limit_is_refused_by_scoring_too() -> None:
    from core.cli.number_options import SMOOTH_LIMIT
    from core.inference.anomaly.regularity import MAX_SMOOTHING_WINDOW, CausalMovingAverage, moving_average
    from core.inference.errors import ScoreError

    assert SMOOTH_LIMIT == MAX_SMOOTHING_WINDOW
    with pytest.raises(ScoreError, match="from 1 to 10,000"):
        moving_average([0.0, 1.0], 10**20)
    with pytest.raises(ScoreError, match="from 1 to 10,000"):
        CausalMovingAverage(10**20)


@pytest.mark.parametrize("command", ["import-ucsd", "import-folders"])
def test_a_failed_import_into_a_new_folder_leaves_no_project(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                             command: str) -> None:
    assert_refused(["project", command, str(tmp_path / "missing"), str(tmp_path / "a" / "new")], "no such folder", capsys)
    assert list(tmp_path.iterdir()) == []  # not even the parent folder the project would have been made in
    kept = tmp_path / "existing"
    kept.mkdir()
    (kept / "notes.txt").write_text("mine")
    assert_refused(["project", command, str(tmp_path / "missing"), str(kept)], "no such folder", capsys)
    assert sorted(p.name for p in kept.iterdir()) == ["notes.txt"] and (kept / "notes.txt").read_text() == "mine"


def test_a_failed_import_into_an_existing_project_changes_nothing(project: Path, tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    before = (project / "project.json").read_text()
    assert_refused(["project", "import-ucsd", str(tmp_path / "missing"), str(project)], "no such folder", capsys)
    assert (project / "project.json").read_text() == before


def test_score_export_of_a_ucsd_import_writes_safe_file_names(ped2: Path, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    """The README's UCSD import names videos ``training/01``: the export once failed on ``ped2-exp/training/...``."""
    data = tmp_path / "ped2"
    for split, numbers in (("training", ("01", "02")), ("testing", ("01",))):
        (data / split).mkdir(parents=True)
        for number in numbers:
            (data / split / number).symlink_to(ped2 / split / number, target_is_directory=True)
    (data / "testing" / "UCSDped2.m").write_text("TestVideoFile{end+1}.gt_frame = [61:180];\n")
    folder = tmp_path / "proj"
    assert main(["project", "import-ucsd", str(data), str(folder), "--no-scan"]) == 0
    save_run(folder)
    out = tmp_path / "ped2-exp"
    code, lines = run_cli(["score", str(folder), "--run", "tiny", "--all", "--export", str(out)], capsys)
    assert code == 0, lines
    assert sorted(p.name for p in out.iterdir()) == sorted(
        f"{stem}{suffix}" for stem in ("training_01", "training_02", "testing_01")
        for suffix in (".scores.csv", ".events.csv", ".scores.json"))
    assert json.loads((out / "testing_01.scores.json").read_text())["video"]["name"] == "testing/01"


def test_exports_of_videos_with_odd_names_never_leave_their_folder_nor_overwrite_each_other(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from core.project import Project

    folder = make_project(tmp_path / "proj", frames=(18, 20, 19))
    save_run(folder)
    project = Project.open(folder)
    names = ["../../escaped.avi", "a/b.avi", "A/B.avi"]  # the last two name one file on a case-insensitive disk
    for video, name in zip([v for v in project.videos.values() if v.split == "train"], names, strict=True):
        project.update_video(video.id, name=name)
    project.save()
    project.close()
    out = tmp_path / "exp" / "inner"
    code, lines = run_cli(["score", str(folder), "--run", "tiny", "--all", "--export", str(out),
                           "--annotated-dir", str(out)], capsys)
    assert code == 0, lines
    written = sorted(p.name for p in out.iterdir())
    assert len(written) == 4 * 4 and all((out / name).is_file() for name in written)
    assert len({name.casefold() for name in written}) == len(written)
    assert sorted(p.name for p in (tmp_path / "exp").iterdir()) == ["inner"]  # nothing outside the folder
    assert "escaped.scores.csv" in written and not (tmp_path / "escaped.scores.csv").exists()


def test_subclips_with_crafted_ids_export_to_distinct_files_inside_the_folder(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from core.project import Project

    video = write_video(tmp_path / "clip.avi", 12)
    project = Project.create(tmp_path / "proj")
    project.add_class("a")
    added = project.add_video(video)
    project.add_subclip(added.id, 0, 4, label="a")
    project.save()
    project.close()
    document = json.loads((tmp_path / "proj" / "project.json").read_text())
    first = document["subclips"][0]
    # same span: ids with the same first 8 characters, a path in an id, and '..'
    document["subclips"] += [dict(first, id=first["id"] + "zz"), dict(first, id="0e9/../../x"), dict(first, id="..")]
    (tmp_path / "proj" / "project.json").write_text(json.dumps(document))
    out = tmp_path / "out"
    code, lines = run_cli(["project", "export", str(tmp_path / "proj"), "-o", str(out), "--format", "videos"], capsys)
    assert code == 0, lines
    files = sorted(p for p in out.rglob("*") if p.is_file())
    assert len(files) == 4 and len({p.name.casefold() for p in files}) == 4
    assert all(p.parent == out / "unsplit" / "a" for p in files)


def save_classify_run(project_folder: Path, name: str = "c") -> Path:
    """An untrained 16x16 ``classify`` run (classes ``a``, ``b``): enough to reach the output checks."""
    from core.models import build_model, make_spec
    from core.models.files import save_model
    from core.runs import RunRecord

    spec = make_spec("classify", "default", frames=4, height=16, width=16, channels=1, outputs=2, cnn_filters=(4,),
                     lstm_units=(4,), dropout=0.0)
    run_dir = project_folder / "runs" / name
    run_dir.mkdir(parents=True)
    save_model(build_model(spec, compile=False), run_dir / "best.keras")
    RunRecord(run_id=name, task="classify", preset=spec.preset, spec=spec.to_dict(), config={},
              data={"preprocess": {"height": 16, "width": 16, "grayscale": True}, "class_names": ["a", "b"]},
              status="completed", model_path=str(run_dir / "best.keras")).save(run_dir)
    return run_dir


@pytest.fixture(scope="module")
def with_mp4(project: Path) -> Path:
    """``project`` with a fourth video, ``other.mp4`` (no split), and a classify run ``c``."""
    from core.project import Project

    video = write_video(project.parent / "proj-videos" / "other.mp4", 12, fourcc="mp4v")
    opened = Project.open(project)
    try:
        opened.add_video(video)
        opened.save()
    finally:
        opened.close()
    save_classify_run(project)
    return video


OWN_VIDEO = [
    ["score", "{p}", "--run", "tiny", "--video", "test.avi", "--annotated", "{own}", "--overwrite"],
    ["classify", "{p}", "--run", "c", "--video", "test.avi", "--annotated", "{own}", "--overwrite"],
    ["classify", "{p}", "--run", "c", "{v}", "--annotated", "{own}", "--overwrite"],
    ["predict", "{p}", "--run", "pred", "--video", "{v}", "--start", "0", "-o", "{own}", "--overwrite"],
    ["predict", "{p}", "--run", "pred", "--video", "{v}", "--start", "0", "-o", "{t}/../{link}", "--overwrite"],
]


@pytest.mark.parametrize("argv", OWN_VIDEO, ids=["score", "classify-video", "classify-path", "predict", "predict-link"])
def test_an_output_that_is_a_video_of_the_project_is_refused_even_with_overwrite(
        project: Path, with_mp4: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    before = with_mp4.read_bytes()
    link = tmp_path.parent / f"{tmp_path.name}-link.mp4"
    link.symlink_to(with_mp4)
    video = project.parent / "proj-videos" / "test.avi"
    line = assert_refused([a.format(p=project, v=video, own=with_mp4, t=tmp_path, link=link.name) for a in argv],
                          "is video other.mp4 of the project: writing over it would destroy it", capsys)
    assert line.startswith("framewatch: error: ")
    assert with_mp4.read_bytes() == before and link.is_symlink()


@pytest.mark.parametrize(("text", "problem"), [
    ("{not json", "damaged events file: not valid JSON"),
    ('{"format": "framewatch.events", "version": 99, "events": []}', "newer Framewatch (events version 99"),
], ids=["damaged", "newer"])
def test_score_refuses_to_replace_a_damaged_or_newer_events_file(project: Path, capsys: pytest.CaptureFixture[str],
                                                                 text: str, problem: str) -> None:
    events = project / "runs" / "tiny" / "events.json"
    events.write_text(text)
    try:
        line = assert_refused(["score", str(project), "--run", "tiny", "--all"], problem, capsys)
        assert str(events) in line and "it is not replaced" in line and events.read_text() == text
    finally:
        events.unlink()


def test_a_symlink_loop_as_a_video_path_is_a_one_line_error_in_export(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    from core.project import Project

    video = write_video(tmp_path / "clip.avi", 12)
    project = Project.create(tmp_path / "proj")
    project.add_class("a")
    project.add_subclip(project.add_video(video).id, 0, 4, label="a")
    project.save()
    project.close()
    loop_a, loop_b = tmp_path / "loop-a.avi", tmp_path / "loop-b.avi"
    loop_a.symlink_to(loop_b)
    loop_b.symlink_to(loop_a)
    document = json.loads((tmp_path / "proj" / "project.json").read_text())
    document["videos"][0].update(path=str(loop_a), abs_path=str(loop_a))
    (tmp_path / "proj" / "project.json").write_text(json.dumps(document))
    code, lines = run_cli(["project", "export", str(tmp_path / "proj"), "-o", str(tmp_path / "tables")], capsys)
    assert code == 0 and len(list((tmp_path / "tables").iterdir())) == 4  # the tables need no video
    assert_refused(["project", "export", str(tmp_path / "proj"), "-o", str(tmp_path / "clips"), "--format", "videos"],
                   str(loop_a), capsys)
    assert not (tmp_path / "clips").exists() or not any((tmp_path / "clips").rglob("*.mp4"))
