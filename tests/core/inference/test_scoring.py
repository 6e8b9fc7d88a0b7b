"""Streaming per-frame scores (``score_video``) with tiny real Keras models on generated videos."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from core.errors import Cancelled
from core.inference.anomaly.scoring import ScoringSpec, frame_error, score_video
from core.inference.errors import ScoreError
from core.preprocessing import PreprocessSpec, iter_resized
from core.video.file_source import FileVideoSource
from core.video.open import open_video
from tests.core.inference.scoring_project import FRAMES, tiny_model
from tests.video_factory import write_video

FRAME_COUNT = 23


class CountingModel:
    """A model that counts its calls and the windows it was given."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.calls = 0
        self.windows = 0
        self.input_shape = model.input_shape
        self.inputs = model.inputs

    def predict_on_batch(self, batch: np.ndarray) -> np.ndarray:
        self.calls += 1
        self.windows += len(batch)
        return self.model.predict_on_batch(batch)


class CountingSource(FileVideoSource):
    """A video file that counts the frames read from it."""

    read = 0

    def iter_frames(self, *args: Any, **kwargs: Any):
        for frame in super().iter_frames(*args, **kwargs):
            self.read += 1
            yield frame


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_video(tmp_path_factory.mktemp("scoring") / "clip.avi", FRAME_COUNT)


@pytest.fixture(scope="module")
def autoencoder() -> Any:
    return tiny_model("anomaly")


@pytest.fixture(scope="module")
def predictor() -> Any:
    return tiny_model("predict", input_dtype="float32")


def _spec(model: Any, task: str = "anomaly") -> ScoringSpec:
    return ScoringSpec.from_model(model, task)


def _frames(video: Path) -> np.ndarray:
    """Every frame as the tiny models take it: uint8 ``(T, 16, 16, 1)``."""
    with open_video(video) as source:
        return np.stack(list(iter_resized(source, PreprocessSpec(16, 16))))


def _mse(output: np.ndarray, frames_uint8: np.ndarray) -> np.ndarray:
    """Per-frame mean squared error on the [0, 1] scale, computed here independently of the scorer."""
    diff = np.asarray(output, np.float64) - frames_uint8.astype(np.float64) / 255.0
    return (diff ** 2).reshape(len(diff), -1).mean(axis=1)


def test_the_spec_comes_from_the_model_input(autoencoder: Any, predictor: Any) -> None:
    spec = _spec(autoencoder)
    assert (spec.frames, spec.preprocess.height, spec.preprocess.width, spec.preprocess.channels) == (FRAMES, 16, 16, 1)
    assert spec.input_dtype == "uint8" and _spec(predictor, "predict").input_dtype == "float32"


def test_the_first_score_arrives_before_the_video_is_read_to_the_end(video: Path, autoencoder: Any) -> None:
    source = CountingSource(video)
    scores = score_video(autoencoder, source, _spec(autoencoder), batch_size=1)
    first = next(scores)
    assert first.index == 0 and source.read < FRAME_COUNT
    rest = list(scores)
    assert source.read == FRAME_COUNT and [s.index for s in [first, *rest]] == list(range(FRAME_COUNT))


def test_stride_equal_to_the_clip_length_reconstructs_each_frame_once(video: Path, autoencoder: Any) -> None:
    model = CountingModel(autoencoder)
    scores = list(score_video(model, video, _spec(autoencoder), stride=FRAMES, batch_size=2))
    frames = _frames(video)
    # windows at 0, 4, ..., 16 cover frames 0-19; one last window [19, 23) reconstructs frames 20-22
    starts = list(range(0, FRAME_COUNT - FRAMES + 1, FRAMES))
    assert model.windows == len(starts) + 1 and all(s.windows == 1 for s in scores)
    expected = np.empty(FRAME_COUNT)
    for start in [*starts, FRAME_COUNT - FRAMES]:
        clip = frames[start:start + FRAMES]
        errors = _mse(autoencoder.predict_on_batch(clip[None])[0], clip)
        for offset, error in enumerate(errors):
            if start == FRAME_COUNT - FRAMES and start + offset < starts[-1] + FRAMES:
                continue  # already reconstructed by a regular window
            expected[start + offset] = error
    np.testing.assert_allclose([s.error for s in scores], expected, rtol=1e-5)


