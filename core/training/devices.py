"""What the training backend sees (CPUs, GPUs) and how training uses it.

:func:`configure_devices` turns GPU memory growth on, switches to mixed precision (``mixed_float16``)
only when a GPU is present and it is asked for, and sets CPU thread pools so that ``reserve_cores``
cores stay free (the desktop app reserves one for the GUI). Thread pools can only be set before the
backend runs its first operation; when that is too late the setup says so in ``notes``.
``device`` chooses where the model trains: ``"auto"`` (the backend's choice: its first GPU if it sees
one), ``"cpu"`` (the CPU even when a GPU is there, leaving the GPU to other work) or ``"gpu"`` /
``"gpu:N"``; :func:`check_device` refuses a GPU the backend does not see, and the trainer places the
model with ``keras.device`` (:attr:`DeviceSetup.placement`), which every Keras backend honours.
TensorFlow is imported inside the functions, never at module import.
"""

from __future__ import annotations

import os
import platform
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class DeviceInfo:
    name: str
    kind: str  # "CPU" or "GPU"
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DeviceSetup:
    """What :func:`configure_devices` did, for run records and the ``devices`` command."""

    backend: str
    devices: tuple[DeviceInfo, ...]
    gpu: bool
    mixed_precision: bool
    cpu_threads: int | None
    notes: tuple[str, ...] = ()
    #: The ``keras.device`` name training is placed on (``None``: the backend's choice).
    placement: str | None = None

    @property
    def summary(self) -> str:
        gpus = [d for d in self.devices if d.kind == "GPU"]
        if self.placement == "cpu:0":
            gpus = []
        elif self.placement is not None and self.placement.startswith("gpu:"):
            gpus = [gpus[int(self.placement[4:])]]
        where = f"{len(gpus)} GPU ({', '.join(str(g.details.get('device_name', g.name)) for g in gpus)})" if gpus else "CPU"
        extra = ", mixed precision" if self.mixed_precision else ""
        threads = f", {self.cpu_threads} threads" if self.cpu_threads and not gpus else ""
        return f"{self.backend} on {where}{threads}{extra}"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["summary"] = self.summary
        return data


def backend_name() -> str:
    import keras

    return keras.backend.backend()


def list_devices() -> list[DeviceInfo]:
    """Physical devices the backend sees (TensorFlow: CPUs and GPUs with their details)."""
    backend = backend_name()
    if backend != "tensorflow":
        cpu = DeviceInfo("cpu:0", "CPU", {"backend": backend, "processor": platform.processor()})
        return [cpu, *_accelerators(backend)]
    import tensorflow as tf

    found = []
    for device in tf.config.list_physical_devices():
        details: dict[str, Any] = {}
        if device.device_type == "GPU":
            try:
                details = dict(tf.config.experimental.get_device_details(device))
            except Exception as exc:  # noqa: BLE001 - details are best effort
                details = {"error": str(exc)}
        else:
            details = {"logical_cores": os.cpu_count(), "processor": platform.processor() or platform.machine()}
        found.append(DeviceInfo(device.name, device.device_type, details))
    return found


def _accelerators(backend: str) -> list[DeviceInfo]:
    """The GPUs JAX or PyTorch sees (none on their CPU builds, or when the backend cannot be asked)."""
    found: list[DeviceInfo] = []
    try:
        if backend == "jax":
            import jax

            gpus = [d for d in jax.devices() if d.platform in ("gpu", "cuda", "rocm")]
            found = [DeviceInfo(f"gpu:{i}", "GPU", {"backend": backend, "device_kind": d.device_kind})
                     for i, d in enumerate(gpus)]
        elif backend == "torch":
            import torch

            found = [DeviceInfo(f"gpu:{i}", "GPU", {"backend": backend, "device_name": torch.cuda.get_device_name(i)})
                     for i in range(torch.cuda.device_count())]
    except Exception:  # noqa: BLE001 - no accelerator runtime: the CPU only
        return []
    return found


