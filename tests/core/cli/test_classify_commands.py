"""``framewatch classify`` on a project with a tiny trained classify run, a regress run and an anomaly run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import pytest

from core.cli.main import main
from tests.core.cli.one_line_errors import assert_one_line_error
from tests.core.inference.scoring_project import save_run
from tests.core.inference.window_runs import dark_then_bright, write_levels


@pytest.fixture(scope="module")
def project(window_runs: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project with videos ``dark-bright.avi`` (20 dark frames, then 20 bright) and ``short.avi`` (3 frames),
    runs ``classify`` and ``regress`` (trained) and ``anomaly``; also ``loose.avi`` outside it."""
    from core.project import Project

    root = tmp_path_factory.mktemp("classify")
    folder = root / "proj"
    project = Project.create(folder, name="windows")
    try:
        project.add_video(dark_then_bright(root / "dark-bright.avi", 20, 20))
        project.add_video(write_levels(root / "short.avi", [20] * 3))
        project.save()
    finally:
        project.close()
    dark_then_bright(root / "loose.avi", 12, 12)
    shutil.copytree(window_runs / "runs", folder / "runs", dirs_exist_ok=True)
    save_run(folder, "anomaly")
    return folder


def test_text_output_is_a_table_of_segments(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["classify", str(project), "--run", "classify", "--video", "dark-bright.avi"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "run classify: classify, windows of 4 frames every 4"
    assert out[1] == "dark-bright.avi: 40 frames, 10 windows, 2 segments"
    assert out[2].split()[:3] == ["frames", "seconds", "label"]
    assert out[3].split()[:4] == ["[0,", "20)", "0.00-0.80", "dark"]
    assert out[4].split()[:4] == ["[20,", "40)", "0.80-1.60", "bright"]


def test_json_for_a_video_file_outside_the_project_given_after_the_options(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    loose = project.parent / "loose.avi"
    assert main(["classify", str(project), "--run", "classify", str(loose), "--json", "--windows",
                 "--stride", "2", "--min-confidence", "0.9"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["run"] == "classify" and data["stride"] == 2 and data["class_names"] == ["dark", "bright"]
    assert data["decision"] is None  # the run records none: the most likely class labels each window
    (video,) = data["videos"]
    assert video["path"] == str(loose) and video["frames"] == 24 and video["annotated"] is None
    # the windows across the boundary may be uncertain (a segment of their own, without a label)
    assert [s["label"] for s in video["segments"] if not s["uncertain"]] == ["dark", "bright"]
    assert all(s["label"] is None for s in video["segments"] if s["uncertain"])
    assert video["segments"][-1]["stop"] == 24 and len(video["windows"]) == 11
    assert all(w["uncertain"] == (w["confidence"] < 0.9) for w in video["windows"])
    assert data["min_confidence"] == 0.9


def test_regress_run_prints_values_binned(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["classify", str(project), "--run", "regress", "--video", "dark-bright.avi", "--bin", "0.5",
                 "--json"]) == 0
    (video,) = json.loads(capsys.readouterr().out)["videos"]
    labels = [s["label"] for s in video["segments"]]  # the dark windows' bin, then the bright windows' bins
    assert labels[0] == "[0, 0.5)" and "[0, 0.5)" not in labels[1:]
    assert video["segments"][0]["max_value"] < 0.5 <= min(s["min_value"] for s in video["segments"][1:])
    assert main(["classify", str(project), "--run", "regress", "--video", "dark-bright.avi"]) == 0
    out = capsys.readouterr().out
    assert "10 windows, 10 segments" in out and "value (mean, min-max)" in out


def test_annotated_videos_are_written_and_not_replaced_without_overwrite(
        project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "out.mp4"
    assert main(["classify", str(project), "--run", "classify", "--video", "dark-bright.avi",
                 "--annotated", str(output)]) == 0
    assert f"wrote {output}" in capsys.readouterr().out
    capture = cv2.VideoCapture(str(output))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 40 and int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)) == 320
    capture.release()
    assert_one_line_error(capsys, ["classify", str(project), "--run", "classify", "--video", "dark-bright.avi",
                             "--annotated", str(output)], "already exists (give --overwrite to replace it)")
    assert main(["classify", str(project), "--run", "classify", "--video", "dark-bright.avi",
                 "--annotated", str(output), "--overwrite", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["videos"][0]["annotated"] == str(output)
    folder = tmp_path / "annotated"
    loose = project.parent / "loose.avi"
    assert main(["classify", str(project), "--run", "classify", str(loose), str(project.parent / "dark-bright.avi"),
                 "--annotated-dir", str(folder)]) == 0
    assert sorted(p.name for p in folder.iterdir()) == ["dark-bright.annotated.mp4", "loose.annotated.mp4"]


@pytest.mark.parametrize(("argv", "expected"), [
    (["--run", "nope", "--all"], "no training run 'nope'"),
    (["--run", "anomaly", "--all"], "is a model for the 'anomaly' task, which gives no result per window"),
    (["--run", "classify", "--video", "short.avi"], "short.avi: 3 frames, fewer than the 4 needed"),
    (["--run", "classify", "--all"], "short.avi: 3 frames, fewer than the 4 needed"),
    (["--run", "classify", "{p}/../nothing.avi"], "nothing.avi"),
    (["--run", "classify", "{p}/project.json"], "project.json"),
    (["--run", "classify", "--video", "missing.avi"], "no video 'missing.avi' in the project"),
    (["--run", "classify", "--all", "--stride", "9"], "stride must be a whole number of frames"),
    (["--run", "classify", "--all", "--bin", "1"], "--bin merges values of a regress run"),
    (["--run", "regress", "--all", "--min-confidence", "0.5"], "--min-confidence applies to classify runs"),
    (["--run", "classify", "--video", "dark-bright.avi", "--annotated", "{p}/x.gif"], "annotated videos are MP4"),
], ids=["unknown-run", "anomaly-run", "short-video", "short-video-of-all", "no-such-file", "not-a-video",
        "not-in-project", "bad-stride", "bin-on-classify", "confidence-on-regress", "not-mp4"])
def test_bad_requests_exit_2_with_one_line(project: Path, capsys: pytest.CaptureFixture[str], argv: list[str],
                                          expected: str) -> None:
    assert_one_line_error(capsys, ["classify", str(project), *(a.format(p=project) for a in argv)], expected)


@pytest.mark.parametrize(("argv", "expected"), [
    (["--run", "classify"], "give the videos to classify"),
    (["--run", "classify", "--all", "--video", "x"], "not --video and --all"),
    (["--run", "classify", "--all", "--annotated", "o.mp4"], "--annotated writes one video"),
    (["--run", "classify", "--min-confidence", "2", "--all"], "must be a number from 0 to 1, not 2"),
    (["--run", "classify", "--all", "--bogus"], "unrecognized arguments: --bogus"),
], ids=["no-videos", "two-ways", "annotated-many", "bad-confidence", "unknown-option"])
def test_usage_errors_exit_2(project: Path, capsys: pytest.CaptureFixture[str], argv: list[str], expected: str) -> None:
    with pytest.raises(SystemExit) as info:
        main(["classify", str(project), *argv])
    assert info.value.code == 2 and expected in capsys.readouterr().err
