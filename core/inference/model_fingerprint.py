"""A model file's content fingerprint: what score caches are keyed by; and loading exactly the bytes hashed.

Unlike a video's cheap fingerprint (:mod:`core.project.fingerprint`, the ends of the file), a model file
is hashed whole: two checkpoints of one run have the same size and layout and may differ only in their
weights. A 100 MB model hashes in a fraction of a second, and the result is remembered for as long as
the file is the same file (device, inode) with the same size, modification and change times.

A training run may replace a model file at any moment (``best.keras`` after every better epoch). Scores
must be keyed by the model that made them, not by the file as it is when they are written: scoring takes
the fingerprint once (:meth:`ScoringRun.pinned <core.inference.anomaly.project_scoring.ScoringRun.pinned>`) and loads
the model with :func:`load_fingerprinted`, which hashes the very bytes it loads, so the two can be compared.
Both read the file through :func:`~core.regular_file.open_regular`: a named pipe where a model file should
be is refused, never waited on.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from core.models.errors import ModelFileError
from core.regular_file import NotARegularFile, open_regular

_CHUNK = 1 << 20
_known: dict[tuple[str, int, int, int, int, int], str] = {}


def _open(path: Path) -> BinaryIO:
    """``path`` opened for reading, or :class:`ModelFileError` saying why it cannot be."""
    try:
        return open_regular(path)
    except FileNotFoundError as exc:
        raise ModelFileError(path, "model file not found") from exc
    except NotARegularFile as exc:
        if exc.kind == "a folder":
            raise ModelFileError(path, "is a folder, not a model file") from exc
        raise ModelFileError(path, f"is {exc.kind}, not a model file") from exc
    except OSError as exc:
        raise ModelFileError(path, f"cannot read the model file: {exc.strerror or exc}") from exc


def _hash_copy(path: Path, f: BinaryIO, copy: BinaryIO | None = None) -> str:
    """The fingerprint of what is read from ``f`` (to its end), each chunk also written to ``copy``."""
    h = hashlib.blake2b(digest_size=16)
    try:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
            if copy is not None:
                copy.write(chunk)
    except OSError as exc:
        raise ModelFileError(path, f"cannot read the model file: {exc.strerror or exc}") from exc
    return h.hexdigest()


def model_fingerprint(path: str | Path) -> str:
    """A BLAKE2b hash (32 hex digits) of the whole file; :class:`ModelFileError` if it cannot be read."""
    path = Path(path)
    with _open(path) as f:
        st = os.fstat(f.fileno())
        memo = (str(path.resolve()), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        if memo not in _known:
            _known[memo] = _hash_copy(path, f)
    return _known[memo]


def load_fingerprinted(path: str | Path, load_model: Callable[[Path], Any]) -> tuple[Any, str]:
    """The model in file ``path``, read once, and the fingerprint of exactly the bytes it was loaded from.

    Keras loads models from a path, and the file at ``path`` may be replaced while it does: the bytes are
    hashed as they are copied to a private temporary file, and ``load_model`` loads that copy. Errors name
    ``path``: :class:`ModelFileError` for a file that cannot be read or loaded.
    """
    path = Path(path)
    with tempfile.TemporaryDirectory(prefix="framewatch-model-") as folder:
        copy = Path(folder) / path.name
        with _open(path) as f, open(copy, "wb") as out:
            fingerprint = _hash_copy(path, f, out)
        try:
            model = load_model(copy)
        except ModelFileError as exc:
            raise ModelFileError(path, exc.problem) from exc
    return model, fingerprint
