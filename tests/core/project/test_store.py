"""Nothing is lost: atomic saves, autosave and recovery, clear errors for bad files, kill-during-save."""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.project import (
    Project,
    ProjectError,
    ProjectFormatError,
    ProjectNotFoundError,
    ProjectVersionError,
    schema,
)
from core.project.store import AUTOSAVE_FILE, BACKUP_FILE, read_project_file
from tests.conftest import REPO
from tests.core.test_atomic_write import dead_pid, leftover


@pytest.fixture
def project(tmp_path: Path, video: Path) -> Project:
    p = Project.create(tmp_path / "proj")
    v = p.add_video(video)
    p.add_class("walk")
    p.add_subclip(v.id, 0, 10, label="walk")
    p.add_interval(v.id, 12, 20)
    p.set_verdict(v.id, 12, 20, "unsure", note="ünïcode ✓ \"quoted\", {braces}")
    p.save()
    return p


def test_save_leaves_no_temporary_files_and_keeps_a_backup(project: Project) -> None:
    first = project.path.read_text()
    project.add_class("run")
    project.save()
    names = sorted(p.name for p in project.folder.iterdir())
    assert names == ["cache", "models", "project.json", BACKUP_FILE, "project.lock", "runs"]
    project.close()  # the lock goes with the last holder
    assert sorted(p.name for p in project.folder.iterdir()) == ["cache", "models", "project.json", BACKUP_FILE, "runs"]
    assert (project.folder / BACKUP_FILE).read_text() == first
    json.loads(project.path.read_text())  # plain JSON, readable by any tool


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_saves_and_exports_keep_normal_permissions(project: Project, tmp_path: Path) -> None:
    from core.project.exporters import export_csv

    mask = os.umask(0o022)
    try:
        project.save()
        assert project.path.stat().st_mode & 0o777 == 0o644  # not the temporary file's owner-only 0600
        project.path.chmod(0o664)  # shared with a group: a save keeps that
        project.add_class("permissions")
        project.save()
        assert project.path.stat().st_mode & 0o777 == 0o664
        assert {p.stat().st_mode & 0o777 for p in export_csv(project, tmp_path / "csv")} == {0o644}
    finally:
        os.umask(mask)


def test_file_is_human_readable_one_entity_per_line(project: Project) -> None:
    lines = project.path.read_text().splitlines()
    assert lines[0] == "{" and lines[1] == '  "format": "framewatch-project",' and lines[2] == '  "version": 1,'
    assert sum('"verdict": "unsure"' in line for line in lines) == 1


def test_missing_project_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ProjectNotFoundError, match="project.json: no project here"):
        Project.open(tmp_path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b'{"format": "framewatch-project", "version": 1, "info": {"na', "truncated"),
        (b"\xff\xfe garbage", "not UTF-8"),
        (b"[1, 2, 3]", "top level: must be a JSON object"),
        (b'{"format": "something-else", "version": 1}', "not a Framewatch project file"),
        (b'{"format": "framewatch-project", "version": "1"}', "field 'version' must be"),
        (b'{"format": "framewatch-project", "version": 1, "info": {"name": "x"}, "subclips": '
         b'[{"id": "a", "video": "nope", "start": 0, "end": 3}]}', r"subclips\[0\]: refers to video 'nope'"),
    ],
)
def test_corrupt_files_give_clear_errors_and_are_never_overwritten(tmp_path: Path, content: bytes, message: str) -> None:
    (tmp_path / "project.json").write_bytes(content)
    with pytest.raises(ProjectFormatError, match=message) as info:
        Project.open(tmp_path)
    assert "project.json" in str(info.value)
    with pytest.raises(ProjectError, match="already exists"):
        Project.create(tmp_path)
    assert (tmp_path / "project.json").read_bytes() == content


