"""Faster runtimes for scoring: a Keras model exported for ONNX Runtime or OpenVINO, and loaded back as an
object with Keras's ``predict_on_batch(batch) -> np.ndarray``, so scoring feeds it exactly as it feeds Keras.

``framewatch export-run --format onnx|openvino`` (:func:`core.runs.export.export_run`) writes, next to
``model.keras`` (and ``error_level.keras``), ``model.onnx`` or ``model.xml`` + ``model.bin`` (OpenVINO's IR),
and records each in ``run.json`` (``data["runtime"]``) with the fingerprint of the Keras file it came from
and of the file written (:func:`export_record`). Scoring uses an export only while both fingerprints still
match (:func:`fresh_export`): a stale one (the Keras file replaced since) is never used.

* ONNX: Keras 3's ``model.export(format="onnx")`` (tf2onnx under the TensorFlow backend; ``onnx`` and
  ``tf2onnx`` to export, ``onnxruntime`` to score).
* OpenVINO: ``openvino.convert_model`` of the Keras model (it traces it as TensorFlow does), saved without
  fp16 weight compression; nearest upsampling (a repeat: ``Tile`` and reshapes) becomes ``Interpolate``
  (:mod:`core.models.openvino_graph`: the same values, about a third less time in bf16 for the shipped model). The ``openvino`` runtime compiles it with ``INFERENCE_PRECISION_HINT=f32``: on CPUs
  with bf16 support OpenVINO would otherwise compute in bf16, whose per-pixel outputs differ from TensorFlow's
  by about 5e-3. The ``openvino-bf16`` runtime scores the same export in bf16 on purpose, on a CPU that
  computes bf16 natively (AVX-512 BF16 or AMX; refused elsewhere, where OpenVINO would emulate it slowly):
  about half the CPU time of f32 per frame. Its scores differ from Keras's by up to 2% of a frame's score (Ped2's test frames), so they are
  cached under their own key (:func:`score_precision`) and never mixed with f32 scores.

The model's input (``uint8`` frames for Framewatch's models) keeps its type and shape, batch size free.
The packages are optional (``pip install "framewatch[runtime]"``); a missing one is a
:class:`RuntimeMissing` naming what to install.
"""

from __future__ import annotations

import functools
import importlib
import threading
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import FramewatchError
from core.models.errors import ModelFileError

#: The runtimes scoring can use; ``keras`` is the model file itself.
RUNTIMES = ("keras", "onnx", "openvino", "openvino-bf16")
#: What scoring uses when not told (``ScoringRun.runtime == ""``): this runtime's export when the run has a
#: fresh one and it can run here (the package installed; for bf16, a CPU that computes it natively), else Keras.
#: Chosen by ``python -m bench runtime`` and ``python -m bench fusion`` (docs/benchmarks.md, docs/inference.md):
#: on this 2-core AVX-512 CPU, scoring the shipped model, ONNX Runtime is slower than TensorFlow with oneDNN,
#: OpenVINO in f32 about 1.3x as fast and OpenVINO in bf16 about 2.4x, with the Ped2 AUC within 0.001. A run
#: scores in bf16 only after ``framewatch export-run --format openvino``; ``--runtime keras`` opts out.
DEFAULT_RUNTIME = "openvino-bf16"
#: The export formats (runtimes other than Keras).
FORMATS = ("onnx", "openvino")
#: The export format each runtime other than Keras scores from, and the precision it computes in.
_RUNTIME_FORMAT = {"onnx": ("onnx", "f32"), "openvino": ("openvino", "f32"), "openvino-bf16": ("openvino", "bf16")}
#: What ``run.json``'s ``data`` holds the exports under.
RECORD_KEY = "runtime"
#: The packages each format needs to be exported and to be scored with.
_EXPORT_PACKAGES = {"onnx": ("onnx", "tf2onnx", "onnxruntime"), "openvino": ("openvino",)}
_RUN_PACKAGES = {"onnx": ("onnxruntime",), "openvino": ("openvino",)}
_SUFFIX = {"onnx": ".onnx", "openvino": ".xml"}
_ONNX_TYPES = {"tensor(uint8)": np.uint8, "tensor(float)": np.float32, "tensor(double)": np.float64}


class RuntimeMissing(FramewatchError):
    """A runtime's Python package is not installed; the message says what to install."""


