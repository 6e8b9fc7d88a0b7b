"""Normal spans and splits: a video with normal spans is scored (test) unless the analyst gave it a split."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.data import assign_splits
from core.project import Project
from tests.video_factory import write_video


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("media")
    for n in range(4):
        write_video(folder / f"v{n}.avi", 30 + 2 * n, fps=10)
    return folder


@pytest.fixture
def project(tmp_path: Path, media: Path) -> Project:
    p = Project.create(tmp_path / "proj")
    for n in range(4):
        p.add_video(media / f"v{n}.avi")
    p.add_class("walk")
    return p


def test_a_video_with_normal_spans_is_test_unless_its_split_is_set(project: Project) -> None:
    v = list(project.videos)
    before = assign_splits(project.data, val_fraction=0.0)
    assert set(before.values()) == {"train"}
    project.add_normal_span(v[0], 0, 20)
    project.add_normal_span(v[1], 0, 20)
    project.set_video_split([v[1]], "train")  # the analyst's split wins
    project.add_normal_span(v[2], 5, 10)
    project.add_subclip(v[2], 0, 10, label="walk", split="val")  # so does the split its subclips name
    splits = assign_splits(project.data, val_fraction=0.0)
    assert splits == {v[0]: "test", v[1]: "train", v[2]: "val", v[3]: "train"}


def test_a_one_video_project_with_spans_has_it_in_test_and_no_other_split(project: Project) -> None:
    v = list(project.videos)
    project.remove_videos(v[1:])
    project.add_normal_span(v[0], 0, 20)
    assert assign_splits(project.data) == {v[0]: "test"}  # no train video to carve a val video from


def test_spanned_videos_take_no_part_in_the_automatic_val_choice(project: Project) -> None:
    v = list(project.videos)
    without = assign_splits(project.data, val_fraction=0.5, seed=1)
    project.add_normal_span(v[0], 0, 10)
    with_span = assign_splits(project.data, val_fraction=0.5, seed=1)
    assert with_span[v[0]] == "test"
    rest = {i: s for i, s in with_span.items() if i != v[0]}
    assert sorted(rest.values()) == ["train", "val", "val"]  # half of the three others, rounded: two
    assert sorted(without.values()) == ["train", "train", "val", "val"]
