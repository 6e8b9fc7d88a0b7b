"""Device detection and setup for training."""

from __future__ import annotations

import os

import keras

from core.training.devices import configure_devices, cpu_threads_for, library_versions, list_devices


def test_the_cpu_is_always_listed() -> None:
    devices = list_devices()
    assert any(d.kind == "CPU" for d in devices)
    assert all(d.kind in ("CPU", "GPU") for d in devices)


def test_threads_leave_reserved_cores_free() -> None:
    cores = os.cpu_count() or 1
    assert cpu_threads_for() == cores
    assert cpu_threads_for(reserve_cores=1) == max(1, cores - 1)
    assert cpu_threads_for(reserve_cores=cores + 5) == 1
    assert cpu_threads_for(reserve_cores=1, cpu_threads=3) == 3


def test_mixed_precision_only_with_a_gpu() -> None:
    setup = configure_devices(mixed_precision=True)
    try:
        if setup.gpu:
            assert setup.mixed_precision and keras.mixed_precision.global_policy().name == "mixed_float16"
        else:
            assert not setup.mixed_precision
            assert keras.mixed_precision.global_policy().name == "float32"
            assert any("no GPU" in note for note in setup.notes)
        assert setup.backend == keras.backend.backend()
        assert setup.summary.startswith(setup.backend)
        assert setup.to_dict()["summary"] == setup.summary
    finally:
        configure_devices()
    assert keras.mixed_precision.global_policy().name == "float32"


def test_library_versions_name_what_a_run_depends_on() -> None:
    versions = library_versions()
    assert versions["keras"] == keras.__version__ and versions["keras_backend"] == keras.backend.backend()
    assert {"framewatch", "python", "numpy"} <= set(versions)
