"""The built-in demo project: real UCSD Ped2 footage, small enough to ship in ``resources/demo/``.

``python -m desktop_app.library.demo`` rebuilds ``resources/demo/`` from ``../shared/data/ucsd_ped2``: test video
01 (a cyclist crosses the pedestrian walkway) and two normal training videos, re-encoded to small H.264
MP4s, plus a project that holds them with the dataset's ground-truth anomaly interval of test video 01
(``UCSDped2.m`` says frames 61..180, 1-based inclusive, i.e. ``[60, 180)`` here) and a few labelled
example subclips.

The demo carries the shipped anomaly model (``resources/models/ped2-future-frame``, a future-frame model
trained on Ped2's training videos): :func:`ensure_demo_project` copies it into the user's copy as the run
``runs/ped2-future-frame``, so Review > Score Video scores test video 01 at once and flags the cyclist.

The app never opens the demo where it is installed (that folder may be read-only):
:func:`ensure_demo_project` copies it to a user-writable folder on first use and opens the copy.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from desktop_app.common.resource_files import SOURCE_RESOURCES, resource, shipped_model_dir

REPO = Path(__file__).resolve().parents[2]
#: The demo the app opens (copied first): the checkout's, or the installed package data's.
DEMO_DIR = resource("demo")
PROJECT_FOLDER = "project"
#: The clips of the demo: (name in resources/demo, folder under ucsd_ped2).
CLIPS = (
    ("ped2_test01.mp4", "testing/01"),
    ("ped2_train01.mp4", "training/01"),
    ("ped2_train02.mp4", "training/02"),
)
#: UCSD Ped2 is distributed as image sequences; its camera ran at about 10 frames per second.
DEMO_FPS = 10.0
#: Ground truth of test video 01 from UCSDped2.m: gt_frame = [61:180] (1-based, inclusive).
TEST01_ANOMALY_1BASED = (61, 180)


def encode_sequence(folder: Path, output: Path, fps: float = DEMO_FPS, crf: int = 30) -> Path:
    """Re-encode an image-sequence folder to a small H.264 MP4 (gray footage stays gray)."""
    import imageio_ffmpeg

    from core.video import open_video

    with open_video(folder, fps=fps) as source:
        width, height = source.size
        writer = imageio_ffmpeg.write_frames(
            str(output), (width, height), fps=fps, codec="libx264", macro_block_size=2,
            output_params=["-crf", str(crf), "-preset", "slow", "-g", str(int(fps * 2)), "-bf", "0",
                           "-movflags", "+faststart"],
        )
        writer.send(None)
        for frame in source.iter_frames(color="rgb"):
            writer.send(frame)
        writer.close()
    return output


def build(data_dir: Path, demo_dir: Path = SOURCE_RESOURCES / "demo") -> Path:
    """Build ``demo_dir`` (clips and ``project/``) from the Ped2 folder under ``data_dir``; returns the project."""
    from core.project import Project

    ped2 = data_dir / "ucsd_ped2"
    if not ped2.is_dir():
        raise SystemExit(f"UCSD Ped2 not found under {data_dir}")
    if demo_dir.exists():
        shutil.rmtree(demo_dir)
    demo_dir.mkdir(parents=True)
    for name, sub in CLIPS:
        encode_sequence(ped2 / sub, demo_dir / name)
    project = Project.create(demo_dir / PROJECT_FOLDER, name="Demo: UCSD Ped2",
                             description="A cyclist crosses the walkway in test video 01; two normal training videos.")
    videos = {name: project.add_video(demo_dir / name, name=name.removesuffix(".mp4")) for name, _ in CLIPS}
    project.set_video_split([videos["ped2_train01.mp4"].id, videos["ped2_train02.mp4"].id], "train")
    project.set_video_split([videos["ped2_test01.mp4"].id], "test")
    project.add_class("walking", color="#56b4e9", shortcut="1", description="Only pedestrians on the walkway")
    project.add_class("cyclist", color="#e69f00", shortcut="2", description="A bicycle rides through")
    project.add_class("vehicle", color="#cc79a7", shortcut="3", description="A cart, car or skater")
    test01 = videos["ped2_test01.mp4"].id
    a, b = TEST01_ANOMALY_1BASED
    project.add_interval(test01, a - 1, b, source="UCSDped2.m ground truth")
    project.add_subclip(test01, 0, 50, label="walking")
    project.add_subclip(test01, 75, 135, label="cyclist")
    project.add_subclip(videos["ped2_train01.mp4"].id, 0, 60, label="walking")
    project.add_subclip(videos["ped2_train02.mp4"].id, 30, 110, label="walking")
    project.save()
    project.close()
    _make_portable(project.folder)
    return project.folder


def _make_portable(folder: Path) -> None:
    """Keep only what the demo needs, with paths relative to the project (no build-machine paths)."""
    import re

    path = folder / "project.json"
    text = re.sub(r'"abs_path": "[^"]*", ', "", path.read_text(encoding="utf-8"))
    path.write_text(text, encoding="utf-8")
    (folder / "project.json.bak").unlink(missing_ok=True)
    for sub in ("models", "runs", "cache"):
        if (folder / sub).is_dir() and not any((folder / sub).iterdir()):
            (folder / sub).rmdir()


def user_data_dir() -> Path:
    """The app's writable data folder (``AppDataLocation``; a temp folder where Qt knows none)."""
    from PySide6.QtCore import QStandardPaths

    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    if not base:
        import tempfile

        base = str(Path(tempfile.gettempdir()) / "framewatch")
    return Path(base)


