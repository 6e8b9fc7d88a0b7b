"""The scene-transfer benchmark's projects, made from UCSD Ped2 by repo code (``python -m bench transfer`` uses them).

    python -m bench.scenes ped2 OUT             # (a) Ped2 as shipped: 16 training videos, 12 test videos
    python -m bench.scenes one-recording OUT    # (b) the 16 training videos joined into one file, same tests
    python -m bench.scenes planted OUT [--seed N]   # (c) planted anomalies in unseen Ped2 footage

``OUT`` is the project folder to create (refused if it holds a project). (b) is ``framewatch project
import-ucsd DATA/ucsd_ped2 OUT --one-recording OUT/footage/training.avi``. (c) learns the scene from Ped2
training videos 01-10 (its train split: the normal footage a run learns from), cuts people out of them and
plants one into each of the unseen training videos 11-16 (its test split), in turn too fast along the
walkway, against the usual direction of its lane, and slowly where nobody walks
(:mod:`core.data.planted`); the planted videos are PNG frames under ``OUT/footage/``, their ground truth
the project's anomaly intervals, and ``OUT/footage/planted.json`` says what was planted where. The same
seed gives the same videos, to the pixel. The unplanted videos 11-16 are test videos too (``unseen/NN``, no
anomaly): unseen normal footage, so false alarms are counted on minutes of it, not on the few seconds before
each planted person appears.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.reference_data import default_data_dir  # noqa: E402

SCENES = ("ped2", "one-recording", "planted")
#: Ped2 training videos the planted scene learns from, and the unseen ones it plants into.
PLANTED_SOURCES = tuple(f"{n:02d}" for n in range(1, 11))
PLANTED_TARGETS = tuple(f"{n:02d}" for n in range(11, 17))
UCSD_FPS = 10.0


def _fresh(folder: Path) -> None:
    if (folder / "project.json").exists():
        raise FileExistsError(f"{folder}: already holds a project")
    if folder.exists():
        shutil.rmtree(folder)  # a build that did not finish


def build_scene(scene: str, folder: Path, ped2: Path, seed: int = 0) -> Path:
    """Create the project of ``scene`` (:data:`SCENES`) in ``folder`` from the Ped2 dataset at ``ped2``."""
    from core.project import Project
    from core.project.importers import import_ucsd

    if scene not in SCENES:
        raise ValueError(f"scene must be one of {', '.join(SCENES)}, not {scene!r}")
    _fresh(folder)
    start = time.perf_counter()
    project = Project.create(folder, name=f"transfer-{scene}")
    try:
        if scene == "ped2":
            import_ucsd(project, ped2)
        elif scene == "one-recording":
            import_ucsd(project, ped2, one_recording=folder / "footage" / "training.avi")
        else:
            from core.data.planted import make_planted_set, planted_project

            training = ped2 / "training"
            planted = make_planted_set([training / n for n in PLANTED_SOURCES],
                                       [training / n for n in PLANTED_TARGETS], folder / "footage", seed=seed)
            planted_project(project, planted, fps=UCSD_FPS)
            (folder / "footage" / "planted.json").write_text(json.dumps(
                {"seed": seed, "sources": list(PLANTED_SOURCES), "walking_speed": planted.stats.walking_speed,
                 "events": [e.to_dict() for e in planted.events]}, indent=2))
            add_unseen(project, ped2)
        project.save()
    finally:
        project.close()
    print(f"built the {scene} scene in {folder} in {time.perf_counter() - start:.1f} s", flush=True)
    return folder


def add_unseen(project, ped2: Path) -> int:
    """Add the planted scene's targets unplanted (``unseen/NN``, split test, no anomaly) unless there; how many."""
    have = {video.name for video in project.videos.values()}
    added = 0
    for name in PLANTED_TARGETS:
        if f"unseen/{name}" not in have:
            project.add_video(ped2 / "training" / name, fps=UCSD_FPS, name=f"unseen/{name}", split="test", scan=False)
            added += 1
    return added


def scene_project(scene: str, work: Path, ped2: Path, seed: int = 0) -> Path:
    """The work folder's project of ``scene`` (``work/<scene>``), built the first time (a planted project made
    before its unseen videos were part of it gets them now: its runs, trained on videos 01-10, stay valid)."""
    folder = work / scene
    if (folder / "project.json").exists():
        if scene == "planted":
            from core.project import Project

            project = Project.open(folder)
            try:
                if add_unseen(project, ped2):
                    project.save()
            finally:
                project.close()
        return folder
    return build_scene(scene, folder, ped2, seed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scenes", description=__doc__.splitlines()[0])
    parser.add_argument("scene", choices=SCENES)
    parser.add_argument("out", type=Path, help="project folder to create")
    parser.add_argument("--data", type=Path, default=default_data_dir(), help="the shared data folder")
    parser.add_argument("--seed", type=int, default=0, help="planted: the seed of the planting (default 0)")
    args = parser.parse_args(argv)
    ped2 = args.data / "ucsd_ped2"
    if not ped2.is_dir():
        parser.error(f"no UCSD Ped2 at {ped2} (give --data)")
    try:
        build_scene(args.scene, args.out, ped2, args.seed)
    except (FileExistsError, ValueError) as exc:
        print(f"python -m bench.scenes: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
