"""Normal spans drive training: a video with spans learns from exactly those frames (less abnormal ones),
holds out time inside them, and the rest of it is scored."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.data import anomaly_batches
from core.data.datasets import plan_hold_out
from core.data.normal_footage import normal_footage
from core.data.spans import frames_in
from core.data.splits import window_splits
from core.preprocessing import PreprocessSpec
from core.project import Project
from tests.video_factory import decode_index, write_video

SPEC = PreprocessSpec(height=48, width=64, grayscale=True)
LENGTH, STEPS, GAP = 4, (1, 2), 6  # a 4-frame window of steps 1 and 2 reads 7 frames: its reach is 6


def shown(batches) -> list[list[int]]:
    """The frame indices of every window of ``batches``, read back from the pixels."""
    x, _ = batches[0]
    return [[decode_index((frame[..., 0] * 255).round().astype(np.uint8)) for frame in clip] for clip in x]


def batches(project: Project, split: str):
    return anomaly_batches(project, SPEC, split, length=LENGTH, frame_steps=STEPS, batch_size=10_000, shuffle=False)


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("span-media")
    write_video(folder / "long.avi", 1000, fps=25)
    write_video(folder / "other.avi", 80, fps=25)
    return folder


def test_a_one_video_project_trains_inside_its_span_holds_out_time_there_and_tests_the_rest(
        tmp_path: Path, media: Path) -> None:
    project = Project.create(tmp_path / "one")
    video = project.add_video(media / "long.avi").id
    project.add_normal_span(video, 0, 600)
    assert window_splits(project.data) == {video: "test"}
    held, _ = plan_hold_out(project, SPEC, length=LENGTH, frame_steps=STEPS)
    assert held.mode == "time" and held.gap == GAP
    assert held.train[video][-1][1] <= 600 and held.held[video][-1][1] <= 600
    assert len(held.held[video]) >= 2 and 0.15 <= frames_in(held.held[video]) / 600 <= 0.3
    train, val, test = (shown(batches(project, split)) for split in ("train", "val", "test"))
    trained = {f for window in train for f in window}
    validated = {f for window in val for f in window}
    assert max(trained) < 600 and max(validated) < 600  # nothing past the span trains or validates
    assert validated <= {f for s, e in held.held[video] for f in range(s, e)}
    assert min(abs(t - v) for t in trained for v in validated) > GAP
    assert len(trained) > 400  # the span trains, less its held-out blocks and their gaps
    tested = {f for window in test for f in window}
    assert tested == set(range(600, 1000))  # the rest of the video is the test footage, all of it


def test_spans_minus_abnormal_frames_whatever_the_split_and_other_videos_keep_their_rule(
        tmp_path: Path, media: Path) -> None:
    project = Project.create(tmp_path / "two")
    long = project.add_video(media / "long.avi", split="val").id  # the analyst's split: kept, spans still rule
    other = project.add_video(media / "other.avi").id
    project.add_normal_span(long, 100, 300)
    project.add_normal_span(long, 250, 400)  # overlapping spans join
    project.add_normal_span(long, 900, 950)
    project.add_interval(long, 120, 130)
    project.set_verdict(long, 930, 935, "confirmed")
    project.set_verdict(long, 500, 502, "rejected")  # a false alarm outside the spans: normal footage too
    splits = window_splits(project.data)
    assert splits == {long: "val", other: "train"}
    footage = normal_footage(project.data, splits, {long: 1000, other: 80}, reach=GAP)
    assert footage == {long: [(100, 120), (130, 400), (494, 508), (900, 930), (935, 950)], other: [(0, 80)]}
    held, _ = plan_hold_out(project, SPEC, length=LENGTH, frame_steps=STEPS)
    assert held.mode == "videos"  # a val video is held out whole: its spans; its rejected event trains
    assert held.held[long] == [(100, 120), (130, 400), (900, 930), (935, 950)]
    assert held.train == {long: [(494, 508)], other: [(0, 80)]}


def test_a_video_without_spans_keeps_whole_video_footage(tmp_path: Path, media: Path) -> None:
    project = Project.create(tmp_path / "none")
    video = project.add_video(media / "other.avi").id
    assert normal_footage(project.data, window_splits(project.data), {video: 80}) == {video: [(0, 80)]}
