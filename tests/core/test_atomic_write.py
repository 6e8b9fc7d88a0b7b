"""The one atomic-write helper: old file or new file, never a mixture, and no leftovers after a kill."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from core import atomic_write
from core.atomic_write import atomic_output, remove_leftovers, temp_path, write_json, write_text


def dead_pid() -> int:
    """The PID of a process that has exited (and been reaped)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def leftover(target: Path, pid: int) -> Path:
    """A temporary file as a writer with ``pid`` that was killed mid-write would leave it."""
    name = temp_path(target).name.replace(f".{os.getpid()}-", f".{pid}-")
    path = target.with_name(name)
    path.write_bytes(b"half a write")
    return path


def test_a_write_replaces_the_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "records.json"
    write_json(target, {"a": [1, 2]})
    write_json(target, {"a": (3,), "path": tmp_path})
    assert target.read_text().startswith("{")
    assert '"a": [\n    3\n  ]' in target.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["records.json"]


def test_a_failed_write_keeps_the_old_file_and_removes_its_temporary(tmp_path: Path) -> None:
    target = tmp_path / "cut.mp4"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_output(target) as tmp:
        tmp.write_bytes(b"new but incomplete")
        raise RuntimeError("the encoder died")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.mp4"]


def test_a_writer_that_writes_nothing_is_an_error_and_the_target_is_untouched(tmp_path: Path) -> None:
    target = tmp_path / "model.keras"
    with pytest.raises(FileNotFoundError, match="produced no file"), atomic_output(target):
        pass
    assert not target.exists()


def test_temporaries_keep_the_extension_and_are_hidden(tmp_path: Path) -> None:
    tmp = temp_path(tmp_path / "last.keras")
    assert tmp.name.startswith(".last.") and tmp.name.endswith(".part.keras")
    assert tmp.parent == tmp_path


def test_permissions_of_the_target_are_kept(tmp_path: Path) -> None:
    target = tmp_path / "project.json"
    target.write_text("{}")
    target.chmod(0o640)
    write_text(target, '{"x": 1}')
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_a_new_file_gets_the_usual_permissions_not_owner_only(tmp_path: Path) -> None:
    target = tmp_path / "new.json"
    write_text(target, "{}")
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~atomic_write._umask()


def test_a_killed_writers_temporary_is_removed_by_the_next_write_of_that_file(tmp_path: Path) -> None:
    target = tmp_path / "b.mp4"
    killed = leftover(target, dead_pid())
    other = leftover(tmp_path / "other.mp4", dead_pid())
    live = leftover(target, os.getpid())
    write_text(target, "cut")
    assert not killed.exists()
    assert other.exists(), "only leftovers of the file being written go"
    assert live.exists(), "a live writer's temporary is never touched"


def test_remove_leftovers_sweeps_a_folder_of_dead_writers_only(tmp_path: Path) -> None:
    dead = [leftover(tmp_path / "a.json", dead_pid()), leftover(tmp_path / "b.npy", dead_pid())]
    live = leftover(tmp_path / "c.json", os.getppid())
    plain = tmp_path / ".hidden.part.json"
    plain.write_text("not ours")
    removed = remove_leftovers(tmp_path)
    assert sorted(removed) == sorted(dead)
    assert live.exists() and plain.exists()


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_json_is_strict_a_number_it_cannot_hold_writes_nothing(tmp_path: Path, bad: float) -> None:
    import numpy as np

    from core.errors import NonFiniteJSONError

    target = tmp_path / "doc.json"
    write_json(target, {"ok": 1})
    for data in ({"time_s": [0.0, bad]}, {"peak": np.float32(bad)}):
        with pytest.raises(NonFiniteJSONError) as info:
            write_json(target, data)
        assert str(info.value).startswith(f"{target}: not written") and "\n" not in str(info.value)
        assert target.read_text() == '{\n  "ok": 1\n}' and sorted(p.name for p in tmp_path.iterdir()) == ["doc.json"]


# -- whole folders ------------------------------------------------------------------------------------
#: A writer of folder argv[1] killed (exit without clean-up) at argv[2]: "while building" (half of the new
#: folder written) or "between renames" (the old folder set aside, the new one not yet renamed in).
KILLED_FOLDER_WRITER = """
import os, sys
from pathlib import Path
from core.atomic_write import atomic_folder
path, kill_at = Path(sys.argv[1]), sys.argv[2]
real_rename = os.rename
def rename(src, dst):
    if kill_at == "between renames" and Path(dst) == path:
        os._exit(9)
    real_rename(src, dst)
os.rename = rename
with atomic_folder(path) as part:
    (part / "a.txt").write_text("new a")
    if kill_at == "while building":
        os._exit(9)
    (part / "b.txt").write_text("new b")
"""


def folder_files(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in folder.iterdir()}


def test_a_folder_is_replaced_whole_and_a_failed_build_leaves_the_old_one(tmp_path: Path) -> None:
    from core.atomic_write import atomic_folder

    out = tmp_path / "out"
    with atomic_folder(out) as part:
        (part / "a.txt").write_text("old a")
        (part / "b.txt").write_text("old b")
    with pytest.raises(OSError, match="disk full"), atomic_folder(out) as part:
        (part / "a.txt").write_text("new a")
        raise OSError("disk full")
    assert folder_files(out) == {"a.txt": "old a", "b.txt": "old b"}
    with atomic_folder(out) as part:
        (part / "c.txt").write_text("new c")
    assert folder_files(out) == {"c.txt": "new c"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no temporary or set-aside folder left


@pytest.mark.parametrize("kill_at", ["while building", "between renames"])
def test_a_killed_folder_writer_leaves_the_old_folder_or_it_is_put_back(tmp_path: Path, kill_at: str) -> None:
    from core.atomic_write import atomic_folder, restore_folder
    from tests.conftest import REPO

    out = tmp_path / "out"
    with atomic_folder(out) as part:
        (part / "a.txt").write_text("old a")
        (part / "b.txt").write_text("old b")
    child = subprocess.run([sys.executable, "-c", KILLED_FOLDER_WRITER, str(out), kill_at], cwd=REPO, timeout=300)
    assert child.returncode == 9
    if kill_at == "while building":  # the old folder never moved; the half-built one lies hidden beside it
        assert folder_files(out) == {"a.txt": "old a", "b.txt": "old b"}
        assert not restore_folder(out)
    else:  # killed in the instant between the renames: the old folder waits aside, whole
        assert not out.exists()
        assert restore_folder(out)
    assert folder_files(out) == {"a.txt": "old a", "b.txt": "old b"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
