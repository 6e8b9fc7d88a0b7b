"""The scene-transfer benchmark's measures (``python -m bench transfer``) on synthetic scores, and its scene builder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bench.bench_transfer import Row, _figures, measure, table
from bench.scenes import main as scenes_main


def test_hits_false_alarms_per_normal_minute_and_auc_of_synthetic_scores() -> None:
    a = np.zeros(100)
    a[40:50] = 5.0  # an event on the anomaly
    a[80:83] = 4.0  # an event outside it: a false alarm
    b = np.zeros(60)
    b[10:20] = np.linspace(0, 1, 10)  # below the threshold: anomaly missed, AUC still ranks it
    truth = {"a": [(40, 50)], "b": [(10, 20)]}
    row = measure({"a": a, "b": b}, truth, threshold=2.0, fps=10.0, frames_per_s=123.0)
    assert (row.anomalies, row.hit, row.false_alarms) == (2, 1, 1)
    assert row.normal_minutes == pytest.approx((90 + 50) / 10 / 60)
    assert row.false_alarms_per_minute == pytest.approx(1 / row.normal_minutes)
    assert 0.5 < row.auc_raw < 1.0 and row.auc_normalised > row.auc_raw  # per-video normalising helps b
    assert row.cells()[2:4] == ["1/2", f"{1 / row.normal_minutes:.2f}"]
    perfect = measure({"a": a}, {"a": [(40, 50), (80, 83)]}, 2.0, 10.0, 1.0)
    assert (perfect.hit, perfect.false_alarms, perfect.auc_raw) == (2, 0, 1.0)
    quiet = np.zeros(600)
    quiet[300:302] = 9.0  # a false alarm in a video with no anomaly: counted, and its minute counts too
    more = measure({"a": a, "b": b, "quiet": quiet}, truth, threshold=2.0, fps=10.0, frames_per_s=1.0)
    assert (more.hit, more.false_alarms) == (1, 2) and more.normal_minutes == pytest.approx(row.normal_minutes + 1)
    assert (more.auc_normalised, more.auc_raw) == (row.auc_normalised, row.auc_raw)  # AUC of videos with anomalies


def test_the_table_has_a_row_per_scene_and_the_learned_scorer_meets_the_issues_bar() -> None:
    good = Row(0.98, 0.93, 12, 12, 0, 0.6, 100.0)
    base = Row(0.90, 0.80, 12, 11, 1, 0.6, 200.0)
    rows = {"ped2": {"flow baseline": base, "model": good},
            "planted": {"flow baseline": base, "model": Row(0.85, 0.75, 6, 6, 3, 0.66, 90.0),
                        "motion": "not run"}}
    text = table(rows, ["flow baseline", "model"])
    assert text.count("\n") == 3 and "(a) Ped2 as shipped" in text and "| 0.980 | 0.930 | 12/12 |" in text
    figures = {f.name: f for f in _figures(rows)}
    assert figures["(a) model: frame AUC normalised"].result == "PASS"
    assert figures["(a) model: anomalies hit"].target == ">= 12"
    assert figures["(c) model: frame AUC raw"].result == "FAIL"  # 0.75 does not beat the baseline's 0.80
    assert figures["(c) model: false alarms/min outside anomalies"].result == "FAIL"  # 4.5 > 1 per minute
    assert figures["(c) motion"].result == "SKIP"
    assert figures["(a) flow baseline: frame AUC raw"].target is None  # the baseline is the reference


def test_the_scene_builder_refuses_an_existing_project_and_unknown_data(tmp_path: Path, capsys) -> None:
    from core.project import Project

    Project.create(tmp_path / "p").close()
    ped2 = tmp_path / "data" / "ucsd_ped2"
    ped2.mkdir(parents=True)
    assert scenes_main(["planted", str(tmp_path / "p"), "--data", str(tmp_path / "data")]) == 2
    assert "already holds a project" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        scenes_main(["planted", str(tmp_path / "q"), "--data", str(tmp_path / "nowhere")])


def test_the_planted_scene_gets_its_targets_unplanted_as_unseen_normal_test_videos_once(tmp_path: Path) -> None:
    import cv2

    from bench.scenes import PLANTED_TARGETS, add_unseen
    from core.project import Project

    for n, name in enumerate(PLANTED_TARGETS):
        folder = tmp_path / "ped2" / "training" / name
        folder.mkdir(parents=True)
        for i in range(3):
            cv2.imwrite(str(folder / f"{i:03d}.png"), np.full((24, 36), 40 * i + n, np.uint8))
    project = Project.create(tmp_path / "proj")
    try:
        assert add_unseen(project, tmp_path / "ped2") == len(PLANTED_TARGETS)
        unseen = [v for v in project.videos.values() if v.name.startswith("unseen/")]
        assert [v.name for v in unseen] == [f"unseen/{n}" for n in PLANTED_TARGETS]
        assert all(v.split == "test" and not project.intervals_of(v.id) for v in unseen)
        assert add_unseen(project, tmp_path / "ped2") == 0  # a project that has them keeps them as they are
    finally:
        project.close()
