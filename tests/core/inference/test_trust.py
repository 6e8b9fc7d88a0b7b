"""The trust report: false alarms per minute on held-out normal footage by 2-fold over the held-out blocks,
and the held-out over training error with its warning."""

from __future__ import annotations

import json
from contextlib import closing
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from core.cli.main import main
from core.inference.anomaly.project_scoring import run_model, score_key
from core.inference.anomaly.score_cache import CachedScores, ScoreCache
from core.inference.anomaly.trust import (
    MEMORISED_WARNING,
    TrustReport,
    assess_run,
    error_ratio,
    trust_report,
    two_fold_false_alarms,
)
from core.project import Project
from core.runs import RunRecord
from tests.core.inference.scoring_project import make_project, save_run


def block(frames: int, spikes: list[int], value: float = 10.0) -> np.ndarray:
    errors = np.ones(frames)
    errors[spikes] = value
    return errors


def test_each_half_is_flagged_by_the_threshold_calibrated_on_the_other() -> None:
    # four one-minute blocks at 10 fps, dealt alternately: blocks 0 and 2 hold 2 spikes, blocks 1 and 3 hold 4
    blocks = [(block(600, [100]), 10.0), (block(600, [100, 300]), 10.0), (block(600, [500]), 10.0),
              (block(600, [50, 400]), 10.0)]
    # 2 (or 4) spikes in 1,200 frames leave the 99.5th percentile at the normal level 1: each spike is an event
    (first, second), minutes = two_fold_false_alarms(blocks)
    assert minutes == pytest.approx(4.0)
    assert first == pytest.approx(4 / 2.0) and second == pytest.approx(2 / 2.0)
    # with many spikes in the first half its threshold rises above them: the other half then raises no alarm
    many = [(block(600, list(range(0, 600, 40)), 10.0), 10.0), (block(600, [100, 300], 5.0), 10.0)]
    (first, second), _ = two_fold_false_alarms(many)
    assert first == 0.0 and second == pytest.approx(15.0)  # the half of 15 spikes, against the other's threshold
    # one block is cut in two at its middle; smoothing and a minimum run apply as at scoring
    (first, second), minutes = two_fold_false_alarms([(block(1200, [100, 101, 900]), 20.0)], min_run=2)
    assert minutes == pytest.approx(1.0) and first == 0.0 and second == pytest.approx(2.0)
    assert two_fold_false_alarms([]) is None and two_fold_false_alarms([(np.ones(1), 10.0)]) is None


def test_the_error_ratio_warns_when_the_held_out_error_is_far_above_the_training_error() -> None:
    def record(val_loss: float, best: int = 1) -> SimpleNamespace:
        return SimpleNamespace(best_epoch=best, history=[{"epoch": 0, "loss": 1.0, "val_loss": 9.0},
                                                         {"epoch": 1, "loss": 0.1, "val_loss": val_loss}])

    assert error_ratio(record(0.5)) == pytest.approx(5.0)
    assert error_ratio(record(0.15)) == pytest.approx(1.5)
    assert error_ratio(SimpleNamespace(best_epoch=0, history=[{"epoch": 0, "loss": 1.0}])) is None
    memorised = TrustReport(0.5, (0.4, 0.6), 3.0, 1800, 4, 5.0)
    assert MEMORISED_WARNING in memorised.warning() and len(memorised.lines()) == 2
    assert "0.50 false alarms a minute on 3.0 min" in memorised.summary()
    fine = TrustReport(0.5, (0.4, 0.6), 3.0, 1800, 4, 1.5)
    assert fine.warning() == "" and fine.lines() == [fine.summary()]
    assert TrustReport.from_entry(memorised.record_entry()) == memorised
    assert TrustReport.from_entry(None) is None


def test_a_run_is_assessed_on_its_held_out_spans_and_the_report_is_recorded(tmp_path: Path, capsys) -> None:
    folder = make_project(tmp_path / "proj", frames=(60,))
    with closing(Project.open(folder)) as project:
        run_dir = save_run(folder)
        video = project.video("train0.avi")
        record = RunRecord.load(run_dir)
        record.data["held_out"] = {"mode": "time", "gap": 4, "videos": [
            {"name": video.name, "content": video.fingerprint.key, "spans": [[5, 25], [35, 55]]}], "trained": []}
        record.best_epoch = 0
        record.history = [{"epoch": 0, "loss": 0.01, "val_loss": 0.03}]
        record.save(run_dir)
        errors = block(60, [10, 45, 58])  # frame 58 is trained footage: it never counts
        ScoreCache(folder).write(CachedScores(score_key(run_model(folder, run_dir), video), errors.astype(np.float32),
                                              60, None, video.id))
        report = assess_run(project, run_dir)
    expected, minutes = two_fold_false_alarms([(errors[5:25], video.fps), (errors[35:55], video.fps)])
    assert report.folds == expected and report.held_out_minutes == pytest.approx(minutes)
    assert report.false_alarms_per_minute == pytest.approx(sum(expected) / 2) and report.false_alarms_per_minute > 0
    assert report.held_out_frames == 40 and report.blocks == 2
    assert report.error_ratio == pytest.approx(3.0) and report.memorised
    assert trust_report(RunRecord.load(run_dir)) == report  # recorded in run.json
    assert main(["trust", str(folder), "--run", "tiny", "--json"]) == 0  # framewatch trust measures it again
    assert TrustReport.from_entry(json.loads(capsys.readouterr().out)) == report
    assert main(["trust", str(folder), "--run", "tiny"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == report.lines() and MEMORISED_WARNING in out[1]
