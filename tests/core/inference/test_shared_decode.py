"""The fused scorer reads each video once for both signals, and its scores are those of the two separate passes."""

from __future__ import annotations

import shutil
import threading
from collections import Counter
from contextlib import closing
from pathlib import Path

import numpy as np
import pytest

from core.errors import Cancelled
from core.inference.anomaly.project_scoring import run_model, score_keys, score_project
from core.inference.anomaly.score_cache import CachedScores, ScoreCache, scores_dir
from core.inference.anomaly.shared_decode import can_share
from core.jobs import Progress
from core.project import Project
from core.training.motion_run import fit_run_motion
from core.video.file_source import FileVideoSource
from tests.core.inference.scoring_project import make_project, save_run


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny project (two train-split videos of 18 and 20 frames, test.avi of 22) and a next-frame run ``tiny``
    with motion statistics."""
    folder = make_project(tmp_path_factory.mktemp("shared") / "proj")
    save_run(folder, task="predict")
    with closing(Project.open(folder, read_only=True)) as project:
        fit_run_motion(project, "tiny")
    return folder


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> Counter:
    """Counts the sequential reads of each video file (``FileVideoSource.iter_frames`` calls) by name."""
    counts: Counter = Counter()
    iter_frames = FileVideoSource.iter_frames

    def counting(self, *args, **kwargs):
        counts[self.path.name] += 1
        return iter_frames(self, *args, **kwargs)

    monkeypatch.setattr(FileVideoSource, "iter_frames", counting)
    return counts


def _entries(project: Project, scorer: str = "fused") -> dict[str, list[CachedScores]]:
    """The prediction and motion cache entries of every video: ``{name: [prediction, motion]}``."""
    run = run_model(project.folder, "tiny", scorer)
    cache = ScoreCache(project.folder)
    return {video.name: [cache.read(key) for key in score_keys(run, video)] for video in project.videos.values()}


def _separately(project: Project) -> dict[str, list[np.ndarray]]:
    """Each video's prediction and motion scores from their own passes, an empty cache first."""
    shutil.rmtree(scores_dir(project.folder), ignore_errors=True)
    score_project(project, "tiny", scorer="prediction")
    score_project(project, "tiny", scorer="motion")
    return {name: [entry.scores for entry in pair] for name, pair in _entries(project).items()}


def test_one_read_of_each_video_feeds_both_signals_with_the_separate_passes_numbers(folder: Path, reads: Counter) -> None:
    with closing(Project.open(folder, read_only=True)) as project:
        separate = _separately(project)
        assert dict(reads) == {"train0.avi": 2, "train1.avi": 2, "test.avi": 2}  # a pass per signal
        reads.clear()
        shutil.rmtree(scores_dir(folder), ignore_errors=True)
        heard: list[Progress] = []
        fused = score_project(project, "tiny", scorer="fused", progress=heard.append)
        assert dict(reads) == {"train0.avi": 1, "train1.avi": 1, "test.avi": 1}  # one decode for both
        for name, pair in _entries(project).items():
            assert all(entry is not None and entry.complete for entry in pair)  # each signal under its own key
            for entry, expected in zip(pair, separate[name], strict=True):
                assert np.array_equal(entry.scores, expected)  # the same numbers, not nearly
        assert [v.scored_now for v in fused.videos] == [2 * 18, 2 * 20, 2 * 22]  # both signals, every frame
        assert heard[-1].done == heard[-1].total == 2 * (18 + 20 + 22)  # both signals' frames counted
        assert all(a.done <= b.done for a, b in zip(heard, heard[1:], strict=False))
        reads.clear()
        again = score_project(project, "tiny", scorer="fused")  # all cached: nothing read, nothing scored
    assert not reads and [v.scored_now for v in again.videos] == [0, 0, 0]
    for before, after in zip(fused.videos, again.videos, strict=True):
        assert np.array_equal(before.errors, after.errors)


def test_partial_entries_resume_each_signal_at_its_own_frame_in_one_read(folder: Path, reads: Counter) -> None:
    with closing(Project.open(folder, read_only=True)) as project:
        separate = _separately(project)
        cache = ScoreCache(project.folder)
        for name, (prediction, motion) in _entries(project).items():
            # as a cancel leaves them: the predictor 7 frames in, the motion 12 (the test video: none yet)
            for entry, kept in ((prediction, 7), (motion, 0 if name == "test.avi" else 12)):
                cache.write(CachedScores(entry.key, entry.scores[:kept], entry.frame_count, None, entry.video_id))
        reads.clear()
        resumed = score_project(project, "tiny", scorer="fused")
        assert dict(reads) == {"train0.avi": 1, "train1.avi": 1, "test.avi": 1}
        for name, pair in _entries(project).items():
            for entry, expected in zip(pair, separate[name], strict=True):
                assert entry.complete and np.array_equal(entry.scores, expected)
    assert [v.scored_now for v in resumed.videos] == [(18 - 7) + (18 - 12), (20 - 7) + (20 - 12), (22 - 7) + 22]


