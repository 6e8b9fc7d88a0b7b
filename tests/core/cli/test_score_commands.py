"""``framewatch score`` and ``framewatch evaluate`` on a tiny project with an untrained 16x16 model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.cli.main import main
from tests.core.cli.one_line_errors import assert_one_line_error, assert_usage_error
from tests.core.inference.scoring_project import make_project, save_run


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = make_project(tmp_path_factory.mktemp("cli") / "proj")
    save_run(folder)
    save_run(folder, "untrained", with_model=False)
    return folder


def test_score_json_gives_each_videos_frames_events_and_peak(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["score", str(project), "--run", "tiny", "--all", "--json", "--min-run", "2"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [v["name"] for v in data["videos"]] == ["train0.avi", "train1.avi", "test.avi"]
    assert [v["frames"] for v in data["videos"]] == [18, 20, 22] and "errors" not in data["videos"][0]
    assert data["flagging"]["min_run"] == 2 and data["threshold"]["videos"] == 2
    assert Path(data["events_file"]) == project / "runs" / "tiny" / "events.json"
    assert main(["score", str(project), "--run", "tiny", "--video", "test.avi", "--json", "--frames",
                 "--min-run", "2"]) == 0
    (video,) = json.loads(capsys.readouterr().out)["videos"]
    assert video["scored_now"] == 0 and len(video["errors"]) == 22  # from the cache
    assert video["peak_error"] == max(video["errors"]) and video["errors"][video["peak_frame"]] == video["peak_error"]


def test_score_prints_a_line_per_video(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["score", str(project), "--run", "tiny", "--video", "test.avi"]) == 0
    out = capsys.readouterr().out
    assert "test.avi: 22 frames" in out and "events" in out and "peak" in out and "events written to" in out


def test_evaluate_prints_auc_eer_recall_and_false_alarms(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", str(project), "--run", "tiny"]) == 0
    out = capsys.readouterr().out
    assert "frame AUC" in out and "EER" in out and "recall" in out and "false alarms per minute" in out
    assert main(["evaluate", str(project), "--run", "tiny", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["frames"] == 22 and 0.0 <= data["auc_normalised"] <= 1.0 and 0.0 <= data["auc_raw"] <= 1.0


def test_evaluate_measures_events_at_a_threshold_set_by_hand(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", str(project), "--run", "tiny", "--json"]) == 0
    calibrated = json.loads(capsys.readouterr().out)
    assert calibrated["threshold"]["kind"] != "manual"
    # above every error: nothing flagged; at zero: every frame flagged, so the anomaly is hit
    assert main(["evaluate", str(project), "--run", "tiny", "--json", "--threshold", "1e9"]) == 0
    high = json.loads(capsys.readouterr().out)
    assert high["threshold"]["kind"] == "manual" and high["threshold"]["value"] == 1e9
    assert high["events"] == 0 and high["anomalies_hit"] == 0
    assert main(["evaluate", str(project), "--run", "tiny", "--json", "--threshold", "0"]) == 0
    low = json.loads(capsys.readouterr().out)
    assert low["anomalies_hit"] == low["anomalies"] == 1
    assert low["auc_raw"] == calibrated["auc_raw"]  # the threshold changes the events, not the AUC
    assert main(["evaluate", str(project), "--run", "tiny", "--threshold", "0"]) == 0
    assert "at threshold 0 (set by hand)" in capsys.readouterr().out
    with pytest.raises(SystemExit) as usage:
        main(["evaluate", str(project), "--run", "tiny", "--threshold", "1", "--percentile", "99"])
    assert usage.value.code == 2
    assert "--threshold and --percentile both set the threshold" in capsys.readouterr().err


@pytest.mark.parametrize(("argv", "expected"), [
    (["score", "{p}", "--run", "nope", "--all"], "no training run 'nope'"),
    (["score", "{p}", "--run", "untrained", "--all"], "run 'untrained' has no model yet"),
    (["score", "{p}", "--run", "tiny", "--video", "missing.avi"], "no video 'missing.avi' in the project"),
    (["score", "{p}", "--run", "tiny", "--all", "--stride", "9"], "stride must be a whole number of frames"),
    (["evaluate", "{p}", "--run", "nope"], "no training run 'nope'"),
    (["score", "{p}-absent", "--run", "tiny", "--all"], "-absent"),
], ids=["unknown-run", "no-model", "missing-video", "bad-stride", "evaluate-unknown-run", "no-project"])
def test_bad_requests_exit_2_with_one_line(project: Path, capsys: pytest.CaptureFixture[str], argv: list[str],
                                          expected: str) -> None:
    assert_one_line_error(capsys, [a.format(p=project) for a in argv], expected)


def test_score_needs_videos_or_all(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["score", str(project), "--run", "tiny"])
    assert info.value.code == 2 and "one of the arguments --video --all is required" in capsys.readouterr().err


def test_score_export_writes_each_videos_csv_and_json_and_refuses_them_next_time(
        project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "exports"
    assert main(["score", str(project), "--run", "tiny", "--all", "--export", str(out)]) == 0
    printed = capsys.readouterr().out
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(f"{stem}{suffix}" for stem in ("train0", "train1", "test")
                           for suffix in (".scores.csv", ".events.csv", ".scores.json"))
    assert f"wrote {out / 'test.scores.csv'}" in printed
    assert len((out / "test.scores.csv").read_text().splitlines()) == 1 + 22
    document = json.loads((out / "test.scores.json").read_text())
    assert document["run"] == "tiny" and document["video"]["name"] == "test.avi" and len(document["frames"]) == 22
    before = (out / "test.scores.json").read_text()
    assert_one_line_error(capsys, ["score", str(project), "--run", "tiny", "--video", "test.avi", "--export", str(out),
                             "--smooth", "3"], "test.scores.csv: already exists (give --overwrite to replace it)")
    assert (out / "test.scores.json").read_text() == before
    assert main(["score", str(project), "--run", "tiny", "--video", "test.avi", "--export", str(out), "--smooth", "3",
                 "--overwrite", "--json"]) == 0
    (video,) = json.loads(capsys.readouterr().out)["videos"]
    assert sorted(Path(f).name for f in video["files"]) == ["test.events.csv", "test.scores.csv", "test.scores.json"]
    assert json.loads((out / "test.scores.json").read_text())["smoothing"] == {"window": 3, "mode": "causal"}


def test_score_annotated_writes_the_videos_annotated_mp4(project: Path, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    import cv2

    out = tmp_path / "a" / "test.mp4"
    assert main(["score", str(project), "--run", "tiny", "--video", "test.avi", "--annotated", str(out),
                 "--curve", "abnormality"]) == 0
    assert f"wrote {out}" in capsys.readouterr().out
    capture = cv2.VideoCapture(str(out))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 22
    capture.release()
    folder = tmp_path / "many"
    assert main(["score", str(project), "--run", "tiny", "--video", "train0.avi", "--video", "test.avi",
                 "--annotated-dir", str(folder)]) == 0
    assert sorted(p.name for p in folder.iterdir()) == ["test.annotated.mp4", "train0.annotated.mp4"]


@pytest.mark.parametrize(("argv", "expected"), [
    (["--video", "test.avi", "--annotated", "{t}/a.gif"], "a.gif: unknown video format '.gif'"),
    (["--video", "test.avi", "--annotated", "{t}/taken.mp4"], "taken.mp4: already exists"),
    (["--video", "test.avi", "--export", "{t}/taken.mp4"], "taken.mp4: is a file"),
], ids=["gif", "existing", "export-into-a-file"])
def test_bad_export_requests_exit_2_with_one_line(project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                  argv: list[str], expected: str) -> None:
    (tmp_path / "taken.mp4").write_bytes(b"mine")
    assert_one_line_error(capsys, ["score", str(project), "--run", "tiny", *[a.format(t=tmp_path) for a in argv]], expected)
    assert (tmp_path / "taken.mp4").read_bytes() == b"mine"


def test_annotated_needs_exactly_one_video(project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for which in (["--all"], ["--video", "test.avi", "--video", "train0.avi"]):
        with pytest.raises(SystemExit) as info:
            main(["score", str(project), "--run", "tiny", *which, "--annotated", str(tmp_path / "a.mp4")])
        assert info.value.code == 2 and "--annotated writes one video" in capsys.readouterr().err


def test_score_without_train_split_footage_says_how_to_add_some(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    folder = make_project(tmp_path / "proj", frames=())  # the test video only: nothing to calibrate on
    save_run(folder)
    assert_one_line_error(capsys, ["score", str(folder), "--run", "tiny", "--all"],
                          "add videos of normal footage with split train (framewatch project add-video --split train")
    # a threshold set by hand needs no calibration footage
    assert main(["score", str(folder), "--run", "tiny", "--all", "--threshold", "0", "--min-run", "3"]) == 0
    out = capsys.readouterr().out
    assert "threshold 0 (set by hand)" in out and "test.avi: 22 frames (22 scored now), 1 event," in out


def test_threshold_by_hand_and_percentile_do_not_mix(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["score", str(project), "--run", "tiny", "--all", "--threshold", "0.1", "--percentile", "99"])
    assert info.value.code == 2 and "--threshold and --percentile both set the threshold" in capsys.readouterr().err
    assert_usage_error(capsys, ["score", str(project), "--run", "tiny", "--all", "--threshold", "nan"],
                       "argument --threshold: must be a finite number, not 'nan'")
