"""Cross-fitted calibration errors: the held-out frames scored by error levels that never learned from them.

A run's error level (:mod:`core.models.error_level`) is fitted on the windows of the normal footage the run held
out of its training, and the threshold is calibrated on those same frames: divided by a level that learned
them, they look more normal than new footage does, and the threshold comes out low. When a run held out
several blocks, :func:`~core.training.error_level.fit_error_level` therefore also fits one level per **fold**
of the blocks (up to :data:`MAX_FOLDS`, the blocks dealt out in turn), each on the other folds' windows, and
scores each block's windows with the level of its own fold, which never saw them. Those per-frame errors, for
every frame error (:data:`~core.inference.anomaly.scoring.ERRORS`), are kept in the run folder's
:data:`CALIBRATION_FILE` with the fingerprint of the run's own level; new footage is still scored by that one
level (fitted on every block). Scoring calibrates the threshold on them (:func:`cross_fitted_parts`) when
they belong to the level the run scores with and cover exactly the footage it calibrates on; otherwise (a
level refitted since, e.g. from verdicts; footage added to the calibration) it slices the scored videos as
before. Measured on issue 18's scenes in docs/benchmarks.md ("Scoring variants").

The file is a NumPy ``.npz`` read with ``allow_pickle=False``: ``meta`` (a JSON string: the level's
fingerprint and one entry per block: the video's content key, the block ``[start, end)``, its first scored
frame and its fold) and ``block{i}_{error}`` float32 arrays, frame ``first + j`` at index ``j``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

#: The run folder's file of cross-fitted calibration errors.
CALIBRATION_FILE = "error_level_calibration.npz"
#: The most folds the held-out blocks are dealt into (each fold's level is one more fit of the level).
MAX_FOLDS = 4
FORMAT = "framewatch-cross-fitted-calibration"


def save_calibration(path: Path, level_fingerprint: str, blocks: Sequence[dict[str, Any]],
                     errors: Sequence[dict[str, np.ndarray]]) -> None:
    """Write :data:`CALIBRATION_FILE` at ``path``: ``blocks[i]`` (``content``, ``start``, ``end``, ``first``,
    ``fold``) and its series ``errors[i]`` (``{frame error: (frames,) array}``)."""
    meta = {"format": FORMAT, "level": level_fingerprint, "blocks": list(blocks)}
    arrays = {f"block{i}_{name}": np.asarray(series, np.float32)
              for i, by_error in enumerate(errors) for name, series in by_error.items()}
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(tmp, meta=np.array(json.dumps(meta)), **arrays)
    tmp.replace(path)


def load_calibration(path: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]] | None:
    """The meta and arrays of :data:`CALIBRATION_FILE` at ``path``; ``None`` when there is none or it is not
    such a file (scoring then calibrates as without one)."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            arrays = {key: np.asarray(data[key]) for key in data.files if key != "meta"}
    except (OSError, ValueError, KeyError):
        return None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT or not isinstance(meta.get("blocks"), list):
        return None
    return meta, arrays


def cross_fitted_parts(run: Any, footage: Sequence[tuple[Any, list[tuple[int, int]] | None]]) -> list[np.ndarray] | None:
    """The calibration series of ``footage`` (``[(video, spans)]``, as
    :func:`~core.inference.anomaly.project_scoring.calibration_footage` gives it) from ``run``'s cross-fitted
    errors, one per span in order, in the run's frame error; ``None`` unless the run scores with the very level
    they were made for (``run.spec.error_level``, its pinned fingerprint) and they hold every span."""
    blocks = cross_fitted_blocks(run, footage)
    return None if blocks is None else [series for _, series in blocks]


def cross_fitted_blocks(run: Any, footage: Sequence[tuple[Any, list[tuple[int, int]] | None]]
                        ) -> list[tuple[int, np.ndarray]] | None:
    """:func:`cross_fitted_parts` with where each series starts: ``[(first frame - span start, series)]``, one
    per span in order (a block's first frames have no window inside it, so no cross-fitted error)."""
    level = getattr(run.spec, "error_level", "")
    if not level or not footage:
        return None
    found = load_calibration(Path(run.run_dir) / CALIBRATION_FILE)
    if found is None:
        return None
    meta, arrays = found
    if meta.get("level") != level:
        return None
    index = {(b.get("content"), int(b.get("start", -1)), int(b.get("end", -1))): i for i, b in enumerate(meta["blocks"])}
    blocks = []
    for video, spans in footage:
        if spans is None:
            return None
        for start, end in spans:
            i = index.get((video.fingerprint.key, int(start), int(end)))
            series = None if i is None else arrays.get(f"block{i}_{run.spec.error}")
            if series is None:
                return None
            offset = max(0, int(meta["blocks"][i].get("first", start)) - int(start))
            blocks.append((offset, np.asarray(series, np.float64)))
    return blocks
