"""Abnormality and regularity per video, smoothing, and the threshold calibrated on normal footage."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.inference.anomaly.regularity import (
    CausalMovingAverage,
    Threshold,
    moving_average,
    rate_threshold,
    sustained,
)
from core.inference.errors import ScoreError


def test_nan_errors_are_refused_as_a_scoring_error_with_the_frame() -> None:
    with pytest.raises(ScoreError, match=r"errors: 1 NaN or infinite values \(at 2\)"):
        moving_average([1.0, 2.0, float("nan")], 3)


def test_causal_average_uses_only_past_frames_and_keeps_the_length() -> None:
    errors = np.array([1.0, 2.0, 3.0, 4.0, 10.0])
    assert moving_average(errors, 3, "causal").tolist() == [1.0, 1.5, 2.0, 3.0, 17 / 3]
    assert moving_average(errors, 3, "centred").tolist() == [1.5, 2.0, 3.0, 17 / 3, 7.0]
    assert moving_average(errors, 1).tolist() == errors.tolist()


@pytest.mark.parametrize(("window", "mode"), [(0, "causal"), (2, "centred"), (3, "both")])
def test_bad_smoothing_is_refused(window: int, mode: str) -> None:
    with pytest.raises(ScoreError):
        moving_average([1.0, 2.0], window, mode)


@settings(max_examples=100, deadline=None)
@given(errors=st.lists(st.floats(0, 1e3), max_size=40), window=st.integers(1, 7))
def test_live_smoothing_equals_batch_smoothing_to_the_last_bit(errors: list[float], window: int) -> None:
    live = CausalMovingAverage(window)
    assert [live.push(e) for e in errors] == moving_average(errors, window, "causal").tolist()


def test_threshold_is_the_percentile_of_the_smoothed_normal_errors() -> None:
    normal = [np.arange(100, dtype=np.float32), np.arange(100, 200, dtype=np.float32)]
    threshold = Threshold.calibrate(normal, percentile=99.5)
    assert threshold.value == pytest.approx(np.percentile(np.arange(200), 99.5))
    assert (threshold.frames, threshold.videos, threshold.window) == (200, 2, 1)
    # smoothing is per video: the window never averages the end of one video with the start of the next
    spike = np.array([0.0, 0.0, 0.0, 9.0])
    smoothed = Threshold.calibrate([spike, np.zeros(4)], percentile=100, window=2)
    assert smoothed.value == 4.5
    assert smoothed.smooth(spike).tolist() == [0.0, 0.0, 0.0, 4.5]


def test_a_centred_threshold_cannot_flag_live() -> None:
    threshold = Threshold.calibrate(np.arange(10.0), window=3, smoothing="centred")
    with pytest.raises(ScoreError, match="causal"):
        threshold.live_smoother()
    assert Threshold.calibrate(np.arange(10.0), window=3).live_smoother().window == 3


@pytest.mark.parametrize(("normal", "percentile"), [([], 99.5), ([np.zeros(0)], 99.5), (np.arange(3.0), 0),
                                                    (np.arange(3.0), 101)])
def test_calibration_on_nothing_or_a_bad_percentile_is_refused(normal, percentile: float) -> None:
    with pytest.raises(ScoreError):
        Threshold.calibrate(normal, percentile)


def test_threshold_round_trips_and_a_damaged_one_is_named() -> None:
    threshold = Threshold.calibrate(np.linspace(0, 1, 50), percentile=95, window=5, smoothing="centred")
    assert Threshold.from_dict(threshold.to_dict()) == threshold
    with pytest.raises(ScoreError, match="'value' is 'high'"):
        Threshold.from_dict({**threshold.to_dict(), "value": "high"})
    with pytest.raises(ScoreError, match="must be odd"):
        Threshold.from_dict({**threshold.to_dict(), "window": 4})


@settings(max_examples=100, deadline=None)
@given(errors=st.lists(st.floats(0, 1e3), max_size=30), half=st.integers(0, 4), mode=st.sampled_from(["causal", "centred"]))
def test_moving_average_is_the_mean_of_the_frames_in_the_window(errors: list[float], half: int, mode: str) -> None:
    window = 2 * half + 1
    before, after = (window - 1, 0) if mode == "causal" else (half, half)
    expected = [np.mean(errors[max(0, t - before):t + after + 1]) for t in range(len(errors))]
    assert moving_average(errors, window, mode) == pytest.approx(expected, rel=1e-12)


def _events(series: np.ndarray, level: float) -> int:
    above = series > level
    return int(above[0]) + int(np.count_nonzero(above[1:] & ~above[:-1]))


@pytest.mark.parametrize("window", [1, 5])
@pytest.mark.parametrize("rate", [0.5, 3.0])
def test_a_rate_threshold_gives_about_that_many_events_a_minute_on_new_footage_of_the_same_kind(
        window: int, rate: float) -> None:
    rng = np.random.default_rng(7)
    fps = 10.0
    normal = [rng.gamma(2.0, 1.0, 6_000) for _ in range(3)]  # 30 minutes of normal footage in three stretches
    threshold = Threshold.calibrate(normal, window=window, rate=rate, fps=fps)
    assert threshold.kind == "rate" and threshold.rate == rate and threshold.frames == 18_000
    fresh = moving_average(rng.gamma(2.0, 1.0, 36_000), window)  # an hour the threshold never saw
    per_minute = _events(fresh, threshold.value) / 60.0
    assert rate / 2 <= per_minute <= rate * 2
    # a lower rate is a higher level, and the percentile rule does not aim at events at all
    assert Threshold.calibrate(normal, window=window, rate=rate / 10, fps=fps).value > threshold.value


@pytest.mark.parametrize("min_run, merge_gap", [(4, 0), (1, 6), (4, 6)])
def test_a_rate_threshold_counts_events_as_flagging_makes_them_with_a_min_run_and_a_merge_gap(
        min_run: int, merge_gap: int) -> None:
    from core.inference.anomaly.events import flag_events

    rng = np.random.default_rng(11)
    fps, rate = 10.0, 1.0
    normal = [moving_average(rng.gamma(2.0, 1.0, 6_000), 3) for _ in range(3)]  # 30 minutes, runs of a few frames
    threshold = Threshold.calibrate(normal, rate=rate, fps=fps, min_run=min_run, merge_gap=merge_gap)
    plain = Threshold.calibrate(normal, rate=rate, fps=fps)
    fresh = moving_average(rng.gamma(2.0, 1.0, 36_000), 3)  # an hour the threshold never saw

    def per_minute(level: float) -> float:
        return len(flag_events(fresh, level, min_run, merge_gap)) / 60.0

    assert rate / 2 <= per_minute(threshold.value) <= rate * 2
    # calibrated for every run of frames, the same rule would flag less often than asked: the level is too high
    assert threshold.value < plain.value and per_minute(plain.value) < per_minute(threshold.value)
    if min_run > 1:
        assert per_minute(plain.value) < rate / 2
    assert (threshold.min_run, threshold.merge_gap) == (min_run, merge_gap)
    assert Threshold.from_dict(threshold.to_dict()) == threshold
    assert f"events of {min_run}+ frames, merged {merge_gap} apart" in threshold.describe()


def test_sustained_errors_are_the_running_minimum_and_the_default_rule_is_every_run() -> None:
    errors = np.array([1.0, 5.0, 4.0, 6.0, 0.5, 7.0])
    assert sustained(errors, 1).tolist() == errors.tolist()
    assert sustained(errors, 3).tolist() == [1.0, 4.0, 0.5, 0.5]
    assert sustained(errors, 7).size == 0
    rng = np.random.default_rng(5)
    normal = [rng.exponential(1.0, 2_000) for _ in range(2)]
    assert rate_threshold(normal, 0.5, 25.0, 1, 0) == rate_threshold(normal, 0.5, 25.0)
    with pytest.raises(ScoreError, match="events of 50 frames .* all shorter than that"):
        rate_threshold([np.ones(30), np.ones(40)], 0.5, 25.0, min_run=50)
    for bad in ({"min_run": 0}, {"merge_gap": -1}, {"min_run": 2.5}):
        with pytest.raises(ScoreError, match="min_run|merge_gap"):
            Threshold.calibrate(normal, rate=0.5, fps=25.0, **bad)
    with pytest.raises(ScoreError, match="min_run must be a whole number of frames >= 1"):
        Threshold.from_dict({"kind": "rate", "value": 1.0, "rate": 0.5, "min_run": 0})


def test_a_rate_threshold_shrugs_off_a_few_huge_errors_and_needs_a_tail_to_fit() -> None:
    rng = np.random.default_rng(3)
    normal = rng.exponential(1.0, 3_000)
    plain = rate_threshold([normal], 0.2, 25.0)
    cut = normal.copy()
    cut[[100, 900, 2000]] = 1e6  # three scene cuts in the footage
    assert plain < rate_threshold([cut], 0.2, 25.0) < plain * 1.2
    few = np.ones(50)
    few[7] = 9.0
    assert rate_threshold([few], 0.2, 25.0) == 9.0  # under 10 frames above the 90th percentile: the highest
    assert rate_threshold([np.full(500, 2.0)], 0.2, 25.0) == 2.0


@pytest.mark.parametrize("rate, fps", [(0.0, 10.0), (-1.0, 10.0), (float("nan"), 10.0), (1.0, 0.0), (1.0, None),
                                       (True, 10.0)])
def test_a_bad_rate_or_frame_rate_is_refused(rate, fps) -> None:
    with pytest.raises(ScoreError, match="threshold (false-alarm|frame) rate"):
        Threshold.calibrate(np.ones(200), rate=rate, fps=fps)
    with pytest.raises(ScoreError, match="no frames"):
        Threshold.calibrate([], rate=1.0, fps=10.0)


def test_a_rate_threshold_round_trips_and_says_what_it_aims_at() -> None:
    threshold = Threshold.calibrate(np.random.default_rng(0).exponential(1.0, 1_000), window=3, rate=0.2, fps=10.0)
    assert Threshold.from_dict(threshold.to_dict()) == threshold
    assert "about 0.2 false alarms a minute on 1,000 normal frames, 3-frame causal average" in threshold.describe()
    assert "rate" not in Threshold.calibrate(np.ones(10)).to_dict()  # percentile thresholds are written as before
