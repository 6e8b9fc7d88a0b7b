"""Will a training batch fit in memory? Estimate a step's memory, pick a batch that fits, spot out-of-memory errors.

A training step holds the weights, their gradients and Adam's two moments (4 x parameters x 4 bytes)
and, per clip of the batch, every layer's output kept for the backward pass plus the gradients and
work buffers of the backward pass. :func:`estimate_step_bytes` sums the output sizes of every layer of
the built model (one clip, float32) and multiplies them by :data:`ACTIVATION_FACTOR`, measured on the
reference ``stae`` preset on the CPU (TensorFlow 2, 227x227x10 clips: 0.59 GB of layer outputs per
clip; a bare ``fit`` on random clips peaked at 3.25 GB resident at batch 1 and 5.82 GB at batch 2, 4.3x
per clip, while ``framewatch train`` on UCSD Ped2, data pipeline included, held 17.0 GB at batch 4,
6.9x per clip, and was killed at 24.3 GB, still growing, at batch 5: over 7.9x per clip).

:func:`choose_batch` compares the estimate with the memory available (host ``MemAvailable`` and the
cgroup limit on the CPU; the GPU's free memory from ``nvidia-smi`` with a GPU) and returns the largest
batch up to the requested one that fits, or raises :class:`OutOfMemoryError` with one line that says
what would fit (a smaller ``--size``, fewer ``--frames``, another preset). The trainer also catches a
real out-of-memory error in the first steps (:func:`is_out_of_memory`), halves the batch and retries.
"""

from __future__ import annotations

import math
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from core.training.errors import TrainingError

#: Memory of a training step per byte of layer outputs (forward activations kept + backward buffers).
ACTIVATION_FACTOR = 8.5
#: Share of the available memory a run may plan to use (the rest: other programs growing meanwhile,
#: the data pipeline, fragmentation).
USABLE_FRACTION = 0.85
#: Bytes per parameter during training: weights, gradients and Adam's two moments, float32.
PARAMETER_BYTES = 16

GB = 1e9


class OutOfMemoryError(TrainingError):
    """Not even a batch of one clip fits in the memory available; the message says what would."""


def gb(n: float) -> str:
    """``"31 GB"`` / ``"0.6 GB"``: decimal gigabytes, as ``free`` and the GPU tools print them."""
    value = n / GB
    return f"{value:.0f} GB" if value >= 10 else f"{value:.1f} GB"


def layer_output_bytes(model: Any) -> int:
    """Sum of the output sizes of every layer of ``model`` for one sample, in bytes (nested models walked).

    Sizes use each layer's compute dtype (float32: 4 bytes, float16: 2); batch dimensions are left out.
    """
    total = 0
    for layer in model.layers:
        if getattr(layer, "layers", None):  # a nested model (the autoencoder inside its uint8 wrapper)
            total += layer_output_bytes(layer)
            continue
        if layer.__class__.__name__ == "InputLayer":
            continue
        outputs = layer.output if isinstance(layer.output, list | tuple) else [layer.output]
        for out in outputs:
            shape = [d for d in out.shape[1:] if d is not None]
            itemsize = 2 if "16" in str(getattr(layer, "compute_dtype", "float32")) else 4
            total += math.prod(shape) * itemsize
    return total


@dataclass(frozen=True)
class StepEstimate:
    """Bytes a training step needs: ``fixed`` (parameters) + ``per_clip`` x batch."""

    fixed: int
    per_clip: int

    def for_batch(self, batch: int) -> int:
        return self.fixed + self.per_clip * batch


def estimate_step_bytes(model: Any, input_bytes_per_clip: int = 0) -> StepEstimate:
    """The :class:`StepEstimate` of a built Keras ``model`` (see the module doc for the rule)."""
    per_clip = int(layer_output_bytes(model) * ACTIVATION_FACTOR) + input_bytes_per_clip
    return StepEstimate(int(model.count_params()) * PARAMETER_BYTES, per_clip)


