"""Archive scoring submitted through Ray Jobs to a real local Ray with its dashboard (no mocks of Ray)."""

from __future__ import annotations

import dataclasses
import json
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from core.distributed.archive import archive_run, score_archive
from core.distributed.ray_job import (
    METADATA_KEY,
    _submit_or_follow,
    is_jobs_address,
    request_for,
    run_archive_job,
    submit,
)
from core.distributed.segments import SegmentCache, split_frames
from core.errors import Cancelled
from core.inference.anomaly.project_scoring import run_model, score_key
from core.inference.anomaly.score_cache import ScoreCache
from core.inference.anomaly.scoring import score_video
from core.inference.errors import ScoreError
from core.models.files import load_model_file
from core.project import Project
from tests.core.inference.scoring_project import make_project, save_run

ray = pytest.importorskip("ray", reason='the cluster extra: pip install -e ".[dev,cluster]"')
job_submission = pytest.importorskip("ray.job_submission", reason="Ray Jobs: the cluster extra's ray[default]")

#: Generous: each job starts a Python that imports Framewatch, and its worker TensorFlow, on a loaded machine.
pytestmark = pytest.mark.timeout(600)
SEGMENT = 5


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def jobs_address():
    """A local Ray head of 2 CPUs with its dashboard, whose Ray Jobs server the tests submit to.

    Other Rays may run on this machine meanwhile (test files running beside this one), so the head has a
    dashboard agent port and a temporary folder of its own, and its address is written in that folder's
    ``ray_current_cluster``: that is where its Jobs server looks up the cluster a job's driver joins (by default
    the newest cluster started on the machine, which may be another test's)."""
    from ray._private.utils import write_ray_address
    from ray.cluster_utils import Cluster

    port = _free_port()
    temp = tempfile.mkdtemp(prefix="fwjobs", dir="/tmp")  # short: Ray's socket paths live under it
    cluster = Cluster(initialize_head=True, head_node_args={
        "num_cpus": 2, "include_dashboard": True, "dashboard_host": "127.0.0.1", "dashboard_port": port,
        "dashboard_agent_listen_port": _free_port(), "temp_dir": temp})
    write_ray_address(cluster.head_node.gcs_address, temp)
    yield f"http://127.0.0.1:{port}"
    cluster.shutdown()
    shutil.rmtree(temp, ignore_errors=True)


def _project(tmp_path: Path, frames: tuple[int, ...] = (18, 31), test_frames: int = 27) -> Project:
    folder = make_project(tmp_path / "proj", frames=frames, test_frames=test_frames)
    save_run(folder, task="predict")
    return Project.open(folder, read_only=True)


def _expected(project: Project, video_id: str) -> np.ndarray:
    run = run_model(project.folder, "tiny")
    model = load_model_file(run.model_path)
    return np.array([s.error for s in score_video(model, project.video(video_id).path, run.spec)], np.float32)


def _cached(project: Project, video_id: str) -> np.ndarray | None:
    entry = ScoreCache(project.folder).read(score_key(run_model(project.folder, "tiny").pinned(),
                                                      project.video(video_id), None))
    return entry.scores if entry is not None and entry.complete else None


def test_jobs_addresses_are_told_from_cluster_addresses() -> None:
    assert is_jobs_address("http://head:8265") and is_jobs_address(" HTTPS://head:443")
    assert not any(is_jobs_address(a) for a in ("auto", "head:6379", "ray://head:10001", "", None))


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"  # a zombie has exited


def _finished(project: Project) -> int:
    """Segments done: those of videos whose scores are cached whole, and those in the segment cache of the rest."""
    run = run_model(project.folder, "tiny").pinned()
    done = 0
    for video in project.videos.values():
        segments = split_frames(video.frame_count, SEGMENT)
        if _cached(project, video.id) is not None:
            done += len(segments)
        else:
            key = score_key(run, video, None)
            done += sum(SegmentCache(project.folder).read_segment(key, s) is not None for s in segments)
    return done


