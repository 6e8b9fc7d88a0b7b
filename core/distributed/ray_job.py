"""Archive scoring submitted through Ray Jobs: ``--cluster http://HEAD:8265`` (the cluster's dashboard address).

With a Ray Jobs address, :func:`~core.distributed.archive.score_archive` does not drive the workers from this
process: :func:`run_archive_job` submits a job whose entrypoint (``python -m core.distributed.ray_job
REQUEST``, :func:`main`) runs the same :func:`score_archive` on the cluster (joined with ``address="auto"``),
and follows it here. The driver then lives on the cluster: closing the laptop or losing the connection does
not stop it, and the segments it finishes land in the project's cache as from a local driver.

* **Progress.** The job prints a line tagged :data:`PROGRESS_TAG` (frames done and to do, segments) at most
  every :data:`PROGRESS_EVERY_S` seconds and one :data:`RESULT_TAG` line at the end; this side reads the job's
  log as it grows (``JobSubmissionClient.tail_job_logs``) and turns them into the usual progress reports and
  :class:`~core.distributed.archive.ArchiveScoring`. Other lines go to ``log``.
* **Cancel.** ``cancel`` (checked every :data:`POLL_S` seconds) or Ctrl+C stops the job
  (``JobSubmissionClient.stop_job``): its actors are killed with its driver, finished segments stay.
* **Follow, not twice.** A job still running for the same request (same project, run model, scoring options and
  videos; Ray keeps the request's key in the job's metadata) is followed rather than submitted again, so a
  rerun after a lost connection picks up the job that carried on.
* **The same model.** The job refuses to score when the run's model file is not the one fingerprinted here.

Every node, the one that submits included, sees the project folder (and the run folder) at the same path,
as for ``--cluster auto``; Framewatch with the cluster extra is installed on the cluster's nodes, with a
``python`` that imports it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import queue
import shlex
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from core.distributed.ray_import import last_line
from core.errors import Cancelled
from core.inference.errors import ScoreError
from core.jobs import Progress, ProgressCallback, Stage, check_cancelled

#: Address prefixes that mean a Ray Jobs (dashboard) address rather than a cluster to join.
JOBS_SCHEMES = ("http://", "https://")
#: The tags of the job's machine-read log lines.
PROGRESS_TAG = "FRAMEWATCH-PROGRESS "
RESULT_TAG = "FRAMEWATCH-RESULT "
ERROR_TAG = "FRAMEWATCH-ERROR "
#: Seconds between two progress lines of the job (the last one is always printed).
PROGRESS_EVERY_S = 1.0
#: Seconds between two looks at ``cancel`` while following the job.
POLL_S = 0.25
#: Seconds a submission is tried again while the server has no agent ready to run it.
SUBMIT_WAIT_S = 120.0
#: Times the job's log is read again after its stream broke while the job ran.
LOG_RETRIES = 5
#: Seconds to wait for a stopped job to end before giving up waiting (it is stopped either way).
STOP_WAIT_S = 60.0
#: The key of the request's fingerprint in the job's metadata.
METADATA_KEY = "framewatch_archive"
#: Job states that are over.
TERMINAL = ("SUCCEEDED", "FAILED", "STOPPED")


def is_jobs_address(address: str | None) -> bool:
    """Whether ``address`` is a Ray Jobs (dashboard) address: ``http://HEAD:8265`` or ``https://...``."""
    return bool(address) and address.strip().lower().startswith(JOBS_SCHEMES)


@dataclass(frozen=True)
class JobRequest:
    """What the job scores: :func:`score_archive`'s arguments, as plain values that travel on a command line."""

    project: str
    run_dir: str
    fingerprint: str
    scorer: str | None
    error: str | None
    runtime: str
    videos: list[str] | None
    stride: int
    batch_size: int
    calibrate: bool
    segment_seconds: float
    segment_frames: int | None
    retries: int
    workers: int | None
    gpus_per_worker: float = 0.0

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> JobRequest:
        return cls(**json.loads(text))

    def key(self) -> str:
        """A fingerprint of what is scored, and how (not of the workers, their GPUs or retries)."""
        data = asdict(self)
        for field in ("workers", "retries", "gpus_per_worker"):
            data.pop(field)
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:24]

    def entrypoint(self, python: str = "python") -> str:
        """The job's shell command."""
        return f"{python} -m core.distributed.ray_job {shlex.quote(self.to_json())}"


def run_archive_job(address: str, request: JobRequest, progress: ProgressCallback | None = None,
                    cancel: threading.Event | None = None, log: Callable[[str], None] | None = None,
                    client: Any = None) -> Any:
    """Submit ``request`` to the Ray Jobs server at ``address`` (or follow its job still running) and follow it
    to the end: the :class:`~core.distributed.archive.ArchiveScoring` it reports. :class:`ScoreError` when the
    server cannot be reached or the job fails (with its last error line), :class:`Cancelled` (the job stopped)
    on ``cancel`` or Ctrl+C."""
    client = client if client is not None else _client(address)
    job_id, followed = _submit_or_follow(client, address, request)
    if log is not None:
        log(f"Ray job {job_id} on {address}: {'following it (already scoring this)' if followed else 'submitted'}")
    try:
        return _follow(client, job_id, address, progress, cancel, log)
    except (Cancelled, KeyboardInterrupt):
        _stop(client, job_id)
        raise


