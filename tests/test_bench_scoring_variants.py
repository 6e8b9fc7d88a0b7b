"""The scoring-variants study (``python -m bench scoring_variants``) recombining synthetic patch errors."""

from __future__ import annotations

import numpy as np
import pytest

from bench.bench_scoring_variants import ERRORS, LEVELS, RULES, SMOOTHING, patches, sweep, worst_mean


def test_patches_pool_8x8_pixels_and_worst_mean_takes_the_worst_sixteenth() -> None:
    maps = np.zeros((2, 64, 96), np.float32)
    maps[0, :8, :8] = 1.0  # one whole patch
    maps[1] = 2.0
    p = patches(maps)
    assert p.shape == (2, 8, 12) and p[0, 0, 0] == 1.0 and p[0].sum() == 1.0 and np.all(p[1] == 2.0)
    assert worst_mean(p, 1)[0] == pytest.approx(1 / 96)  # mse: the mean of the frame
    assert worst_mean(p)[0] == pytest.approx(1 / 6)  # the worst 6 of 96 patches
    assert worst_mean(p)[1] == pytest.approx(2.0)


def _scene(rng: np.random.Generator, cross_scale: float) -> tuple[dict[str, np.ndarray], dict]:
    """Two held-out blocks (folds 0 and 1) and one test video whose frames 60-80 err five times as much in one
    corner; the cross-fitted level leaves the held-out errors ``cross_scale`` times what the fitted one does."""
    arrays, meta = {}, {"units": [], "tests": [], "folds": 2}
    for i in range(2):
        noise = rng.uniform(0.5, 1.0, (120, 8, 12)).astype(np.float32)
        arrays[f"unit{i}/none"] = noise * 1e-4
        arrays[f"unit{i}/fitted"] = noise
        arrays[f"unit{i}/cross-fitted"] = noise * cross_scale
        meta["units"].append({"video": "normal", "span": [i * 200, i * 200 + 124], "first": i * 200 + 4, "fold": i})
    test = rng.uniform(0.5, 1.0, (146, 8, 12)).astype(np.float32)
    test[56:76, :2, :2] *= 5.0  # frames 60-80 of the video (4 backfilled frames first)
    arrays["test0/none"] = test * 1e-4
    arrays["test0/fitted"] = test
    meta["tests"].append({"name": "test", "first": 4, "fps": 10.0, "truth": [[60, 80]]})
    return arrays, meta


def test_sweep_measures_every_variant_and_calibrates_cross_fitted_on_its_own_errors() -> None:
    arrays, meta = _scene(np.random.default_rng(0), cross_scale=1.5)
    rows = sweep(arrays, meta)
    # no motion scores: the prediction scorer only, every level, frame error, smoothing and rule
    assert len(rows) == len(LEVELS) * len(ERRORS) * len(SMOOTHING) * len(RULES)
    assert {r["scorer"] for r in rows} == {"prediction"}
    by = {(r["level"], r["error"], r["smoothing"], r["rule"]): r for r in rows}
    worst = by[("fitted", "worst", 3, "rate 0.2")]
    assert worst["hit"] == worst["anomalies"] == 1 and worst["auc_raw"] > 0.9
    assert worst["best_fa_per_min"] == 0.0  # a threshold hitting the anomaly flags nothing else
    # the same test scores (the run's level), a threshold calibrated on errors 1.5x as high
    cross = by[("cross-fitted", "worst", 3, "rate 0.2")]
    assert cross["threshold"] == pytest.approx(1.5 * worst["threshold"], rel=1e-6)
    assert cross["auc_raw"] == worst["auc_raw"]
    # the squared errors without a level are the same frames in other units: the same AUC
    assert by[("none", "worst", 3, "rate 0.2")]["auc_raw"] == pytest.approx(worst["auc_raw"])
