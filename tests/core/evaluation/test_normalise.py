"""Per-video abnormality sa(t), regularity sr(t), and frame-level AUC pooled normalised and raw."""

from __future__ import annotations

import numpy as np
import pytest

from core.evaluation.errors import EvaluationError
from core.evaluation.frame_level import frame_level_scores
from core.evaluation.normalise import abnormality, regularity
from core.evaluation.roc import roc_auc


def test_abnormality_and_regularity_of_a_video() -> None:
    errors = [2.0, 4.0, 3.0, 6.0]
    np.testing.assert_allclose(abnormality(errors), [0, 0.5, 0.25, 1])
    np.testing.assert_allclose(regularity(errors), [1, 0.5, 0.75, 0])


def test_a_constant_video_is_not_abnormal_anywhere_and_gives_no_nan() -> None:
    np.testing.assert_array_equal(abnormality([0.7, 0.7, 0.7]), [0, 0, 0])
    np.testing.assert_array_equal(regularity([0.7, 0.7, 0.7]), [1, 1, 1])
    assert abnormality([]).shape == (0,)


def test_nan_errors_are_refused() -> None:
    with pytest.raises(EvaluationError, match="errors: 1 NaN"):
        abnormality([0.1, np.nan])


def two_videos() -> dict[str, tuple[list[float], list[int]]]:
    # Video a errs in 10..13, video b in 100..103: each ranks its own frames perfectly, but b's normal
    # frames outscore a's abnormal ones when raw errors are pooled.
    return {
        "a": ([10, 11, 12, 13], [0, 0, 1, 1]),
        "b": ([100, 101, 102, 103], [0, 0, 0, 1]),
    }


def test_normalised_pool_differs_from_raw_pool() -> None:
    result = frame_level_scores(two_videos())
    # Normalised: a -> 0, 1/3, 2/3, 1; b -> 0, 1/3, 2/3, 1. Abnormal {2/3, 1, 1} vs normal
    # {0, 1/3, 0, 1/3, 2/3}: 15 pairs, won 14, tied 1 (2/3 vs 2/3) -> 14.5 / 15.
    assert result.normalised.auc == pytest.approx(14.5 / 15)
    # Raw: abnormal {12, 13, 103} vs normal {10, 11, 100, 101, 102}: 12 and 13 beat 2 each, 103 beats 5.
    assert result.raw.auc == pytest.approx(9 / 15)
    assert result.per_video == {"a": 1.0, "b": 1.0}
    assert (result.frames, result.abnormal_frames) == (8, 3)
    assert result.raw.eer.rate > result.normalised.eer.rate


def test_pools_are_the_auc_of_the_concatenations() -> None:
    rng = np.random.default_rng(3)
    videos = [(rng.random(30) * (k + 1), rng.random(30) < 0.3) for k in range(3)]
    videos.append((rng.random(20), np.zeros(20, bool)))  # no anomaly: in the raw pool, no AUC of its own
    result = frame_level_scores(videos)
    labels = np.concatenate([y for _, y in videos])
    assert result.raw.auc == roc_auc(np.concatenate([e for e, _ in videos]), labels)
    # normalised, a video of normal footage alone would put its worst normal frame at 1: it is left out
    with_anomaly = videos[:3]
    assert result.normalised.auc == roc_auc(np.concatenate([abnormality(e) for e, _ in with_anomaly]),
                                            np.concatenate([y for _, y in with_anomaly]))
    assert sorted(result.per_video) == [0, 1, 2]
    assert result.per_video[1] == roc_auc(*videos[1])


def test_a_malformed_video_is_named() -> None:
    with pytest.raises(EvaluationError, match=r"video 'b': scores and labels differ in length: 3 scores, 2"):
        frame_level_scores({"a": ([1, 2], [0, 1]), "b": ([1, 2, 3], [0, 1])})
    with pytest.raises(EvaluationError, match="all 4 frames are normal"):
        frame_level_scores({"a": ([1, 2], [0, 0]), "b": ([1, 2], [0, 0])})
