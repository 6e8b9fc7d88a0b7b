"""Normal spans: the frames of a video an analyst marks as normal footage to train on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.project import Project, ProjectFormatError, ProjectValidationError
from core.project.summary import counts_per_video, project_summary
from tests.video_factory import write_video


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("videos")
    return [write_video(folder / f"v{i}.avi", 40 + 10 * i) for i in range(2)]


@pytest.fixture
def project(tmp_path: Path, videos: list[Path]) -> Project:
    p = Project.create(tmp_path / "proj")
    for path in videos:
        p.add_video(path)
    p.save()
    return Project.open(p.folder)


def _ids(project: Project) -> list[str]:
    return list(project.videos)


def test_spans_round_trip_sorted_per_video_and_keep_unknown_fields(project: Project) -> None:
    a, b = _ids(project)
    late = project.add_normal_span(a, 20, 40, note="quiet hour")
    early = project.add_normal_span(a, 0, 10)
    project.add_normal_span(b, 5, 15)
    project.save()
    doc = json.loads(project.path.read_text())
    assert [s["id"] for s in doc["normal_spans"]][:2] == [late.id, early.id]
    doc["normal_spans"][0]["colour"] = "green"  # a field of a newer version
    project.path.write_text(json.dumps(doc))
    project.close()
    reopened = Project.open(project.folder)
    assert [(s.start, s.end) for s in reopened.normal_spans_of(a)] == [(0, 10), (20, 40)]
    assert reopened.normal_spans[late.id].note == "quiet hour"
    assert dict(reopened.normal_spans[late.id].extra) == {"colour": "green"}
    reopened.update_normal_span(late.id, end=35)
    reopened.save()
    assert json.loads(reopened.path.read_text())["normal_spans"][0]["colour"] == "green"


def test_a_file_without_the_collection_reads_as_no_spans(project: Project) -> None:
    doc = json.loads(project.path.read_text())
    del doc["normal_spans"]
    project.path.write_text(json.dumps(doc))
    project.close()
    reopened = Project.open(project.folder)
    assert dict(reopened.normal_spans) == {}
    assert reopened.normal_spans_of(_ids(reopened)[0]) == []


@pytest.mark.parametrize(("span", "message"), [
    ({"start": 10, "end": 10}, r"normal_spans\[0\]: frames \[10, 10\) of video v0.avi: field 'end'"),
    ({"start": 0, "end": 41}, r"normal_spans\[0\]: frames \[0, 41\) of video v0.avi: field 'end' goes past"),
    ({"start": -1, "end": 5}, r"normal_spans\[0\]: field 'start' must be at least 0"),
    ({"start": 0, "end": 5, "video": "nope"}, r"normal_spans\[0\]: refers to video 'nope'"),
])
def test_bad_spans_in_the_file_are_refused_naming_the_file_and_entry(project: Project, span: dict, message: str) -> None:
    doc = json.loads(project.path.read_text())
    doc["normal_spans"] = [{"id": "n1", "video": _ids(project)[0], **span}]
    project.path.write_text(json.dumps(doc))
    project.close()
    with pytest.raises(ProjectFormatError, match=message) as caught:
        Project.open(project.folder)
    assert "project.json" in str(caught.value)


@pytest.mark.parametrize(("start", "end", "message"), [
    (10, 10, "end frame 10 is not after start frame 10"),
    (30, 20, "end frame 20 is not after start frame 30"),
    (-2, 5, "start frame -2 is negative"),
    (0, 41, r"frames \[0, 41\) go past the end of the video \(40 frames"),
])
def test_bad_spans_are_refused_before_any_edit(project: Project, start: int, end: int, message: str) -> None:
    with pytest.raises(ProjectValidationError, match=f"normal span of v0.avi: {message}"):
        project.add_normal_span(_ids(project)[0], start, end)
    assert not project.dirty and not project.normal_spans


def test_add_edit_remove_undo_and_redo(project: Project) -> None:
    vid = _ids(project)[0]
    span = project.add_normal_span(vid, 0, 20)
    assert project.undo_stack.undo_text == "Mark normal footage"
    project.update_normal_span(span.id, start=5, note="after the door opens")
    assert (project.normal_spans[span.id].start, project.normal_spans[span.id].note) == (5, "after the door opens")
    with pytest.raises(ProjectValidationError, match="no field 'video_id'"):
        project.update_normal_span(span.id, video_id="other")
    with pytest.raises(ProjectValidationError, match="go past the end"):
        project.update_normal_span(span.id, end=99)
    project.remove_normal_spans([span.id])
    assert not project.normal_spans
    with pytest.raises(ProjectValidationError, match=f"no normal span '{span.id}'"):
        project.remove_normal_spans([span.id])
    project.undo()
    assert project.normal_spans[span.id].start == 5
    project.undo()
    assert project.normal_spans[span.id].start == 0
    project.undo()
    assert not project.normal_spans and not project.undo_stack.can_undo
    project.redo()
    assert project.normal_spans[span.id].start == 0


def test_removing_a_video_removes_its_spans_and_undo_brings_them_back(project: Project) -> None:
    a, b = _ids(project)
    project.add_normal_span(a, 0, 10)
    kept = project.add_normal_span(b, 0, 10)
    project.remove_videos([a])
    assert list(project.normal_spans) == [kept.id]
    project.save()  # the file must open again: no span of a removed video is left behind
    assert list(Project.open(project.folder, read_only=True).normal_spans) == [kept.id]
    project.undo()
    assert len(project.normal_spans) == 2


def test_overlap_with_abnormal_footage_is_reported(project: Project) -> None:
    a, b = _ids(project)
    span = project.add_normal_span(a, 0, 30)
    clear = project.add_normal_span(b, 0, 30)
    project.add_interval(a, 25, 35)
    project.set_verdict(a, 2, 4, "confirmed")
    project.set_verdict(a, 10, 12, "rejected")  # a false alarm: normal footage, no conflict
    project.set_verdict(b, 30, 40, "confirmed")  # touches the span's end only: [0, 30) holds no frame of it
    issues = [i for i in project.validate(check_files=False) if i.kind == "normal_overlaps_anomaly"]
    assert [i.ids for i in issues] == [(span.id,)]
    assert "anomaly interval [25, 35)" in issues[0].message and "confirmed event [2, 4)" in issues[0].message
    assert clear.id not in issues[0].ids and issues[0].severity == "warning"


def test_summary_and_per_video_counts(project: Project) -> None:
    a, b = _ids(project)
    project.add_normal_span(a, 0, 20)
    project.add_normal_span(a, 10, 30)  # overlaps the first: frames 10..19 are counted once
    project.add_normal_span(b, 0, 5)
    summary = project_summary(project, check_files=False)
    assert (summary.normal_spans, summary.normal_frames) == (3, 35)
    counts = counts_per_video(project)
    assert (counts[a].normal_spans, counts[b].normal_spans) == (2, 1)


def test_save_as_copies_the_spans(project: Project, tmp_path: Path) -> None:
    span = project.add_normal_span(_ids(project)[0], 0, 20)
    copy = project.save_as(tmp_path / "copy")
    assert copy.normal_spans[span.id] == span


def test_the_json_export_lists_the_spans(project: Project, tmp_path: Path) -> None:
    from core.project.exporters import export_json

    span = project.add_normal_span(_ids(project)[0], 5, 30, note="quiet")
    doc = json.loads(export_json(project, tmp_path / "labels.json").read_text())
    assert doc["normal_spans"] == [{"video": "v0.avi", "start": 5, "end": 30, "start_s": 0.2, "end_s": 1.2,
                                    "note": "quiet", "video_id": span.video_id, "id": span.id}]
