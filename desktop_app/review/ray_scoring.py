"""Score videos on Ray workers: the choice of workers (or a cluster), remembered, and the job it runs.

Review > **Score Videos on Ray Workers...** asks, in :class:`RayScoringDialog`, which videos (all, or those
selected in the Videos list), the number of workers of a local Ray started for the job, or the address of an
existing Ray cluster, and each worker's share of a GPU, remembered per user in the app's ``QSettings`` (:func:`remembered`,
:func:`remember`). The job, :func:`score_all_on_ray`, runs off the GUI thread
under the usual progress dialog: :func:`core.distributed.archive.score_archive` scores the videos (and the
calibration footage) in segments on the workers into the project's score cache, then
:func:`~core.inference.anomaly.project_scoring.score_project` finds every video's scores there and only
calibrates, flags and writes ``events.json``, as the CLI's ``framewatch score --all --workers N`` does; the
chart and the Events panel then show them exactly as after a local scoring.

The progress dialog reads ``segments done/total, frames/s, time left`` (:class:`RateProgress`). Cancel kills the
workers and shuts down the local Ray the job started; the segments already scored stay in the project's segment
cache, so the next run resumes from them. Ray is the optional ``cluster`` extra: without it the action is
disabled and its tooltip names the install command (:func:`~core.distributed.ray_import.ray_available` looks
for Ray without importing it; Ray is imported only by the job).
"""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from core.distributed.ray_import import INSTALL
from core.inference.anomaly.project_scoring import ProjectScores, ScoringRun, score_project
from core.jobs import Progress, ProgressCallback

#: QSettings keys of the choice, per user (all projects).
WORKERS_KEY = "review/ray_workers"
CLUSTER_KEY = "review/ray_cluster"
GPUS_KEY = "review/ray_gpus_per_worker"
#: The largest GPU share the dialog offers a worker (as the CLI's --gpus-per-worker).
MAX_GPU_SHARE = 8.0
#: Shown on the disabled action when Ray is not installed.
MISSING_TIP = f'Scoring on Ray workers needs Ray, which is not installed: {INSTALL}'


@dataclass(frozen=True)
class RayChoice:
    """Where to score: ``workers`` actors of a local Ray (``address`` empty), or on the cluster at ``address``
    (``workers``: that many actors); ``gpus_per_worker``: each actor's share of a GPU (0: CPU workers)."""

    workers: int
    address: str = ""
    gpus_per_worker: float = 0.0


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


def remembered(settings: QSettings) -> RayChoice:
    """The choice last made (the machine's CPUs and a local Ray the first time)."""
    try:
        workers = int(settings.value(WORKERS_KEY, default_workers()))
    except (TypeError, ValueError):
        workers = default_workers()
    try:
        gpus = float(settings.value(GPUS_KEY, 0.0))
    except (TypeError, ValueError):
        gpus = 0.0
    gpus = gpus if 0.0 <= gpus <= MAX_GPU_SHARE else 0.0  # also NaN: a damaged setting is no share
    return RayChoice(max(1, workers), str(settings.value(CLUSTER_KEY, "") or "").strip(), gpus)


def remember(settings: QSettings, choice: RayChoice) -> None:
    settings.setValue(WORKERS_KEY, choice.workers)
    settings.setValue(CLUSTER_KEY, choice.address)
    settings.setValue(GPUS_KEY, choice.gpus_per_worker)


