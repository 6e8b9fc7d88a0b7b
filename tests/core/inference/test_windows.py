"""Window classification and regression of a long video: tiny trained runs, and stand-in models for the rules."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from core.errors import Cancelled
from core.inference.errors import ScoreError
from core.inference.labelling.windows import (
    Decision,
    WindowResult,
    WindowSpec,
    classify_video,
    classify_windows,
    merge_segments,
    window_model,
)
from core.models.files import load_model_file
from core.preprocessing.spec import PreprocessSpec
from core.render.window_video import write_window_video
from core.video.cutting import OutputExistsError
from tests.core.inference.scoring_project import save_run
from tests.core.inference.window_runs import FRAMES, dark_then_bright, write_levels
from tests.video_factory import decode_all

DARK_FRAMES, BRIGHT_FRAMES = 22, 21  # 43 frames: 10 windows of 4 side by side, and one ending at frame 42


@pytest.fixture(scope="module")
def runs(window_runs: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the trained ``classify`` and ``regress`` runs and an (untrained) ``anomaly`` run."""
    folder = tmp_path_factory.mktemp("windows")
    shutil.copytree(window_runs / "runs", folder / "runs", dirs_exist_ok=True)
    save_run(folder, "anomaly")
    return folder


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return dark_then_bright(tmp_path_factory.mktemp("video") / "dark-bright.avi", DARK_FRAMES, BRIGHT_FRAMES)


class Brightness:
    """A stand-in classifier: P(bright) is the clip's mean level in [0, 1] (as the model sees it)."""

    def __init__(self) -> None:
        self.calls = 0

    def predict_on_batch(self, clips: np.ndarray) -> np.ndarray:
        self.calls += 1
        level = np.asarray(clips, np.float64).mean(axis=(1, 2, 3, 4)) / 255.0
        return np.stack([1.0 - level, level], axis=1)


SPEC = WindowSpec("classify", FRAMES, PreprocessSpec(16, 16, grayscale=True), "uint8")


def _partition(windows: list[WindowResult], frames: int) -> None:
    """Every frame is covered by exactly one window, and each window's covered frames lie in its clip or
    after the clip before it."""
    assert windows[0].covers[0] == 0 and windows[-1].covers[1] == frames
    for a, b in zip(windows, windows[1:], strict=False):
        assert a.covers[1] == b.covers[0] and a.covers[0] < a.covers[1]
    assert all(w.stop - w.start == FRAMES and w.start <= w.covers[0] for w in windows)


def test_a_dark_then_bright_video_is_two_segments_with_the_right_labels(runs: Path, video: Path) -> None:
    run = window_model(runs, "classify")
    assert run.spec.task == "classify" and run.class_names == ("dark", "bright") and run.spec.frames == FRAMES
    found = classify_video(load_model_file(run.model_path), video, run)
    assert found.frames == 43 and found.stride == FRAMES and found.fps == pytest.approx(25.0)
    assert [w.start for w in found.windows] == [*range(0, 40, 4), 39]  # the last one ends at the last frame
    assert found.windows[-1].covers == (40, 43)
    _partition(found.windows, 43)
    dark, bright = found.segments
    assert (dark.label, bright.label) == ("dark", "bright") and not dark.uncertain
    assert dark.start == 0 and bright.stop == 43 and dark.stop == bright.start
    assert abs(bright.start - DARK_FRAMES) <= FRAMES  # the boundary within one window
    assert dark.windows + bright.windows == 11
    assert 0.5 < dark.min_confidence <= dark.mean_confidence <= 1.0
    assert dark.start_s == 0.0 and bright.stop_s == pytest.approx(43 / 25)
    assert sum(found.windows[0].probabilities) == pytest.approx(1.0, abs=1e-5)


def test_regression_gives_a_value_per_window(runs: Path, video: Path) -> None:
    run = window_model(runs, "regress")
    model = load_model_file(run.model_path)
    found = classify_video(model, video, run, stride=2)
    assert len(found.windows) == 21 and all(w.label is None for w in found.windows)  # starts 0, 2, ..., 38, 39
    _partition(found.windows, 43)
    values = np.array([w.value for w in found.windows])
    dark, bright = values[:10], values[-10:]  # windows wholly in the dark (starts 0..18), the bright (22..39)
    assert dark.max() < 0.4 < 0.6 < bright.min(), values
    assert len(found.segments) == len(found.windows)  # without bins, a segment per window
    binned = merge_segments(found.windows, bin_width=0.5)
    # the dark windows' bin, then the bright windows' bins (0.8 to learn; a 48-step model puts them near it)
    labels = [s.label for s in binned]
    assert labels[0] == "[0, 0.5)" and "[0, 0.5)" not in labels[1:]
    assert binned[0].min_value <= binned[0].mean_value <= binned[0].max_value < 0.5
    assert all(0.5 <= s.min_value <= s.mean_value <= s.max_value for s in binned[1:])