def test_a_corrupt_file_points_to_the_backup_and_old_temporaries_are_cleaned(project: Project) -> None:
    project.add_class("run")
    project.save()
    stale = leftover(project.path, dead_pid())  # a save that was killed mid-write
    project.path.write_text('{"format": "framewatch-project", "vers')
    with pytest.raises(ProjectFormatError, match="truncated.*previous save is in project.json.bak"):
        Project.open(project.folder)
    (project.folder / BACKUP_FILE).replace(project.path)
    restored = Project.open(project.folder)
    assert "walk" in restored.classes and "run" not in restored.classes
    restored.save()
    assert not stale.exists()


def test_newer_version_is_refused_untouched(project: Project) -> None:
    doc = json.loads(project.path.read_text())
    doc["version"] = schema.VERSION + 1
    text = json.dumps(doc)
    project.path.write_text(text)
    with pytest.raises(ProjectVersionError, match="newer Framewatch"):
        Project.open(project.folder)
    assert project.path.read_text() == text


def test_older_versions_are_migrated(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = json.loads(project.path.read_text())
    doc["version"] = 0
    doc["info"]["title"] = doc["info"].pop("name")  # pretend version 0 called it "title"

    def v0_to_v1(d: dict) -> dict:
        d["info"]["name"] = d["info"].pop("title")
        return d

    monkeypatch.setitem(schema.MIGRATIONS, 0, v0_to_v1)
    project.path.write_text(json.dumps(doc))
    assert Project.open(project.folder).data.same_as(project.data)


def test_autosave_is_offered_for_recovery_after_a_crash(project: Project) -> None:
    assert not project.autosave()  # clean: nothing to write
    v = next(iter(project.videos))
    project.add_subclip(v, 20, 30, label="walk")
    assert project.autosave() and not project.autosave()  # written once per change
    edited = project.data.copy()
    # the process dies here: no save. Opening reports the autosave ...
    reopened = Project.open(project.folder)
    assert reopened.recovery is not None and "unsaved changes" in reopened.recovery.describe()
    assert len(reopened.subclips) == 1
    # ... and recovering gives the unsaved edits back, as unsaved
    recovered = Project.open(project.folder, recover=True)
    assert recovered.data.same_as(edited) and recovered.dirty
    recovered.save()
    assert not (project.folder / AUTOSAVE_FILE).exists()
    assert Project.open(project.folder).recovery is None


def test_an_undecided_recovery_is_set_aside_not_overwritten(project: Project) -> None:
    project.add_class("crashed-session")
    project.autosave()
    later = Project.open(project.folder)
    assert later.recovery is not None  # the app did not ask; the analyst goes on editing and saves
    later.add_class("new-session")
    later.autosave()
    later.save()
    [aside] = project.folder.glob("project.autosave-unrecovered-*.json")
    assert "crashed-session" in read_project_file(aside, project.folder).classes
    assert "new-session" in Project.open(project.folder).classes


def test_a_save_during_an_autosave_write_never_leaves_a_stale_autosave(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from core.project import store

    real_write = store.write_project_file
    saver: list[threading.Thread] = []

    def write(path: Path, *args, **kwargs) -> str:
        if Path(path).name == AUTOSAVE_FILE and not saver:  # the analyst presses Ctrl+S mid-autosave
            saver.append(threading.Thread(target=project.save))
            saver[0].start()
            saver[0].join(timeout=0.5)  # the save either finishes now (the bug) or waits for this write
        return real_write(path, *args, **kwargs)

    monkeypatch.setattr(store, "write_project_file", write)
    project.add_class("run")
    assert project.autosave()
    saver[0].join()
    assert not project.dirty and "run" in Project.open(project.folder).classes
    assert not project.autosave_path.exists() and Project.open(project.folder).recovery is None


def test_closing_without_deciding_keeps_a_crashed_sessions_autosave(project: Project) -> None:
    project.add_class("unsaved work")
    project.autosave()  # the session crashes here
    later = Project.open(project.folder)
    assert later.recovery is not None
    later.close()  # opened and closed again without recovering or discarding
    assert "unsaved work" in Project.open(project.folder, recover=True).classes


def test_background_autosave_writes_while_dirty(project: Project) -> None:
    project.start_autosave(interval_s=0.05)
    try:
        project.add_class("run")
        deadline = time.monotonic() + 10
        while not (project.folder / AUTOSAVE_FILE).exists() and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        project.stop_autosave()
    assert "run" in read_project_file(project.folder / AUTOSAVE_FILE, project.folder).classes
    project.close()  # dirty: the autosave stays for recovery
    assert (project.folder / AUTOSAVE_FILE).exists()


def test_declined_recovery_discards_the_autosave(project: Project) -> None:
    project.add_class("run")
    project.autosave()
    reopened = Project.open(project.folder)
    reopened.discard_autosave()
    assert Project.open(project.folder).recovery is None and "run" not in Project.open(project.folder).classes


# -- a process killed in the middle of saving ----------------------------------------------------
SAVER = textwrap.dedent(
    """
    import sys
    from core.project import Project
    from core.project.entities import Subclip, new_id
    p = Project.open(sys.argv[1])
    video = next(iter(p.videos))
    n = len(p.subclips)
    while True:
        clips = [Subclip(new_id(), video, i % 30, i % 30 + 5, label="walk") for i in range(n, n + 1000)]
        p.add_subclips(clips)
        n += 1000
        p.set_info(description=str(n))
        print("saving", n, flush=True)
        p.save()
        print("saved", n, flush=True)
    """
)


def test_killing_a_process_mid_save_leaves_a_loadable_project(project: Project) -> None:
    """A saver is SIGKILLed a random moment after it starts a save (saves take tens of ms here)."""
    video = next(iter(project.videos))
    project.add_subclips([project.make_subclip(video, i % 30, i % 30 + 5, label="walk") for i in range(30_000)])
    project.set_info(description=str(len(project.subclips)))
    project.save()
    project.close()  # each saver holds the lock; a killed one leaves it stale and the next takes it over
    rng = random.Random(7)
    for _ in range(4):
        proc = subprocess.Popen([sys.executable, "-c", SAVER, str(project.folder)], cwd=REPO,
                                stdout=subprocess.PIPE, text=True)
        try:
            assert proc.stdout is not None
            assert proc.stdout.readline().startswith("saving")
            assert proc.stdout.readline().startswith("saved")  # one full save, then kill during the next
            saving = proc.stdout.readline().split()
            time.sleep(rng.uniform(0.0, 0.06))
        finally:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
        loaded = Project.open(project.folder, read_only=True)  # never raises
        count = len(loaded.subclips)
        assert loaded.info.description == str(count)  # one consistent saved state ...
        assert count in (int(saving[1]) - 1000, int(saving[1]))  # ... the last one saved, or the one being saved
    assert len(loaded.subclips) >= 32_000


# -- fuzzing: the loader raises nothing but ProjectError --------------------------------------------
def _load(text: str | bytes, folder: Path) -> None:
    with contextlib.suppress(ProjectError):
        schema.loads(text, folder, folder / "project.json")


def test_fast_and_checked_subclip_readers_agree(tmp_path: Path, valid_doc: str) -> None:
    doc = json.loads(valid_doc)
    videos = schema._read_videos(schema._Reader(None), doc["videos"], tmp_path)
    fast = schema._read_subclips(schema._Reader(None), doc["subclips"], videos)
    checked = schema._read_subclips_checked(schema._Reader(None), doc["subclips"], videos)
    assert fast == checked and len(fast) == 2
    doc["subclips"][1]["start"] = "7"
    with pytest.raises(ProjectFormatError, match=r"subclips\[1\]: field 'start' must be an integer, not str '7'"):
        schema._read_subclips(schema._Reader(None), doc["subclips"], videos)


def test_absurd_paths_and_numbers_raise_only_project_errors(tmp_path: Path, valid_doc: str) -> None:
    for mutate in (
        lambda d: d["videos"][0].update(path="x" * 5000, abs_path="/" + "y" * 5000),
        lambda d: d["videos"][0].update(path="a\0b"),
        lambda d: d["subclips"][0].update(start=10**400),
        lambda d: d["videos"][0].update(fps=-1),
        lambda d: d.update(subclips=[[]] * 3),
        lambda d: d["runs"][0].update(checkpoint="m" * 5000),
    ):
        doc = json.loads(valid_doc)
        mutate(doc)
        _load(json.dumps(doc), tmp_path)
    deep = "[" * 100_000 + "]" * 100_000
    _load(deep, tmp_path)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(blob=st.binary(max_size=300))
def test_fuzzed_bytes_raise_only_project_errors(tmp_path: Path, blob: bytes) -> None:
    _load(blob, tmp_path)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=True) | st.text(max_size=8)
    | st.text(min_size=250, max_size=400),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=12,
)