class RayScoringDialog(QDialog):
    """Which videos (all, or the ``selected`` ones of the Videos list), Workers: N (local Ray), and an optional
    cluster address; OK scores, Cancel does nothing."""

    def __init__(self, choice: RayChoice, parent: QWidget | None = None, videos: int = 0, selected: int = 0) -> None:
        super().__init__(parent)
        self.setWindowTitle("Score Videos on Ray Workers")
        layout = QVBoxLayout(self)
        note = QLabel("Each worker loads the model once and scores segments of the videos. Cancel keeps the "
                      "segments already scored: the next run resumes from them.")
        note.setWordWrap(True)
        layout.addWidget(note)
        form = QFormLayout()
        self.scope = QComboBox()
        self.scope.addItem(f"All {videos} video{'s' if videos != 1 else ''}", "all")
        if selected:
            self.scope.addItem(f"The {selected} video{'s' if selected != 1 else ''} selected in the Videos list",
                               "selected")
        self.scope.setToolTip("The videos to score; the run's calibration footage is scored too unless a "
                              "threshold was set by hand")
        form.addRow("Videos:", self.scope)
        self.workers = QSpinBox()
        self.workers.setRange(1, 4096)
        self.workers.setValue(choice.workers)
        self.workers.setSuffix(" (local Ray)")
        self.workers.setToolTip("Ray workers, one CPU each; without a cluster address a local Ray of this many "
                                "CPUs is started for the job and stopped at its end")
        form.addRow("Workers:", self.workers)
        self.address = QLineEdit(choice.address)
        self.address.setPlaceholderText("empty: a local Ray; or auto, HOST:6379, http://HEAD:8265 (Ray Jobs)")
        self.address.setToolTip("An existing Ray cluster, joined from the app (auto, HOST:6379, ray://HOST:10001) "
                                "or given the scoring as a Ray job (its dashboard address, http://HEAD:8265); its "
                                "nodes must see the project folder at the same path as this computer "
                                "(docs/scaling.md)")
        self.address.textChanged.connect(self._on_address)
        form.addRow("Cluster address:", self.address)
        self.gpus = QDoubleSpinBox()
        self.gpus.setRange(0.0, MAX_GPU_SHARE)
        self.gpus.setDecimals(2)
        self.gpus.setSingleStep(0.25)
        self.gpus.setValue(choice.gpus_per_worker)
        self.gpus.setSpecialValueText("none (CPU workers)")
        self.gpus.setToolTip("Each worker's share of a GPU (0.25: four workers share a GPU); none: the workers "
                             "score on the CPU and see no GPU. Refused at once where Ray has no GPU")
        form.addRow("GPUs per worker:", self.gpus)
        layout.addLayout(form)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self._on_address(choice.address)

    def _on_address(self, text: str) -> None:
        self.workers.setSuffix(" (on the cluster)" if text.strip() else " (local Ray)")

    @property
    def only_selected(self) -> bool:
        return self.scope.currentData() == "selected"

    def choice(self) -> RayChoice:
        return RayChoice(self.workers.value(), self.address.text().strip(), round(self.gpus.value(), 2))


class RateProgress:
    """Forwards the archive's progress with ``frames/s`` and the time left added to its message, as the CLI's
    bar shows them (the rate over the frames scored since the first report)."""

    def __init__(self, progress: ProgressCallback | None, clock=time.monotonic) -> None:
        self.progress = progress
        self.clock = clock
        self._first: tuple[float, float] | None = None

    def __call__(self, event: Progress) -> None:
        if self.progress is None:
            return
        now = self.clock()
        if self._first is None:
            self._first = (now, event.done)
        parts = [event.message] if event.message else []
        began, first_done = self._first
        elapsed, frames = now - began, event.done - first_done
        if elapsed > 0 and frames > 0:
            rate = frames / elapsed
            parts.append(f"{rate:,.0f} frames/s")
            if event.total:
                parts.append(f"{_duration(max(0.0, event.total - event.done) / rate)} left")
        self.progress(dataclasses.replace(event, message=", ".join(parts)))


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def score_all_on_ray(project: Any, run: ScoringRun, choice: RayChoice, progress: ProgressCallback | None = None,
                     cancel: threading.Event | None = None, archive: dict[str, Any] | None = None,
                     on_archive: Any = None, videos: list[str] | None = None, **scoring: Any) -> ProjectScores:
    """Score ``videos`` (ids; ``None``: every video of ``project``) with ``run`` on Ray (``choice``), then
    calibrate, flag and write the events as :func:`score_project` does with ``scoring`` (``percentile``,
    ``threshold``, ``min_run``...): the events of the videos not scored now stay in ``events.json``.
    ``archive``: more keywords for :func:`~core.distributed.archive.score_archive` (``segment_seconds``...);
    ``on_archive`` hears what it did (an :class:`~core.distributed.archive.ArchiveScoring`)."""
    from core.distributed.archive import score_archive

    done = score_archive(project, run, videos, workers=choice.workers, address=choice.address or None,
                         gpus_per_worker=choice.gpus_per_worker,
                         stride=scoring.get("stride"), calibrate="threshold" not in scoring,
                         progress=RateProgress(progress), cancel=cancel,
                         **({"batch_size": scoring["batch_size"]} if "batch_size" in scoring else {}),
                         **(archive or {}))
    if on_archive is not None:
        on_archive(done)
    result = score_project(project, run, videos, progress=progress, cancel=cancel, **scoring)
    return dataclasses.replace(result, videos=[
        dataclasses.replace(video, scored_now=video.scored_now + done.scored_now.get(video.video_id, 0))
        for video in result.videos])
