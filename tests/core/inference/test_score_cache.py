"""Score caches: found again by model and video, resumable part way, and never wrong (mismatch or damage: none)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.inference.model_fingerprint import model_fingerprint
from core.inference.regularity import Threshold
from core.inference.score_cache import CachedScores, ScoreCache, ScoreKey, scores_dir
from core.models.errors import ModelFileError
from core.project.entities import Fingerprint

VIDEO = Fingerprint(size=123456, mtime_ns=1, digest="ab" * 16)
PARAMS = {"stride": 1, "size": (64, 64)}


@pytest.fixture
def model(tmp_path: Path) -> Path:
    path = tmp_path / "model.keras"
    path.write_bytes(b"weights " * 1000)
    return path


@pytest.fixture
def cache(tmp_path: Path) -> ScoreCache:
    return ScoreCache(tmp_path / "project")


def entry(key: ScoreKey, frames: int = 5, frame_count: int | None = 10) -> CachedScores:
    return CachedScores(key, np.linspace(0.1, 0.5, frames, dtype=np.float32), frame_count,
                        Threshold(0.3, window=3), video_id="v1")


def test_scores_come_back_with_their_threshold_and_progress(cache: ScoreCache, model: Path, tmp_path: Path) -> None:
    key = ScoreKey.of(model, VIDEO, PARAMS)
    cache.write(entry(key))
    npy, meta = cache.paths(key)
    assert npy.parent == scores_dir(tmp_path / "project") == tmp_path / "project" / "cache" / "scores"
    assert npy.is_file() and meta.is_file()
    again = cache.read(ScoreKey.of(model, VIDEO, {"size": [64, 64], "stride": 1}))
    assert again is not None
    assert again.scores.dtype == np.float32 and again.scores.tolist() == entry(key).scores.tolist()
    assert (again.frames_done, again.complete, again.threshold, again.video_id) == (5, False, Threshold(0.3, window=3),
                                                                                     "v1")


def test_a_partly_scored_video_resumes_and_completes(cache: ScoreCache, model: Path) -> None:
    key = ScoreKey.of(model, VIDEO, PARAMS)
    cache.write(entry(key, frames=4))
    resumed = cache.read(key)
    assert resumed is not None and resumed.frames_done == 4 and not resumed.complete
    rest = np.full(6, 0.9, dtype=np.float32)
    cache.write(CachedScores(key, np.concatenate([resumed.scores, rest]), resumed.frame_count))
    done = cache.read(key)
    assert done is not None and done.complete and done.frames_done == 10 and done.scores[-1] == np.float32(0.9)


def test_another_model_video_or_parameters_find_nothing(cache: ScoreCache, model: Path, tmp_path: Path) -> None:
    cache.write(entry(ScoreKey.of(model, VIDEO, PARAMS)))
    retrained = tmp_path / "retrained.keras"
    retrained.write_bytes(b"weights " * 999 + b"WEIGHTS ")
    assert cache.read(ScoreKey.of(retrained, VIDEO, PARAMS)) is None
    other_video = Fingerprint(size=123456, mtime_ns=1, digest="cd" * 16)
    assert cache.read(ScoreKey.of(model, other_video, PARAMS)) is None
    assert cache.read(ScoreKey.of(model, VIDEO, {**PARAMS, "stride": 2})) is None
    # a moved copy of the video (same content, new time) keeps its scores
    moved = Fingerprint(size=123456, mtime_ns=99, digest="ab" * 16)
    assert cache.read(ScoreKey.of(model, moved, PARAMS)) is not None


def test_a_json_claiming_other_parameters_is_not_believed(cache: ScoreCache, model: Path) -> None:
    key = ScoreKey.of(model, VIDEO, PARAMS)
    cache.write(entry(key))
    meta = cache.paths(key)[1]
    meta.write_text(meta.read_text().replace('"stride": 1', '"stride": 3'))
    assert cache.read(key) is None


@pytest.mark.parametrize("damage", ["truncate npy", "garbage json", "empty json", "npy of a crash"])
def test_damaged_cache_files_read_as_none_and_are_replaced(cache: ScoreCache, model: Path, damage: str) -> None:
    key = ScoreKey.of(model, VIDEO, PARAMS)
    cache.write(entry(key))
    npy, meta = cache.paths(key)
    if damage == "truncate npy":
        npy.write_bytes(npy.read_bytes()[:-7])
    elif damage == "garbage json":
        meta.write_bytes(b"\xff{not json")
    elif damage == "empty json":
        meta.write_text("")
    else:  # a crash between the two writes: new scores of the same length beside the old .json
        np.save(npy, np.zeros(5, dtype=np.float32))
    assert cache.read(key) is None
    cache.write(entry(key, frames=3))
    assert cache.read(key) is not None and cache.read(key).frames_done == 3


def test_cache_writes_leave_no_temporary_files(cache: ScoreCache, model: Path) -> None:
    key = ScoreKey.of(model, VIDEO, PARAMS)
    cache.write(entry(key))
    cache.write(entry(key, frames=2))
    assert sorted(p.name for p in cache.folder.iterdir()) == sorted(p.name for p in cache.paths(key))


def test_model_fingerprint_hashes_the_whole_file(tmp_path: Path) -> None:
    a, b = tmp_path / "a.keras", tmp_path / "b.keras"
    content = bytearray(b"x" * (3 << 20))
    a.write_bytes(content)
    content[len(content) // 2] = ord("y")  # one byte in the middle, beyond the first and last MiB
    b.write_bytes(content)
    assert model_fingerprint(a) != model_fingerprint(b)
    copy = tmp_path / "copy.keras"
    copy.write_bytes(a.read_bytes())
    assert model_fingerprint(copy) == model_fingerprint(a)
    with pytest.raises(ModelFileError, match="missing.keras: model file not found"):
        model_fingerprint(tmp_path / "missing.keras")
