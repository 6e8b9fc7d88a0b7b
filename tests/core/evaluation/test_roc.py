"""ROC curve, AUC and EER against hand-computed cases and against the Mann-Whitney definition."""

from __future__ import annotations

import re

import numpy as np
import pytest

from core.errors import FramewatchError
from core.evaluation.errors import EvaluationError
from core.evaluation.roc import equal_error_rate, roc_auc, roc_curve


def pairwise_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Mann-Whitney by brute force: an (abnormal, normal) pair counts 1 if abnormal is higher, 1/2 if tied."""
    pos = scores[labels.astype(bool)][:, None]
    neg = scores[~labels.astype(bool)][None, :]
    return float(((pos > neg) + 0.5 * (pos == neg)).mean())


def test_curve_of_a_hand_computed_case() -> None:
    curve = roc_curve([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])
    np.testing.assert_array_equal(curve.fpr, [0, 0, 0.5, 0.5, 1])
    np.testing.assert_array_equal(curve.tpr, [0, 0.5, 0.5, 1, 1])
    np.testing.assert_array_equal(curve.thresholds, [np.inf, 0.8, 0.4, 0.35, 0.1])
    assert roc_auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) == 0.75


def test_tied_scores_make_one_point_and_count_half() -> None:
    # Abnormal {2, 3} vs normal {1, 2}: pairs 2>1, 2=2 (half), 3>1, 3>2 -> 3.5 / 4.
    curve = roc_curve([1, 2, 2, 3], [False, False, True, True])
    np.testing.assert_array_equal(curve.thresholds, [np.inf, 3, 2, 1])
    np.testing.assert_array_equal(curve.fpr, [0, 0, 0.5, 1])
    np.testing.assert_array_equal(curve.tpr, [0, 0.5, 1, 1])
    assert roc_auc([1, 2, 2, 3], [False, False, True, True]) == 0.875


def test_all_scores_equal_give_the_diagonal_and_one_half() -> None:
    curve = roc_curve([0.5] * 4, [0, 1, 0, 1])
    np.testing.assert_array_equal(curve.fpr, [0, 1])
    np.testing.assert_array_equal(curve.tpr, [0, 1])
    assert roc_auc([0.5] * 4, [0, 1, 0, 1]) == 0.5


def test_perfect_and_inverted_rankings() -> None:
    assert roc_auc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1]) == 1.0
    assert roc_auc([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1]) == 0.0


@pytest.mark.parametrize("seed", range(5))
def test_auc_is_mann_whitney_and_the_trapezoid_area_on_random_ties(seed: int) -> None:
    rng = np.random.default_rng(seed)
    scores = rng.integers(0, 6, size=200).astype(float)  # few distinct values: many ties
    labels = rng.random(200) < 0.3
    auc = roc_auc(scores, labels)
    curve = roc_curve(scores, labels)
    trapezoid = float(np.sum(np.diff(curve.fpr) * (curve.tpr[1:] + curve.tpr[:-1]) / 2))
    assert auc == pytest.approx(pairwise_auc(scores, labels), abs=1e-12)
    assert auc == pytest.approx(trapezoid, abs=1e-12)
    assert curve.thresholds.size == np.unique(scores).size + 1
    assert (curve.fpr[0], curve.tpr[0], curve.fpr[-1], curve.tpr[-1]) == (0, 0, 1, 1)


def test_eer_on_a_roc_point() -> None:
    # Points (0,0) (0,.5) (.5,.5) (.5,1) (1,1): fpr = 1 - tpr at (.5,.5), threshold 0.4.
    eer = equal_error_rate([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])
    assert eer.rate == 0.5
    assert eer.threshold == 0.4


def test_eer_interpolated_between_roc_points() -> None:
    # Points (0,0) (0,1/3) (0,2/3) (.5,2/3) (.5,1) (1,1) at thresholds inf .9 .8 .7 .6 .2.
    # fpr + tpr - 1 goes from -1/3 at (0, 2/3) to +1/6 at (.5, 2/3): crossing 2/3 of the way,
    # at fpr = 1/3 (= 1 - tpr) and threshold .8 + 2/3 (.7 - .8).
    eer = equal_error_rate([0.9, 0.8, 0.7, 0.6, 0.2], [1, 1, 0, 1, 0])
    assert eer.rate == pytest.approx(1 / 3)
    assert eer.threshold == pytest.approx(0.8 - 0.1 * 2 / 3)


def test_eer_on_the_first_segment_takes_the_highest_score_as_threshold() -> None:
    # Points (0,0) (1,1) only: the crossing is at (.5,.5) on the segment from threshold inf.
    eer = equal_error_rate([0.3, 0.3], [0, 1])
    assert eer.rate == 0.5
    assert eer.threshold == 0.3


def test_eer_of_separable_scores_is_zero() -> None:
    eer = equal_error_rate([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1])
    assert eer.rate == 0.0
    assert eer.threshold == 0.8


@pytest.mark.parametrize(
    ("scores", "labels", "message"),
    [
        ([0.1, 0.2], [1, 1], "all 2 frames are abnormal"),
        ([0.1, 0.2], [0, 0], "all 2 frames are normal"),
        ([0.1, np.nan, 0.3], [0, 1, 0], "scores: 1 NaN or infinite values (at 1)"),
        ([0.1, 0.2, 0.3], [0, 1], "3 scores, 2 labels"),
        ([0.1, 0.2], [0, 2], "expected booleans or 0/1"),
        ([], [], "scores: empty"),
    ],
)
def test_bad_input_is_a_clear_value_error(scores, labels, message) -> None:
    for metric in (roc_curve, roc_auc, equal_error_rate):
        with pytest.raises(EvaluationError, match=re.escape(message)) as info:
            metric(scores, labels)
        assert isinstance(info.value, ValueError) and isinstance(info.value, FramewatchError)
        assert "\n" not in str(info.value)
