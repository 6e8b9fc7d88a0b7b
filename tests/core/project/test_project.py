"""The project model: entities, undoable commands, dirty flag, change events, edit-time validation."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.project import Project, ProjectExistsError, ProjectValidationError
from core.project.commands import UndoStack
from tests.video_factory import write_images, write_video


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("videos")
    return [write_video(folder / f"v{i}.avi", 30 + 10 * i) for i in range(3)]


@pytest.fixture
def project(tmp_path: Path, videos: list[Path]) -> Project:
    p = Project.create(tmp_path / "proj")
    for path in videos:
        p.add_video(path)
    p.add_class("walk", shortcut="w")
    p.add_class("run", color="#FF0000", shortcut="r")
    p.add_target("speed", 0, 10, unit="m/s")
    p.save()
    return Project.open(p.folder)  # a fresh undo stack, as after opening


def test_create_makes_the_folder_layout_and_refuses_to_overwrite(tmp_path: Path) -> None:
    p = Project.create(tmp_path / "new", name="Walkway")
    assert p.path.is_file() and all((p.folder / sub).is_dir() for sub in ("models", "runs", "cache"))
    assert not p.dirty and p.name == "Walkway"
    with pytest.raises(ProjectExistsError, match="already exists"):
        Project.create(tmp_path / "new")


def test_video_metadata_is_kept_so_opening_needs_no_decoding(project: Project, videos: list[Path]) -> None:
    v = next(iter(project.videos.values()))
    assert (v.width, v.height, v.fps, v.frame_count, v.kind) == (64, 48, 25.0, 30, "file")
    reopened = Project.open(project.folder)
    assert reopened.data.same_as(project.data)


def test_round_trip_of_every_entity_kind(project: Project) -> None:
    v = next(iter(project.videos))
    project.add_subclip(v, 0, 10, label="walk", split="train", note="first")
    project.add_subclip(v, 5, 12, value=3.5)
    project.add_interval(v, 20, 25)
    project.set_verdict(v, 20, 25, "confirmed", note="a bike", run_id="r1", score=0.9)
    project.add_run("ae-1", "anomaly", {"epochs": 3, "lr": 1e-3}, {"auc": 0.87, "nan": float("nan")},
                    checkpoint="models/ae-1.keras", status="finished")
    project.save()
    reopened = Project.open(project.folder)
    run = next(iter(reopened.runs.values()))
    assert run.checkpoint == project.folder / "models" / "ae-1.keras"
    assert run.metrics == {"auc": 0.87, "nan": None}  # non-finite numbers are stored as null
    assert reopened.data.subclips == project.data.subclips
    assert reopened.data.verdicts == project.data.verdicts
    assert reopened.data.intervals == project.data.intervals


def test_paths_are_stored_relative_to_the_project(project: Project) -> None:
    text = project.path.read_text()
    assert '"path": "../../videos' in text or '"path": "../' in text


def test_undo_redo_round_trip_and_dirty_flag(project: Project) -> None:
    saved = project.data.copy()
    v = list(project.videos)
    a = project.add_subclip(v[0], 0, 10, label="walk")
    project.add_subclip(v[1], 3, 9, label="run")
    project.update_subclip(a.id, label="run", end=12)
    project.remove_videos([v[1]])
    project.rename_class("walk", "stroll")
    after = project.data.copy()
    assert project.dirty and project.undo_stack.undo_text == "Rename class walk to stroll"
    while project.undo():
        pass
    assert project.data.same_as(saved) and not project.dirty
    assert list(project.data.videos) == list(saved.videos)  # order restored too
    while project.redo():
        pass
    assert project.data.same_as(after) and project.dirty
    assert not project.undo_stack.can_redo and project.undo_stack.redo_text == ""


def test_a_new_edit_after_undo_drops_the_redo_branch(project: Project) -> None:
    v = next(iter(project.videos))
    project.add_subclip(v, 0, 5, label="walk")
    project.undo()
    assert project.undo_stack.can_redo
    project.add_subclip(v, 0, 6, label="run")
    assert not project.undo_stack.can_redo
    assert [s.end for s in project.subclips.values()] == [6]


def test_subscribers_hear_every_change(project: Project) -> None:
    events = []
    unsubscribe = project.subscribe(events.append)
    v = next(iter(project.videos))
    clip = project.add_subclip(v, 0, 5, label="walk")
    project.undo()
    project.redo()
    project.save()
    unsubscribe()
    project.add_subclip(v, 0, 5, label="walk")
    assert [e.kind for e in events] == ["do", "undo", "redo", "saved"]
    assert events[0].collections == {"subclips"} and clip.id in events[0].ids and events[0].dirty
    assert not events[-1].dirty


def test_a_failing_subscriber_does_not_hide_the_change_from_others(project: Project) -> None:
    heard = []

    def broken(event: object) -> None:
        raise RuntimeError("view bug")

    project.subscribe(broken)
    project.subscribe(heard.append)
    with pytest.raises(RuntimeError, match="view bug"):
        project.add_class("wave")
    assert "wave" in project.classes and len(heard) == 1 and project.undo_stack.undo_text == "Add class wave"


def test_undo_stack_limit_forgets_oldest_and_the_save_point() -> None:
    stack = UndoStack(limit=2)

    class Noop:
        text = "noop"

    for _ in range(3):
        stack.push(Noop())  # type: ignore[arg-type]
    assert len(stack.commands) == 2 and stack.index == 2 and stack.clean_index is None


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [(5, 5, "not after start"), (9, 3, "not after start"), (-1, 4, "negative"), (10, 31, "past the end")],
)
def test_bad_intervals_are_refused_with_clear_messages(project: Project, start: int, end: int, message: str) -> None:
    v = next(iter(project.videos))
    with pytest.raises(ProjectValidationError, match=message):
        project.add_subclip(v, start, end, label="walk")
    with pytest.raises(ProjectValidationError, match=message):
        project.add_interval(v, start, end)
    assert not project.dirty


def test_labels_and_values_must_fit_the_schema(project: Project) -> None:
    v = next(iter(project.videos))
    with pytest.raises(ProjectValidationError, match="'jump' is not in the label schema"):
        project.add_subclip(v, 0, 5, label="jump")
    with pytest.raises(ProjectValidationError, match=r"outside its range \[0, 10\]"):
        project.add_subclip(v, 0, 5, value=11)
    with pytest.raises(ProjectValidationError, match="split must be one of"):
        project.add_subclip(v, 0, 5, label="walk", split="holdout")
    with pytest.raises(ProjectValidationError, match="shortcut 'w' is already used"):
        project.add_class("wave", shortcut="w")
    with pytest.raises(ProjectValidationError, match="colour must be"):
        project.add_class("wave", color="red")
    with pytest.raises(ProjectValidationError, match="verdict must be one of"):
        project.set_verdict(v, 0, 5, "maybe")
    assert project.add_subclip(v, 0, 5, value=2.5).target == "speed"


def test_removing_a_used_class_needs_consent(project: Project) -> None:
    v = next(iter(project.videos))
    clip = project.add_subclip(v, 0, 5, label="walk")
    with pytest.raises(ProjectValidationError, match="labels 1 subclip"):
        project.remove_class("walk")
    project.remove_class("walk", unlabel=True)
    assert project.subclips[clip.id].label is None and "walk" not in project.classes
    project.undo()
    assert project.subclips[clip.id].label == "walk" and "walk" in project.classes


def test_verdicts_are_one_per_flagged_event(project: Project) -> None:
    v = next(iter(project.videos))
    first = project.set_verdict(v, 3, 8, "unsure", run_id="run-a")
    second = project.set_verdict(v, 3, 8, "rejected", note="shadow", run_id="run-a")
    assert first.id == second.id and len(project.verdicts) == 1 and second.note == "shadow"
    project.set_verdict(v, 3, 8, "confirmed", run_id="run-b")
    assert len(project.verdicts) == 2


def test_a_confirmed_event_becomes_an_interval_in_one_undoable_action(project: Project) -> None:
    v = next(iter(project.videos))
    project.set_verdict(v, 3, 8, "unsure", run_id="run-a")
    verdict, interval = project.confirm_as_interval(v, 3, 8, note="a bike", run_id="run-a", score=0.7)
    assert len(project.verdicts) == 1 and project.verdicts[verdict.id].verdict == "confirmed"
    assert (interval.start, interval.end, interval.source, interval.note) == (3, 8, "review", "a bike")
    assert project.undo_stack.undo_text == "Confirm event as anomaly interval"
    project.undo()
    assert project.verdicts[verdict.id].verdict == "unsure" and interval.id not in project.intervals
    project.redo()
    assert project.verdicts[verdict.id].verdict == "confirmed" and interval.id in project.intervals


def test_an_edit_on_another_thread_cannot_slip_between_checks_and_command(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    import core.project.project as project_module

    video = next(iter(project.videos.values()))
    real_check = project_module.check_verdict
    other: list[threading.Thread] = []

    def check(verdict: str) -> None:
        real_check(verdict)
        if not other:  # the review panel's worker marks the same event meanwhile
            other.append(threading.Thread(target=project.set_verdict, args=(video.id, 2, 6, "rejected")))
            other[0].start()
            other[0].join(timeout=0.5)  # it either slips in now (the race) or waits for this edit

    monkeypatch.setattr(project_module, "check_verdict", check)
    heard: list[str] = []
    project.subscribe(lambda event: heard.append(event.text))
    project.set_verdict(video.id, 2, 6, "confirmed")
    other[0].join()
    assert [(v.start, v.end, v.verdict) for v in project.verdicts.values()] == [(2, 6, "rejected")]  # one per event
    assert heard == ["Mark event confirmed", "Mark event rejected"]


def test_runs_classes_splits_and_info_edits_undo(project: Project, tmp_path: Path) -> None:
    before = project.data.copy()
    run = project.add_run("ae", "anomaly", {"epochs": 2}, status="running")
    project.update_run(run.id, metrics={"loss": 0.1}, status="finished", checkpoint="models/ae.keras")
    assert project.runs[run.id].checkpoint == project.folder / "models" / "ae.keras"
    project.update_class("walk", color="#00FF00", shortcut="k")
    assert project.classes["walk"].color == "#00ff00" and project.classes["walk"].shortcut == "k"
    project.set_video_split(list(project.videos)[:2], "val")
    project.set_info(name="Renamed", description="footage from gate 3")
    assert project.name == "Renamed" and project.undo_stack.undo_text == "Edit project info"
    project.remove_runs([run.id])
    while project.dirty:
        project.undo()
    assert project.data.same_as(before)


def test_cancelled_add_video_changes_nothing(project: Project, tmp_path: Path) -> None:
    import threading

    from core.errors import Cancelled

    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        project.add_video(write_video(tmp_path / "long.avi", 200), cancel=cancel)
    assert len(project.videos) == 3 and not project.dirty


def test_videos_are_found_by_id_or_name(project: Project) -> None:
    video = next(iter(project.videos.values()))
    assert project.video(video.name) == video == project.video(video.id)
    with pytest.raises(ProjectValidationError, match="no video 'nope'"):
        project.video("nope")


def test_videos_with_one_name_are_found_by_relative_path(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = project.add_video(write_video(tmp_path / "a" / "clip.avi", 12))
    second = project.add_video(write_video(tmp_path / "b" / "clip.avi", 14))
    assert first.name == second.name == "clip.avi"
    with pytest.raises(ProjectValidationError, match="2 videos are called 'clip.avi'"):
        project.video("clip.avi")
    monkeypatch.chdir(tmp_path)
    assert project.video("a/clip.avi") == first and project.video("b/clip.avi") == second
    assert project.video(str(tmp_path / "b" / "clip.avi")) == second


def test_duplicate_videos_are_refused(project: Project, videos: list[Path], tmp_path: Path) -> None:
    with pytest.raises(ProjectValidationError, match="already in the project"):
        project.add_video(videos[0])
    copy = tmp_path / "copy.avi"
    copy.write_bytes(videos[0].read_bytes())
    with pytest.raises(ProjectValidationError, match="same content"):
        project.add_video(copy)
    project.add_video(copy, allow_duplicate=True)
    assert any(i.kind == "duplicate_video" for i in project.validate())


# -- random edit sequences: undo all gives the start, redo all gives the end -----------------------
EDITS = st.lists(
    st.tuples(st.sampled_from(["add", "edit", "remove", "interval", "verdict", "class", "video"]),
              st.integers(0, 2), st.integers(0, 28), st.integers(1, 20)),
    min_size=1, max_size=12,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=EDITS)
def test_any_edit_sequence_undoes_and_redoes_exactly(project: Project, edits: list) -> None:
    while project.undo():  # hypothesis reuses the fixture: go back to the opened state, forget the rest
        pass
    project.undo_stack.clear()
    start = project.data.copy()
    for kind, vi, a, n in edits:
        vids = list(project.videos)
        if not vids:
            break
        v = vids[vi % len(vids)]
        clips = list(project.subclips)
        try:
            if kind == "add":
                project.add_subclip(v, a, a + n, label="walk" if n % 2 else "run")
            elif kind == "edit" and clips:
                project.update_subclip(clips[a % len(clips)], note=f"n{n}", label="run")
            elif kind == "remove" and clips:
                project.remove_subclips(clips[:: max(1, n % 3)])
            elif kind == "interval":
                project.add_interval(v, a, a + n)
            elif kind == "verdict":
                project.set_verdict(v, a, a + n, ("confirmed", "rejected", "unsure")[n % 3])
            elif kind == "class":
                project.add_class(f"c{a}-{n}")
            elif kind == "video":
                project.remove_videos([v])
        except ProjectValidationError:
            pass
    end = project.data.copy()
    while project.undo():
        pass
    assert project.data.same_as(start)
    while project.redo():
        pass
    assert project.data.same_as(end)


def test_update_interval_and_targets_are_checked_and_undoable(project: Project) -> None:
    v = next(iter(project.videos))
    interval = project.add_interval(v, 5, 10)
    moved = project.update_interval(interval.id, start=8, end=20, note="cart")
    assert (moved.start, moved.end, moved.note) == (8, 20, "cart")
    with pytest.raises(ProjectValidationError):
        project.update_interval(interval.id, start=25, end=12)
    with pytest.raises(ProjectValidationError, match="no field 'label'"):
        project.update_interval(interval.id, label="x")
    project.undo()
    assert (project.intervals[interval.id].start, project.intervals[interval.id].end) == (5, 10)

    project.add_subclip(v, 0, 10, value=7.0, target="speed")
    with pytest.raises(ProjectValidationError, match="outside"):
        project.update_target("speed", maximum=5)
    assert project.update_target("speed", maximum=20, unit="km/h").maximum == 20
    with pytest.raises(ProjectValidationError, match="has values on subclips"):
        project.remove_target("speed")
    project.add_target("rating", 0, 5)
    project.remove_target("rating")
    assert "rating" not in project.targets
    project.undo()
    assert "rating" in project.targets
    project.undo()  # the rating target's addition
    project.undo()  # the speed edit
    assert project.targets["speed"].maximum == 10 and project.targets["speed"].unit == "m/s"


def test_save_as_copies_every_entity_to_a_new_folder(project: Project, tmp_path: Path) -> None:
    v = next(iter(project.videos))
    clip = project.add_subclip(v, 0, 10, label="walk")
    project.add_interval(v, 20, 25)
    project.add_run("r", "anomaly", {"epochs": 1}, checkpoint=project.folder / "runs" / "r" / "best.keras")
    copy = project.save_as(tmp_path / "copy")
    assert copy.folder == tmp_path / "copy" and not copy.dirty and not copy.undo_stack.can_undo
    reopened = Project.open(tmp_path / "copy")
    assert reopened.subclips[clip.id] == project.subclips[clip.id] and reopened.name == project.name
    assert set(reopened.subclips) == set(project.subclips) and set(reopened.runs) == set(project.runs)
    assert next(iter(reopened.runs.values())).checkpoint == project.folder / "runs" / "r" / "best.keras"
    assert project.dirty  # the original keeps its unsaved edits
    with pytest.raises(ProjectExistsError):
        project.save_as(tmp_path / "copy")


def test_renaming_a_class_keeps_its_place_in_the_schema(project: Project) -> None:
    v = next(iter(project.videos))
    project.add_class("bike", shortcut="b")
    clip = project.add_subclip(v, 0, 5, label="walk")
    assert list(project.classes) == ["walk", "run", "bike"]
    project.rename_class("walk", "stroll")
    assert list(project.classes) == ["stroll", "run", "bike"]
    assert project.classes["stroll"].shortcut == "w" and project.subclips[clip.id].label == "stroll"
    project.undo()
    assert list(project.classes) == ["walk", "run", "bike"] and project.subclips[clip.id].label == "walk"
    project.redo()
    assert list(project.classes) == ["stroll", "run", "bike"]


def test_update_video_edits_name_split_and_an_image_folder_fps_in_one_undoable_step(
        project: Project, tmp_path: Path) -> None:
    file_video = next(iter(project.videos.values()))
    folder = project.add_video(write_images(tmp_path / "frames", 6, width=32, height=24), fps=10)
    before = project.data.copy()
    edited = project.update_video(folder.id, name="Gate 3", split="test", fps=12.5)
    assert (edited.name, edited.split, edited.fps) == ("Gate 3", "test", 12.5)
    assert project.undo_stack.undo_text == "Edit name, split, fps of video frames"
    project.update_video(file_video.id, split=None, fps=file_video.fps)  # same fps: not an fps change
    with pytest.raises(ProjectValidationError, match="read from the file"):
        project.update_video(file_video.id, fps=30)
    with pytest.raises(ProjectValidationError, match="already called 'Gate 3'"):
        project.update_video(file_video.id, name=" Gate 3 ")
    with pytest.raises(ProjectValidationError, match="cannot be empty"):
        project.update_video(folder.id, name="  ")
    with pytest.raises(ProjectValidationError, match="frames per second"):
        project.update_video(folder.id, fps=0)
    with pytest.raises(ProjectValidationError, match="split must be one of"):
        project.update_video(folder.id, split="holdout")
    with pytest.raises(ProjectValidationError, match="no editable field 'path'"):
        project.update_video(folder.id, path=tmp_path)
    assert project.videos[folder.id].name == "Gate 3"  # refused edits changed nothing
    project.undo()
    assert project.data.same_as(before)