def require(fmt: str, export: bool = False) -> None:
    """:class:`RuntimeMissing` unless the packages ``fmt`` needs (to export, or only to score) import."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown runtime format {fmt!r}: use one of {', '.join(FORMATS)}")
    missing = []
    for name in (_EXPORT_PACKAGES if export else _RUN_PACKAGES)[fmt]:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    if missing:
        raise RuntimeMissing(f"the {fmt} runtime needs {' and '.join(missing)}: pip install \"framewatch[runtime]\" "
                             f"(or pip install {' '.join(missing)})")


def runtime_format(runtime: str) -> str:
    """The export format runtime ``runtime`` scores from (``openvino-bf16``: ``openvino``)."""
    if runtime not in _RUNTIME_FORMAT:
        raise ValueError(f"unknown runtime {runtime!r}: use one of {', '.join(RUNTIMES)}")
    return _RUNTIME_FORMAT[runtime][0]


def score_precision(runtime: str) -> str:
    """The precision runtime ``runtime`` computes in: ``f32`` (Keras, ONNX Runtime, OpenVINO as exported) or
    ``bf16``; scores computed in another precision than f32 are keyed by it in the score cache."""
    return _RUNTIME_FORMAT.get(runtime, ("", "f32"))[1]


def require_runtime(runtime: str) -> None:
    """:class:`RuntimeMissing` unless ``runtime`` can score here: its package imports, and for a bf16 runtime
    the CPU computes bf16 natively."""
    require(runtime_format(runtime))
    if score_precision(runtime) == "bf16" and not native_bf16():
        raise RuntimeMissing(f"the {runtime} runtime needs a CPU that computes bf16 natively (AVX-512 BF16 or "
                             "AMX), which this one does not: score with --runtime openvino or keras")


@functools.cache
def native_bf16() -> bool:
    """Whether OpenVINO's CPU plugin computes bf16 natively on this machine (asked once per process)."""
    import openvino as ov

    try:
        return "BF16" in ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")
    except RuntimeError:  # no CPU plugin
        return False


def export_file(keras_path: Path, fmt: str) -> Path:
    """The file ``fmt``'s export of ``keras_path`` is written to, beside it (``model.onnx``, ``model.xml``)."""
    return keras_path.with_suffix(_SUFFIX[fmt])


def _sample_input(model: Any) -> np.ndarray:
    spec = model.inputs[0]
    shape = [1 if dim is None else int(dim) for dim in spec.shape]
    return np.zeros(shape, dtype=str(spec.dtype))


def export_model(model: Any, keras_path: Path, fmt: str) -> list[Path]:
    """Write Keras ``model`` (loaded from ``keras_path``) in format ``fmt`` beside ``keras_path``; the files
    written (the one :func:`load_runtime_model` reads first). :class:`RuntimeMissing` without the packages,
    :class:`ModelFileError` naming ``keras_path`` when the conversion fails."""
    require(fmt, export=True)
    target = export_file(keras_path, fmt)
    model.predict_on_batch(_sample_input(model))  # Keras exports only a model that has been called
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the converters' notes on input names and deprecated numpy aliases
            if fmt == "onnx":
                model.export(str(target), format="onnx", verbose=False)
                return [target]
            import openvino as ov

            spec = model.inputs[0]
            shape = [-1 if dim is None else int(dim) for dim in spec.shape]
            converted = ov.convert_model(model, input=[(shape, ov.Type(np.dtype(str(spec.dtype))))])
            ov.save_model(_with_interpolate(converted, model), str(target), compress_to_fp16=False)
            return [target, target.with_suffix(".bin")]
    except (ValueError, TypeError, RuntimeError, OSError) as exc:
        raise ModelFileError(keras_path, f"cannot be exported for {fmt}: {type(exc).__name__}: {exc}") from exc


def _with_interpolate(converted: Any, model: Any) -> Any:
    """``converted`` with Keras's nearest upsampling (a repeat: ``Tile`` and reshapes) as OpenVINO's
    ``Interpolate`` (:mod:`core.models.openvino_graph`), if it gives the same outputs on random clips; else as
    it is."""
    from core.models.openvino_graph import nearest_upsampling_to_interpolate, same_outputs

    rewritten = converted.clone()
    if not nearest_upsampling_to_interpolate(rewritten):
        return converted
    sample = _sample_input(model)
    rng = np.random.default_rng(0)
    sample = np.concatenate([sample] * 2)
    if sample.dtype == np.uint8:
        sample = rng.integers(0, 256, sample.shape, dtype=np.uint8)
    else:
        sample = rng.random(sample.shape).astype(sample.dtype)
    return rewritten if same_outputs(converted, rewritten, sample) else converted


