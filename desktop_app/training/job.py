"""The training job the panel runs: :func:`train_in_background` and :func:`resume_in_background`.

Both are plain long jobs (``progress``, ``cancel``) that the panel hands to
:class:`desktop_app.jobs.Worker`; they call the same core functions as ``framewatch train``
(:func:`core.training.from_project.train_project` / ``resume_project_run``) and the panel reads only
the :mod:`core.training.events` they send.

Why a worker thread and not a subprocess: the trainer already is a cancellable job whose events are
Python objects, and the project stays open in the app (a run is listed in it as it starts and updated
each epoch, through the project's thread-safe methods), so a thread needs no event serialisation, no
second copy of the project and no lock hand-over. What a subprocess would give, a core kept for the
GUI, the thread gets in two ways: TensorFlow's thread pools are set to the CPU threads chosen in the
panel (all cores but one by default) before anything else runs, and the worker thread lowers its own
scheduling priority (``nice`` +10 on Linux), which the backend's pool threads it starts inherit. The
figure is in ``docs/benchmarks.md`` (``python -m bench gui_training``). The limits: thread pools are
fixed once TensorFlow has run its first operation in the process (the run record's device notes say so
when that happened), and a native crash of the backend would end the app.

Building the options (``DataOptions``, ``TrainingConfig``) happens here, on the worker thread, because
importing the trainer imports Keras (seconds); a bad value raises the trainer's one-line
:class:`~core.training.trainer.ConfigError`, which the panel shows in a dialog.
"""

from __future__ import annotations

import os
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.jobs import ProgressCallback

#: How much the training thread lowers its scheduling priority (Linux ``nice`` increment).
NICE_INCREMENT = 10


@dataclass(frozen=True)
class TrainingRequest:
    """What the panel's form asks for. ``None`` means "the preset's" (or "the whole set")."""

    task: str
    preset: str
    epochs: int = 10
    batch_size: int = 8
    learning_rate: float | None = None
    frames: int | None = None
    height: int | None = None
    width: int | None = None
    grayscale: bool | None = None
    filters: tuple[int, ...] | None = None
    videos: tuple[str, ...] | None = None
    val_fraction: float = 0.2
    steps_per_epoch: int | None = None
    patience: int = 5
    cpu_threads: int | None = None
    mixed_precision: bool = False
    run_name: str | None = None
    device: str = "auto"


@dataclass(frozen=True)
class ResumeRequest:
    """Resume ``run_dir``; ``epochs`` raises the run's total (``None``: its own), ``learning_rate`` replaces it."""

    run_dir: Path
    epochs: int | None = None
    learning_rate: float | None = None
    cpu_threads: int | None = None
    mixed_precision: bool = False


def lower_thread_priority(increment: int = NICE_INCREMENT) -> bool:
    """Lower the calling thread's scheduling priority (Linux: per-thread ``nice``); ``False`` where it cannot."""
    if not hasattr(os, "setpriority") or not hasattr(threading, "get_native_id"):
        return False
    tid = threading.get_native_id()
    try:
        current = os.getpriority(os.PRIO_PROCESS, tid)
        os.setpriority(os.PRIO_PROCESS, tid, min(19, current + increment))
    except OSError:
        return False
    return True


def _on_this_thread(call: Callable[[], Any]) -> Any:
    """Run ``call``; what a failed run leaves in the frames of its exception's traceback (its model, its
    data pipeline and their threads) is let go here, on the training thread, before the exception reaches
    the GUI thread. The traceback keeps its lines, for the error dialog's details. No garbage collection
    here: a collection frees every unreachable cycle of the process, Qt objects included, and those must
    die on the GUI thread (:mod:`desktop_app.jobs.garbage`)."""
    try:
        return call()
    except BaseException as exc:
        traceback.clear_frames(exc.__traceback__)
        raise


def _setup_devices(cpu_threads: int | None, mixed_precision: bool, device: str = "auto") -> None:
    """Thread pools (all cores but one unless told) and precision, before the backend runs anything;
    :class:`ConfigError` for a device the backend does not see."""
    from core.training.devices import configure_devices
    from core.training.trainer import ConfigError

    lower_thread_priority()
    try:
        configure_devices(mixed_precision, reserve_cores=1, cpu_threads=cpu_threads, device=device)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def train_in_background(
    project, request: TrainingRequest, progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> Any:
    """Train a new run of ``project`` as ``request`` says; returns the trainer's ``RunResult``.

    The project is held (the app keeps it open) and not saved by the run: the app's autosave and Save
    keep the run entry; ``run.json`` in the run folder is written every epoch regardless.
    """
    from core.models.registry import filters_field
    from core.training.from_project import DataOptions, train_project
    from core.training.trainer import ConfigError, TrainingConfig

    _setup_devices(request.cpu_threads, request.mixed_precision, request.device)
    if request.learning_rate is not None and not request.learning_rate > 0:
        raise ConfigError(f"learning rate must be a positive number, not {request.learning_rate:g}")
    if request.filters is not None and (not request.filters or min(request.filters) < 1):
        raise ConfigError(f"filters must be whole numbers >= 1, not {','.join(map(str, request.filters)) or 'none'}")
    options = DataOptions(height=request.height, width=request.width, grayscale=request.grayscale,
                          frames=request.frames, val_fraction=request.val_fraction, videos=request.videos)
    config = TrainingConfig(epochs=request.epochs, batch_size=request.batch_size, patience=request.patience,
                            steps_per_epoch=request.steps_per_epoch, mixed_precision=request.mixed_precision,
                            reserve_cores=1, cpu_threads=request.cpu_threads, device=request.device)
    model_options: dict[str, Any] = {"learning_rate": request.learning_rate}
    if request.filters:
        model_options[filters_field(request.task, request.preset)] = request.filters
    return _on_this_thread(lambda: train_project(
        project, request.task, request.preset, model_options=model_options, data_options=options, config=config,
        run_name=request.run_name or None, save_project=False, progress=progress, cancel=cancel))


def resume_in_background(
    project, request: ResumeRequest, progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> Any:
    """Continue ``request.run_dir`` with the data options it was trained with; returns the ``RunResult``."""
    from core.training.from_project import resume_project_run

    _setup_devices(request.cpu_threads, request.mixed_precision)
    return _on_this_thread(lambda: resume_project_run(
        project, request.run_dir, epochs=request.epochs, learning_rate=request.learning_rate, save_project=False,
        progress=progress, cancel=cancel))


@dataclass(frozen=True)
class DeviceSummary:
    """What the backend sees, for the panel: a one-line ``summary``, whether there is a GPU, default threads,
    and each GPU's name (in the backend's order: ``gpu:0`` first)."""

    summary: str
    gpu: bool
    threads: int
    gpus: tuple[str, ...] = ()


def detect_devices() -> DeviceSummary:
    """Ask the backend for its devices (imports it: run off the GUI thread); threads: all cores but one."""
    from core.training.devices import DeviceSetup, backend_name, cpu_threads_for, list_devices

    devices = tuple(list_devices())
    gpu = any(d.kind == "GPU" for d in devices)
    threads = cpu_threads_for(reserve_cores=1)
    setup = DeviceSetup(backend_name(), devices, gpu, mixed_precision=False, cpu_threads=threads)
    gpus = tuple(str(d.details.get("device_name") or d.name) for d in devices if d.kind == "GPU")
    return DeviceSummary(setup.summary, gpu, threads, gpus)
