"""Per-frame scores cached in the project folder, so a scored video reopens at once and scoring resumes.

Layout: ``<project>/cache/scores/<video key>-<model key>-<params key>.npy`` (float32 scores, shape
``(frames_done,)``, frame ``t`` at index ``t``) and a ``.json`` beside it with what they are::

    {"format": "framewatch.scores", "version": 1,
     "model": "<model file fingerprint>", "video": "<video Fingerprint.key>",
     "params": {...scoring parameters: stride, frame size, ...}, "video_id": "...",
     "frames_done": 1200, "frame_count": 3000, "threshold": {...} or null, "digest": "<hash of the .npy>"}

* **Keys.** ``model`` is the content hash of the ``.keras`` file the scores were made with
  (:func:`model_fingerprint`, taken once per scoring, see :mod:`core.inference.model_fingerprint`), ``video`` the
  video's content key (:attr:`~core.project.entities.Fingerprint.key`): a moved video keeps its scores, a
  retrained model or an edited video gets new ones. The parameters are part of the name (a short hash) so
  scores at two strides live side by side, and are compared in full on reading.
* **Partial scores.** ``frames_done < frame_count`` is a video scored part way (a cancelled or crashed
  ``framewatch score --all``); scoring resumes at frame ``frames_done``. ``frame_count`` ``None`` means the
  total was not known.
* **Nothing wrong is ever returned.** :meth:`ScoreCache.read` returns ``None`` when no entry exists, when the
  stored key or parameters differ from the ones asked for, or when either file is damaged (not JSON, a
  truncated ``.npy``, a ``.npy`` that does not match the digest its ``.json`` recorded, as after a crash
  between the two writes), and when either is not a regular file (a named pipe, a device, a symbolic link:
  never opened for reading, so nothing blocks) or its ``.json`` is hostile (over :data:`MAX_META_BYTES`,
  nested past the parser's depth): the caller scores again and the next :meth:`ScoreCache.write` replaces
  the files. Both files are written through :mod:`core.atomic_write`; a write that fails is a
  :class:`~core.inference.errors.ScoreError` naming the file.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.atomic_write import json_default, write_bytes, write_json
from core.inference.anomaly.regularity import Threshold
from core.inference.errors import ScoreError
from core.inference.model_fingerprint import model_fingerprint
from core.project.entities import Fingerprint
from core.regular_file import read_regular_bytes

SCORES_FOLDER = Path("cache") / "scores"
FORMAT = "framewatch.scores"
VERSION = 1
#: The largest ``.json`` of an entry read (a real one is well under a kilobyte): a bigger one is damaged.
MAX_META_BYTES = 1 << 20


def scores_dir(project_folder: str | Path) -> Path:
    """``<project>/cache/scores``: where a project's score caches live."""
    return Path(project_folder) / SCORES_FOLDER


