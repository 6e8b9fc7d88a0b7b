"""Verdicts from anomaly review in the next training run's data: rejected events are normal footage,
confirmed ones are not, and no frame feeds two splits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.data import anomaly_batches
from core.preprocessing import PreprocessSpec
from core.project import Project
from tests.video_factory import decode_index, write_video

SPEC = PreprocessSpec(height=48, width=64, grayscale=True)


def frames_by_video(batches) -> dict[str, set[int]]:
    """``{video id: indices of every frame the batches show}``, read back from the pixels."""
    x, _ = batches[0]
    samples = batches.samples
    seen: dict[str, set[int]] = {}
    for i in range(len(x)):
        video_id = samples.video_ids[samples.video_index[i]]
        shown = {decode_index((frame[..., 0] * 255).round().astype(np.uint8)) for frame in x[i]}
        seen.setdefault(video_id, set()).update(shown)
    return seen


@pytest.fixture
def project(tmp_path: Path) -> Project:
    media = tmp_path / "media"
    media.mkdir()
    p = Project.create(tmp_path / "proj")
    p.add_video(write_video(media / "train.avi", 30, fps=10), split="train")
    p.add_video(write_video(media / "held.avi", 40, fps=10), split="val")
    p.add_video(write_video(media / "test.avi", 42, fps=10), split="test")
    return p


def test_rejected_events_of_other_splits_train_as_normal_footage(project: Project) -> None:
    train, held, test = list(project.videos)
    before = frames_by_video(anomaly_batches(project, SPEC, length=4, frame_steps=(1,), batch_size=1000,
                                             shuffle=False))
    assert set(before) == {train}
    project.set_verdict(test, 20, 24, "rejected", run_id="r1")
    project.set_verdict(test, 5, 8, "unsure", run_id="r1")
    after = frames_by_video(anomaly_batches(project, SPEC, length=4, frame_steps=(1,), batch_size=1000,
                                            shuffle=False))
    assert set(after) == {train, test}
    assert after[test] == set(range(17, 27))  # every 4-frame window touching frames 20-23, and no other
    assert after[train] == before[train]


def test_confirmed_events_never_train_and_rejected_frames_leave_the_val_split(project: Project) -> None:
    train, held, _ = list(project.videos)
    project.set_verdict(train, 10, 15, "confirmed")
    project.set_verdict(held, 20, 24, "rejected")
    batches = anomaly_batches(project, SPEC, length=4, frame_steps=(1, 2), batch_size=1000, shuffle=False)
    seen = frames_by_video(batches)
    assert not seen[train] & set(range(10, 15))
    assert seen[held] and seen[held] <= set(range(14, 30))  # windows of reach 6 touching 20-23
    val = frames_by_video(anomaly_batches(project, SPEC, "val", length=4, frame_steps=(1, 2), batch_size=1000,
                                          shuffle=False))
    assert val[held] and not val[held] & seen[held]  # no frame feeds both splits
