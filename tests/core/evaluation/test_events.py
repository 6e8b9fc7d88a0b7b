"""Event recall, false alarms per minute, and frame precision/recall/F1 at a threshold."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from core.evaluation.errors import EvaluationError
from core.evaluation.events import EventCounts, event_counts
from core.evaluation.threshold import frame_detection


@dataclass(frozen=True)
class FlaggedEvent:
    """Stands for the inference engine's event type: anything with start and end frames."""

    start: int
    end: int
    peak: float = 1.0


def test_recall_and_false_alarms_of_one_video() -> None:
    truth = [(10, 20), (50, 60), (90, 95)]
    # [18, 25) hits (10, 20); [60, 70) touches (50, 60) only at its end, which is excluded: a false alarm;
    # [40, 51) hits (50, 60); [0, 5) is a false alarm. (90, 95) is missed.
    events = [FlaggedEvent(18, 25), (60, 70), FlaggedEvent(40, 51), (0, 5)]
    counts = event_counts(events, truth, frame_count=3000, fps=25.0)  # two minutes
    assert (counts.truth_total, counts.truth_hit) == (3, 2)
    assert (counts.events_total, counts.false_alarms) == (4, 2)
    assert counts.recall == pytest.approx(2 / 3)
    assert counts.seconds == 120.0
    assert counts.false_alarms_per_minute == 1.0
    assert counts.normal_seconds == (3000 - 25) / 25.0  # the 25 frames of the anomalies are not normal footage
    assert counts.false_alarms_per_normal_minute == pytest.approx(2 / ((3000 - 25) / 25.0 / 60.0))


def test_false_alarms_per_normal_minute_count_overlapping_and_overhanging_truth_once() -> None:
    counts = event_counts([(0, 2)], [(10, 40), (30, 60), (590, 700)], frame_count=600, fps=10.0)
    assert counts.normal_seconds == (600 - 50 - 10) / 10.0  # [10, 60) and [590, 600): 60 abnormal frames
    assert event_counts([(0, 2)], [(10, 20)], frame_count=600, fps=10.0, normal_frames=300).normal_seconds == 30.0
    assert event_counts([(0, 2)], [(0, 600)], frame_count=600, fps=10.0).false_alarms_per_normal_minute is None


def test_counts_sum_over_videos() -> None:
    a = event_counts([(0, 5)], [(0, 3)], frame_count=1500, fps=25.0)  # 1 min, hit, no false alarm
    b = event_counts([(0, 5), (9, 12)], [], frame_count=750, fps=12.5)  # 1 min, 2 false alarms
    total = EventCounts.total([a, b])
    assert total.recall == 1.0
    assert total.false_alarms == 2
    assert total.false_alarms_per_minute == 1.0
    assert total.normal_seconds == a.normal_seconds + b.normal_seconds
    assert total.false_alarms_per_normal_minute == pytest.approx(2 / ((1497 / 25.0 + 750 / 12.5) / 60.0))
    assert b.recall is None


def test_bad_events_and_rates_are_refused() -> None:
    with pytest.raises(EvaluationError, match=r"event 1: frames \[7, 7\)"):
        event_counts([(0, 5), (7, 7)], [], frame_count=100, fps=25.0)
    with pytest.raises(EvaluationError, match="fps: expected frames per second above 0, got 0"):
        event_counts([], [], frame_count=100, fps=0)


def test_frame_precision_recall_f1_at_a_threshold() -> None:
    scores = [0.1, 0.6, 0.5, 0.9, 0.2, 0.7]
    labels = [0, 1, 0, 1, 1, 0]
    d = frame_detection(scores, labels, threshold=0.55)  # flags 0.6, 0.9, 0.7 (score > threshold)
    assert (d.true_positives, d.false_positives, d.false_negatives, d.true_negatives) == (2, 1, 1, 2)
    assert d.precision == pytest.approx(2 / 3)
    assert d.recall == pytest.approx(2 / 3)
    assert d.f1 == pytest.approx(2 / 3)


def test_a_frame_at_the_threshold_is_not_flagged_as_events_flag_it() -> None:
    from core.inference.anomaly.events import flag_events

    scores = [0.1, 0.6, 0.5, 0.9]
    d = frame_detection(scores, [0, 1, 0, 1], threshold=0.6)
    assert (d.true_positives, d.false_positives) == (1, 0)  # 0.9 only: 0.6 is at the threshold
    assert [(e.start, e.end) for e in flag_events(scores, 0.6)] == [(3, 4)]  # the same rule


def test_undefined_rates_are_none_not_nan() -> None:
    nothing_flagged = frame_detection([0.1, 0.2], [0, 1], threshold=0.5)
    assert nothing_flagged.precision is None
    assert nothing_flagged.recall == 0.0
    assert nothing_flagged.f1 == 0.0
    clean_video = frame_detection([0.1, 0.2], [0, 0], threshold=0.5)
    assert (clean_video.precision, clean_video.recall, clean_video.f1) == (None, None, None)