def test_stride_1_averages_every_window_that_covers_a_frame(video: Path, autoencoder: Any) -> None:
    scores = list(score_video(autoencoder, video, _spec(autoencoder), stride=1, batch_size=3))
    frames = _frames(video)
    total, count = np.zeros(FRAME_COUNT), np.zeros(FRAME_COUNT)
    for start in range(FRAME_COUNT - FRAMES + 1):
        clip = frames[start:start + FRAMES]
        total[start:start + FRAMES] += _mse(autoencoder.predict_on_batch(clip[None])[0], clip)
        count[start:start + FRAMES] += 1
    assert [s.windows for s in scores] == count.astype(int).tolist()
    assert [s.windows for s in scores][FRAMES - 1:FRAME_COUNT - FRAMES + 1] == [FRAMES] * (FRAME_COUNT - 2 * FRAMES + 2)
    np.testing.assert_allclose([s.error for s in scores], total / count, rtol=1e-5)


def test_a_prediction_model_scores_a_frame_by_its_prediction_from_the_frames_before(
        video: Path, predictor: Any) -> None:
    scores = list(score_video(predictor, video, _spec(predictor, "predict"), batch_size=5))
    frames = _frames(video)
    clips = np.stack([frames[t - FRAMES:t] for t in range(FRAMES, FRAME_COUNT)]).astype(np.float32) / 255.0
    expected = _mse(predictor.predict_on_batch(clips)[:, -1], frames[FRAMES:])
    assert [s.index for s in scores] == list(range(FRAME_COUNT))
    np.testing.assert_allclose([s.error for s in scores[FRAMES:]], expected, rtol=1e-5)
    # the first clip's frames have no history: they carry the first predicted frame's error, marked
    assert [s.backfilled for s in scores] == [True] * FRAMES + [False] * (FRAME_COUNT - FRAMES)
    assert {s.error for s in scores[:FRAMES]} == {scores[FRAMES].error}


def test_a_model_that_predicts_only_the_next_frame_scores_the_same_way(video: Path) -> None:
    from core.models import build_model, make_spec

    model = build_model(make_spec("predict", "future-frame", frames=FRAMES, height=16, width=16, filters=(4, 8)),
                        compile=False)
    for weight in model.weights:  # a change head that moves pixels, so a wrong frame would show
        if "change" in weight.path:
            weight.assign(np.random.default_rng(3).normal(0.0, 1.0, tuple(weight.shape)).astype("float32"))
    assert model.output_shape == (None, 1, 16, 16, 1)
    scores = list(score_video(model, video, _spec(model, "predict"), batch_size=4))
    frames = _frames(video)
    clips = np.stack([frames[t - FRAMES:t] for t in range(FRAMES, FRAME_COUNT)]).astype(np.float32) / 255.0
    expected = _mse(model.predict_on_batch(clips)[:, -1], frames[FRAMES:])
    np.testing.assert_allclose([s.error for s in scores[FRAMES:]], expected, rtol=1e-5)


def test_error_maps_are_per_pixel_at_the_model_resolution(video: Path, autoencoder: Any, predictor: Any) -> None:
    for model, task in ((autoencoder, "anomaly"), (predictor, "predict")):
        scores = list(score_video(model, video, _spec(model, task), stride=2, error_maps=True))
        assert all(s.error_map.shape == (16, 16) and s.error_map.dtype == np.float32 for s in scores)
        np.testing.assert_allclose([s.error_map.mean() for s in scores], [s.error for s in scores], rtol=1e-5)
    assert all(s.error_map is None for s in score_video(autoencoder, video, _spec(autoencoder)))


@pytest.mark.parametrize("task", ["anomaly", "predict"])
def test_scoring_from_a_frame_on_gives_the_frames_a_full_run_gives(
        video: Path, autoencoder: Any, predictor: Any, task: str) -> None:
    model = autoencoder if task == "anomaly" else predictor
    full = [s.error for s in score_video(model, video, _spec(model, task), stride=3)]
    for start in (2, 9, FRAME_COUNT - 2, FRAME_COUNT - 1):  # the last two inside the video's last clip
        part = list(score_video(model, video, _spec(model, task), stride=3, start=start))
        assert part[0].index == start
        np.testing.assert_allclose([s.error for s in part], full[start:], rtol=1e-6)


