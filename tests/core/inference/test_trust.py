"""The trust report: false alarms per minute on held-out normal footage by 2-fold over the held-out blocks,
the folds pooled, with a 95% Poisson upper bound; and the held-out over training error with its warning."""

from __future__ import annotations

import json
import math
from contextlib import closing
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from core.cli.main import main
from core.inference.anomaly.project_scoring import run_model, score_key
from core.inference.anomaly.regularity import (
    DEFAULT_ALARM_RATE,
    DEFAULT_MERGE_SECONDS,
    DEFAULT_SMOOTH_SECONDS,
)
from core.inference.anomaly.score_cache import CachedScores, ScoreCache
from core.inference.anomaly.trust import (
    MEMORISED_WARNING,
    FoldCounts,
    TrustReport,
    assess_run,
    error_ratio,
    poisson_upper_bound,
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
    counts = two_fold_false_alarms(blocks)
    assert counts.events == (4, 2) and counts.minutes == pytest.approx((2.0, 2.0))
    assert counts.folds == pytest.approx((4 / 2.0, 2 / 2.0))
    assert counts.total_events == 6 and counts.total_minutes == pytest.approx(4.0)
    assert counts.rate == pytest.approx(6 / 4.0)  # pooled: all the events over all the minutes
    # with many spikes in the first half its threshold rises above them: the other half then raises no alarm
    many = [(block(600, list(range(0, 600, 40)), 10.0), 10.0), (block(600, [100, 300], 5.0), 10.0)]
    counts = two_fold_false_alarms(many)
    assert counts.events == (0, 15) and counts.folds == pytest.approx((0.0, 15.0))
    # one block is cut in two at its middle; smoothing and a minimum run apply as at scoring
    counts = two_fold_false_alarms([(block(1200, [100, 101, 900]), 20.0)], min_run=2)
    assert counts.events == (0, 1) and counts.total_minutes == pytest.approx(1.0) and counts.rate == 1.0
    assert two_fold_false_alarms([]) is None and two_fold_false_alarms([(np.ones(1), 10.0)]) is None


def test_the_upper_bound_is_the_exact_poisson_bound() -> None:
    # the mean at which P(X <= k) = 5%: 0.5 * chi2.ppf(0.95, 2k + 2) (values from tables)
    assert poisson_upper_bound(0) == pytest.approx(-math.log(0.05), abs=1e-9)  # 2.996
    assert poisson_upper_bound(3) == pytest.approx(7.754, abs=1e-3)
    assert poisson_upper_bound(1) == pytest.approx(4.744, abs=1e-3)
    assert poisson_upper_bound(10) == pytest.approx(16.962, abs=1e-3)
    assert poisson_upper_bound(100) == pytest.approx(118.08, abs=1e-2)
    assert poisson_upper_bound(3, 0.99) == pytest.approx(10.045, abs=1e-3)  # chi2(0.99, 8) = 20.09
    assert poisson_upper_bound(3, 0.3) == pytest.approx(2.764, abs=1e-3)  # chi2(0.3, 8) = 5.527: below k
    for k, confidence in ((1, 0.95), (7, 0.95), (3, 0.3)):  # the defining property: P(X <= k) = 1 - confidence
        mu = poisson_upper_bound(k, confidence)
        assert sum(math.exp(-mu) * mu**i / math.factorial(i) for i in range(k + 1)) == pytest.approx(1 - confidence)
    with pytest.raises(ValueError, match="events must be a count"):
        poisson_upper_bound(-1)
    with pytest.raises(ValueError, match="confidence"):
        poisson_upper_bound(2, 1.5)


def test_the_folds_are_pooled_with_the_bound_on_known_counts() -> None:
    # no event in half a minute of held-out footage (two 15 s blocks at 10 fps): 0 a minute, at most 6 a minute
    quiet = two_fold_false_alarms([(np.ones(150), 10.0), (np.ones(150), 10.0)])
    assert quiet.total_events == 0 and quiet.rate == 0.0 and quiet.total_minutes == pytest.approx(0.5)
    assert quiet.upper_95 == pytest.approx(-math.log(0.05) / 0.5)
    # 3 events in 2 minutes: 1.5 a minute, at most 7.754 / 2
    three = two_fold_false_alarms([(block(600, [100, 400]), 10.0), (block(600, [300]), 10.0)])
    assert three.total_events == 3 and three.rate == pytest.approx(1.5)
    assert three.upper_95 == pytest.approx(7.754 / 2.0, abs=1e-3)
    report = TrustReport(three.rate, three.folds, 2.0, 1200, 2, None, events=3, minutes=2.0, upper_95=three.upper_95,
                         error="mse", scorer="prediction")
    assert report.summary() == "1.5 false alarms a minute (at most 3.9 at 95%) on 2.00 min of held-out normal footage"
    report = TrustReport(0.0, (0.0, 0.0), 0.55, 330, 2, 1.2, events=0, minutes=0.55,
                         upper_95=poisson_upper_bound(0) / 0.55)
    assert report.summary() == ("no false alarm in 0.55 min of held-out footage (at most 5.4 a minute at 95%); "
                                "held-out error 1.20x the training error")
    assert FoldCounts((1, 2), (0.5, 0.25)).folds == (2.0, 8.0)


def test_a_report_recorded_before_the_folds_were_pooled_is_still_read() -> None:
    old = {"false_alarms_per_minute": 8.333, "folds": [0.0, 16.667], "held_out_minutes": 0.24,
           "held_out_frames": 360, "blocks": 3, "error_ratio": 1.1, "percentile": 99.5, "smoothing": 1,
           "min_run": 1, "merge_gap": 0, "warning": ""}
    report = TrustReport.from_entry(old)
    assert report.false_alarms_per_minute == pytest.approx(8.333) and report.folds == (0.0, 16.667)
    assert report.events is None and report.minutes is None and report.upper_95 is None and report.error is None
    assert report.summary() == ("8.33 false alarms a minute on 0.2 min of held-out normal footage "
                                "(mean of 2 folds: 0.00 and 16.67); held-out error 1.10x the training error")
    assert trust_report(SimpleNamespace(data={"trust": old})) == report


def test_the_error_ratio_warns_when_the_held_out_error_is_far_above_the_training_error() -> None:
    def record(val_loss: float, best: int = 1) -> SimpleNamespace:
        return SimpleNamespace(best_epoch=best, history=[{"epoch": 0, "loss": 1.0, "val_loss": 9.0},
                                                         {"epoch": 1, "loss": 0.1, "val_loss": val_loss}])

    assert error_ratio(record(0.5)) == pytest.approx(5.0)
    assert error_ratio(record(0.15)) == pytest.approx(1.5)
    assert error_ratio(SimpleNamespace(best_epoch=0, history=[{"epoch": 0, "loss": 1.0}])) is None
    memorised = TrustReport(0.5, (0.4, 0.6), 3.0, 1800, 4, 5.0, events=3, minutes=3.0,
                            upper_95=poisson_upper_bound(3) / 3.0, error="worst-patches", scorer="fused")
    assert MEMORISED_WARNING in memorised.warning() and len(memorised.lines()) == 2
    assert "0.5 false alarms a minute (at most 2.6 at 95%) on 3.00 min" in memorised.summary()
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
        report = assess_run(project, run_dir, percentile=99.5, smoothing=1)
        default = assess_run(project, run_dir, save=False)  # a run holding time out: the false-alarm rate rule
    expected = two_fold_false_alarms([(errors[5:25], video.fps), (errors[35:55], video.fps)])
    assert default.rate == DEFAULT_ALARM_RATE and default.smoothing == max(1, round(DEFAULT_SMOOTH_SECONDS * video.fps))
    # every run of frames, those about half a second apart merged, counted as scoring counts them
    assert (default.min_run, default.merge_gap) == (1, round(DEFAULT_MERGE_SECONDS * video.fps))
    assert default.events == two_fold_false_alarms([(errors[5:25], video.fps), (errors[35:55], video.fps)],
                                                   smoothing=default.smoothing, rate=DEFAULT_ALARM_RATE,
                                                   min_run=default.min_run, merge_gap=default.merge_gap).total_events
    assert report.folds == expected.folds and report.held_out_minutes == pytest.approx(expected.total_minutes)
    assert report.events == expected.total_events == 2  # frames 10 and 45, each against the other half's threshold
    assert report.false_alarms_per_minute == pytest.approx(2 / expected.total_minutes)
    assert report.minutes == pytest.approx(40 / video.fps / 60)
    assert report.upper_95 == pytest.approx(poisson_upper_bound(2) / report.minutes)
    assert report.error == "mse" and report.scorer == "prediction" and report.smoothing == 1  # as asked
    assert report.rate is None and report.percentile == 99.5
    assert report.held_out_frames == 40 and report.blocks == 2
    assert report.error_ratio == pytest.approx(3.0) and report.memorised
    assert trust_report(RunRecord.load(run_dir)) == report  # recorded in run.json
    assert main(["trust", str(folder), "--run", "tiny", "--json"]) == 0  # framewatch trust measures it again
    assert TrustReport.from_entry(json.loads(capsys.readouterr().out)) == default  # as scoring calibrates
    assert main(["trust", str(folder), "--run", "tiny"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == default.lines() and MEMORISED_WARNING in out[1]