@pytest.fixture(scope="module")
def valid_doc(tmp_path_factory: pytest.TempPathFactory, video: Path) -> str:
    p = Project.create(tmp_path_factory.mktemp("fuzz") / "proj")
    v = p.add_video(video)
    p.add_class("walk")
    p.add_target("speed", 0, 5)
    p.add_subclip(v.id, 0, 10, label="walk", split="val")
    p.add_subclip(v.id, 3, 9, value=2.0)
    p.add_interval(v.id, 12, 20)
    p.set_verdict(v.id, 12, 20, "unsure", run_id="r", score=0.5)
    p.add_run("r", "anomaly", {"a": [1, 2]}, {"auc": 0.5}, checkpoint="models/x.keras")
    p.save()
    return p.path.read_text()


def _paths(value: object, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*prefix, i))
    return out


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzzed_project_documents_raise_only_project_errors(tmp_path: Path, valid_doc: str, data: st.DataObject) -> None:
    doc = json.loads(valid_doc)
    for _ in range(data.draw(st.integers(1, 3))):
        paths = _paths(doc)
        path = data.draw(st.sampled_from(paths))
        replacement = data.draw(JSON)
        if not path:
            doc = replacement
            continue
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        if data.draw(st.booleans()) and isinstance(parent, dict):
            parent.pop(path[-1], None)
        else:
            parent[path[-1]] = replacement
    _load(json.dumps(doc), tmp_path)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_truncated_and_bit_flipped_files_raise_only_project_errors(tmp_path: Path, valid_doc: str, data: st.DataObject) -> None:
    raw = bytearray(valid_doc.encode())
    cut = data.draw(st.integers(0, len(raw)))
    raw = raw[:cut]
    for _ in range(data.draw(st.integers(0, 4))):
        if raw:
            raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    path = tmp_path / "project.json"
    path.write_bytes(bytes(raw))
    with contextlib.suppress(ProjectError):
        read_project_file(path)