def _client(address: str) -> Any:
    from core.distributed.ray_import import import_ray

    import_ray()
    from ray.job_submission import JobSubmissionClient

    try:
        return JobSubmissionClient(address)
    except (OSError, RuntimeError, ValueError) as exc:  # requests' errors are OSErrors
        raise ScoreError(f"cannot reach the Ray Jobs server at {address}: {last_line(exc)}") from exc


def _submit_or_follow(client: Any, address: str, request: JobRequest) -> tuple[str, bool]:
    """The id of a running job of the same request, else of a new one: ``(job id, whether it was running)``."""
    key = request.key()
    try:
        for job in client.list_jobs():
            if (job.metadata or {}).get(METADATA_KEY) == key and _state(job.status) not in TERMINAL:
                return job.submission_id, True
    except (OSError, RuntimeError, ValueError) as exc:  # requests' errors are OSErrors
        raise ScoreError(f"cannot reach the Ray Jobs server at {address}: {last_line(exc)}") from exc
    return submit(client, address, entrypoint=request.entrypoint(), metadata={METADATA_KEY: key},
                  entrypoint_num_cpus=0), False


def submit(client: Any, address: str, **job: Any) -> str:
    """``client.submit_job(**job)``, tried again for up to :data:`SUBMIT_WAIT_S` seconds while the server says
    it has no agent to run it yet (a node that just started, or a loaded one); :class:`ScoreError` otherwise."""
    deadline = time.monotonic() + SUBMIT_WAIT_S
    while True:
        try:
            return client.submit_job(**job)
        except (OSError, RuntimeError, ValueError) as exc:  # requests' errors are OSErrors
            if "try again later" not in str(exc) or time.monotonic() > deadline:
                raise ScoreError(f"cannot submit the scoring job to {address}: {last_line(exc)}") from exc
        time.sleep(1.0)


def _state(status: Any) -> str:
    """``"RUNNING"``, ``"SUCCEEDED"``...: a job status as a plain name."""
    return str(getattr(status, "value", status)).rsplit(".", 1)[-1]


def _status(client: Any, job_id: str, address: str = "") -> str:
    """The job's state; :class:`ScoreError` when the server cannot be asked (the job may well go on)."""
    try:
        return _state(client.get_job_status(job_id))
    except Exception as exc:  # noqa: BLE001 - requests' and Ray's errors alike: the server is out of reach
        raise ScoreError(f"lost contact with the Ray Jobs server{f' at {address}' if address else ''}: "
                         f"{last_line(exc)}; job {job_id} may still be running: run the command again to "
                         "follow it (or stop it with ray job stop)") from exc


def _tail(client: Any, job_id: str, lines: queue.Queue) -> None:
    """Put the job's log lines into ``lines`` as they come, then ``None`` (an exception instead if reading fails)."""

    async def follow() -> None:
        pending = ""
        async for chunk in client.tail_job_logs(job_id):
            pending += chunk
            *complete, pending = pending.split("\n")
            for line in complete:
                lines.put(line)
        if pending:
            lines.put(pending)

    try:
        asyncio.run(follow())
    except Exception as exc:  # noqa: BLE001 - handed to the follower, which decides
        lines.put(exc)
    lines.put(None)


def _follow(client: Any, job_id: str, address: str, progress: ProgressCallback | None,
            cancel: threading.Event | None, log: Callable[[str], None] | None) -> Any:
    from core.distributed.archive import ArchiveScoring

    lines: queue.Queue = queue.Queue()

    def tail() -> None:
        threading.Thread(target=_tail, args=(client, job_id, lines), name=f"ray-job-log-{job_id}", daemon=True).start()

    tail()
    result: dict[str, Any] | None = None
    error = ""
    ended = broken = False
    retries = LOG_RETRIES
    while not ended:
        check_cancelled(cancel, "scoring")
        try:
            item = lines.get(timeout=POLL_S)
        except queue.Empty:
            continue
        if item is None:
            ended = True
            if broken and retries and _status(client, job_id, address) not in TERMINAL:  # read it again
                broken, ended, retries = False, False, retries - 1
                time.sleep(1.0)
                tail()
        elif isinstance(item, Exception):  # the log stream broke: read it again while the job runs
            broken = True
            if log is not None:
                log(f"lost the log of Ray job {job_id}: {last_line(item)}")
        elif item.startswith(PROGRESS_TAG):
            if progress is not None:
                data = json.loads(item[len(PROGRESS_TAG):])
                progress(Progress(data["done"], data["total"], data["message"], Stage.SCORING))
        elif item.startswith(RESULT_TAG):
            result = json.loads(item[len(RESULT_TAG):])
        elif item.startswith(ERROR_TAG):
            error = item[len(ERROR_TAG):]
        elif log is not None and item.strip():
            log(item)
    status = _wait_terminal(client, job_id, address, cancel)
    if status == "SUCCEEDED" and result is not None:
        return ArchiveScoring(**result)
    if status == "STOPPED":
        raise ScoreError(f"Ray job {job_id} on {address} was stopped before it finished; the segments it scored "
                         "are kept: run the command again to score the rest")
    message = error or _job_message(client, job_id) or f"it ended {status.lower()} without a result"
    raise ScoreError(f"Ray job {job_id} on {address} failed: {message}")


