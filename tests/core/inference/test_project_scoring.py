"""Scoring a project's videos with a run's model: cache, resume, threshold, events; and evaluating a run."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from core.errors import Cancelled
from core.evaluation.roc import roc_auc
from core.inference.anomaly.events import flag_events
from core.inference.anomaly.events_file import read_events
from core.inference.anomaly.project_evaluation import evaluate_project
from core.inference.anomaly.project_scoring import (
    cached_video_scores,
    reflag_project,
    run_model,
    score_project,
)
from core.inference.anomaly.regularity import Threshold, moving_average
from core.inference.anomaly.score_cache import ScoreCache, ScoreKey
from core.inference.anomaly.scoring import score_video
from core.inference.errors import ScoreError
from core.jobs import Progress, Stage
from core.models.files import load_model_file
from core.project import Project
from core.runs import RunError
from tests.core.inference.scoring_project import make_project, save_run


class CountingLoader:
    """Loads model files and counts how often it was asked to."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, path: Path) -> Any:
        self.calls += 1
        return load_model_file(path)


@pytest.fixture
def project(tmp_path: Path):
    folder = make_project(tmp_path / "proj")
    save_run(folder)
    opened = Project.open(folder, read_only=True)
    yield opened
    opened.close()


def _direct(project: Project, name: str, stride: int | None = None) -> np.ndarray:
    """A video's errors from score_video, without the project layer."""
    run = run_model(project.folder, "tiny")
    model = load_model_file(run.model_path)
    return np.array([s.error for s in score_video(model, project.video(name).path, run.spec, stride)], np.float32)


def test_the_second_run_reads_every_score_from_the_cache_without_loading_the_model(project: Project) -> None:
    first_loader, second_loader = CountingLoader(), CountingLoader()
    run = run_model(project.folder, "tiny")
    assert cached_video_scores(project, run, "test.avi") is None
    first = score_project(project, "tiny", load_model=first_loader)
    np.testing.assert_array_equal(cached_video_scores(project, run, "test.avi"), first.videos[2].errors)
    assert cached_video_scores(project, run, "test.avi", stride=1) is None  # scored with the default stride only
    second = score_project(project, "tiny", load_model=second_loader)
    assert first_loader.calls == 1 and second_loader.calls == 0
    assert [v.scored_now for v in first.videos] == [18, 20, 22] and [v.scored_now for v in second.videos] == [0, 0, 0]
    for a, b in zip(first.videos, second.videos, strict=True):
        np.testing.assert_array_equal(a.errors, b.errors)
    np.testing.assert_allclose(first.videos[2].errors, _direct(project, "test.avi"), rtol=1e-6)


def test_scores_are_heard_as_they_arrive_and_cached_ones_at_once(project: Project) -> None:
    test = project.video("test.avi").id
    heard: list[tuple[int, list[float]]] = []

    def listen(video_id: str, first: int, errors: np.ndarray) -> None:
        if video_id == test:
            heard.append((first, errors.tolist()))

    thresholds: list[tuple[Threshold, int]] = []
    result = score_project(project, "tiny", [test], on_scores=listen,
                           on_threshold=lambda found: thresholds.append((found, len(heard))))
    assert thresholds == [(result.threshold, 0)]  # known before the first frame of the video is scored
    expected = result.videos[0].errors.tolist()
    assert [first for first, _ in heard] == list(range(len(expected)))  # one call per frame, in order
    assert [value for _, values in heard for value in values] == expected
    heard.clear()
    score_project(project, "tiny", [test], on_scores=listen, load_model=CountingLoader())
    assert heard == [(0, expected)]  # the cached video: every score in one call


def test_the_threshold_is_calibrated_on_the_train_split_videos(project: Project) -> None:
    heard: list[Progress] = []
    result = score_project(project, "tiny", ["test.avi"], percentile=90.0, smoothing=3, progress=heard.append)
    stages = [(event.stage, event.message) for event in heard]
    assert sorted(set(stages), key=stages.index) == [(Stage.CALIBRATING, "train0.avi"), (Stage.CALIBRATING, "train1.avi"),
                                                     (Stage.SCORING, "test.avi")]  # its reports say which is which
    expected = Threshold.calibrate([_direct(project, "train0.avi"), _direct(project, "train1.avi")], 90.0, 3)
    assert result.threshold.videos == 2 and result.threshold.frames == 38
    assert result.threshold.value == pytest.approx(expected.value, rel=1e-6)
    assert [v.name for v in result.videos] == ["test.avi"]


