"""Frame labels from half-open [start, end) intervals, given as pairs or as objects with start/end."""

from __future__ import annotations

import numpy as np
import pytest

from core.evaluation.errors import EvaluationError
from core.evaluation.intervals import labels_from_intervals
from core.project.entities import AnomalyInterval


def test_half_open_intervals_clipped_to_the_video() -> None:
    labels = labels_from_intervals(10, [(2, 4), (8, 15)])
    np.testing.assert_array_equal(np.flatnonzero(labels), [2, 3, 8, 9])


def test_project_intervals_and_pairs_agree_with_the_project_ground_truth() -> None:
    interval = AnomalyInterval(id="i1", video_id="v1", start=3, end=6)
    np.testing.assert_array_equal(labels_from_intervals(8, [interval]), labels_from_intervals(8, [(3, 6)]))
    assert labels_from_intervals(8, [interval]).sum() == 3


def test_no_intervals_no_anomaly() -> None:
    assert not labels_from_intervals(5, []).any()


@pytest.mark.parametrize(
    ("intervals", "message"),
    [
        ([(4, 2)], r"interval 0: frames \[4, 2\) are not a non-empty range"),
        ([(1, 2), (3,)], "interval 1: expected"),
    ],
)
def test_bad_intervals_are_named(intervals, message) -> None:
    with pytest.raises(EvaluationError, match=message):
        labels_from_intervals(10, intervals)
