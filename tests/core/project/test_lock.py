"""One writer at a time: project.lock, stale locks, read-only opening, and saves that never overwrite
another program's work (the lost-update scenario of two processes labelling one project at once)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from core.project import (
    Project,
    ProjectChangedError,
    ProjectLockedError,
    ProjectReadOnlyError,
)
from core.project.exporters import export_json
from core.project.lock import LOCK_FILE, process_start_time, read_owner
from tests.conftest import REPO
from tests.core.test_atomic_write import dead_pid, leftover


@pytest.fixture
def folder(tmp_path: Path, video: Path) -> Path:
    """A saved project with one video and one class, closed (no lock held)."""
    p = Project.create(tmp_path / "walkway")
    p.add_video(video)
    p.add_class("walk")
    p.save()
    p.close()
    assert not (p.folder / LOCK_FILE).exists()
    return p.folder


def _fake_lock(folder: Path, **fields: object) -> None:
    doc = {"format": "framewatch-lock", "program": "Framewatch (GUI)", "user": "alice", "host": socket.gethostname(),
           "pid": 123, "since": "2026-11-23T10:02:00+00:00", "token": "0123456789abcdef", "started": None, "boot": ""}
    doc.update(fields)
    (folder / LOCK_FILE).write_text(json.dumps(doc))


HOLDER = textwrap.dedent(
    """
    import sys
    from core.project import Project
    p = Project.open(sys.argv[1], program="Framewatch (GUI)")
    print("ready", flush=True)
    sys.stdin.readline()
    p.close()
    """
)


@pytest.fixture
def holder(folder: Path):
    """Another live process holding the project open for writing."""
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(folder)], cwd=REPO, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
    yield proc
    proc.communicate("\n", timeout=30)


# -- the lost update ------------------------------------------------------------------------------------
LABELLER = textwrap.dedent(
    """
    import sys
    from core.project import Project
    folder, tag, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    for i in range(n):
        p = Project.open(folder, wait_s=30)
        video = next(iter(p.videos))
        p.add_subclip(video, i % 30, i % 30 + 5, label="walk", note=f"{tag}{i}")
        p.save()
        p.close()
    """
)


def test_two_processes_labelling_one_project_in_a_loop_lose_nothing(folder: Path) -> None:
    n = 40
    procs = [subprocess.Popen([sys.executable, "-c", LABELLER, str(folder), tag, str(n)], cwd=REPO,
                              stderr=subprocess.PIPE, text=True) for tag in ("a", "b")]
    errors = [proc.communicate(timeout=120)[1] for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], errors
    notes = sorted(s.note for s in Project.open(folder, read_only=True).subclips.values())
    assert notes == sorted([f"a{i}" for i in range(n)] + [f"b{i}" for i in range(n)])
    assert not (folder / LOCK_FILE).exists()


CLI_LABELLER = textwrap.dedent(
    """
    for i in $(seq 0 $((N - 1))); do
        "$PYTHON" -m core.cli.main project label "$DIR" --video clip.avi --start $i --end $((i + 5)) --class walk \\
            --note "$TAG$i" --wait 30 > /dev/null || exit 1
    done
    """
)


def test_two_cli_processes_labelling_in_a_loop_both_succeed_and_lose_nothing(folder: Path) -> None:
    n = 5
    env = {**os.environ, "PYTHON": sys.executable, "DIR": str(folder), "N": str(n)}
    procs = [subprocess.Popen(["bash", "-c", CLI_LABELLER], cwd=REPO, env={**env, "TAG": tag}, stderr=subprocess.PIPE,
                              text=True) for tag in ("a", "b")]
    errors = [proc.communicate(timeout=120)[1] for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], errors
    notes = sorted(s.note for s in Project.open(folder, read_only=True).subclips.values())
    assert notes == sorted([f"a{i}" for i in range(n)] + [f"b{i}" for i in range(n)])


# -- a second writer --------------------------------------------------------------------------------------
def test_a_second_writer_is_refused_naming_the_holder(folder: Path, holder: subprocess.Popen) -> None:
    owner = read_owner(folder)
    assert owner is not None and owner.pid == holder.pid and owner.program == "Framewatch (GUI)"
    assert owner.started == process_start_time(holder.pid)
    with pytest.raises(ProjectLockedError) as info:
        Project.open(folder, wait_s=0.2)
    message = str(info.value)
    assert message.startswith(f"{folder / 'project.json'}: open in Framewatch (GUI) by {owner.user} on "
                              f"{socket.gethostname()}, PID {holder.pid}, since ")
    assert info.value.owner == owner
    before = (folder / "project.json").read_bytes()
    result = subprocess.run([sys.executable, "-m", "core.cli.main", "project", "label", str(folder), "--video",
                             "clip.avi", "--start", "0", "--end", "5", "--class", "walk", "--wait", "0.3"],
                            cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert f"PID {holder.pid}" in result.stderr
    assert result.stderr.rstrip().endswith("waited 0.3 s; close it there or use --wait SECONDS")
    assert (folder / "project.json").read_bytes() == before


def test_read_only_opening_takes_no_lock_and_tells_who_holds_it(folder: Path, holder: subprocess.Popen) -> None:
    project = Project.open(folder, read_only=True)
    assert project.read_only and project.held_by is not None and project.held_by.pid == holder.pid
    fallback = Project.open(folder, read_only_if_locked=True)
    assert fallback.read_only and fallback.held_by == project.held_by
    with pytest.raises(ProjectReadOnlyError, match=f"read-only: it is open in Framewatch \\(GUI\\) .* PID {holder.pid}"):
        fallback.add_class("run")
    with pytest.raises(ProjectReadOnlyError):
        fallback.save()
    result = subprocess.run([sys.executable, "-m", "core.cli.main", "project", "info", str(folder), "--no-files"],
                            cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "is open in Framewatch (GUI)" in result.stderr
    assert read_owner(folder).pid == holder.pid  # still theirs


def test_a_read_only_project_touches_no_file(folder: Path) -> None:
    (folder / "project.autosave.json").write_bytes((folder / "project.json").read_bytes())
    os.utime(folder / "project.autosave.json", ns=(2**62, 2**62))  # newer than the save: a crash's autosave
    before = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    project = Project.open(folder, read_only=True)
    assert project.recovery is not None and not project.autosave()
    project.close()
    assert {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()} == before


# -- stale locks ------------------------------------------------------------------------------------------
def test_a_lock_of_a_dead_process_is_taken_over_and_said(folder: Path) -> None:
    pid = dead_pid()
    _fake_lock(folder, pid=pid, program="framewatch project label")
    result = subprocess.run([sys.executable, "-m", "core.cli.main", "project", "label", str(folder), "--video",
                             "clip.avi", "--start", "0", "--end", "5", "--class", "walk", "--wait", "0"],
                            cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert f"took over the lock of framewatch project label by alice on {socket.gethostname()}, PID {pid}" in result.stderr
    assert len(Project.open(folder, read_only=True).subclips) == 1
    assert not (folder / LOCK_FILE).exists()


def test_a_lock_whose_pid_was_reused_is_stale(folder: Path) -> None:
    live = os.getppid()  # alive, but started long before this lock claims it did
    _fake_lock(folder, pid=live, started=(process_start_time(live) or 0) + 12345)
    project = Project.open(folder)
    assert project.folder_lock.took_over.pid == live
    assert read_owner(folder).pid == os.getpid()
    project.close()


def test_a_lock_from_another_host_is_never_taken_over(folder: Path) -> None:
    _fake_lock(folder, host="analysis-07", pid=dead_pid())
    with pytest.raises(ProjectLockedError, match=r"open in Framewatch \(GUI\) by alice on analysis-07, PID \d+, since "
                       r"2026-11-23 \d\d:\d\d; close it there; if nothing runs there any more, delete project.lock"):
        Project.open(folder)
    assert read_owner(folder).host == "analysis-07"


def test_projects_of_one_process_share_the_lock_until_the_last_closes(folder: Path) -> None:
    a = Project.open(folder)
    b = Project.open(folder)
    assert a.folder_lock is b.folder_lock and a.folder_lock.users == 2
    a.close()
    assert read_owner(folder).pid == os.getpid()
    del b  # a project dropped without close releases its share too
    assert not (folder / LOCK_FILE).exists()


# -- saves never overwrite someone else's work --------------------------------------------------------------
def test_a_save_over_a_file_changed_on_disk_is_refused_and_keeps_both(folder: Path) -> None:
    project = Project.open(folder)
    project.add_class("run")
    doc = json.loads((folder / "project.json").read_text())  # a writer that ignores the lock
    doc["classes"].append({"name": "theirs"})
    (folder / "project.json").write_text(json.dumps(doc))
    theirs = (folder / "project.json").read_bytes()
    with pytest.raises(ProjectChangedError, match="changed on disk by another program .* nothing was saved"):
        project.save()
    assert (folder / "project.json").read_bytes() == theirs
    assert project.dirty and "run" in project.classes
    copy = project.save_as(folder.parent / "copy")  # the way out: keep the edits beside theirs
    assert "run" in Project.open(copy.folder, read_only=True).classes


def test_saves_of_one_project_in_a_row_are_not_refused(folder: Path) -> None:
    project = Project.open(folder)
    for name in ("a", "b", "c"):
        project.add_class(name)
        project.save()
    assert list(Project.open(folder, read_only=True).classes) == ["walk", "a", "b", "c"]


def test_a_killed_exports_temporary_is_gone_after_the_next_export(folder: Path, tmp_path: Path) -> None:
    target = tmp_path / "all.json"
    stale = leftover(target, dead_pid())
    export_json(Project.open(folder, read_only=True), target)
    assert not stale.exists() and json.loads(target.read_text())["classes"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["all.json", "walkway"]