def test_a_cancelled_run_keeps_its_scores_and_the_next_one_resumes_where_it_stopped(project: Project) -> None:
    cancel = threading.Event()

    def progress(event: Progress) -> None:
        if "test.avi" in event.message and event.done >= 38 + 9:  # 9 frames into the test video
            cancel.set()

    with pytest.raises(Cancelled):
        score_project(project, "tiny", ["test.avi"], stride=2, batch_size=1, progress=progress, cancel=cancel)
    run = run_model(project.folder, "tiny")
    key = ScoreKey.of(run.model_path, project.video("test.avi").fingerprint, run.spec.params(2))
    partial = ScoreCache(project.folder).read(key)
    assert partial is not None and not partial.complete and 9 <= partial.frames_done < 22
    loader = CountingLoader()
    resumed = score_project(project, "tiny", ["test.avi"], stride=2, load_model=loader)
    assert loader.calls == 1 and resumed.videos[0].scored_now == 22 - partial.frames_done
    np.testing.assert_allclose(resumed.videos[0].errors, _direct(project, "test.avi", stride=2), rtol=1e-6)
    assert ScoreCache(project.folder).read(key).complete


def test_events_are_stored_with_the_run_and_carry_the_projects_verdicts(tmp_path: Path) -> None:
    folder = make_project(tmp_path / "proj")
    run_dir = save_run(folder)
    editable = Project.open(folder)  # held open (and locked) by an analyst meanwhile: scoring needs no lock
    try:
        editable.set_verdict("test.avi", 0, 22, "confirmed", run_id="tiny")
        editable.save()
        project = Project.open(folder, read_only=True)
        try:
            result = score_project(project, "tiny", ["test.avi"], threshold=Threshold(value=0.0), min_run=2)
        finally:
            project.close()
    finally:
        editable.close()
    (video,) = result.videos
    assert [(e.start, e.end) for e in video.events] == [(0, 22)]
    assert video.events[0].verdict.verdict == "confirmed" and video.events[0].verdict_is_exact
    stored = read_events(run_dir)
    assert [e.to_dict() for e in stored.events] == [e.to_dict() for e in video.events]
    assert stored.flagging["min_run"] == 2 and stored.threshold == Threshold(value=0.0, min_run=2)


def test_runs_that_cannot_score_get_one_clear_error(tmp_path: Path) -> None:
    folder = make_project(tmp_path / "proj")
    save_run(folder, "untrained", with_model=False)
    project = Project.open(folder, read_only=True)
    try:
        with pytest.raises(RunError, match="no training run 'nope'"):
            score_project(project, "nope")
        with pytest.raises(RunError, match="run 'untrained' has no model yet"):
            score_project(project, "untrained")
    finally:
        project.close()


def test_evaluate_measures_the_test_videos_with_core_evaluation(project: Project) -> None:
    result = evaluate_project(project, "tiny").to_dict()
    errors = _direct(project, "test.avi")
    labels = np.zeros(22, bool)
    labels[8:14] = True
    assert result["frames"] == 22 and result["abnormal_frames"] == 6 and result["videos"] == 1
    assert result["auc_raw"] == pytest.approx(roc_auc(errors, labels), abs=1e-6)
    assert result["anomalies"] == 1 and result["event_recall"] in (0.0, 1.0)
    json.dumps(result)


def test_evaluate_measures_auc_on_errors_smoothed_like_the_threshold(project: Project) -> None:
    """With smoothing N the AUC is that of the causal N-frame moving average the events are flagged on."""
    errors = _direct(project, "test.avi")
    labels = np.zeros(22, bool)
    labels[8:14] = True
    smoothed = moving_average(errors, 5, "causal")
    result = evaluate_project(project, "tiny", smoothing=5).to_dict()
    assert result["smoothing"] == 5 and result["threshold"]["window"] == 5
    assert result["auc_raw"] == pytest.approx(roc_auc(smoothed, labels), abs=1e-6)
    assert roc_auc(smoothed, labels) != pytest.approx(roc_auc(errors, labels), abs=1e-6)


def test_a_threshold_set_by_hand_needs_no_train_split_footage(tmp_path: Path) -> None:
    folder = make_project(tmp_path / "proj", frames=())  # only the test video: nothing to calibrate on
    run_dir = save_run(folder)
    project = Project.open(folder, read_only=True)
    try:
        with pytest.raises(ScoreError, match="no train-split videos"):
            score_project(project, "tiny")
        errors = _direct(project, "test.avi")
        value = float(np.sort(errors)[-4])  # three frames above it
        result = score_project(project, "tiny", threshold=value, smoothing=1)
    finally:
        project.close()
    assert result.threshold == Threshold.manual(value)
    assert result.threshold.describe().endswith("(set by hand)")
    flagged = sorted(frame for event in result.videos[0].events for frame in range(event.start, event.end))
    assert flagged == sorted(int(i) for i in np.flatnonzero(errors > value))
    stored = read_events(run_dir)
    assert stored.threshold.kind == "manual" and stored.threshold.value == value


