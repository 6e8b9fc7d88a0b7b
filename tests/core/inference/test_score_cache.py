"""Score caches: found again by model and video, resumable part way, and never wrong (mismatch or damage: none)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.inference.anomaly.regularity import Threshold
from core.inference.anomaly.score_cache import CachedScores, ScoreCache, ScoreKey, scores_dir
from core.inference.model_fingerprint import model_fingerprint
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


# -- hostile cache folders: nothing blocks, nothing raises ----------------------------------------
def _unblock(fifo: Path) -> None:
    """Let a reader blocked on ``fifo`` go (it sees an empty file), so a failing test ends instead of hanging."""
    import contextlib
    import os

    with contextlib.suppress(OSError):
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))


def read_in_thread(cache: ScoreCache, key: ScoreKey, fifos: list[Path]) -> tuple[bool, object]:
    """``cache.read(key)`` on another thread: ``(finished, result or exception)``; a read still blocked on
    one of ``fifos`` after a generous wait is let go and reported as not finished."""
    import threading

    outcome: list[object] = []

    def read() -> None:
        try:
            outcome.append(cache.read(key))
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            outcome.append(exc)

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    thread.join(60)
    finished = not thread.is_alive()
    while thread.is_alive():
        for fifo in fifos:
            _unblock(fifo)
        thread.join(1)
    return finished, outcome[0]


@pytest.mark.skipif(not hasattr(__import__("os"), "mkfifo"), reason="named pipes are POSIX")
@pytest.mark.parametrize("which", ["json", "npy"])
def test_a_named_pipe_in_the_cache_is_a_miss_and_never_blocks(cache: ScoreCache, model: Path, which: str) -> None:
    import os

    key = ScoreKey.of(model, VIDEO, PARAMS)
    cache.write(entry(key))
    npy, meta = cache.paths(key)
    fifo = meta if which == "json" else npy
    fifo.unlink()
    os.mkfifo(fifo)
    finished, result = read_in_thread(cache, key, [fifo])
    assert finished, "reading the cache blocked on a named pipe"
    assert result is None
    cache.write(entry(key, frames=3))  # the next write replaces the pipe by a file
    assert fifo.is_file() and cache.read(key).frames_done == 3


def test_symbolic_links_and_link_loops_in_the_cache_are_misses(cache: ScoreCache, model: Path, tmp_path: Path) -> None:
    key = ScoreKey.of(model, VIDEO, PARAMS)
    cache.write(entry(key))
    npy, meta = cache.paths(key)
    outside = tmp_path / "outside.json"
    outside.write_bytes(meta.read_bytes())
    meta.unlink()
    meta.symlink_to(outside)  # a valid entry, but not a file of the cache: not read
    assert cache.read(key) is None
    meta.unlink()
    loop = meta.with_name("loop")
    loop.symlink_to(meta)
    meta.symlink_to(loop)
    assert cache.read(key) is None
    meta.unlink()
    cache.write(entry(key, frames=2))
    assert cache.read(key).frames_done == 2


@pytest.mark.parametrize("where", ["whole file", "threshold"])
def test_deeply_nested_json_in_an_entry_is_a_miss_not_a_recursion_error(cache: ScoreCache, model: Path,
                                                                        where: str) -> None:
    import json

    key = ScoreKey.of(model, VIDEO, PARAMS)
    cache.write(entry(key))
    meta = cache.paths(key)[1]
    deep = "[" * 200_000 + "]" * 200_000
    if where == "whole file":
        meta.write_text(deep)
    else:
        text = json.dumps(json.loads(meta.read_text()))
        meta.write_text(text.replace('"threshold": {', f'"threshold": {{"smoothing": {deep}, ', 1))
    assert cache.read(key) is None


def test_an_oversized_entry_is_a_miss_without_being_parsed(cache: ScoreCache, model: Path) -> None:
    from core.inference.anomaly.score_cache import MAX_META_BYTES

    key = ScoreKey.of(model, VIDEO, PARAMS)
    cache.write(entry(key))
    meta = cache.paths(key)[1]
    meta.write_text(meta.read_text() + " " * MAX_META_BYTES)
    assert cache.read(key) is None


def test_a_folder_where_an_entry_goes_is_a_score_error_naming_it(cache: ScoreCache, model: Path) -> None:
    from core.inference.errors import ScoreError

    key = ScoreKey.of(model, VIDEO, PARAMS)
    meta = cache.paths(key)[1]
    (meta / "inside").mkdir(parents=True)
    assert cache.read(key) is None
    with pytest.raises(ScoreError, match=f"{meta.name}: cannot write the score cache"):
        cache.write(entry(key))