def test_a_job_cancelled_mid_way_stops_and_a_second_job_finishes_the_archive(jobs_address: str,
                                                                             tmp_path: Path) -> None:
    project = _project(tmp_path, frames=(240, 300), test_frames=200)  # 148 segments: seconds of work left to stop
    try:
        total = sum(len(split_frames(v.frame_count, SEGMENT)) for v in project.videos.values())
        cancel = threading.Event()
        reports, lines = [], []

        def progress(report) -> None:
            reports.append(report)
            if report.done > 0:  # a segment is in: stop the job
                cancel.set()

        with pytest.raises(Cancelled):
            score_archive(project, "tiny", workers=1, address=jobs_address, segment_frames=SEGMENT,
                          progress=progress, cancel=cancel, log=lines.append)
        assert any("submitted" in line for line in lines)
        assert reports[-1].total == sum(v.frame_count for v in project.videos.values())
        client = job_submission.JobSubmissionClient(jobs_address)
        jobs = [job for job in client.list_jobs() if METADATA_KEY in (job.metadata or {})]
        assert [str(job.status).rsplit(".", 1)[-1] for job in jobs] == ["STOPPED"]  # stopped, not left running
        driver = jobs[0].driver_info
        if driver is not None and driver.pid:  # the stopped driver's last moments may still write: wait it out
            pid, deadline = int(driver.pid), time.monotonic() + 120
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.1)
            assert not _alive(pid)
        finished = _finished(project)
        assert 1 <= finished < total  # some segments done, not all: it stopped mid-way

        done = score_archive(project, "tiny", workers=1, address=jobs_address, segment_frames=SEGMENT)
        assert done.segments_scored == total - finished  # only what the stopped job left
        assert done.workers == 1 and sum(done.scored_now.values()) > 0
        for video in project.videos.values():
            assert np.allclose(_cached(project, video.id), _expected(project, video.id), rtol=1e-5, atol=1e-7)
    finally:
        project.close()


def test_a_running_job_of_the_same_request_is_followed_not_submitted_again(jobs_address: str,
                                                                           tmp_path: Path) -> None:
    project = _project(tmp_path)
    try:
        model = archive_run(project, "tiny")
        request = request_for(project, model, None, 1, 1, 8, True, 300.0, SEGMENT, 0)
        client = job_submission.JobSubmissionClient(jobs_address)
        running = submit(client, jobs_address, entrypoint="sleep 120", metadata={METADATA_KEY: request.key()})
        try:
            again = dataclasses.replace(request, workers=3)  # more workers: still the same scoring
            assert _submit_or_follow(client, jobs_address, again) == (running, True)
            other = dataclasses.replace(request, stride=2)
            other_id, followed = _submit_or_follow(client, jobs_address, other)
            assert other_id != running and not followed
            client.stop_job(other_id)
        finally:
            client.stop_job(running)
    finally:
        project.close()


def test_a_job_whose_model_changed_fails_with_the_file_named(jobs_address: str, tmp_path: Path) -> None:
    project = _project(tmp_path)
    try:
        model = archive_run(project, "tiny")
        request = request_for(project, model, None, 1, 1, 8, True, 300.0, SEGMENT, 0)
        stale = dataclasses.replace(request, fingerprint="0" * 16)
        with pytest.raises(ScoreError) as raised:
            run_archive_job(jobs_address, stale)
        assert "failed" in str(raised.value) and str(model.model_path) in str(raised.value)
        assert "not the one submitted" in str(raised.value)
        assert not list(SegmentCache(project.folder).folder.glob("*.json"))  # nothing scored
    finally:
        project.close()


def test_an_unreachable_jobs_server_is_one_clear_error(tmp_path: Path) -> None:
    project = _project(tmp_path)
    try:
        with pytest.raises(ScoreError) as raised:
            score_archive(project, "tiny", address="http://127.0.0.1:9", segment_frames=SEGMENT)
        assert "http://127.0.0.1:9" in str(raised.value) and "\n" not in str(raised.value)
    finally:
        project.close()


def test_the_score_command_scores_through_a_job_and_flags_as_a_local_scoring(jobs_address: str, tmp_path: Path,
                                                                              capsys: pytest.CaptureFixture[str]) -> None:
    from core.cli.main import main

    folder = make_project(tmp_path / "proj", frames=(18, 31), test_frames=27)
    save_run(folder, task="predict")
    local = tmp_path / "local"
    shutil.copytree(folder, local)
    assert main(["score", str(folder), "--run", "tiny", "--all", "--json", "--frames", "--cluster", jobs_address]) == 0
    captured = capsys.readouterr()
    on_job = json.loads(captured.out)
    assert "submitted" in captured.err
    assert all(video["scored_now"] == video["frames"] for video in on_job["videos"])  # the job scored them all
    assert main(["score", str(local), "--run", "tiny", "--all", "--json", "--frames"]) == 0
    here = json.loads(capsys.readouterr().out)
    assert on_job["threshold"]["value"] == pytest.approx(here["threshold"]["value"], rel=1e-5)
    for ours, theirs in zip(on_job["videos"], here["videos"], strict=True):
        assert np.allclose(ours["errors"], theirs["errors"], rtol=1e-5, atol=1e-7)
        assert ours["events"] == theirs["events"]
