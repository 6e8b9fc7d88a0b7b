"""Archive scoring on a real local Ray: segments equal a single pass, resume, a killed worker, the merge, cancel."""

from __future__ import annotations

import os
import shutil
import signal
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from core.distributed.archive import _worker_count, archive_parts, archive_run, score_archive
from core.distributed.ray_import import RayMissingError
from core.distributed.segments import Segment, SegmentCache, merge_segments, split_frames
from core.errors import Cancelled
from core.inference.anomaly.events_file import read_events
from core.inference.anomaly.project_scoring import events_dir, run_model, score_key, score_project
from core.inference.anomaly.score_cache import ScoreCache
from core.inference.anomaly.scoring import score_video
from core.inference.errors import ScoreError
from core.models.files import load_model_file
from core.project import Project
from tests.core.inference.scoring_project import make_project, save_run

ray = pytest.importorskip("ray", reason='the cluster extra: pip install -e ".[dev,cluster]"')

#: Generous: a worker's first segment imports TensorFlow and loads the model on a loaded 2-core machine.
pytestmark = pytest.mark.timeout(300)
SEGMENT = 5  # frames per segment: the tiny models' clips are 4 frames, so segments cut through their windows


@pytest.fixture(scope="module")
def local_ray():
    """One local Ray of 2 CPUs for the module (score_archive uses it and leaves it running)."""
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)  # never a cluster found
    yield ray
    ray.shutdown()


def _project(tmp_path: Path, task: str) -> Project:
    folder = make_project(tmp_path / "proj", frames=(18, 31), test_frames=27)
    save_run(folder, task=task)
    return Project.open(folder, read_only=True)


def _direct(project: Project, video_id: str, stride: int | None = None) -> np.ndarray:
    """One video's errors from one pass of score_video over it, in this process."""
    run = run_model(project.folder, "tiny")
    model = load_model_file(run.model_path)
    return np.array([s.error for s in score_video(model, project.video(video_id).path, run.spec, stride)], np.float32)


def _cached(project: Project, video_id: str, stride: int | None = None) -> np.ndarray | None:
    entry = ScoreCache(project.folder).read(score_key(run_model(project.folder, "tiny").pinned(),
                                                      project.video(video_id), stride))
    return entry.scores if entry is not None and entry.complete else None


def _segments(project: Project) -> list[tuple[str, int]]:
    return sorted((video.id, segment.start) for video in project.videos.values()
                  for segment in split_frames(video.frame_count, SEGMENT))


def test_segments_tile_the_frames_with_an_open_ended_last_one() -> None:
    assert split_frames(12, 5) == [Segment(0, 5), Segment(5, 10), Segment(10, None)]
    assert split_frames(10, 5) == [Segment(0, 5), Segment(5, None)]
    assert split_frames(5, 5) == split_frames(None, 5) == split_frames(0, 5) == [Segment(0, None)]


def test_merging_refuses_segments_that_do_not_tile_the_video() -> None:
    segments = [Segment(0, 3), Segment(3, 6), Segment(6, None)]
    ones = np.ones(3, np.float32)
    assert np.array_equal(merge_segments(segments, [ones, 2 * ones, ones[:1]], "v.avi"), [1, 1, 1, 2, 2, 2, 1])
    assert len(merge_segments(segments, [ones, ones[:2], ones[:0]], "v.avi")) == 5  # the video ended in segment 2
    with pytest.raises(ScoreError, match="v.avi: segment 6-end has scores after the video ended"):
        merge_segments(segments, [ones, ones[:2], ones], "v.avi")
    with pytest.raises(ScoreError, match="no frame was scored"):
        merge_segments(segments[:1], [ones[:0]], "v.avi")


@pytest.mark.parametrize(("task", "stride"), [("predict", None), ("anomaly", 2), ("anomaly", None)])
def test_segment_scores_merged_equal_one_pass_over_each_video(local_ray, tmp_path: Path, task: str,
                                                              stride: int | None) -> None:
    project = _project(tmp_path, task)
    try:
        result = score_archive(project, "tiny", workers=2, segment_frames=SEGMENT, stride=stride)
        assert result.segments_scored == len(_segments(project)) and result.segments_reused == 0
        for video in project.videos.values():
            merged = _cached(project, video.id, stride)
            expected = _direct(project, video.id, stride)
            assert merged is not None and merged.shape == expected.shape == (video.frame_count,)
            assert np.allclose(merged, expected, rtol=1e-5, atol=1e-7), video.name
            assert result.scored_now[video.id] == video.frame_count
        assert not list(SegmentCache(project.folder).folder.glob("*.npy"))  # merged, then removed
        assert len({done.pid for done in result.done}) == 2  # both workers scored, each loading the model once
    finally:
        project.close()