def test_cancel_stops_between_batches(video: Path, autoencoder: Any) -> None:
    cancel = threading.Event()
    model = CountingModel(autoencoder)
    scores = score_video(model, video, _spec(autoencoder), batch_size=1, cancel=cancel)
    next(scores)
    cancel.set()
    calls = model.calls
    with pytest.raises(Cancelled):
        list(scores)
    assert model.calls == calls


def test_progress_counts_frames_up_to_the_end(video: Path, autoencoder: Any) -> None:
    events = []
    list(score_video(autoencoder, video, _spec(autoencoder), batch_size=2, progress=events.append))
    done = [e.done for e in events]
    assert done == sorted(done) and done[-1] == FRAME_COUNT == events[-1].total


def test_bad_requests_get_one_clear_error(tmp_path: Path, video: Path, autoencoder: Any, predictor: Any) -> None:
    short = write_video(tmp_path / "short.avi", FRAMES)
    with pytest.raises(ScoreError, match=r"short\.avi: 4 frames, fewer than the 5 needed"):
        list(score_video(predictor, short, _spec(predictor, "predict")))
    with pytest.raises(ScoreError, match="stride must be .* from 1 to the clip length 4, got 5"):
        list(score_video(autoencoder, video, _spec(autoencoder), stride=5))
    too_many = CountingModel(predictor)
    too_many.predict_on_batch = lambda batch: np.zeros((len(batch), FRAMES + 1, 16, 16, 1), np.float32)
    with pytest.raises(ScoreError, match=r"clip\.avi: the model gave output \(8, 5, 16, 16, 1\) for clips"):
        list(score_video(too_many, video, _spec(predictor, "predict")))
    with pytest.raises(ScoreError, match="a classify model does not score frames"):
        ScoringSpec("classify", 4, PreprocessSpec(16, 16))


def test_frame_error_is_the_mean_or_the_mean_of_the_worst_sixteenth_of_patches() -> None:
    error_map = np.zeros((16, 32), np.float32)  # side 2: 8 x 16 = 128 patches, the worst 8 count
    error_map[0:2, 0:2] = 1.0  # one patch of error 1
    error_map[4:6, 6:8] = 0.5  # one patch of error 0.5
    error_map[8, 8] = 0.8  # a quarter of a patch: 0.2
    assert frame_error(error_map) == pytest.approx(error_map.mean())
    assert frame_error(error_map, "worst-patches") == pytest.approx((1.0 + 0.5 + 0.2) / 8)
    # a crowd of small errors counts in the mean, not in the worst patches
    crowd = np.full((16, 32), 0.05, np.float32)
    lone = np.zeros((16, 32), np.float32)
    lone[0:4, 0:4] = 0.5
    assert frame_error(crowd) > frame_error(lone) and frame_error(crowd, "worst-patches") < frame_error(lone, "worst-patches")


def test_worst_patch_errors_come_from_the_same_error_maps(video: Path, predictor: Any, autoencoder: Any) -> None:
    import dataclasses

    for model, task, stride in ((predictor, "predict", None), (autoencoder, "anomaly", 2)):
        spec = _spec(model, task)
        with_maps = list(score_video(model, video, spec, stride=stride, error_maps=True))
        patched = list(score_video(model, video, dataclasses.replace(spec, error="worst-patches"), stride=stride))
        assert all(s.error_map is None for s in patched)
        np.testing.assert_allclose([s.error for s in patched],
                                   [frame_error(s.error_map, "worst-patches") for s in with_maps], rtol=1e-6)
        assert spec.params(2)["error"] == "mse" and dataclasses.replace(spec, error="worst-patches").params(2)["error"] == "worst-patches"
    with pytest.raises(ScoreError, match="frame error must be one of mse, worst-patches"):
        dataclasses.replace(_spec(predictor, "predict"), error="max")