# -- fields this version does not know, and values no recording can have -----------------------------
def test_unknown_fields_at_every_level_survive_a_load_edit_save_round_trip(tmp_path: Path, valid_doc: str) -> None:
    folder = tmp_path / "proj"
    folder.mkdir()
    doc = json.loads(valid_doc)
    doc["workspace"] = {"layout": [1, 2], "zoom": 1.5}
    doc["info"]["owner"] = "lab 3"
    for n, key in enumerate(("videos", "classes", "targets", "subclips", "intervals", "verdicts", "runs")):
        for entity in doc[key]:
            entity[f"future_{key}"] = {"n": n, "tags": ["ä", None, True]}
    (folder / "project.json").write_text(json.dumps(doc))
    project = Project.open(folder)
    clip = next(iter(project.subclips.values()))
    assert clip.extra == {"future_subclips": {"n": 3, "tags": ["ä", None, True]}}
    project.update_subclip(clip.id, note="edited")  # an edited entity keeps its unknown fields too
    project.add_class("new")  # a new one has none
    project.save()
    saved = json.loads((folder / "project.json").read_text())
    assert saved["workspace"] == doc["workspace"] and saved["info"]["owner"] == "lab 3"
    for key in ("videos", "classes", "targets", "subclips", "intervals", "verdicts", "runs"):
        for before, after in zip(doc[key], saved[key], strict=False):
            assert {k: v for k, v in after.items() if k.startswith("future_")} == {f"future_{key}": before[f"future_{key}"]}
    assert saved["subclips"][0]["note"] == "edited"
    assert [c for c in saved["classes"] if c["name"] == "new"] == [
        {"name": "new", "color": saved["classes"][-1]["color"], "shortcut": "", "description": ""}]
    assert Project.open(folder).data.same_as(project.data)


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda d: d["videos"][0].update(fps=1e308), r"videos\[0\] \(clip.avi\): field 'fps' must be a frame rate from 0.001 to 1000"),
    (lambda d: d["videos"][0].update(fps=0), r"videos\[0\] \(clip.avi\): field 'fps' must be a frame rate"),
    (lambda d: d["videos"][0].update(fps=1001), r"field 'fps' must be a frame rate from 0.001 to 1000 frames per second, not 1001"),
    # a rate near 0 put frames at infinite times (exports wrote Infinity): refused like one too high
    (lambda d: d["videos"][0].update(fps=5e-324), r"field 'fps' must be a frame rate from 0.001 to 1000 frames per second, not 4.94066e-324"),
    (lambda d: d["videos"][0].update(fps=float("nan")), r"field 'fps' must be a finite number, not float nan"),
    (lambda d: d["videos"][0].update(frame_count=-3), r"videos\[0\] \(clip.avi\): field 'frame_count' must be at least 0"),
    (lambda d: d["videos"][0].update(declared_frame_count=10**12), r"field 'declared_frame_count' must be at most"),
    (lambda d: d["subclips"][0].update(start=10, end=10), r"subclips\[0\]: frames \[10, 10\) of video clip.avi: "
     r"field 'end' \(10\) must be after field 'start' \(10\)"),
    (lambda d: d["subclips"][1].update(end=41), r"subclips\[1\]: frames \[3, 41\) of video clip.avi: field 'end' goes "
     r"past the end of the video \(40 frames\)"),
    (lambda d: d["intervals"][0].update(start=30, end=12), r"intervals\[0\]: frames \[30, 12\) .* must be after"),
    (lambda d: d["verdicts"][0].update(end=400), r"verdicts\[0\]: frames \[12, 400\) of video clip.avi: .* past the end"),
])
def test_values_no_recording_can_have_are_refused_naming_file_entity_and_field(
        tmp_path: Path, valid_doc: str, mutate, message: str) -> None:
    doc = json.loads(valid_doc)
    mutate(doc)
    path = tmp_path / "project.json"
    path.write_text(json.dumps(doc))
    before = path.read_bytes()
    with pytest.raises(ProjectFormatError, match=message) as info:
        Project.open(tmp_path)
    assert str(info.value).startswith(f"{path}: ") and "\n" not in str(info.value)
    assert path.read_bytes() == before


def test_a_range_past_the_decoded_count_but_within_the_declared_one_loads(tmp_path: Path, valid_doc: str) -> None:
    """Labelled against the header's count before a scan found fewer frames: it opens (and validation
    reports it), so the analyst can fix it rather than lose the project."""
    doc = json.loads(valid_doc)
    doc["videos"][0].update(frame_count=35, declared_frame_count=40)
    doc["subclips"][1].update(end=38)
    (tmp_path / "project.json").write_text(json.dumps(doc))
    project = Project.open(tmp_path)
    [issue] = [i for i in project.validate(check_files=False) if i.kind == "out_of_range"]
    assert issue.ids == (doc["subclips"][1]["id"],)
