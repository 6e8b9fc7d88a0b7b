"""Device detection and setup for training."""

from __future__ import annotations

import os

import keras
import pytest

from core.training.devices import (
    DeviceInfo,
    check_device,
    configure_devices,
    cpu_threads_for,
    library_versions,
    list_devices,
    parse_device,
)


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


def test_a_device_choice_is_checked_against_what_the_backend_sees() -> None:
    cpu = (DeviceInfo("/physical_device:CPU:0", "CPU"),)
    two = cpu + (DeviceInfo("/physical_device:GPU:0", "GPU"), DeviceInfo("/physical_device:GPU:1", "GPU"))
    assert check_device("auto", cpu) is None and check_device("cpu", two) == "cpu:0"
    assert check_device("gpu", two) == "gpu:0" and check_device("GPU:1", two) == "gpu:1"
    with pytest.raises(ValueError, match="sees no GPU"):
        check_device("gpu", cpu)
    with pytest.raises(ValueError, match=r"sees 2 GPUs \(gpu:0 to gpu:1\)"):
        check_device("gpu:2", two)
    for bad in ("tpu", "gpu:x", "gpu:-1", ""):
        with pytest.raises(ValueError, match="device must be auto, cpu, gpu or gpu:N"):
            parse_device(bad)


def test_training_on_the_cpu_is_placed_there_and_recorded() -> None:
    setup = configure_devices(device="cpu")
    assert setup.placement == "cpu:0" and not setup.gpu and " on CPU" in setup.summary
    assert configure_devices().placement is None
    if not any(d.kind == "GPU" for d in list_devices()):
        with pytest.raises(ValueError, match="sees no GPU"):
            configure_devices(device="gpu")