def cpu_threads_for(reserve_cores: int = 0, cpu_threads: int | None = None) -> int:
    """Threads for training on the CPU: ``cpu_threads`` if given, else all cores minus ``reserve_cores`` (>= 1)."""
    if cpu_threads:
        return max(1, int(cpu_threads))
    return max(1, (os.cpu_count() or 1) - max(0, reserve_cores))


#: What ``device`` takes (plus ``gpu:N``).
DEVICE_CHOICES = ("auto", "cpu", "gpu")


def parse_device(device: str) -> tuple[str, int | None]:
    """``("auto"|"cpu"|"gpu", GPU index or None)`` of a device choice; ``ValueError`` naming a bad one."""
    text = str(device).strip().lower()
    if text in DEVICE_CHOICES:
        return text, 0 if text == "gpu" else None
    kind, _, index = text.partition(":")
    if kind == "gpu" and index.isdigit():
        return "gpu", int(index)
    raise ValueError(f"device must be auto, cpu, gpu or gpu:N, not {device!r}")


def check_device(device: str, devices: list[DeviceInfo] | tuple[DeviceInfo, ...]) -> str | None:
    """The ``keras.device`` name for ``device`` among the ``devices`` the backend sees (``None`` for auto);
    ``ValueError`` for a malformed choice or a GPU that is not there."""
    kind, index = parse_device(device)
    if kind == "auto":
        return None
    if kind == "cpu":
        return "cpu:0"
    gpus = [d for d in devices if d.kind == "GPU"]
    if not gpus:
        raise ValueError(f"device {device}: the backend sees no GPU (train on the CPU, or with auto)")
    if index >= len(gpus):
        raise ValueError(f"device {device}: the backend sees {len(gpus)} GPU{'s' if len(gpus) != 1 else ''} "
                         f"(gpu:0{f' to gpu:{len(gpus) - 1}' if len(gpus) > 1 else ''})")
    return f"gpu:{index}"


def configure_devices(
    mixed_precision: bool = False, reserve_cores: int = 0, cpu_threads: int | None = None, device: str = "auto"
) -> DeviceSetup:
    """Memory growth on every GPU, mixed precision when asked and a GPU is used, CPU thread pools, and
    the placement of ``device`` (see the module doc; ``ValueError`` for a device that is not there).

    Safe to call more than once; settings the backend no longer accepts are reported in ``notes``.
    """
    import keras

    backend = keras.backend.backend()
    notes: list[str] = []
    devices = list_devices()
    placement = check_device(device, devices)
    gpu = any(d.kind == "GPU" for d in devices) and placement != "cpu:0"
    threads = cpu_threads_for(reserve_cores, cpu_threads)
    if backend == "tensorflow":
        import tensorflow as tf

        for device in tf.config.list_physical_devices("GPU"):
            try:
                tf.config.experimental.set_memory_growth(device, True)
            except RuntimeError:
                notes.append(f"memory growth of {device.name} not changed: the GPU is already initialised")
        try:
            if tf.config.threading.get_intra_op_parallelism_threads() != threads:
                tf.config.threading.set_intra_op_parallelism_threads(threads)
                tf.config.threading.set_inter_op_parallelism_threads(min(2, threads))
        except RuntimeError:
            current = tf.config.threading.get_intra_op_parallelism_threads()
            notes.append(f"CPU threads not changed to {threads}: TensorFlow already runs (using {current or 'all'})")
    elif cpu_threads or reserve_cores:
        notes.append(f"thread settings are only applied on the TensorFlow backend, not {backend}")
    use_mixed = bool(mixed_precision and gpu)
    if mixed_precision and not gpu:
        notes.append("mixed precision asked for but no GPU found: training in float32")
    keras.mixed_precision.set_global_policy("mixed_float16" if use_mixed else "float32")
    return DeviceSetup(backend, tuple(devices), gpu, use_mixed, threads, tuple(notes), placement)


def library_versions() -> dict[str, str]:
    """Versions of the libraries a run depends on, for run records."""
    import keras
    import numpy

    from core import __version__

    versions = {
        "framewatch": __version__,
        "python": platform.python_version(),
        "keras": keras.__version__,
        "keras_backend": keras.backend.backend(),
        "numpy": numpy.__version__,
    }
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        versions["tensorflow"] = tf.__version__
    return versions