def test_the_motion_scorer_scores_on_workers(local_ray, tmp_path: Path) -> None:
    from core.training.motion_run import fit_run_motion

    project = _project(tmp_path, "predict")
    try:
        fit_run_motion(project, "tiny")
        result = score_archive(project, "tiny", workers=2, segment_frames=SEGMENT, scorer="motion")
        assert result.segments_scored == len(_segments(project))
        motion = run_model(project.folder, "tiny", "motion")
        model = load_model_file(motion.model_path)
        for video in project.videos.values():
            entry = ScoreCache(project.folder).read(score_key(motion.pinned(), video))
            expected = [s.error for s in score_video(model, video.path, motion.spec)]
            assert entry is not None and entry.complete
            assert np.allclose(entry.scores, expected, rtol=1e-5, atol=1e-7), video.name
    finally:
        project.close()


def test_a_fused_run_scores_both_signals_on_workers_and_fuses_as_a_local_scoring(local_ray, tmp_path: Path) -> None:
    from core.training.motion_run import fit_run_motion

    project = _project(tmp_path, "predict")
    local_folder = tmp_path / "local"
    try:
        fit_run_motion(project, "tiny")
        shutil.copytree(project.folder, local_folder)
        result = score_archive(project, "tiny", workers=2, segment_frames=SEGMENT, scorer="fused")
        assert result.segments_scored == len(_segments(project))  # both signals of a segment: one task, one decode
        assert all([part for part, _ in done.task.parts] == [0, 1] for done in result.done)
        assert result.scored_now == {video.id: video.frame_count for video in project.videos.values()}
        loads = []
        on_ray = score_project(project, "tiny", scorer="fused", load_model=lambda path: loads.append(path))
        assert loads == [] and all(video.scored_now == 0 for video in on_ray.videos)  # all read from the cache
        local_project = Project.open(local_folder, read_only=True)
        try:
            local = score_project(local_project, "tiny", scorer="fused")
            assert on_ray.run.scorer == local.run.scorer == "fused"
            assert on_ray.threshold.value == pytest.approx(local.threshold.value, rel=1e-5)
            for ours, theirs in zip(on_ray.videos, local.videos, strict=True):
                assert np.allclose(ours.errors, theirs.errors, rtol=1e-5, atol=1e-6)
                assert [(e.start, e.end) for e in ours.events] == [(e.start, e.end) for e in theirs.events]
        finally:
            local_project.close()
        again = score_archive(project, "tiny", workers=2, segment_frames=SEGMENT, scorer="fused")
        assert again.segments_scored == 0 and again.videos_cached == len(project.videos)
        # one signal's scores lost (a video's motion entry): only that signal is scored again, by its own pass
        video = next(iter(project.videos.values()))
        motion_key = score_key(archive_parts(archive_run(project, "tiny", "fused"))[1], video)
        kept = ScoreCache(project.folder).read(motion_key)
        for path in ScoreCache(project.folder).paths(motion_key):
            path.unlink(missing_ok=True)
        redone = score_archive(project, "tiny", workers=1, segment_frames=SEGMENT, scorer="fused")
        assert {(done.task.part, done.task.shared_key) for done in redone.done} == {(1, None)}
        assert redone.segments_scored == len(split_frames(video.frame_count, SEGMENT))
        entry = ScoreCache(project.folder).read(motion_key)
        assert entry is not None and kept is not None and np.array_equal(entry.scores, kept.scores)
    finally:
        project.close()


def test_scoring_after_the_workers_ends_like_a_local_run_without_loading_the_model(local_ray, tmp_path: Path) -> None:
    project = _project(tmp_path, "predict")
    local_folder = tmp_path / "local"
    shutil.copytree(project.folder, local_folder)  # the same project, scored in one process
    try:
        score_archive(project, "tiny", workers=2, segment_frames=SEGMENT)
        loads = []
        on_ray = score_project(project, "tiny", load_model=lambda path: loads.append(path))
        assert loads == [] and all(video.scored_now == 0 for video in on_ray.videos)
        local_project = Project.open(local_folder, read_only=True)
        try:
            local = score_project(local_project, "tiny")
            assert on_ray.threshold.value == pytest.approx(local.threshold.value, rel=1e-5)
            for ours, theirs in zip(on_ray.videos, local.videos, strict=True):
                assert np.allclose(ours.errors, theirs.errors, rtol=1e-5, atol=1e-7)
                assert [(e.start, e.end) for e in ours.events] == [(e.start, e.end) for e in theirs.events]
            assert read_events(events_dir(project, on_ray.run)).events == on_ray.videos[0].events + [
                event for video in on_ray.videos[1:] for event in video.events]
        finally:
            local_project.close()
    finally:
        project.close()


def test_a_rerun_keeps_the_segments_a_previous_run_finished(local_ray, tmp_path: Path) -> None:
    project = _project(tmp_path, "predict")
    try:
        video = project.video("train1.avi")
        key = score_key(run_model(project.folder, "tiny").pinned(), video, None)
        kept = [Segment(5, 10), Segment(15, 20)]
        marker = np.arange(5, dtype=np.float32) + 1000.0  # no model gives these: they show a segment was reused
        for segment in kept:
            SegmentCache(project.folder).write_segment(key, segment, marker + segment.start, video.id)
        result = score_archive(project, "tiny", workers=2, segment_frames=SEGMENT)
        assert result.segments_reused == 2
        assert result.segments_scored == len(_segments(project)) - 2
        scored = {(done.task.video_id, done.task.segment.start) for done in result.done}
        assert not scored & {(video.id, 5), (video.id, 15)}
        merged = _cached(project, video.id)
        expected = _direct(project, video.id)
        for segment in kept:
            assert np.array_equal(merged[segment.start:segment.end], marker + segment.start)
            expected[segment.start:segment.end] = marker + segment.start
        assert np.allclose(merged, expected, rtol=1e-5, atol=1e-7)
        assert result.scored_now[video.id] == video.frame_count - 10
    finally:
        project.close()