def user_demo_dir() -> Path:
    """Where the demo is copied for the user (``AppDataLocation/demo``)."""
    return user_data_dir() / "demo"


def user_scratch_dir() -> Path:
    """Where bare videos opened from the command line get their scratch projects (``AppDataLocation/scratch``)."""
    return user_data_dir() / "scratch"


def new_scratch_folder(name: str) -> Path:
    """A new, not yet existing folder for a scratch project named after ``name`` (a video's name)."""
    import time

    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:60] or "video"
    base = user_scratch_dir() / f"{safe}-{time.strftime('%Y%m%d-%H%M%S')}"
    folder, n = base, 1
    while folder.exists():
        n += 1
        folder = base.with_name(f"{base.name}-{n}")
    return folder


def ensure_demo_project(target: Path | None = None, source: Path | None = None, model: Path | None = None) -> Path:
    """The user's writable copy of the demo project folder, copied from ``source`` (default
    :data:`DEMO_DIR`) on first use, with the anomaly model ``model`` (default: the shipped one) as its
    run ``runs/<model folder name>`` (added to an older copy that lacks it)."""
    source = DEMO_DIR if source is None else source
    target = user_demo_dir() if target is None else target
    project = target / PROJECT_FOLDER
    if not (project / "project.json").exists():
        if not (source / PROJECT_FOLDER / "project.json").exists():
            raise FileNotFoundError(f"the built-in demo is missing from {source}")
        target.mkdir(parents=True, exist_ok=True)
        shutil.copytree(source, target, dirs_exist_ok=True)
        _make_writable(target)
    model = shipped_model_dir() if model is None else model
    run = project / "runs" / model.name
    if (model / "run.json").is_file() and not (run / "run.json").is_file():
        shutil.copytree(model, run, dirs_exist_ok=True)
        _make_writable(run)
    return project


def _make_writable(folder: Path) -> None:
    """An install may be read-only: a copy of it must not be."""
    for path in [folder, *folder.rglob("*")]:
        path.chmod(path.stat().st_mode | 0o200)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build resources/demo/ from UCSD Ped2.")
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data",
                        help="the reference data folder holding ucsd_ped2/")
    parser.add_argument("--out", type=Path, default=SOURCE_RESOURCES / "demo", help="default: resources/demo")
    args = parser.parse_args(argv)
    folder = build(args.data, args.out)
    size = sum(p.stat().st_size for p in args.out.rglob("*") if p.is_file())
    print(f"demo project at {folder} ({size / 1024:.0f} KiB in {args.out})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
