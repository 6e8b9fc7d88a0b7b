"""A next-frame run rolled out over a video: the run lookup, the frames it reads, truth beside prediction."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from core.errors import Cancelled
from core.inference.rollout.rollout import RolloutError, rollout
from core.inference.rollout.video_rollout import predict_run, rollout_video
from core.models.files import load_model_file
from core.preprocessing import PreprocessSpec
from core.preprocessing.frames import iter_resized
from core.render.side_by_side import rollout_side_by_side
from core.video.open import open_video
from tests.core.cli.test_predict_commands import SIZE, make_run
from tests.video_factory import write_video


@pytest.fixture
def run_and_video(tmp_path: Path):
    project = tmp_path / "proj"
    make_run(project)
    make_run(project, "ae", task="anomaly")
    return project, write_video(tmp_path / "v.avi", 14, fps=10)


def test_rollout_video_predicts_from_the_given_frames_and_keeps_the_real_ones(run_and_video) -> None:
    project, video = run_and_video
    run = predict_run(project, "r1")
    assert run.model_path.name == "best.keras" and run.spec.preprocess.height == SIZE
    model = load_model_file(run.model_path)
    result = rollout_video(model, video, run.spec.preprocess, 3, 5, 4)
    with open_video(video) as source:
        real = np.stack(list(iter_resized(source, PreprocessSpec(height=SIZE, width=SIZE), 3, 12)))
    assert result.predicted.shape == (4, SIZE, SIZE, 1) and result.first_future == 8
    np.testing.assert_allclose(result.predicted, rollout(model, real[:5], 4), atol=1e-6)
    np.testing.assert_allclose(result.truth, real[5:] / 255.0, atol=1e-6)
    np.testing.assert_allclose(result.errors(), np.abs(real[5:] / 255.0 - result.predicted), atol=1e-6)
    assert result.frame_count == 14 and result.fps == pytest.approx(10)
    assert rollout_side_by_side(result, error=True).shape[0] == 4


def test_steps_past_the_end_have_no_truth(run_and_video) -> None:
    project, video = run_and_video
    run = predict_run(project, "r1")
    result = rollout_video(load_model_file(run.model_path), video, run.spec.preprocess, 8, 4, 5)
    assert len(result.predicted) == 5 and len(result.truth) == 2 and result.errors().shape[0] == 2
    assert result.truth_at(1) is not None and result.truth_at(2) is None
    assert result.counter()[0] == "+1  frame 12"


def test_bad_requests_name_the_file(run_and_video) -> None:
    project, video = run_and_video
    run = predict_run(project, "r1")
    model = load_model_file(run.model_path)
    with pytest.raises(RolloutError, match=r"v\.avi: frames 12\.\.15 are past the end \(the video has 14 frames\)"):
        rollout_video(model, video, run.spec.preprocess, 12, 4, 2)
    with pytest.raises(RolloutError, match="run 'ae' is a model for the 'anomaly' task"):
        predict_run(project, "ae")
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        rollout_video(model, video, run.spec.preprocess, 0, 4, 2, cancel=cancel)