def test_stand_in_classifier_windows_strides_and_the_last_window(tmp_path: Path) -> None:
    path = write_levels(tmp_path / "v.avi", [20] * 10 + [235] * 9)  # 19 frames
    windows = list(classify_windows(Brightness(), path, SPEC, ("dark", "bright"), stride=3))
    assert [w.start for w in windows] == [0, 3, 6, 9, 12, 15]  # 15 + 4 == 19: no extra last window
    _partition(windows, 19)
    assert [w.covers for w in windows][-2:] == [(12, 15), (15, 19)]
    assert [w.label for w in windows] == ["dark", "dark", "dark", "bright", "bright", "bright"]
    assert windows[3].confidence == pytest.approx(max(windows[3].probabilities))
    # a model's output without a class name is called by its index
    assert {w.label for w in classify_windows(Brightness(), path, SPEC, ("dark",))} == {"dark", "class 1"}


def test_uncertain_windows_form_their_own_segments(tmp_path: Path) -> None:
    path = write_levels(tmp_path / "v.avi", [20] * 8 + [128] * 8 + [235] * 8)
    windows = list(classify_windows(Brightness(), path, SPEC, ("dark", "bright"), min_confidence=0.7))
    assert [w.uncertain for w in windows] == [False, False, True, True, False, False]
    segments = merge_segments(windows)
    assert [(s.label, s.uncertain, s.start, s.stop) for s in segments] == [
        ("dark", False, 0, 8), (None, True, 8, 16), ("bright", False, 16, 24)]
    assert windows[2].text().startswith("uncertain (") and windows[0].text().startswith("dark 0.")


def test_a_decision_threshold_labels_the_class_above_it_and_the_most_likely_other_below(tmp_path: Path) -> None:
    path = write_levels(tmp_path / "v.avi", [20] * 8 + [90] * 8 + [235] * 8)  # P(bright) about 0.1, 0.35, 0.9
    plain = list(classify_windows(Brightness(), path, SPEC, ("dark", "bright")))
    assert [w.label for w in plain] == ["dark", "dark", "dark", "dark", "bright", "bright"]
    decided = list(classify_windows(Brightness(), path, SPEC, ("dark", "bright"), decision=Decision(1, 0.3)))
    assert [w.label for w in decided] == ["dark", "dark", "bright", "bright", "bright", "bright"]
    middle = decided[2]
    assert middle.class_index == 1 and middle.confidence == pytest.approx(middle.probabilities[1])
    assert middle.confidence < 0.5
    assert [w.label for w in classify_windows(Brightness(), path, SPEC, ("dark", "bright"),
                                              decision=Decision(1, 0.95))] == ["dark"] * 6
    # three classes: below the threshold the most likely of the others, not always class 0
    assert Decision(0, 0.6).choose(np.array([0.5, 0.1, 0.4])) == 2
    assert Decision(0, 0.4).choose(np.array([0.5, 0.1, 0.4])) == 0
    for bad in ((1, 1.0), (1, -0.1), (-1, 0.5), (1, float("nan")), (True, 0.5)):
        with pytest.raises(ScoreError, match="decision"):
            Decision(*bad)


def test_a_run_records_decision_is_read_and_used_and_a_bad_one_is_refused(runs: Path, video: Path,
                                                                          tmp_path: Path) -> None:
    folder = tmp_path / "project"
    shutil.copytree(runs / "runs" / "classify", folder / "runs" / "decided")
    record_file = folder / "runs" / "decided" / "run.json"
    record = json.loads(record_file.read_text())
    assert window_model(runs, "classify").decision is None
    model = load_model_file(runs / "runs" / "classify" / "best.keras")
    plain = classify_video(model, video, window_model(runs, "classify")).windows
    bright = sorted({w.probabilities[1] for w in plain})
    threshold = (bright[-2] + bright[-1]) / 2  # only the most certainly bright window(s) stay bright
    record["data"]["decision"] = {"class_index": 1, "threshold": threshold, "chosen_on": "validation clips"}
    record_file.write_text(json.dumps(record))
    run = window_model(folder, "decided")
    assert run.decision == Decision(1, threshold)
    decided = classify_video(model, video, run).windows
    assert [w.label for w in decided] == ["bright" if w.probabilities[1] > threshold else "dark" for w in plain]
    assert 0 < sum(w.label == "bright" for w in decided) < sum(w.label == "bright" for w in plain)
    for bad, problem in (({"class_index": 2, "threshold": 0.5}, "2 classes"), ({"threshold": 0.5}, "class_index"),
                         ({"class_index": 1, "threshold": 2}, "probability")):
        record["data"]["decision"] = bad
        record_file.write_text(json.dumps(record))
        with pytest.raises(ScoreError, match=problem) as caught:
            window_model(folder, "decided")
        assert "run.json" in str(caught.value)


