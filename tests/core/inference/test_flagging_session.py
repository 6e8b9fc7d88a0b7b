"""The flagging session: frames appended in flushes flag exactly as the whole series flagged from scratch,
threshold kinds, stored vs current flagging, and listeners told what changed."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.evaluation.intervals import labels_from_intervals
from core.evaluation.roc import roc_auc
from core.inference.anomaly.events import flag_events
from core.inference.anomaly.events_file import RunEvents
from core.inference.anomaly.flagging_session import Flagging, FlaggingSession, SessionChange
from core.inference.anomaly.regularity import Threshold
from core.inference.errors import ScoreError


def from_scratch(errors: np.ndarray, flagging: Flagging, truth: list[tuple[int, int]]):
    """What the session must hold: the whole series smoothed, flagged and ranked in one go."""
    smoothed = flagging.threshold.smooth(errors)
    events = flag_events(smoothed, flagging.threshold.value, flagging.min_run, flagging.merge_gap, "v")
    labels = labels_from_intervals(errors.size, truth)
    auc = roc_auc(smoothed, labels) if labels.any() and not labels.all() else None
    return smoothed, events, auc


series = st.lists(st.sampled_from([0.0, 0.1, 0.2, 0.5, 0.9, 1.0, 3.0]), min_size=1, max_size=120)


@settings(max_examples=150, deadline=None)
@given(values=series, cuts=st.lists(st.integers(1, 25), min_size=1, max_size=30),
       value=st.sampled_from([0.0, 0.15, 0.5, 0.95]), window=st.sampled_from([1, 2, 3, 5]),
       centred=st.booleans(), min_run=st.integers(1, 4), merge_gap=st.integers(0, 5),
       truth=st.lists(st.tuples(st.integers(0, 120), st.integers(1, 30)), max_size=3))
def test_appending_in_flushes_flags_as_the_whole_series_does(values, cuts, value, window, centred, min_run,
                                                              merge_gap, truth) -> None:
    errors = np.array(values, np.float32)
    smoothing = "centred" if centred and window % 2 else "causal"
    flagging = Flagging(Threshold(value=value, window=window, smoothing=smoothing), min_run, merge_gap)
    intervals = [(start, start + length) for start, length in truth]
    session = FlaggingSession("v")
    session.set_flagging(flagging)
    session.set_ground_truth(intervals)
    first = 0
    for cut in cuts * 10:
        if first >= errors.size:
            break
        session.append(first, errors[first:first + cut])
        first += cut
        smoothed, events, auc = from_scratch(errors[:first], flagging, intervals)
        assert np.array_equal(session.smoothed, smoothed)  # to the last bit
        assert session.events == events  # means included, to the last bit
        assert session.auc == auc
    if first < errors.size:
        session.append(first, errors[first:])
    smoothed, events, auc = from_scratch(errors, flagging, intervals)
    assert session.events == events and session.auc == auc and session.frames == errors.size


@settings(max_examples=60, deadline=None)
@given(values=series, again=st.integers(0, 119), value=st.sampled_from([0.15, 0.5]), merge_gap=st.integers(0, 3))
def test_frames_scored_again_re_flag_from_where_they_start(values, again, value, merge_gap) -> None:
    errors = np.array(values, np.float32)
    flagging = Flagging(Threshold(value=value, window=3, smoothing="centred"), 2, merge_gap)
    session = FlaggingSession("v")
    session.set_flagging(flagging)
    session.set_ground_truth([(5, 15)])
    session.append(0, errors)
    start = min(again, errors.size)
    changed = errors.copy()
    changed[start:] = errors[start:][::-1]
    session.append(start, changed[start:])
    smoothed, events, auc = from_scratch(changed, flagging, [(5, 15)])
    assert np.array_equal(session.smoothed, smoothed) and session.events == events and session.auc == auc


def test_a_long_live_video_flags_as_from_scratch_with_its_auc() -> None:
    rng = np.random.default_rng(7)
    errors = rng.gamma(2.0, 0.01, 20_000).astype(np.float32)
    errors[5_000:5_400] += 0.08
    flagging = Flagging(Threshold.calibrate(errors[:4_000], 99.5, window=5), 3, 10)
    session = FlaggingSession("v")
    session.set_flagging(flagging)
    session.set_ground_truth([(5_000, 5_400)])
    for first in range(0, errors.size, 37):
        session.append(first, errors[first:first + 37])
    smoothed, events, auc = from_scratch(errors, flagging, [(5_000, 5_400)])
    assert session.events == events and len(events) >= 1
    assert session.auc == auc and auc > 0.9


def test_threshold_kinds_calibrated_then_moved_by_hand_keep_the_smoothing() -> None:
    calibrated = Threshold.calibrate(np.linspace(0.0, 1.0, 101), 90.0, window=3)
    session = FlaggingSession("v")
    with pytest.raises(ValueError, match="no threshold yet"):
        session.move_threshold(0.5)
    session.set_flagging(Flagging(calibrated, 2, 1))
    assert session.threshold.kind == "percentile"
    session.move_threshold(0.4)
    assert session.threshold.kind == "manual" and session.threshold.value == 0.4
    assert (session.threshold.window, session.min_run, session.merge_gap) == (3, 2, 1)
    session.move_threshold(0.4)  # the same value: nothing changes
    assert session.threshold.kind == "manual"
    with pytest.raises(ScoreError, match="min_run"):
        session.set_run_and_gap(0, 1)


def test_stored_versus_current_flagging_kept_and_revert() -> None:
    stored = Flagging(Threshold(value=0.5, window=3), 2, 4)
    run_events = RunEvents([], stored.threshold, {"threshold": 0.5, "min_run": 2, "merge_gap": 4})
    assert Flagging.stored(run_events) == stored and Flagging.stored(None) is None
    session = FlaggingSession("v")
    session.append(0, np.array([0.1, 0.9, 0.9, 0.1, 0.9, 0.9], np.float32))
    session.set_stored(stored)
    assert not session.kept  # nothing flagged yet
    session.set_flagging(stored)
    assert session.kept
    session.move_threshold(0.95)
    assert not session.kept and session.events == []
    session.set_run_and_gap(2, 4)
    session.move_threshold(0.5)
    assert session.kept  # a value set by hand equal to the stored one flags alike
    session.set_run_and_gap(1, 0)
    assert not session.kept
    session.revert()
    assert session.flagging == stored and session.kept
    assert [(e.start, e.end) for e in session.events] == [(2, 6)]  # smoothed: 0.1 0.5 0.63 0.63 0.63 0.63


def test_listeners_hear_what_changed_and_a_finished_job_costs_no_re_flag() -> None:
    heard: list[SessionChange] = []
    session = FlaggingSession("v")
    stop = session.subscribe(heard.append)
    session.set_flagging(Flagging(Threshold(value=0.5)))
    assert heard[-1].flagging and heard[-1].series_from is None
    errors = np.array([0.1, 0.9, 0.2, 0.1], np.float32)
    session.append(0, errors[:2])
    assert heard[-1].series_from == 0 and heard[-1].events
    session.append(2, errors[2:])
    assert heard[-1].series_from == 2 and not heard[-1].events  # the event was final already
    count = len(heard)
    session.set_errors(errors)  # the series the job streamed: nothing to do
    assert len(heard) == count
    session.clear("w")
    assert heard[-1].video and session.frames == 0 and session.video_id == "w" and session.threshold.value == 0.5
    stop()
    session.append(0, errors)
    assert len(heard) == count + 1


def test_a_gap_or_a_bad_error_is_refused_and_nothing_changes() -> None:
    session = FlaggingSession("v")
    session.append(0, [0.1, 0.2])
    with pytest.raises(ValueError, match="no gaps"):
        session.append(5, [0.3])
    with pytest.raises(ScoreError, match=r"errors: 1 NaN or infinite values \(at 1\)"):
        session.append(2, [0.3, float("nan")])
    assert session.frames == 2