def test_a_cancelled_job_stops_its_workers_and_the_next_run_resumes(local_ray, tmp_path: Path) -> None:
    project = _project(tmp_path, "predict")
    try:
        cancel = threading.Event()
        first = []

        def stop(done) -> None:
            first.append(done)
            cancel.set()

        with pytest.raises(Cancelled):
            score_archive(project, "tiny", workers=2, segment_frames=SEGMENT, cancel=cancel, on_segment=stop)
        assert len(first) == 1
        left = SegmentCache(project.folder).folder
        assert len(list(left.glob("*.json"))) >= 1  # what finished is kept
        again = score_archive(project, "tiny", workers=2, segment_frames=SEGMENT)
        assert again.segments_reused >= 1
        assert again.segments_reused + again.segments_scored == len(_segments(project))
        for video in project.videos.values():
            assert np.allclose(_cached(project, video.id), _direct(project, video.id), rtol=1e-5, atol=1e-7)
    finally:
        project.close()


def test_a_worker_killed_mid_job_is_restarted_and_every_frame_is_scored_once(local_ray, tmp_path: Path) -> None:
    project = _project(tmp_path, "predict")
    try:
        killed = []

        def kill_first_worker(done) -> None:
            if not killed:
                killed.append(done.pid)
                os.kill(done.pid, signal.SIGKILL)

        result = score_archive(project, "tiny", workers=2, segment_frames=SEGMENT, on_segment=kill_first_worker)
        pids = {done.pid for done in result.done}
        assert killed and len(pids) >= 3  # the killed worker's process was replaced and scored segments
        segments = sorted((done.task.video_id, done.task.segment.start) for done in result.done)
        assert segments == _segments(project)  # each segment once
        for video in project.videos.values():
            assert np.allclose(_cached(project, video.id), _direct(project, video.id), rtol=1e-5, atol=1e-7)
    finally:
        project.close()


def test_without_ray_one_line_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # as if the extra were not installed
    folder = make_project(tmp_path / "proj")
    save_run(folder, task="predict")
    project = Project.open(folder, read_only=True)
    try:
        with pytest.raises(RayMissingError) as raised:
            score_archive(project, "tiny", workers=2)
        assert 'pip install "framewatch[cluster]"' in str(raised.value)
        assert "\n" not in str(raised.value)
    finally:
        project.close()


def test_gpu_workers_are_counted_from_the_gpus_and_refused_without_one() -> None:
    assert _worker_count({"CPU": 16.0}, None, 0.0, None) == 16
    assert _worker_count({"CPU": 16.0, "GPU": 1.0}, None, 0.25, None) == 4  # four workers share the GPU
    assert _worker_count({"CPU": 2.0, "GPU": 1.0}, None, 0.25, None) == 2  # no more than the CPUs
    assert _worker_count({"CPU": 16.0, "GPU": 2.0}, 3, 0.5, None) == 3
    with pytest.raises(ScoreError, match="4 workers at 0.5 GPU each need 2 GPUs but this machine's Ray has 1"):
        _worker_count({"CPU": 16.0, "GPU": 1.0}, 4, 0.5, None)  # two would never start
    with pytest.raises(ScoreError, match=r"GPU workers asked for \(0.5 GPU each\) but the Ray cluster at auto has 0 GPUs"):
        _worker_count({"CPU": 16.0}, 2, 0.5, "auto")


def test_more_workers_than_the_cluster_has_cpus_are_refused_not_waited_for() -> None:
    assert _worker_count({"CPU": 2.0}, 2, 0.0, "auto") == 2
    with pytest.raises(ScoreError, match=r"3 workers asked for but the Ray cluster at auto has 2 CPUs .*at most 2"):
        _worker_count({"CPU": 2.0}, 3, 0.0, "auto")  # the third would never start
    with pytest.raises(ScoreError, match="2 workers asked for but this machine's Ray has 1 CPU "):
        _worker_count({"CPU": 1.0}, 2, 0.5, None)


def test_gpu_workers_on_a_ray_without_gpus_fail_at_once_not_wait(local_ray, tmp_path: Path) -> None:
    project = _project(tmp_path, "predict")
    try:
        with pytest.raises(ScoreError, match="has 0 GPUs"):
            score_archive(project, "tiny", workers=1, segment_frames=SEGMENT, gpus_per_worker=0.5)
        assert not list(SegmentCache(project.folder).folder.glob("*.json"))
    finally:
        project.close()
