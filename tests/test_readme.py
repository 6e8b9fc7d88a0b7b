"""The README starts with two set-up commands that work on a fresh machine, a root shell without sudo included."""

from __future__ import annotations

import shutil
import stat
import subprocess
from pathlib import Path

from tests.conftest import REPO


def setup_commands() -> list[str]:
    """The lines of the README's first code block."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    block = text.split("```bash\n", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line.strip()]


def test_the_readme_starts_with_two_commands_one_runs_the_app_one_the_tests() -> None:
    first, second = setup_commands()
    assert first.endswith("python3 -m pip install -e . && python3 main.py")
    assert "pytest" in second and "apt-get" not in second


def test_the_first_command_runs_in_a_root_shell_without_sudo(tmp_path: Path) -> None:
    """The first command run by bash with stand-ins for apt-get and python3 on a PATH that has no sudo:
    every step runs, in order (a bare ``sudo`` stopped it at "sudo: command not found")."""
    first, _second = setup_commands()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "calls.log"
    for name in ("apt-get", "python3"):
        stub = bin_dir / name
        stub.write_text(f'#!/bin/sh\necho "{name} $*" >> "{log}"\n')
        stub.chmod(stub.stat().st_mode | stat.S_IXUSR)
    bash = shutil.which("bash")
    assert bash is not None
    env = {"PATH": str(bin_dir), "HOME": str(tmp_path)}
    result = subprocess.run([bash, "-c", first], cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    calls = log.read_text().splitlines()
    assert [call.split()[:2] for call in calls] == [["apt-get", "update"], ["apt-get", "install"],
                                                   ["python3", "-m"], ["python3", "main.py"]]
    assert "libxcb-cursor0" in calls[1]
