"""Scoring replays training's split from the footage's content: any import of the same videos is split alike
and calibrates the same threshold; a run records the videos it learned from and scoring uses exactly those."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.data.splits import assign_splits, replay_splits
from core.inference.anomaly.project_scoring import run_model, score_project, split_videos
from core.project import Project
from core.runs import RunRecord
from tests.core.inference.scoring_project import save_run
from tests.video_factory import write_video

#: Frames of the generated videos: each a different clip, none with a split of its own.
COUNTS = (18, 20, 22, 24, 26, 28)
#: Orders in which the "imports" add the videos (each import gets new random ids).
ORDERS = ((0, 1, 2, 3, 4, 5), (5, 3, 1, 0, 2, 4), (2, 4, 0, 5, 1, 3))


@pytest.fixture(scope="module")
def footage(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("footage")
    return [write_video(folder / f"walk{n}.avi", count) for n, count in enumerate(COUNTS)]


def imported(folder: Path, footage: list[Path], order: tuple[int, ...]) -> Project:
    """A new project of ``footage`` added in ``order``, no split set: every video is assigned automatically."""
    project = Project.create(folder)
    for n in order:
        project.add_video(footage[n])
    project.save()
    return project


def by_name(project: Project, splits: dict[str, str]) -> dict[str, str]:
    return {project.videos[ident].name: split for ident, split in splits.items()}


def test_imports_of_the_same_footage_are_split_alike_whatever_their_ids(tmp_path: Path, footage: list[Path]) -> None:
    projects = [imported(tmp_path / f"import{n}", footage, order) for n, order in enumerate(ORDERS)]
    try:
        assert len({frozenset(p.videos) for p in projects}) == len(projects)  # the ids differ
        automatic = [by_name(p, assign_splits(p.data, 0.34, seed=1)) for p in projects]
        assert automatic[1] == automatic[0] and automatic[2] == automatic[0]
        assert sorted(automatic[0].values()) == ["train"] * 4 + ["val"] * 2
        for project in projects:  # held out from the train videos when none is left for val (rule 4)
            project.set_video_split(list(project.videos), "train")
        carved = [by_name(p, assign_splits(p.data, 0.34, seed=1)) for p in projects]
        assert carved[1] == carved[0] and carved[2] == carved[0]
        assert sorted(carved[0].values()) == ["train"] * 4 + ["val"] * 2
    finally:
        for project in projects:
            project.close()


def test_two_imports_scored_by_one_run_calibrate_the_same_threshold(tmp_path: Path, footage: list[Path]) -> None:
    projects = [imported(tmp_path / f"import{n}", footage, order) for n, order in enumerate(ORDERS)]
    try:
        run_dir = save_run(projects[0].folder)  # a run without a recorded split: the content rule decides
        record = RunRecord.load(run_dir)
        record.data["options"]["val_fraction"] = 0.34
        record.save(run_dir)
        results = [score_project(project, run_dir) for project in projects]
        trained = [sorted(v.name for v in split_videos(p, run_model(p.folder, run_dir), "train")) for p in projects]
        assert len(trained[0]) == 4 and trained[1] == trained[0] and trained[2] == trained[0]
        assert results[1].threshold == results[0].threshold and results[2].threshold == results[0].threshold
    finally:
        for project in projects:
            project.close()


def test_a_run_records_the_videos_it_learned_from_and_scoring_uses_exactly_those(tmp_path: Path,
                                                                                  footage: list[Path]) -> None:
    from core.training.from_project import train_project
    from core.training.request import TrainingRequest

    first, second = (imported(tmp_path / f"import{n}", footage, ORDERS[n]) for n in range(2))
    try:
        result = train_project(first, TrainingRequest(
            "anomaly", "conv-ae", run_name="tiny", error_level=False, filters=(4, 4, 4), height=16, width=16,
            grayscale=True, frames=4, stride=8, frame_steps=(1,), val_fraction=0.34, epochs=1, batch_size=4,
            steps_per_epoch=1, seed=1))
        recorded = result.record.data["splits"]
        expected = by_name(first, assign_splits(first.data, 0.34, seed=1))
        assert {split: sorted(e["name"] for e in entries) for split, entries in recorded.items()} == {
            split: sorted(name for name, s in expected.items() if s == split) for split in ("train", "val")}
        assert all(e["content"] == first.video(e["name"]).fingerprint.key for e in recorded["train"] + recorded["val"])

        # the record, not the rule, decides: a record whose split the rule would not give is followed exactly
        swapped = {"train": recorded["val"] + recorded["train"][:2], "val": recorded["train"][2:]}
        record = RunRecord.load(result.run_dir)
        record.data["splits"] = swapped
        record.save(result.run_dir)
        for project in (first, second):  # in the project it trained in, and in another import of the footage
            run = run_model(project.folder, result.run_dir)
            for split in ("train", "val"):
                assert sorted(v.name for v in split_videos(project, run, split)) == sorted(
                    e["name"] for e in swapped[split])
    finally:
        first.close()
        second.close()


def test_videos_a_record_does_not_name_are_split_by_the_rule_and_a_bad_record_is_ignored(
        tmp_path: Path, footage: list[Path]) -> None:
    project = imported(tmp_path / "p", footage, ORDERS[0])
    try:
        rule = assign_splits(project.data, 0.34, seed=1)
        one = next(v for v in project.videos.values() if rule[v.id] == "train")
        recorded = {"val": [{"name": "anything", "content": one.fingerprint.key}], "train": "not a list"}
        replayed = replay_splits(project.data, recorded, 0.34, seed=1)
        assert replayed == {**rule, one.id: "val"}
        for broken in (None, [], {"train": [None, 3, {"content": 7}]}):
            assert replay_splits(project.data, broken, 0.34, seed=1) == rule
    finally:
        project.close()
