"""Score and event exports: the per-frame CSV, the events CSV and the JSON of a scored video."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from core.evaluation.normalise import abnormality
from core.inference.anomaly.events import flag_events
from core.inference.anomaly.exports import (
    EVENT_COLUMNS,
    FRAME_COLUMNS,
    ScoredVideo,
    scored_videos,
    unique_file_stems,
    video_times,
    write_score_exports,
)
from core.inference.anomaly.project_scoring import score_project
from core.inference.anomaly.regularity import Threshold
from core.inference.model_fingerprint import model_fingerprint
from core.project import Project
from core.video.cutting import OutputExistsError
from tests.core.inference.scoring_project import make_project, save_run
from tests.video_factory import write_gapped_avi, write_video


def _rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


def _synthetic(path: Path, errors: list[float], threshold: float = 0.5, window: int = 1, min_run: int = 1,
               merge_gap: int = 0, backfilled: int = 0) -> ScoredVideo:
    """A scored video without a model: the given errors over a generated video of as many frames."""
    series = np.asarray(errors, np.float32)
    limit = Threshold(threshold, window=window)
    events = flag_events(limit.smooth(series), threshold, min_run, merge_gap, "vid")
    return ScoredVideo("vid", path.name, path, "file", 25.0, series, limit, events, "run-1", "f" * 32,
                       {"threshold": threshold, "min_run": min_run, "merge_gap": merge_gap}, backfilled)


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[ScoredVideo]]:
    """The tiny project scored with a low threshold (so the test video has events), one verdict recorded."""
    folder = make_project(tmp_path_factory.mktemp("exports") / "proj")
    save_run(folder)
    project = Project.open(folder)
    try:
        event = score_project(project, "tiny", ["test.avi"], percentile=50.0, min_run=2).videos[0].events[0]
        project.set_verdict(event.video_id, event.start, event.end, "confirmed", note="a cyclist, really",
                            run_id="tiny")
        project.save()
        result = score_project(project, "tiny", ["test.avi"], percentile=50.0, min_run=2)
        return folder, scored_videos(project, result)
    finally:
        project.close()


def test_the_frames_csv_has_a_row_per_frame_with_the_scores_flags_and_events(scored, tmp_path: Path) -> None:
    folder, (video,) = scored
    paths = write_score_exports(tmp_path, video)
    assert [p.name for p in paths.values()] == ["test.scores.csv", "test.events.csv", "test.scores.json"]
    columns, rows = _rows(paths["scores_csv"])
    assert columns == list(FRAME_COLUMNS) and len(rows) == video.frames == 22
    errors = np.array([float(r["error"]) for r in rows], np.float32)
    np.testing.assert_array_equal(errors, video.errors)  # the shortest decimals read back to the same float32
    np.testing.assert_allclose([float(r["abnormality"]) for r in rows], abnormality(video.errors), rtol=1e-6)
    np.testing.assert_allclose([float(r["regularity"]) for r in rows], 1 - abnormality(video.errors), atol=1e-6)
    assert [int(r["frame"]) for r in rows] == list(range(22))
    assert [float(r["time_s"]) for r in rows] == pytest.approx([k / 25 for k in range(22)])
    smoothed = video.threshold.smooth(video.errors)
    assert [r["flagged"] == "1" for r in rows] == list(smoothed > video.threshold.value)
    assert {r["backfilled"] for r in rows} == {"0"}  # a reconstruction model backfills nothing
    expected_ids = [""] * 22
    for number, event in enumerate(video.events, start=1):
        expected_ids[event.start:event.end] = [str(number)] * event.length
    assert [r["event_id"] for r in rows] == expected_ids and "1" in expected_ids


def test_the_events_csv_has_a_row_per_event_with_times_peak_and_verdict(scored, tmp_path: Path) -> None:
    _, (video,) = scored
    paths = write_score_exports(tmp_path, video)
    columns, rows = _rows(paths["events_csv"])
    assert columns == list(EVENT_COLUMNS) and len(rows) == len(video.events) >= 1
    for number, (row, event) in enumerate(zip(rows, video.events, strict=True), start=1):
        assert (int(row["event_id"]), int(row["start_frame"]), int(row["end_frame"]), int(row["length"]),
                int(row["peak_frame"])) == (number, event.start, event.end, event.length, event.peak_frame)
        assert float(row["start_s"]) == pytest.approx(event.start / 25) and float(row["end_s"]) == pytest.approx(event.end / 25)
        assert float(row["peak_score"]) == event.peak_score and float(row["mean_score"]) == event.mean_score
    first = rows[0]
    assert (first["verdict"], first["verdict_exact"], first["note"]) == ("confirmed", "1", "a cyclist, really")


def test_the_json_carries_the_run_model_threshold_video_and_both_tables(scored, tmp_path: Path) -> None:
    folder, (video,) = scored
    paths = write_score_exports(tmp_path, video)
    data = json.loads(paths["json"].read_text())
    assert data["format"] == "framewatch.scores-export" and data["run"] == "tiny"
    assert data["model"] == model_fingerprint(folder / "runs" / "tiny" / "best.keras")
    assert data["video"]["id"] == video.video_id and data["video"]["name"] == "test.avi" and data["video"]["frames"] == 22
    assert Path(data["video"]["path"]) == video.path and data["video"]["fps"] == 25.0
    assert data["threshold"] == video.threshold.to_dict() and data["threshold"]["percentile"] == 50.0
    assert data["smoothing"] == {"window": 1, "mode": "causal"} and data["flagging"]["min_run"] == 2
    assert len(data["frames"]) == 22 and list(data["frames"][0]) == list(FRAME_COLUMNS)
    assert [f["error"] for f in data["frames"]] == [float(r["error"]) for r in _rows(paths["scores_csv"])[1]]
    assert [(e["start_frame"], e["end_frame"]) for e in data["events"]] == [(e.start, e.end) for e in video.events]
    assert data["events"][0]["verdict"] == "confirmed" and data["events"][0]["verdict_exact"] is True


def test_existing_exports_are_refused_before_any_is_written_unless_overwrite(tmp_path: Path) -> None:
    video = _synthetic(write_video(tmp_path / "clip.avi", 6), [0.1, 0.2, 0.9, 0.8, 0.1, 0.1])
    out = tmp_path / "out"
    out.mkdir()
    (out / "clip.events.csv").write_text("mine")
    with pytest.raises(OutputExistsError, match="clip.events.csv: already exists"):
        write_score_exports(out, video)
    assert sorted(p.name for p in out.iterdir()) == ["clip.events.csv"]  # the frames CSV was not written first
    assert (out / "clip.events.csv").read_text() == "mine"
    paths = write_score_exports(out, video, overwrite=True)
    assert len(_rows(paths["events_csv"])[1]) == 1 and all(p.exists() for p in paths.values())


def test_smoothing_backfilled_frames_and_merged_gaps_show_in_their_columns(tmp_path: Path) -> None:
    errors = [0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0]
    video = _synthetic(write_video(tmp_path / "clip.avi", 12), errors, threshold=0.4, window=2, merge_gap=2,
                       backfilled=3)
    paths = write_score_exports(tmp_path, video)
    rows = _rows(paths["scores_csv"])[1]
    assert [float(r["smoothed_error"]) for r in rows] == [0, 0, 0, 0, 0.5, 1, 0.5, 0, 0.5, 1, 0.5, 0]
    assert [r["flagged"] for r in rows] == list("000011101110")
    assert [r["event_id"] for r in rows] == [""] * 4 + ["1"] * 7 + [""]  # two runs merged over frame 7
    assert [r["backfilled"] for r in rows] == list("111000000000")


def test_times_follow_the_videos_real_timestamps(tmp_path: Path) -> None:
    path = write_gapped_avi(tmp_path / "gapped.avi", frames=16, gaps_from=4, every=3, skip=2)
    video = _synthetic(path, [0.1] * 16)
    times = video_times(video)
    assert times[4] == pytest.approx(0.24) and times[16] == pytest.approx(0.96)  # not 4 / 25; the end after the last
    rows = _rows(write_score_exports(tmp_path, video, times=times)["scores_csv"])[1]
    assert [float(r["time_s"]) for r in rows] == pytest.approx(list(times[:16]))


def test_two_videos_with_one_stem_get_their_ids_added() -> None:
    from types import SimpleNamespace

    videos = [SimpleNamespace(id="a1", name="x/clip.avi", kind="file"), SimpleNamespace(id="b2", name="clip.mp4", kind="file"),
              SimpleNamespace(id="c3", name="other.avi", kind="file"), SimpleNamespace(id="d4", name="X/CLIP.avi", kind="file"),
              SimpleNamespace(id="e5", name="training/01", kind="image_sequence")]
    assert unique_file_stems(videos) == {"a1": "x_clip-a1", "b2": "clip", "c3": "other", "d4": "X_CLIP-d4",
                                         "e5": "training_01"}
