""".ci/busy-cores: runs pytest beside CPU burners, exits with pytest's status, and never leaves a burner running."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import REPO

SCRIPT = REPO / ".ci" / "busy-cores"
LIMIT_S = 300  # far beyond what each run needs


def burner_pids(output: str) -> list[int]:
    found = re.search(r"busy-cores: (\d+) CPU burner\(s\) \(pids ([\d ]*)\)", output)
    assert found, output
    pids = [int(p) for p in found.group(2).split()]
    assert len(pids) == int(found.group(1))
    return pids


def gone(pid: int) -> bool:
    """Whether ``pid`` no longer runs (a zombie still in the table counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def run_script(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), "--burners", "2", "--", "-p", "no:cacheprovider",
                           "--rootdir", str(tmp_path), "-q", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=LIMIT_S)


def test_the_script_exits_with_pytests_status_and_stops_its_burners(tmp_path) -> None:
    (tmp_path / "test_passes.py").write_text("def test_passes():\n    assert True\n")
    (tmp_path / "test_fails.py").write_text("def test_fails():\n    assert 1 == 2\n")
    passed = run_script(tmp_path, str(tmp_path / "test_passes.py"))
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "1 passed" in passed.stdout and "pytest exited with 0" in passed.stdout
    failed = run_script(tmp_path, str(tmp_path / "test_fails.py"))
    assert failed.returncode == 1 and "1 failed" in failed.stdout and "pytest exited with 1" in failed.stdout
    for pid in burner_pids(passed.stdout) + burner_pids(failed.stdout):
        assert gone(pid), pid


def start_waiting_run(tmp_path: Path, burners: int, **popen) -> subprocess.Popen:
    """The script running a test that waits ten minutes; returns once that test has started."""
    started = tmp_path / "started"
    (tmp_path / "test_waits.py").write_text(
        "import pathlib, time\n"
        "def test_waits():\n"
        f"    pathlib.Path({str(started)!r}).touch()\n"
        "    time.sleep(600)\n")
    script = subprocess.Popen([sys.executable, str(SCRIPT), "--burners", str(burners), "--", "-p",
                               "no:cacheprovider", "--rootdir", str(tmp_path), "-q", str(tmp_path / "test_waits.py")],
                              cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **popen)
    deadline = time.monotonic() + LIMIT_S
    while not started.exists():  # polled: the burners and pytest are all up once the test runs
        if time.monotonic() > deadline or script.poll() is not None:
            script.kill()
            raise AssertionError(f"the test never started: {script.communicate()[0]}")
        time.sleep(0.1)
    return script


def test_an_interrupted_run_stops_its_burners(tmp_path) -> None:
    script = start_waiting_run(tmp_path, burners=2)
    try:
        script.send_signal(signal.SIGTERM)
        output, _ = script.communicate(timeout=LIMIT_S)
    finally:
        if script.poll() is None:
            script.kill()
            script.wait()
    assert script.returncode == 130, output
    for pid in burner_pids(output):
        assert gone(pid), pid


def test_a_burner_stops_by_itself_when_the_script_is_killed(tmp_path) -> None:
    script = start_waiting_run(tmp_path, burners=1, start_new_session=True)
    try:
        (pid,) = burner_pids(script.stdout.readline())
        script.kill()  # no clean-up runs: the burner must notice that its parent is gone
        script.wait()
        deadline = time.monotonic() + LIMIT_S
        while not gone(pid):
            assert time.monotonic() < deadline, f"burner {pid} still runs"
            time.sleep(0.1)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(script.pid, signal.SIGKILL)  # the orphaned pytest and its waiting test