def _plain(params: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` as JSON would give them back (tuples become lists, paths text), so that they compare equal."""
    return json.loads(json.dumps(dict(params), sort_keys=True, default=json_default))


@dataclass(frozen=True)
class ScoreKey:
    """Which scores: a model file's fingerprint, a video's content key and the scoring parameters."""

    model: str
    video: str
    params: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, model_path: str | Path, video: Fingerprint, params: Mapping[str, Any] | None = None) -> ScoreKey:
        """The key of scoring ``video`` with the model file at ``model_path`` (hashed, see :func:`model_fingerprint`)."""
        return cls.of_model(model_fingerprint(model_path), video, params)

    @classmethod
    def of_model(cls, model: str, video: Fingerprint, params: Mapping[str, Any] | None = None) -> ScoreKey:
        """The key of scoring ``video`` with the model whose file has fingerprint ``model``: scoring keys every
        video by the fingerprint of the bytes it loaded, whatever the file holds by the time one is cached."""
        return cls(model, video.key, _plain(params or {}))

    @property
    def stem(self) -> str:
        """The cache files' name without extension."""
        params = hashlib.blake2b(json.dumps(_plain(self.params), sort_keys=True).encode(), digest_size=4).hexdigest()
        return f"{self.video}-{self.model[:16]}-{params}"


@dataclass(frozen=True)
class CachedScores:
    """Scores of one video by one model: ``scores`` float32 ``(frames_done,)`` in the model's error units.

    ``frame_count`` is the video's frame count when known; ``threshold`` the threshold the run flagged with.
    """

    key: ScoreKey
    scores: np.ndarray
    frame_count: int | None = None
    threshold: Threshold | None = None
    video_id: str = ""

    @property
    def frames_done(self) -> int:
        return int(self.scores.shape[0])

    @property
    def complete(self) -> bool:
        """True when every frame is scored (``frames_done == frame_count``)."""
        return self.frame_count is not None and self.frames_done >= self.frame_count


class ScoreCache:
    """The score caches of one project folder (see the module doc for the layout and the rules)."""

    def __init__(self, project_folder: str | Path) -> None:
        self.folder = scores_dir(project_folder)

    def paths(self, key: ScoreKey) -> tuple[Path, Path]:
        """The ``.npy`` and ``.json`` files of ``key``."""
        base = self.folder / key.stem
        return base.with_suffix(".npy"), base.with_suffix(".json")

    def write(self, entry: CachedScores) -> None:
        """Store (or replace) ``entry``: the scores first, then the ``.json`` that vouches for them."""
        scores = np.ascontiguousarray(entry.scores, dtype=np.float32)
        if scores.ndim != 1:
            raise ScoreError(f"scores to cache must be one value per frame, got shape {scores.shape}")
        buffer = io.BytesIO()
        np.save(buffer, scores, allow_pickle=False)
        data = buffer.getvalue()
        npy, meta = self.paths(entry.key)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            write_bytes(npy, data)
            write_json(meta, {
                "format": FORMAT, "version": VERSION, "model": entry.key.model, "video": entry.key.video,
                "params": _plain(entry.key.params), "video_id": entry.video_id,
                "frames_done": int(scores.shape[0]), "frame_count": entry.frame_count,
                "threshold": entry.threshold.to_dict() if entry.threshold is not None else None,
                "digest": hashlib.blake2b(data, digest_size=16).hexdigest(),
            })
        except OSError as exc:  # a full disk, a read-only project, a folder where an entry's file goes
            where = getattr(exc, "filename2", None) or exc.filename or self.folder
            raise ScoreError(f"{where}: cannot write the score cache ({exc.strerror or exc}); remove it or free "
                             "space, then score again") from exc

    def read(self, key: ScoreKey) -> CachedScores | None:
        """The scores cached for ``key``, or ``None`` (none, another key or parameters, or damaged files).

        A cache file that is not a regular file (a named pipe, a device, a symbolic link or a loop of them)
        is never opened for reading, and a hostile ``.json`` (too big, nested past the parser's depth)
        counts as damaged: whatever lies in the cache folder, reading it neither blocks nor raises.
        """
        npy, meta_path = self.paths(key)
        try:
            meta = json.loads(read_regular_bytes(meta_path, MAX_META_BYTES, follow_symlinks=False))
            data = read_regular_bytes(npy, follow_symlinks=False)
        except (OSError, ValueError, RecursionError):  # ValueError: not UTF-8, not JSON
            return None
        try:
            return self._entry(key, meta, data)
        except (ValueError, TypeError, OSError, EOFError, RecursionError, ScoreError):
            return None

    @staticmethod
    def _entry(key: ScoreKey, meta: Any, data: bytes) -> CachedScores | None:
        """The entry ``meta`` (the parsed ``.json``) and ``data`` (the ``.npy``'s bytes) vouch for, if they
        are of ``key`` and agree with each other."""
        if not isinstance(meta, dict) or meta.get("format") != FORMAT or meta.get("version") != VERSION:
            return None
        if (meta.get("model"), meta.get("video"), meta.get("params")) != (key.model, key.video, _plain(key.params)):
            return None
        if meta.get("digest") != hashlib.blake2b(data, digest_size=16).hexdigest():
            return None
        scores = np.load(io.BytesIO(data), allow_pickle=False)
        threshold = Threshold.from_dict(meta["threshold"]) if meta.get("threshold") is not None else None
        frame_count = meta.get("frame_count")
        if (scores.ndim != 1 or scores.dtype != np.float32 or scores.shape[0] != meta.get("frames_done")
                or not (frame_count is None or (isinstance(frame_count, int) and frame_count >= 0))):
            return None
        return CachedScores(key, scores, frame_count, threshold, str(meta.get("video_id", "")))
