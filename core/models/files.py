"""Model files: load them safely (``safe_mode=True``) with clear errors, save them atomically.

Training writes checkpoints with :func:`save_model`; scoring, evaluation, the GUI and training read
them with :func:`load_model_file`. ``load_model_file(path)`` accepts ``.keras`` archives (Keras 3) and legacy ``.h5`` files. A missing
file, a file that is not a Keras model, or one saved by an incompatible Keras version raises
:class:`~core.models.errors.ModelFileError` naming the file and the problem. Framewatch's custom
layers (:mod:`core.models.layers`) are registered, so its own models load without Lambda layers.
"""

from __future__ import annotations

import json
import zipfile
import zlib
from pathlib import Path
from typing import Any

from core.atomic_write import atomic_output
from core.models.errors import ModelFileError


def keras_file_metadata(path: str | Path) -> dict[str, Any]:
    """``metadata.json`` of a ``.keras`` archive (``keras_version``, ``date_saved``), or raise ModelFileError."""
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "config.json" not in names:
                raise ModelFileError(path, "not a Keras model file (a zip archive without config.json)")
            metadata = json.loads(archive.read("metadata.json")) if "metadata.json" in names else {}
    except zipfile.BadZipFile as exc:
        raise ModelFileError(path, "not a Keras model file, or a truncated one (.keras files are zip archives; "
                                   f"this one cannot be read as one: {exc})") from exc
    except (OSError, EOFError, zlib.error, ValueError) as exc:  # damaged members, unreadable metadata.json
        raise ModelFileError(path, f"damaged Keras model file: {type(exc).__name__}: {exc}") from exc
    if not isinstance(metadata, dict):
        raise ModelFileError(path, "damaged Keras model file: metadata.json is not a JSON object")
    return metadata


def load_model_file(path: str | Path, compile: bool = False) -> Any:
    """Load a Keras model with ``safe_mode=True`` (no arbitrary code from Lambda layers), or a motion run's
    ``.npz`` motion model (:func:`core.motion.model.load_motion_model`, read without pickle)."""
    path = Path(path)
    if not path.exists():
        raise ModelFileError(path, "model file not found")
    if path.is_dir():
        raise ModelFileError(path, "is a folder; a TensorFlow SavedModel folder cannot be loaded by Keras 3: "
                                   "export it to a .keras file")
    suffix = path.suffix.lower()
    if suffix == ".npz":
        from core.motion.model import load_motion_model

        return load_motion_model(path)
    if suffix not in (".keras", ".h5", ".hdf5"):
        raise ModelFileError(path, f"not a Keras model file (expected .keras or .h5, got '{suffix or 'no suffix'}')")
    import keras

    import core.models.block_predictor  # noqa: F401 - registers the block predictors' layers
    import core.models.frame_input  # noqa: F401 - registers the uint8 input layer and its losses
    import core.models.layers  # noqa: F401 - registers Framewatch's custom layers

    saved_by = ""
    if suffix == ".keras":
        saved_by = str(keras_file_metadata(path).get("keras_version", ""))
        major = saved_by.split(".")[0]
        if major and major.isdigit() and int(major) != int(keras.__version__.split(".")[0]):
            raise ModelFileError(path, f"saved by Keras {saved_by}; this is Keras {keras.__version__}, which cannot "
                                       "read it. Re-save it with a matching Keras version")
    try:
        return keras.saving.load_model(path, compile=compile, safe_mode=True)
    except ModelFileError:
        raise
    except Exception as exc:
        version = f" (saved by Keras {saved_by}, this is {keras.__version__})" if saved_by else ""
        if suffix != ".keras":
            problem = f"not a loadable Keras model{version}: {type(exc).__name__}: {exc}"
        elif "Lambda" in str(exc) or "safe_mode" in str(exc):
            problem = f"refused: it contains Lambda layers, which could run arbitrary code (safe mode){version}"
        else:
            problem = f"cannot be loaded as a Keras model{version}: {type(exc).__name__}: {exc}"
        raise ModelFileError(path, problem) from exc


def save_model(model: Any, path: str | Path) -> None:
    """``model.save`` (optimizer included) to a temporary ``.keras`` file, then renamed onto ``path``.

    Through :mod:`core.atomic_write`: a crash mid-write leaves the previous file in place.
    """
    with atomic_output(Path(path)) as tmp:
        model.save(tmp)
