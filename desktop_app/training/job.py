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

The requests (:class:`~core.training.request.TrainingRequest`, :class:`~core.training.request.ResumeRequest`)
are made and checked by the panel's form on the GUI thread before a job starts; what only the backend can
tell (a GPU it does not see) raises :class:`~core.training.errors.ConfigError` here, which the panel shows
in a dialog.
"""

from __future__ import annotations

import os
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core.jobs import ProgressCallback
from core.training.request import ResumeRequest, TrainingRequest

#: How much the training thread lowers its scheduling priority (Linux ``nice`` increment).
NICE_INCREMENT = 10


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


def _setup_devices(cpu_threads: int | None, mixed_precision: bool, device: str, reserve_cores: int) -> None:
    """Thread pools and precision, before the backend runs anything; :class:`ConfigError` for a device the
    backend does not see."""
    from core.training.devices import configure_devices
    from core.training.errors import ConfigError

    lower_thread_priority()
    try:
        configure_devices(mixed_precision, reserve_cores=reserve_cores, cpu_threads=cpu_threads, device=device)
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
    from core.training.from_project import train_project

    _setup_devices(request.cpu_threads, request.mixed_precision, request.device, request.reserve_cores)
    return _on_this_thread(lambda: train_project(project, request, save_project=False, progress=progress,
                                                 cancel=cancel))


def resume_in_background(
    project, request: ResumeRequest, progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> Any:
    """Continue ``request.run`` with the data options it was trained with; returns the ``RunResult``."""
    from core.training.from_project import resume_project_run

    _setup_devices(request.cpu_threads, request.mixed_precision, request.device, request.reserve_cores)
    return _on_this_thread(lambda: resume_project_run(
        project, request.run, epochs=request.epochs, learning_rate=request.learning_rate,
        error_level=request.error_level, save_project=False, progress=progress, cancel=cancel))


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