class RuntimeModel:
    """A model exported for ONNX Runtime or OpenVINO, with Keras's ``predict_on_batch``; ``precision``
    ``bf16`` compiles an OpenVINO export to compute in bf16."""

    def __init__(self, path: Path, fmt: str, precision: str = "f32") -> None:
        require(fmt)
        if precision not in ("f32", "bf16") or (precision == "bf16" and fmt != "openvino"):
            raise ValueError(f"no {precision} precision for the {fmt} runtime")
        self.path, self.format, self.precision = Path(path), fmt, precision
        try:
            if fmt == "onnx":
                import onnxruntime as ort

                options = ort.SessionOptions()
                options.log_severity_level = 3
                self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
                first = self._session.get_inputs()[0]
                self._input = first.name
                self._dtype = np.dtype(_ONNX_TYPES.get(first.type, np.float32))
            else:
                import openvino as ov

                self._core = ov.Core()
                self._compiled = self._core.compile_model(str(path), "CPU", self._openvino_config())
                self._dtype = np.dtype(self._compiled.inputs[0].get_element_type().to_dtype())
                self._static_batch: int | None = None
                self._static: Any = None
                self._lock = threading.Lock()
        except Exception as exc:  # noqa: BLE001 - each runtime raises its own types for a bad file
            raise ModelFileError(path, f"cannot be loaded by {fmt}: {type(exc).__name__}: {exc}") from exc

    def _openvino_config(self) -> dict[str, str]:
        return {"INFERENCE_PRECISION_HINT": self.precision}

    def _openvino_for(self, batch: int) -> Any:
        """The compiled model for a batch of ``batch`` clips: one compiled for exactly that batch size when it is
        the first size this model was given (scoring sends every batch of a video at one size but the last),
        the export's free-batch compilation for any other. OpenVINO runs a fixed shape faster (no shape
        inference at each call, kernels chosen for the shape: about 1.4x on the shipped model's error-level
        model in bf16, a few percent on the model, docs/inference.md)."""
        with self._lock:
            if self._static_batch is None:
                self._static_batch = batch
                try:
                    model = self._core.read_model(str(self.path))
                    dims = list(model.inputs[0].get_partial_shape())
                    if len(model.inputs) == 1 and dims and dims[0].is_dynamic and all(d.is_static for d in dims[1:]):
                        model.reshape({model.inputs[0]: [batch, *(d.get_length() for d in dims[1:])]})
                        self._static = self._core.compile_model(model, "CPU", self._openvino_config())
                except RuntimeError:  # a graph that cannot take a fixed batch: the free-batch one serves
                    self._static = None
            return self._static if batch == self._static_batch and self._static is not None else self._compiled

    def predict_on_batch(self, batch: Any) -> np.ndarray:
        x = np.ascontiguousarray(np.asarray(batch, dtype=self._dtype))
        if self.format == "onnx":
            return np.asarray(self._session.run(None, {self._input: x})[0])
        return np.asarray(self._openvino_for(len(x))(x)[0])


def load_runtime_model(path: Path, runtime: str) -> RuntimeModel:
    """The exported model at ``path`` (``model.onnx``, ``model.xml``) for ``runtime`` (one of :data:`RUNTIMES`
    but Keras)."""
    require_runtime(runtime)
    return RuntimeModel(path, runtime_format(runtime), score_precision(runtime))


def export_record(folder: Path, keras_name: str, written: list[Path], keras_fingerprint: str) -> dict[str, str]:
    """What ``run.json`` records of one export: the file, its fingerprint, and the Keras file's it came from."""
    from core.inference.model_fingerprint import model_fingerprint

    return {"source": keras_name, "source_fingerprint": keras_fingerprint, "file": written[0].name,
            "fingerprint": model_fingerprint(written[0]),
            **({"weights": written[1].name, "weights_fingerprint": model_fingerprint(written[1])}
               if len(written) > 1 else {})}


def fresh_export(folder: Path, entry: Any, keras_path: Path, keras_fingerprint: str) -> Path | None:
    """The exported file ``entry`` (a :func:`export_record`) records, if it was made from ``keras_path`` with
    fingerprint ``keras_fingerprint`` and its files are unchanged since; ``None`` if missing or stale."""
    from core.inference.model_fingerprint import model_fingerprint

    if not isinstance(entry, dict) or entry.get("source") != keras_path.name:
        return None
    if entry.get("source_fingerprint") != keras_fingerprint:
        return None
    for name_key, print_key in (("file", "fingerprint"), ("weights", "weights_fingerprint")):
        name = entry.get(name_key)
        if name is None and name_key == "weights":
            continue
        if not isinstance(name, str) or Path(name).name != name:
            return None
        try:
            if model_fingerprint(folder / name) != entry.get(print_key):
                return None
        except ModelFileError:
            return None
    return folder / entry["file"]
