"""A model file's content fingerprint: what score caches are keyed by.

Unlike a video's cheap fingerprint (:mod:`core.project.fingerprint`, the ends of the file), a model file
is hashed whole: two checkpoints of one run have the same size and layout and may differ only in their
weights. A 100 MB model hashes in a fraction of a second, and the result is remembered for as long as
the file's size and modification time stay the same.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from core.models.errors import ModelFileError

_CHUNK = 1 << 20
_known: dict[tuple[str, int, int], str] = {}


def model_fingerprint(path: str | Path) -> str:
    """A BLAKE2b hash (32 hex digits) of the whole file; :class:`ModelFileError` if it cannot be read."""
    path = Path(path)
    try:
        st = path.stat()
        memo = (str(path.resolve()), st.st_size, st.st_mtime_ns)
        if memo in _known:
            return _known[memo]
        h = hashlib.blake2b(digest_size=16)
        with open(path, "rb") as f:
            while chunk := f.read(_CHUNK):
                h.update(chunk)
    except FileNotFoundError as exc:
        raise ModelFileError(path, "model file not found") from exc
    except IsADirectoryError as exc:
        raise ModelFileError(path, "is a folder, not a model file") from exc
    except OSError as exc:
        raise ModelFileError(path, f"cannot read the model file: {exc.strerror or exc}") from exc
    _known[memo] = h.hexdigest()
    return _known[memo]
