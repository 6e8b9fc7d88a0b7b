"""Validation: moved and changed videos (and relinking them), duplicates, bad spans, unknown labels."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from core.project import Project, ProjectValidationError, fingerprint
from tests.video_factory import write_images, write_video


@pytest.fixture
def project(tmp_path: Path) -> Project:
    media = tmp_path / "media"
    media.mkdir()
    p = Project.create(tmp_path / "proj")
    p.add_video(write_video(media / "a.avi", 30))
    p.add_video(write_images(media / "frames", 12), fps=5)
    p.add_class("walk")
    p.save()
    return p


def test_fingerprints_see_content_not_place(tmp_path: Path) -> None:
    a = write_video(tmp_path / "a.avi", 20)
    b = tmp_path / "b.avi"
    shutil.copy(a, b)
    assert fingerprint(a).same_content(fingerprint(b))
    with open(b, "r+b") as f:
        f.seek(-100, 2)
        f.write(b"x" * 10)
    assert not fingerprint(a).same_content(fingerprint(b))
    folder = write_images(tmp_path / "seq", 5)
    before = fingerprint(folder)
    (folder / "4.png").unlink()
    assert not before.same_content(fingerprint(folder)) and before.count == 5


def test_a_clean_project_has_no_issues(project: Project) -> None:
    assert project.validate() == []


def test_moved_videos_are_reported_and_relinked_by_search(project: Project, tmp_path: Path) -> None:
    shutil.move(tmp_path / "media", tmp_path / "moved")
    reopened = Project.open(project.folder)
    issues = reopened.validate()
    assert sorted(i.kind for i in issues) == ["missing_video", "missing_video"]
    assert "a.avi is missing" in str(issues[0]) and "relink" in issues[0].message
    found = reopened.relink_moved(tmp_path)
    assert sorted(p.name for p in found.values()) == ["a.avi", "frames"]
    assert reopened.validate() == []
    reopened.undo()
    assert len(reopened.validate()) == 2


def test_a_video_renamed_as_it_was_moved_is_found_by_content(project: Project, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    write_video(elsewhere / "decoy.avi", 31)  # another video, another size: never taken for it
    shutil.move(tmp_path / "media" / "a.avi", elsewhere / "walkway 2026-11-23.avi")
    found = project.relink_moved(tmp_path)
    assert [p.name for p in found.values()] == ["walkway 2026-11-23.avi"]
    assert project.validate() == []


def test_relinking_to_other_content_needs_force(project: Project, tmp_path: Path) -> None:
    video = project.video("a.avi")
    other = write_video(tmp_path / "other.avi", 40)
    with pytest.raises(ProjectValidationError, match="different content"):
        project.relink_video(video.id, other)
    relinked = project.relink_video(video.id, other, force=True)
    assert relinked.id == video.id and relinked.frame_count == 40 and relinked.path == other


def test_a_changed_video_is_reported(project: Project) -> None:
    video = project.video("a.avi")
    write_video(video.path, 35)
    [issue] = project.validate()
    assert issue.kind == "changed_video" and issue.ids == (video.id,)
    assert project.validate(check_files=False) == []


def test_hand_edited_labels_outside_the_schema_and_the_decoded_frames_are_reported(project: Project) -> None:
    """A video labelled against its header's 30 frames, of which a later scan found only 25 decode: its
    labels past frame 25 still load (the project must open so they can be fixed) and are reported."""
    video = project.video("a.avi")
    project.add_subclip(video.id, 0, 10, label="walk", split="train")
    project.add_subclip(video.id, 10, 20, label="walk", split="train")
    project.save()
    doc = json.loads(project.path.read_text())
    doc["videos"][0].update(frame_count=25, declared_frame_count=30)
    doc["subclips"][1].update(end=28, label="swim")
    doc["intervals"] = [{"id": "i1", "video": video.id, "start": 25, "end": 30}]
    project.path.write_text(json.dumps(doc))
    issues = {i.kind: i for i in Project.open(project.folder).validate(check_files=False)}
    assert set(issues) == {"out_of_range", "unknown_label"}
    assert "'swim', which is not in the label schema" in issues["unknown_label"].message
    out = issues["out_of_range"]
    assert sorted(out.ids) == sorted([doc["subclips"][1]["id"], "i1"]) and out.severity == "error"
    assert "go past the 25 frames that decode (the header declares 30)" in out.message


def test_a_video_in_two_splits_is_a_warning(project: Project) -> None:
    video = project.video("a.avi")
    project.add_subclip(video.id, 0, 10, label="walk", split="train")
    project.add_subclip(video.id, 10, 20, label="walk", split="val")
    [issue] = project.validate()
    assert issue.kind == "split_leak" and "train and val" in issue.message


def test_relinking_to_a_shorter_video_is_refused_while_labels_run_past_its_end(project: Project, tmp_path: Path) -> None:
    video = project.video("a.avi")
    clip = project.add_subclip(video.id, 20, 30, label="walk")
    shorter = write_video(tmp_path / "short.avi", 24)
    with pytest.raises(ProjectValidationError, match=r"it has 24 frames and 1 labelled range\(s\) reach past them"):
        project.relink_video(video.id, shorter, force=True)
    assert project.video(video.id).path == video.path
    project.update_subclip(clip.id, end=24)
    assert project.relink_video(video.id, shorter, force=True).frame_count == 24
    project.save()
    assert Project.open(project.folder).validate(check_files=False) == []
