"""Held-out normal footage for window-task runs: whole videos when there are enough, else time blocks inside
each video, a window's reach away from every trained frame; deterministic from the footage's content."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.data import anomaly_batches, next_frame_batches
from core.data.datasets import plan_hold_out
from core.data.held_out import MAX_BLOCKS, replay_held_out, time_blocks
from core.data.spans import frames_in, merge
from core.preprocessing import PreprocessSpec
from core.project import Project
from tests.video_factory import decode_index, write_video

SPEC = PreprocessSpec(height=48, width=64, grayscale=True)
#: A 4-frame window with frame steps 1 and 2 reads 7 frames: its reach (and the gap) is 6.
LENGTH, STEPS, GAP = 4, (1, 2), 6


def shown(batches) -> dict[str, list[list[int]]]:
    """``{video id: [frame indices of each window]}``, read back from the pixels."""
    x, _ = batches[0]
    samples = batches.samples
    windows: dict[str, list[list[int]]] = {}
    for i in range(len(x)):
        video_id = samples.video_ids[samples.video_index[i]]
        frames = [decode_index((frame[..., 0] * 255).round().astype(np.uint8)) for frame in x[i]]
        windows.setdefault(video_id, []).append(frames)
    return windows


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("held-media")
    for n, frames in enumerate((200, 120, 90, 80, 70, 60)):
        write_video(folder / f"v{n}.avi", frames, fps=10)
    return folder


def project_of(folder: Path, media: Path, names: list[str], split: str | None = "train") -> Project:
    project = Project.create(folder)
    for name in names:
        project.add_video(media / f"{name}.avi", split=split)
    return project


def batches(project: Project, split: str, **kwargs):
    return anomaly_batches(project, SPEC, split, length=LENGTH, frame_steps=STEPS, batch_size=10_000, shuffle=False,
                           **kwargs)


def test_time_blocks_lie_inside_the_span_spread_through_it_with_room_for_their_gaps() -> None:
    for length in range(1, 400, 7):
        for gap in (0, 3, 9, 27):
            for fraction in (0.1, 0.2, 0.5):
                blocks = time_blocks(100, 100 + length, fraction, gap, "content")
                assert len(blocks) <= MAX_BLOCKS
                for (_, end), (following, _) in zip(blocks, blocks[1:], strict=False):
                    assert end + 2 * gap <= following  # their gaps never overlap the next block
                for part, (start, end) in enumerate(blocks):
                    assert end - start >= gap + 1  # each holds one window of the longest step
                    assert 100 + gap <= start and end + gap <= 100 + length
                    low = 100 + part * length // len(blocks)  # one block in each equal part of the span
                    assert low <= start < 100 + (part + 1) * length // len(blocks)
                if blocks:
                    assert length - frames_in(blocks) - 2 * gap * len(blocks) >= gap + 1  # a training window is left
    blocks = time_blocks(0, 1000, 0.2, 9, "content")
    assert len(blocks) == MAX_BLOCKS and abs(frames_in(blocks) - 200) <= MAX_BLOCKS
    assert blocks == time_blocks(0, 1000, 0.2, 9, "content") and blocks != time_blocks(0, 1000, 0.2, 9, "other")
    assert time_blocks(0, 20, 0.2, 9, "content") == []  # too short: it trains whole


def test_a_one_video_project_holds_out_time_blocks_away_from_every_training_window(tmp_path: Path,
                                                                                   media: Path) -> None:
    project = project_of(tmp_path / "one", media, ["v0"])
    (video,) = project.videos
    held, _ = plan_hold_out(project, SPEC, length=LENGTH, frame_steps=STEPS)
    assert held.mode == "time" and held.gap == GAP
    blocks = held.held[video]
    assert 2 <= len(blocks) <= MAX_BLOCKS and blocks[-1][1] < 200 and blocks[0][0] < 100  # spread, not only the end
    assert 0.18 <= frames_in(blocks) / 200 <= 0.3
    train, val = shown(batches(project, "train")), shown(batches(project, "val"))
    assert set(train) == set(val) == {video}
    trained = {f for window in train[video] for f in window}
    validated = {f for window in val[video] for f in window}
    assert validated <= {f for s, e in blocks for f in range(s, e)}
    assert min(abs(t - v) for t in trained for v in validated) > GAP  # no window within a reach of the other side
    assert trained | validated | {f for s, e in blocks for f in range(s - GAP, e + GAP)} >= set(range(200))
    # a next-frame run holds out alike, with its own reach
    frame_val = shown(next_frame_batches(project, SPEC, "val", length=5, stride=1, batch_size=10_000, shuffle=False))
    assert frame_val[video]


def test_hold_out_follows_the_content_and_the_seed_not_the_ids(tmp_path: Path, media: Path) -> None:
    first = project_of(tmp_path / "a", media, ["v0", "v1"])
    second = project_of(tmp_path / "b", media, ["v1", "v0"])
    one, _ = plan_hold_out(first, SPEC, length=LENGTH, frame_steps=STEPS, seed=3)
    two, _ = plan_hold_out(second, SPEC, length=LENGTH, frame_steps=STEPS, seed=3)
    assert one.mode == two.mode == "time" and len(one.held) == 2  # two videos: blocks inside each
    assert one.record(first.data)["videos"] == sorted(two.record(second.data)["videos"], key=lambda e: e["name"])
    other, _ = plan_hold_out(first, SPEC, length=LENGTH, frame_steps=STEPS, seed=4)
    assert other.held != one.held
    replayed = replay_held_out(second.data, one.record(first.data))
    assert replayed is not None and replayed.held == two.held and replayed.train == two.train
    assert replay_held_out(second.data, None) is None and replay_held_out(second.data, {"mode": "?"}) is None


def test_five_videos_hold_out_whole_ones_and_a_named_val_video_is_held_out(tmp_path: Path, media: Path) -> None:
    five = project_of(tmp_path / "five", media, ["v1", "v2", "v3", "v4", "v5"])
    held, frames = plan_hold_out(five, SPEC, length=LENGTH, frame_steps=STEPS)
    assert held.mode == "videos" and len(held.held) == 1  # round(5 x 0.2) whole videos
    (video,) = held.held
    assert held.held[video] == [(0, len(frames[video]))]
    assert video not in held.train and len(held.train) == 4
    two = project_of(tmp_path / "two", media, ["v1", "v2"])
    two.set_video_split([next(iter(two.videos))], "val")
    named, _ = plan_hold_out(two, SPEC, length=LENGTH, frame_steps=STEPS)
    assert named.mode == "videos" and list(named.held) == [next(iter(two.videos))]
    none, _ = plan_hold_out(project_of(tmp_path / "none", media, ["v1"]), SPEC, length=LENGTH, frame_steps=STEPS,
                            val_fraction=0.0)
    assert none.mode == "none" and not none.held


def test_abnormal_frames_are_neither_trained_nor_held_out_and_rejected_events_train(tmp_path: Path,
                                                                                    media: Path) -> None:
    project = project_of(tmp_path / "p", media, ["v0"])
    (video,) = project.videos
    project.add_interval(video, 40, 50)
    first, _ = plan_hold_out(project, SPEC, length=LENGTH, frame_steps=STEPS)
    for spans in (first.train[video], first.held[video]):
        assert not {f for s, e in spans for f in range(s, e)} & set(range(40, 50))
    start, end = first.held[video][0]
    middle = (start + end) // 2
    project.set_verdict(video, middle, middle + 1, "rejected", run_id="r1")  # a false alarm inside a held block
    after, _ = plan_hold_out(project, SPEC, length=LENGTH, frame_steps=STEPS)
    trained = {f for s, e in after.train[video] for f in range(s, e)}
    assert middle in trained
    held = {f for s, e in merge(after.held.get(video, [])) for f in range(s, e)}
    assert min(abs(t - h) for t in trained for h in held) > GAP


def test_five_or_more_train_videos_are_split_as_before_and_fewer_hold_out_no_whole_video(tmp_path: Path,
                                                                                        media: Path) -> None:
    from core.data.splits import assign_splits, window_splits

    six = project_of(tmp_path / "six", media, ["v0", "v1", "v2", "v3", "v4", "v5"])
    for seed in range(4):  # what a Ped2 run of 16 train videos holds out does not move
        assert window_splits(six.data, 0.2, seed) == assign_splits(six.data, 0.2, seed)
        assert window_splits(six.data, 0.34, seed) == assign_splits(six.data, 0.34, seed)
    three = project_of(tmp_path / "three", media, ["v0", "v1", "v2"], split=None)
    assert sorted(assign_splits(three.data, 0.34).values()) == ["train", "train", "val"]
    assert set(window_splits(three.data, 0.34).values()) == {"train"}  # time is held out inside each instead