def test_results_stream_while_the_video_is_read_and_cancel_stops(tmp_path: Path) -> None:
    path = write_levels(tmp_path / "v.avi", [20] * 40)
    read: list[float] = []
    stream = classify_windows(Brightness(), path, SPEC, batch_size=1, progress=lambda e: read.append(e.done))
    first = next(stream)
    assert first.index == 0 and first.covers == (0, 4)
    assert max(read) < 40  # the first window came before the video was read to its end
    cancel = threading.Event()
    model = Brightness()
    stream = classify_windows(model, path, SPEC, batch_size=1, cancel=cancel)
    next(stream)
    cancel.set()
    with pytest.raises(Cancelled):
        list(stream)
    assert model.calls < 10


def test_bad_runs_videos_and_options_are_one_line_errors(runs: Path, tmp_path: Path) -> None:
    with pytest.raises(ScoreError, match="run 'anomaly' is a model for the 'anomaly' task.*needs a classify or regress run"):
        window_model(runs, "anomaly")
    short = write_levels(tmp_path / "short.avi", [20] * 3)
    with pytest.raises(ScoreError, match=r"short\.avi: 3 frames, fewer than the 4 needed for one window"):
        list(classify_windows(Brightness(), short, SPEC))
    with pytest.raises(ScoreError, match="stride"):
        list(classify_windows(Brightness(), short, SPEC, stride=5))
    with pytest.raises(ScoreError, match="minimum confidence"):
        list(classify_windows(Brightness(), short, SPEC, min_confidence=1.5))
    with pytest.raises(ScoreError, match="gives no result per window"):
        WindowSpec("anomaly", FRAMES, PreprocessSpec(16, 16))

    class Frames:
        def predict_on_batch(self, clips: np.ndarray) -> np.ndarray:
            return clips

    with pytest.raises(ScoreError, match="not a classify model"):
        list(classify_windows(Frames(), write_levels(tmp_path / "v.avi", [20] * 8), SPEC))


def test_the_annotated_video_has_every_frame_with_its_label_above_it(tmp_path: Path) -> None:
    path = write_levels(tmp_path / "v.avi", [20] * 8 + [235] * 6)  # 14 frames: the last window starts at 10
    windows = list(classify_windows(Brightness(), path, SPEC, ("dark", "bright")))
    output = write_window_video(path, tmp_path / "out.mp4", windows)
    frames = decode_all(output)
    source = decode_all(path)
    assert len(frames) == 14
    factor = 5  # 64 px wide -> enlarged to 320
    strip = frames[0].shape[0] - 48 * factor
    assert frames[0].shape[1] == 64 * factor and 24 <= strip <= 48
    below = cv2.resize(source[12], (64 * factor, 48 * factor), interpolation=cv2.INTER_NEAREST)
    assert np.abs(frames[12][strip:].astype(int) - below.astype(int)).mean() < 8  # the frame itself, unchanged
    assert np.abs(frames[12][:strip].astype(int) - below[:strip].astype(int)).mean() > 100  # the strip differs
    assert np.abs(frames[0][:strip].astype(int) - frames[12][:strip].astype(int)).max() > 100  # other label
    assert np.abs(frames[0][:strip].astype(int) - frames[1][:strip].astype(int)).mean() < 3  # same window
    with pytest.raises(OutputExistsError, match="already exists"):
        write_window_video(path, output, windows)
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        write_window_video(path, tmp_path / "cancelled.mp4", windows, cancel=cancel)
    assert not (tmp_path / "cancelled.mp4").exists() and not list(tmp_path.glob(".cancelled*"))
    with pytest.raises(ScoreError, match="windows cover"):
        write_window_video(path, tmp_path / "short.mp4", windows[:-1])
    assert not (tmp_path / "short.mp4").exists()


def test_windows_of_another_video_do_not_fit(tmp_path: Path) -> None:
    longer = write_levels(tmp_path / "long.avi", [20] * 20)
    windows: list[Any] = list(classify_windows(Brightness(), write_levels(tmp_path / "v.avi", [20] * 12), SPEC))
    with pytest.raises(ScoreError, match="past the 12 frames the windows cover"):
        write_window_video(longer, tmp_path / "out.mp4", windows)
