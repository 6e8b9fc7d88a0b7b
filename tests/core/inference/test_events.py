"""Events from synthetic scores: the two flagging modes, the merge gap, live tracking equal to batch, verdicts."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.inference.anomaly.events import Event, EventTracker, attach_verdicts, flag_events
from core.inference.errors import ScoreError
from core.project.entities import Verdict

#: runs above 1.0 at frames [2, 4), [5, 6), [8, 12) and [15, 16): gaps of 1 normal frame, then 3
SCORES = np.array([0, 0, 3, 2, 0, 5, 0, 0, 2, 4, 4, 2, 0, 0, 0, 6, 0], dtype=np.float32)


def spans(events: list[Event]) -> list[tuple[int, int]]:
    return [(e.start, e.end) for e in events]


def test_threshold_alone_flags_every_run_with_its_peak_and_mean() -> None:
    events = flag_events(SCORES, 1.0, video_id="v1")
    assert spans(events) == [(2, 4), (5, 6), (8, 12), (15, 16)]
    third = events[2]
    assert (third.video_id, third.peak_frame, third.peak_score, third.mean_score) == ("v1", 9, 4.0, 3.0)
    assert third.length == 4


def test_a_frame_equal_to_the_threshold_is_normal() -> None:
    assert spans(flag_events(SCORES, 2.0)) == [(2, 3), (5, 6), (9, 11), (15, 16)]


def test_minimum_run_drops_shorter_runs_also_at_the_end_of_the_video() -> None:
    assert spans(flag_events(SCORES, 1.0, min_run=2)) == [(2, 4), (8, 12)]
    assert spans(flag_events(SCORES, 1.0, min_run=4)) == [(8, 12)]
    assert flag_events(np.array([0, 5, 5]), 1.0, min_run=3) == []


def test_merge_gap_joins_events_up_to_that_many_normal_frames_apart() -> None:
    assert spans(flag_events(SCORES, 1.0, merge_gap=1)) == [(2, 6), (8, 12), (15, 16)]
    assert spans(flag_events(SCORES, 1.0, merge_gap=2)) == [(2, 12), (15, 16)]
    merged = flag_events(SCORES, 1.0, merge_gap=3)
    assert spans(merged) == [(2, 16)]
    # the peak is the highest score in the span; the mean covers the merged gaps too
    assert (merged[0].peak_frame, merged[0].peak_score) == (15, 6.0)
    assert merged[0].mean_score == pytest.approx(float(SCORES[2:16].mean()))


def test_minimum_run_applies_before_merging() -> None:
    """Short runs are noise: they neither become events nor bridge two events."""
    assert spans(flag_events(SCORES, 1.0, min_run=2, merge_gap=3)) == [(2, 4), (8, 12)]
    assert spans(flag_events(SCORES, 1.0, min_run=2, merge_gap=4)) == [(2, 12)]


def test_first_frame_of_equal_peaks_is_the_peak() -> None:
    assert flag_events(np.array([0, 3, 3, 0]), 1.0)[0].peak_frame == 1


@pytest.mark.parametrize("scores", [np.array([0.0, np.nan, 1.0]), np.array([0.0, np.inf])])
def test_non_finite_scores_are_refused_with_the_frame(scores: np.ndarray) -> None:
    with pytest.raises(ScoreError, match=r"\(at 1\)"):
        flag_events(scores, 0.5)
    with pytest.raises(ScoreError, match="frame 1"):
        EventTracker(0.5).extend(scores)


@pytest.mark.parametrize("kwargs", [{"min_run": 0}, {"merge_gap": -1}, {"threshold": float("nan")}])
def test_bad_flagging_parameters_are_refused(kwargs: dict) -> None:
    arguments = {"threshold": 1.0, "min_run": 1, "merge_gap": 0, **kwargs}
    with pytest.raises(ScoreError):
        flag_events(SCORES, **arguments)


def test_tracker_hands_an_event_over_as_soon_as_it_cannot_grow() -> None:
    tracker = EventTracker(1.0, merge_gap=2, video_id="v1")
    closed_at = {}
    for t, score in enumerate(SCORES):
        for event in tracker.push(score):
            closed_at[(event.start, event.end)] = t
    # [2, 12) closes at frame 14: the third normal frame after it, when a run at 15 is too far to merge
    assert closed_at == {(2, 12): 14}
    assert spans(tracker.finish()) == [(15, 16)]
    assert tracker.finish() == []


def tracker_events(scores: np.ndarray, threshold: float, min_run: int, merge_gap: int) -> list[Event]:
    tracker = EventTracker(threshold, min_run, merge_gap, video_id="v")
    events = []
    for score in scores:
        closed = tracker.push(score)
        assert len(closed) <= 1
        events.extend(closed)
    return events + tracker.finish()


@settings(max_examples=300, deadline=None)
@given(scores=st.lists(st.floats(0, 10, width=32), max_size=60).map(lambda v: np.array(v, dtype=np.float32)),
       threshold=st.floats(0, 10), min_run=st.integers(1, 5), merge_gap=st.integers(0, 6))
def test_tracker_gives_exactly_the_batch_events(scores: np.ndarray, threshold: float, min_run: int,
                                                merge_gap: int) -> None:
    batch = flag_events(scores, threshold, min_run, merge_gap, video_id="v")
    assert tracker_events(scores, threshold, min_run, merge_gap) == batch
    for event in batch:  # and each event is what the definition says
        span = scores[event.start:event.end].astype(np.float64)
        assert event.peak_score == span.max() and scores[event.peak_frame] == span.max()
        assert event.mean_score == pytest.approx(span.mean())
        assert np.all(scores[event.start:event.start + min_run].astype(np.float64) > threshold)


@settings(max_examples=100, deadline=None)
@given(scores=st.lists(st.sampled_from([0.0, 0.1, 0.9, 1.0]), max_size=80), threshold=st.sampled_from([0.0, 0.5, 0.9]))
def test_tracker_matches_batch_on_long_flat_runs_and_ties(scores: list[float], threshold: float) -> None:
    array = np.array(scores)
    assert tracker_events(array, threshold, 2, 3) == flag_events(array, threshold, 2, 3, video_id="v")


def verdict(start: int, end: int, kind: str, run_id: str | None = "r1", video_id: str = "v1",
            updated: str = "2026-01-01T00:00:00+00:00") -> Verdict:
    return Verdict(f"id{start}-{end}-{run_id}", video_id, start, end, kind, run_id=run_id, updated=updated)


def test_verdicts_attach_exact_first_then_by_overlap() -> None:
    events = flag_events(SCORES, 1.0, video_id="v1")  # (2,4) (5,6) (8,12) (15,16)
    verdicts = [
        verdict(2, 4, "confirmed"),  # recorded on the first event
        verdict(4, 6, "rejected"),  # overlaps the second, not exact
        verdict(7, 9, "unsure"),  # same run, overlaps (8, 12) by 1
        verdict(9, 13, "rejected", run_id="other"),  # other run, overlaps (8, 12) by 3: not this run's
        verdict(15, 16, "confirmed", video_id="v2"),  # another video: not attached
    ]
    attached = attach_verdicts(events, verdicts, run_id="r1")
    assert spans(attached) == spans(events)
    kinds = [e.verdict.verdict if e.verdict else None for e in attached]
    assert kinds == ["confirmed", "rejected", "unsure", None]
    assert [e.verdict_is_exact for e in attached] == [True, False, False, False]


def test_another_runs_verdict_is_not_inherited_even_on_the_same_frames() -> None:
    events = flag_events(SCORES, 1.0, video_id="v1")  # (2,4) (5,6) (8,12) (15,16)
    judged = Verdict("v", "v1", 8, 12, "confirmed", note="cyclist", run_id="r1")
    other_run = attach_verdicts(events, [judged], run_id="r2")
    assert [e.verdict for e in other_run] == [None] * 4  # not 'confirmed (overlap)' with r1's note
    assert attach_verdicts(events, [judged], run_id="r1")[2].verdict == judged


def test_verdict_with_the_largest_overlap_then_the_latest_wins() -> None:
    event = flag_events(SCORES, 1.0, video_id="v1")[2]  # (8, 12)
    newer = verdict(10, 12, "confirmed", updated="2026-02-01T00:00:00+00:00")
    older = verdict(8, 10, "rejected")
    assert attach_verdicts([event], [older, newer], run_id="r1")[0].verdict == newer
    wider = verdict(6, 11, "unsure")
    assert attach_verdicts([event], [older, newer, wider], run_id="r1")[0].verdict == wider


def test_event_round_trips_through_a_dict_without_its_verdict() -> None:
    event = attach_verdicts(flag_events(SCORES, 1.0, video_id="v1"), [verdict(2, 4, "confirmed")], "r1")[0]
    assert event.verdict is not None
    again = Event.from_dict(event.to_dict())
    assert again.verdict is None and again == flag_events(SCORES, 1.0, video_id="v1")[0]
    with pytest.raises(ScoreError, match="start 5, peak 3, end 6"):
        Event.from_dict({**event.to_dict(), "start": 5, "end": 6, "peak_frame": 3})
