"""Import TensorFlow without its start-up chatter on the terminal.

TensorFlow's C++ runtime writes lines such as ``I0000 ... oneDNN custom operations are on`` and
``E0000 ... failed call to cuInit`` (on every machine without a GPU) to the process's standard error
before its own log level is read. Analysts read those as failures. :func:`import_tensorflow_quietly`
raises TensorFlow's C++ log threshold to warnings-and-errors (unless ``TF_CPP_MIN_LOG_LEVEL`` is set)
and filters the known start-up lines out of what the import writes; anything else it writes is
passed through unchanged, so real problems stay visible. It also drops TensorFlow's Python-logger warning that
"N out of the last M calls ... triggered tf.function retracing": a job that builds several models (an error
level fitted once per fold) traces each once, as it must, and the warning's advice is for TensorFlow
programmers, not for the person running the job.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
import tempfile

#: Start-up lines that say nothing a user must act on.
_NOISE = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\)"
    r"|[IW]\d{4} [\d:. ]+\d+ \S+\.cc:\d+\]"
    r"|E\d{4} [\d:. ]+\d+ cuda_\w+\.cc:\d+\] failed call to cuInit"
    r"|To enable the following instructions:)"
)


class _DropRetracing(logging.Filter):
    """Drops the ``tensorflow`` logger's retracing warnings (module doc)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "triggered tf.function retracing" not in record.getMessage()


def quiet_retracing() -> None:
    """Install the retracing filter on TensorFlow's Python logger (once)."""
    logger = logging.getLogger("tensorflow")
    if not any(isinstance(f, _DropRetracing) for f in logger.filters):
        logger.addFilter(_DropRetracing())


def is_noise(line: str) -> bool:
    """True for a TensorFlow start-up line that :func:`import_tensorflow_quietly` drops."""
    return bool(_NOISE.match(line))


def import_tensorflow_quietly() -> None:
    """Import TensorFlow and Keras (if the Keras backend is TensorFlow) with start-up noise filtered."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    quiet_retracing()
    if "tensorflow" in sys.modules or os.environ.get("KERAS_BACKEND", "tensorflow") != "tensorflow":
        return
    with tempfile.TemporaryFile() as captured:
        with contextlib.suppress(AttributeError, ValueError, OSError):
            sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(captured.fileno(), 2)
        try:
            with contextlib.suppress(ImportError):
                import keras  # noqa: F401
                import tensorflow as tf

                tf.config.list_physical_devices()  # device discovery logs now, not in the middle of a job
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            kept = [line for line in captured.read().decode("utf-8", "replace").splitlines() if not is_noise(line)]
            if kept:
                print("\n".join(kept), file=sys.stderr)
