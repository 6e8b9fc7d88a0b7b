"""Frames decoded ahead on a thread (:func:`iter_prefetched`): the same frames as decoding in line, errors
passed on, and cancel or an early stop ending the thread."""

from __future__ import annotations

import itertools
import threading
from pathlib import Path

import numpy as np
import pytest

from core.errors import Cancelled
from core.preprocessing.frames import iter_prefetched, iter_resized
from core.preprocessing.spec import PreprocessSpec
from core.video import open_video
from tests.video_factory import write_video


def _no_producer_left() -> bool:
    return not any(t.name == "frame-prefetch" for t in threading.enumerate())


@pytest.mark.parametrize("depth", [1, 3, 64])
def test_prefetched_frames_are_exactly_the_frames_decoded_in_line(tmp_path: Path, depth: int) -> None:
    path = write_video(tmp_path / "v.avi", 23)
    spec = PreprocessSpec(16, 24)
    with open_video(path) as video:
        plain = list(iter_resized(video, spec, 2))
    with open_video(path) as video:
        ahead = list(iter_prefetched(iter_resized(video, spec, 2), depth))
    assert len(plain) == len(ahead) == 21
    for a, b in zip(plain, ahead, strict=True):
        np.testing.assert_array_equal(a, b)
    assert _no_producer_left()


def test_cancel_stops_the_producer_and_raises_cancelled() -> None:
    cancel = threading.Event()
    produced = []

    def endless():
        for i in itertools.count():
            produced.append(i)
            yield i

    frames = iter_prefetched(endless(), 4, cancel)
    assert [next(frames) for _ in range(3)] == [0, 1, 2]
    cancel.set()
    with pytest.raises(Cancelled):
        for _ in frames:
            pass
    assert _no_producer_left()
    assert len(produced) <= 3 + 4 + 2  # never ran far ahead: bounded by the buffer


def test_an_early_stop_ends_the_producer_and_errors_come_after_the_frames_before_them() -> None:
    frames = iter_prefetched(itertools.count(), 2)
    assert next(frames) == 0
    frames.close()
    assert _no_producer_left()

    def failing():
        yield 1
        yield 2
        raise ValueError("frame 2 is damaged")

    got = []
    with pytest.raises(ValueError, match="damaged"):
        for item in iter_prefetched(failing(), 8):
            got.append(item)
    assert got == [1, 2]


def test_scoring_with_frames_decoded_ahead_gives_the_same_scores(tmp_path: Path) -> None:
    from core.inference.anomaly.scoring import ScoringSpec, score_video
    from tests.core.inference.scoring_project import tiny_model, tiny_spec

    path = write_video(tmp_path / "v.avi", 19)
    for task in ("anomaly", "predict"):
        spec = ScoringSpec.from_run(tiny_spec(task).to_dict(), {"preprocess": {"height": 16, "width": 16}})
        model = tiny_model(task)
        plain = [(s.index, s.error) for s in score_video(model, path, spec, batch_size=3, prefetch=0)]
        ahead = [(s.index, s.error) for s in score_video(model, path, spec, batch_size=3, prefetch=5)]
        assert plain == ahead and len(plain) == 19