def test_a_cancel_keeps_both_signals_partial_entries_and_stops_the_decoding_thread(folder: Path) -> None:
    cancel = threading.Event()

    def progress(event: Progress) -> None:
        if event.done >= 10:
            cancel.set()

    with closing(Project.open(folder, read_only=True)) as project:
        separate = _separately(project)
        shutil.rmtree(scores_dir(folder), ignore_errors=True)
        with pytest.raises(Cancelled):
            score_project(project, "tiny", scorer="fused", batch_size=1, progress=progress, cancel=cancel)
        assert not [thread for thread in threading.enumerate() if thread.name == "shared-decode"]
        first = _entries(project)["train0.avi"]
        assert all(entry is not None and not entry.complete for entry in first)  # each kept what it had
        assert 0 < first[0].frames_done < 18
        for entry, expected in zip(first, separate["train0.avi"], strict=True):
            assert np.array_equal(entry.scores, expected[:entry.frames_done])
        score_project(project, "tiny", scorer="fused")
        for name, pair in _entries(project).items():
            for entry, expected in zip(pair, separate[name], strict=True):
                assert entry.complete and np.array_equal(entry.scores, expected)


def test_an_error_while_decoding_reaches_the_caller_and_keeps_what_was_scored(folder: Path, monkeypatch) -> None:
    from core.errors import CorruptVideoError

    iter_frames = FileVideoSource.iter_frames

    def failing(self, start=0, *args, **kwargs):
        for index, frame in enumerate(iter_frames(self, start, *args, **kwargs), start):
            if self.path.name == "train0.avi" and index == 15:
                raise CorruptVideoError(self.path, f"frame {index} fails to decode")
            yield frame

    with closing(Project.open(folder, read_only=True)) as project:
        separate = _separately(project)["train0.avi"]
        shutil.rmtree(scores_dir(folder), ignore_errors=True)
        monkeypatch.setattr(FileVideoSource, "iter_frames", failing)
        with pytest.raises(CorruptVideoError, match="train0.avi.*frame 15 fails to decode"):
            score_project(project, "tiny", scorer="fused", batch_size=1)
        assert not [thread for thread in threading.enumerate() if thread.name == "shared-decode"]
        prediction, motion = _entries(project)["train0.avi"]
    for entry, expected in ((prediction, separate[0]), (motion, separate[1])):  # frames 0-14 decoded at most
        assert entry is not None and 0 < entry.frames_done <= 15 and not entry.complete
        assert np.array_equal(entry.scores, expected[:entry.frames_done])


def test_one_decode_is_shared_only_where_both_read_the_same_frames(folder: Path, tmp_path: Path) -> None:
    import dataclasses

    from core.preprocessing.spec import PreprocessSpec

    run = run_model(folder, "tiny", "fused")
    prediction, motion = run.spec, run.motion.spec
    colour = dataclasses.replace(prediction, preprocess=PreprocessSpec(16, 16, grayscale=False))
    video = next(iter((folder.parent / "proj-videos").glob("*.avi")))
    images = tmp_path / "frames"
    images.mkdir()
    assert can_share(video, prediction, motion) and can_share(video, colour, motion)
    assert can_share(images, prediction, motion)
    assert not can_share(images, colour, motion)  # an image folder's gray images need not be its colours in gray


def test_opencv_runs_on_one_thread_during_a_shared_pass_and_gets_its_threads_back(folder: Path, monkeypatch) -> None:
    import cv2

    import core.inference.anomaly.motion_scoring as motion_scoring
    import core.inference.anomaly.shared_decode as shared_decode

    seen: list[int] = []  # OpenCV's thread count as each motion score is made (on the decoding thread)

    original = motion_scoring.score_motion

    def watching(*args, **kwargs):
        for score in original(*args, **kwargs):
            seen.append(cv2.getNumThreads())
            yield score

    monkeypatch.setattr(motion_scoring, "score_motion", watching)
    before = max(2, cv2.getNumThreads())
    cv2.setNumThreads(before)
    try:
        with closing(Project.open(folder, read_only=True)) as project:
            shutil.rmtree(scores_dir(folder), ignore_errors=True)
            score_project(project, "tiny", scorer="fused")
        assert seen and set(seen) == {1}
        assert cv2.getNumThreads() == before
        with shared_decode.opencv_on_one_thread(), shared_decode.opencv_on_one_thread():  # overlapping passes
            assert cv2.getNumThreads() == 1
        assert cv2.getNumThreads() == before
    finally:
        cv2.setNumThreads(before)