def _cgroup_free() -> int | None:
    """Bytes left under a cgroup v2 memory limit, or ``None`` when there is no limit."""
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        used = int(Path("/sys/fs/cgroup/memory.current").read_text())
    except (OSError, ValueError):
        return None
    return None if limit == "max" else max(0, int(limit) - used)


def host_available() -> int | None:
    """``MemAvailable`` of ``/proc/meminfo`` (bounded by a cgroup limit), in bytes; ``None`` if unknown."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                available = int(line.split()[1]) * 1024
                cgroup = _cgroup_free()
                return min(available, cgroup) if cgroup is not None else available
    except (OSError, ValueError, IndexError):
        return None
    return None


def gpu_available() -> int | None:
    """Free memory of the first GPU (``nvidia-smi``), in bytes; ``None`` when it cannot be read."""
    tool = shutil.which("nvidia-smi")
    if tool is None:
        return None
    try:
        out = subprocess.run([tool, "--query-gpu=memory.free", "--format=csv,noheader,nounits"],
                             capture_output=True, text=True, timeout=10, check=True).stdout
        return int(out.split()[0]) * 1024 * 1024
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return None


def available_memory(gpu: bool) -> tuple[int | None, str]:
    """Bytes available to a training step and where: ``"GPU memory"`` or ``"memory"`` (the host's)."""
    return (gpu_available(), "GPU memory") if gpu else (host_available(), "memory")


@dataclass(frozen=True)
class BatchChoice:
    """The batch a run trains with, and why (``reason`` is empty when it is the requested one)."""

    requested: int
    chosen: int
    estimate_requested: int | None = None
    available: int | None = None
    where: str = "memory"
    reason: str = ""

    @property
    def changed(self) -> bool:
        return self.chosen != self.requested

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def choose_batch(requested: int, estimate: StepEstimate, available: int | None, where: str = "memory",
                 alternatives: Callable[[], list[str]] | None = None, shape: str = "") -> BatchChoice:
    """The largest batch <= ``requested`` whose estimate fits ``USABLE_FRACTION`` of ``available``.

    ``available`` ``None`` (unknown) keeps the requested batch. When not even one clip fits, raises
    :class:`OutOfMemoryError`; ``alternatives()`` gives what would fit (e.g. ``"--size 113 (about 5 GB)"``).
    """
    if available is None:
        return BatchChoice(requested, requested, None, None, where)
    budget = available * USABLE_FRACTION
    need = estimate.for_batch(requested)
    if need <= budget:
        return BatchChoice(requested, requested, need, available, where)
    fits = int((budget - estimate.fixed) // estimate.per_clip) if budget > estimate.fixed else 0
    if fits < 1:
        options = alternatives() if alternatives else []
        what = f"; what fits: {', '.join(options)}" if options else "; train with a smaller --size or fewer --frames"
        clip = f" of {shape}" if shape else ""
        raise OutOfMemoryError(f"not enough {where} to train even one clip{clip} at a time: the estimate for batch 1 "
                               f"is {gb(estimate.for_batch(1))}, {gb(available)} available{what}")
    chosen = min(requested, fits)
    reason = (f"requested batch {requested}, trained with {chosen}: the estimate for {requested} is {gb(need)}, "
              f"{gb(available)} {where} available")
    return BatchChoice(requested, chosen, need, available, where, reason)


_OOM_NAMES = ("ResourceExhaustedError", "OutOfMemoryError", "MemoryError")
_OOM_TEXT = ("out of memory", "oom when allocating", "oom ", "resource exhausted", "failed to allocate")


def is_out_of_memory(exc: BaseException) -> bool:
    """Whether ``exc`` (or an exception it was raised from) is an out-of-memory error of TF, NumPy or Python."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, MemoryError) or type(exc).__name__ in _OOM_NAMES:
            return True
        text = str(exc).lower()
        if any(t in text for t in _OOM_TEXT) or text.startswith("oom"):
            return True
        exc = exc.__cause__ or exc.__context__
    return False
