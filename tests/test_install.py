"""A non-editable install works from any folder: packages, the stylesheet, the demo and the guide come with it.

The wheel is built from a copy of the sources (no build isolation, no network) and unpacked with
``pip install --target``; a fresh interpreter started in another folder then imports Framewatch from
there and must find its package data inside the install, never in this checkout.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.conftest import REPO

SOURCES = ("setup.py", "pyproject.toml", "README.md", "core", "desktop_app", "resources", "docs")

CHECK = """
import json, sys
from pathlib import Path
from desktop_app.library import demo
from desktop_app.common import resource_files
from desktop_app.shell import theme
from core.project import Project
project = Project.open(demo.ensure_demo_project(target=Path(sys.argv[1])))
print(json.dumps({
    "resources": str(resource_files.resources_dir()),
    "demo": str(demo.DEMO_DIR),
    "style": str(theme.STYLE_SHEET), "style_exists": theme.STYLE_SHEET.is_file(),
    "guide": str(resource_files.user_guide()), "guide_exists": resource_files.user_guide().is_file(),
    "desktop_app": str(Path(demo.__file__).parents[1]),
    "videos": sorted(v.name for v in project.videos.values()),
    "videos_exist": all(v.path.is_file() for v in project.videos.values()),
    "intervals": len(project.intervals),
    "runs": sorted(p.name for p in (project.folder / "runs").iterdir() if (p / "model.keras").is_file()),
}))
"""


def _pip(*args: str, cwd: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "pip", *args], cwd=cwd, capture_output=True, text=True,
                            timeout=300, env={**os.environ, "PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]


def test_wheel_installs_the_app_and_its_demo_usable_from_any_folder(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for name in SOURCES:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(REPO / name, src / name)
    _pip("wheel", "--no-deps", "--no-build-isolation", "-w", str(tmp_path / "dist"), ".", cwd=src)
    (wheel,) = (tmp_path / "dist").glob("framewatch-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    expected = {p.relative_to(src).as_posix() for pkg in ("core", "desktop_app") for p in (src / pkg).rglob("*.py")}
    assert expected <= names, sorted(expected - names)  # every package, however deep
    demo_files = {p.relative_to(src / "resources").as_posix() for p in (src / "resources").rglob("*")
                  if p.is_file() and "__pycache__" not in p.parts}
    assert {"style.qss", "demo/project/project.json", "demo/ped2_test01.mp4",
            "models/ped2-future-frame/model.keras", "models/ped2-future-frame/run.json",
            "models/ped2-future-frame/error_level.keras"} <= demo_files
    assert {f"framewatch_resources/{n}" for n in demo_files} <= names
    guide_files = {p.relative_to(src / "docs").as_posix() for p in (src / "docs").rglob("*") if p.is_file()}
    assert {"user-guide.md", "screenshots/main-window.png"} <= guide_files  # the guide and its pictures
    assert {f"framewatch_resources/guide/{n}" for n in guide_files} <= names
    assert "[gui_scripts]\nframewatch-gui = desktop_app.shell.app:main" in zipfile.ZipFile(wheel).read(
        next(n for n in names if n.endswith("entry_points.txt"))).decode()

    site = tmp_path / "site"
    _pip("install", "--no-deps", "--target", str(site), str(wheel), cwd=tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site), "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run([sys.executable, "-c", CHECK, str(tmp_path / "user-demo")], cwd=elsewhere, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert Path(found["desktop_app"]) == site / "desktop_app"
    assert Path(found["resources"]) == site / "framewatch_resources"
    assert Path(found["demo"]) == site / "framewatch_resources" / "demo"
    assert Path(found["style"]).parent == site / "framewatch_resources" and found["style_exists"]
    assert Path(found["guide"]) == site / "framewatch_resources" / "guide" / "user-guide.md" and found["guide_exists"]
    assert found["videos"] == ["ped2_test01", "ped2_train01", "ped2_train02"] and found["videos_exist"]
    assert found["intervals"] == 1
    assert found["runs"] == ["ped2-future-frame"]  # the demo carries the shipped model from the installed package
