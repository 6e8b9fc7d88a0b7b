"""TensorFlow's start-up chatter stays off the terminal; other stderr output does not."""

from __future__ import annotations

import os
import subprocess
import sys

from core.quiet_tensorflow import is_noise
from tests.conftest import REPO


def test_known_start_up_lines_are_noise_and_others_are_not() -> None:
    noise = [
        "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
        "I0000 00:00:1795449868.003004   10124 port.cc:153] oneDNN custom operations are on.",
        "I0000 00:00:1795449868.003376   10124 cudart_stub.cc:31] Could not find cuda drivers on your machine",
        "E0000 00:00:1795449870.187548   10124 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error",
        "To enable the following instructions: AVX2 AVX512F FMA, in other operations, rebuild TensorFlow",
    ]
    kept = [
        "E0000 00:00:1795449870.187548   10124 bfc_allocator.cc:52] Out of memory while trying to allocate",
        "Traceback (most recent call last):",
        "ImportError: libcudnn.so.9: cannot open shared object file",
    ]
    assert all(is_noise(line) for line in noise)
    assert not any(is_noise(line) for line in kept)


def test_framewatch_devices_prints_no_tensorflow_chatter() -> None:
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    result = subprocess.run([sys.executable, "-m", "core.cli.main", "devices"], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("backend   tensorflow")
    assert "I0000" not in result.stderr and "cuInit" not in result.stderr and "absl" not in result.stderr


def test_retracing_warnings_are_dropped_and_other_tensorflow_warnings_kept(caplog) -> None:
    import logging

    from core.quiet_tensorflow import import_tensorflow_quietly

    import_tensorflow_quietly()
    logger = logging.getLogger("tensorflow")
    with caplog.at_level(logging.WARNING, logger="tensorflow"):
        logger.warning("5 out of the last 9 calls to <function f> triggered tf.function retracing. Tracing is expensive")
        logger.warning("Detecting that an object or model or tf.train.Checkpoint is being deleted")
    assert [r.getMessage()[:9] for r in caplog.records] == ["Detecting"]