def test_reflag_keeps_a_new_threshold_for_every_scored_video_without_the_model(project: Project) -> None:
    # a threshold by hand: no calibration, so train1.avi is never scored
    first = score_project(project, "tiny", ["test.avi", "train0.avi"], threshold=0.0, load_model=CountingLoader())
    everything = np.concatenate([v.errors for v in first.videos])
    moved = Threshold.manual(float(np.median(everything)))
    result = reflag_project(project, "tiny", moved, min_run=2, merge_gap=1)
    assert [v.name for v in result.videos] == ["train0.avi", "test.avi"]  # train1.avi was never scored
    for video in result.videos:
        expected = flag_events(video.errors, moved.value, 2, 1, video.video_id)
        assert video.events == expected
    stored = read_events(result.events_path.parent)
    assert stored.threshold == moved and stored.flagging["min_run"] == 2 and stored.flagging["merge_gap"] == 1
    assert len(stored.events) == sum(len(v.events) for v in result.videos) > 0
    with pytest.raises(ScoreError, match="min_run"):
        reflag_project(project, "tiny", moved, min_run=0)


def test_a_manual_threshold_is_written_and_read_back() -> None:
    threshold = Threshold.manual(0.25, window=3)
    assert Threshold.from_dict(threshold.to_dict()) == threshold
    assert threshold.describe() == "0.25 (set by hand, 3-frame causal average)"
    calibrated = Threshold.calibrate([np.arange(10.0)], 50.0)
    assert calibrated.describe() == "4.5 (50th percentile of 10 normal frames)"
    with pytest.raises(ScoreError, match="finite"):
        Threshold.manual(float("nan"))
    with pytest.raises(ScoreError, match="unknown kind"):
        Threshold.from_dict({"kind": "guess", "value": 1.0})


# -- the model scores are keyed by ------------------------------------------------------------------
def _replace_model(project: Project) -> None:
    """Save a model with other weights over the run's best.keras, as a training run does after a better epoch."""
    from core.models.files import save_model

    path = run_model(project.folder, "tiny").model_path
    model = load_model_file(path)
    model.set_weights([w * 0.5 + 0.01 for w in model.get_weights()])
    save_model(model, path)


def test_scores_are_keyed_by_the_model_that_made_them_when_the_file_is_replaced_while_scoring(
        project: Project) -> None:
    old = {name: _direct(project, name) for name in ("train0.avi", "train1.avi", "test.avi")}
    replaced: list[str] = []

    def replace_after_the_first_video(event: Progress) -> None:
        if not replaced and "train0.avi" not in event.message:  # the first video is done, the others to come
            _replace_model(project)
            replaced.append(event.message)

    during = score_project(project, "tiny", progress=replace_after_the_first_video)
    assert replaced, "the model file was never replaced"
    for result in during.videos:  # every video scored by the model loaded when scoring began
        np.testing.assert_allclose(result.errors, old[result.name], rtol=1e-6)
    new = {name: _direct(project, name) for name in old}
    assert not np.allclose(new["test.avi"], old["test.avi"])
    after = score_project(project, "tiny")  # the new model: none of the old model's scores are its own
    assert [result.scored_now for result in after.videos] == [18, 20, 22]
    for result in after.videos:
        np.testing.assert_allclose(result.errors, new[result.name], rtol=1e-6)


def test_a_model_file_replaced_between_pinning_and_loading_is_refused(project: Project) -> None:
    run = run_model(project.folder, "tiny").pinned()
    _replace_model(project)
    with pytest.raises(ScoreError, match="best.keras: the model file of run 'tiny' was replaced after this scoring"):
        run.load_models(load_model_file)
    model, level = run_model(project.folder, "tiny").pinned().load_models(load_model_file)  # pinned anew: loads
    assert model is not None and level is None


@pytest.mark.skipif(not hasattr(__import__("os"), "mkfifo"), reason="named pipes are POSIX")
def test_a_named_pipe_in_the_score_cache_does_not_hang_scoring(project: Project) -> None:
    import contextlib
    import os

    from core.inference.anomaly.project_scoring import score_key

    run = run_model(project.folder, "tiny")
    meta = ScoreCache(project.folder).paths(score_key(run, project.video("test.avi")))[1]
    meta.parent.mkdir(parents=True)
    os.mkfifo(meta)
    outcome: list[Any] = []
    worker = threading.Thread(target=lambda: outcome.append(score_project(project, "tiny", ["test.avi"])),
                              daemon=True)
    worker.start()
    worker.join(120)
    finished = not worker.is_alive()
    while worker.is_alive():  # a failing test: let the blocked reader go so that the test ends
        with contextlib.suppress(OSError):
            os.close(os.open(meta, os.O_WRONLY | os.O_NONBLOCK))
        worker.join(1)
    assert finished, "scoring blocked on a named pipe in the score cache"
    np.testing.assert_allclose(outcome[0].videos[0].errors, _direct(project, "test.avi"), rtol=1e-6)
    assert meta.is_file()  # replaced by the entry scoring wrote