def _wait_terminal(client: Any, job_id: str, address: str, cancel: threading.Event | None) -> str:
    """The job's final state (the log may end a moment before the state says so)."""
    while True:
        status = _status(client, job_id, address)
        if status in TERMINAL:
            return status
        check_cancelled(cancel, "scoring")
        time.sleep(POLL_S)


def _job_message(client: Any, job_id: str) -> str:
    with contextlib.suppress(Exception):  # only a better message is at stake
        info = client.get_job_info(job_id)
        return last_line(info.message or "") if info.message else ""
    return ""


def _stop(client: Any, job_id: str) -> None:
    """Stop the job and wait (a while) until it has ended, its actors with it."""
    with contextlib.suppress(Exception):  # already over, or the server gone: nothing more to stop
        client.stop_job(job_id)
        waited = time.monotonic() + STOP_WAIT_S
        while time.monotonic() < waited and _status(client, job_id) not in TERMINAL:
            time.sleep(POLL_S)


def request_for(project: Any, model: Any, videos: Sequence[str] | None, workers: int | None, stride: int,
                batch_size: int, calibrate: bool, segment_seconds: float, segment_frames: int | None,
                retries: int, gpus_per_worker: float = 0.0) -> JobRequest:
    """The :class:`JobRequest` of scoring ``videos`` of ``project`` with ``model`` (a pinned ScoringRun)."""
    return JobRequest(project=str(Path(project.folder).resolve()), run_dir=str(Path(model.run_dir).resolve()),
                      fingerprint=model.fingerprint, scorer=model.scorer, error=model.spec.error,
                      runtime=model.runtime, videos=None if videos is None else list(videos), stride=stride,
                      batch_size=batch_size, calibrate=calibrate, segment_seconds=segment_seconds,
                      segment_frames=segment_frames, retries=retries, workers=workers,
                      gpus_per_worker=gpus_per_worker)


def _job(request: JobRequest) -> Any:
    """What the job runs: the run's model checked against the submitted fingerprint, then :func:`score_archive`
    on the cluster this job belongs to."""
    import dataclasses

    from core.distributed.archive import archive_run, score_archive
    from core.inference.anomaly.project_scoring import run_model
    from core.project import Project

    project = Project.open(request.project, read_only=True)
    try:
        model = archive_run(project, run_model(project.folder, request.run_dir, request.scorer), error=request.error)
        if model.fingerprint != request.fingerprint:
            raise ScoreError(f"{model.model_path}: the run's model file is not the one submitted (it changed since): "
                             "submit again")
        if request.runtime:
            model = dataclasses.replace(model, runtime=request.runtime)
        last = [0.0, 0.0]  # when the last line was printed, and its frames done

        def tell(report: Progress) -> None:
            now = time.monotonic()
            first = last[1] == 0 < report.done  # the first segment in: at once, the job is under way
            if first or now - last[0] >= PROGRESS_EVERY_S or (report.total is not None and report.done >= report.total):
                last[0], last[1] = now, report.done
                print(PROGRESS_TAG + json.dumps({"done": report.done, "total": report.total,
                                                 "message": report.message}), flush=True)

        return score_archive(project, model, request.videos, workers=request.workers, address="auto",
                             stride=request.stride, batch_size=request.batch_size, calibrate=request.calibrate,
                             segment_seconds=request.segment_seconds, segment_frames=request.segment_frames,
                             retries=request.retries, gpus_per_worker=request.gpus_per_worker, progress=tell)
    finally:
        project.close()


def main(argv: list[str] | None = None) -> int:
    """The job's entrypoint: ``python -m core.distributed.ray_job REQUEST_JSON``."""
    from core.errors import FramewatchError

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print(f"usage: python -m core.distributed.ray_job REQUEST_JSON (got {len(args)} arguments)", file=sys.stderr)
        return 2
    try:
        done = _job(JobRequest.from_json(args[0]))
    except (FramewatchError, OSError, ValueError) as exc:
        print(ERROR_TAG + last_line(exc), flush=True)
        return 1
    summary = {name: getattr(done, name) for name in ("scored_now", "segments_scored", "segments_reused",
                                                        "videos_cached", "workers", "seconds")}
    print(RESULT_TAG + json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
