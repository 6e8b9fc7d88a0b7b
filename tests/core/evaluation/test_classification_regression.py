"""Accuracy, confusion matrix and per-class rates; MAE and RMSE."""

from __future__ import annotations

import numpy as np
import pytest

from core.evaluation.classification import accuracy, confusion_matrix
from core.evaluation.errors import EvaluationError
from core.evaluation.regression import mae, rmse


def test_confusion_matrix_in_the_given_class_order() -> None:
    truth = ["walk", "walk", "run", "run", "run", "bike"]
    predicted = ["walk", "run", "run", "run", "walk", "walk"]
    matrix = confusion_matrix(truth, predicted, classes=["run", "walk", "bike"])
    np.testing.assert_array_equal(matrix.counts, [[2, 1, 0], [1, 1, 0], [0, 1, 0]])
    assert matrix.accuracy == pytest.approx(3 / 6)
    assert accuracy(truth, predicted) == pytest.approx(3 / 6)
    assert matrix.precision() == {"run": pytest.approx(2 / 3), "walk": pytest.approx(1 / 3), "bike": None}
    assert matrix.recall() == {"run": pytest.approx(2 / 3), "walk": 0.5, "bike": 0.0}


def test_unknown_class_and_lengths_are_named() -> None:
    unknown = r"predictions: item 1 has class 'swim', not one of \['run', 'walk'\]"
    with pytest.raises(EvaluationError, match=unknown):
        confusion_matrix(["run", "walk"], ["run", "swim"], classes=["run", "walk"])
    with pytest.raises(EvaluationError, match="3 true labels, 2 predicted"):
        accuracy([0, 1, 1], [0, 1])


def test_mae_and_rmse() -> None:
    truth = [1.0, 2.0, 3.0, 4.0]
    predicted = [1.0, 4.0, 2.0, 4.0]  # errors 0, 2, -1, 0
    assert mae(truth, predicted) == pytest.approx(3 / 4)
    assert rmse(truth, predicted) == pytest.approx(np.sqrt(5 / 4))
    with pytest.raises(EvaluationError, match="predictions: 1 NaN"):
        rmse(truth, [1.0, np.nan, 2.0, 4.0])
