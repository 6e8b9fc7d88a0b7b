"""Import the classic class-folder layout as labelled clips.

Layout::

    <root>/train/<class>/*.mp4        (also training/, val/, validation/, test/, testing/)
    <root>/test/<class>/*.mp4

Every video (file, or folder of images) becomes a video of the project with that split, and one subclip
covering all of its frames, ``[0, frame_count)``, labelled with the folder's class. Classes missing from the
label schema are added (with palette colours).
"""

from __future__ import annotations

import threading
from pathlib import Path

from core.errors import VideoError
from core.jobs import ProgressCallback
from core.project.commands import AddEntities, Macro
from core.project.entities import LabelClass, Subclip, new_id
from core.project.errors import ProjectValidationError
from core.project.importers.common import ImportResult, find_videos, probe_all, require_folder

SPLIT_FOLDERS = {"train": "train", "training": "train", "val": "val", "valid": "val", "validation": "val",
                 "test": "test", "testing": "test"}


def import_class_folders(
    project,
    root: str | Path,
    *,
    fps: float | None = None,
    scan: bool = True,
    skip_unreadable: bool = False,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> ImportResult:
    """Add ``<root>/<split>/<class>/<video>`` as videos with one whole-video labelled subclip each.

    Videos are scanned (decoded once) for their exact frame count; with ``scan=False`` the header's count
    is trusted instead (much faster for thousands of videos). With ``skip_unreadable`` a video
    that does not decode is listed in ``result.skipped`` instead of stopping the import. All is added as
    one undoable action.
    """
    from core.project.project import PALETTE

    root = require_folder(Path(root), "the class-folder dataset")
    items: list[tuple[Path, dict]] = []
    labels: list[str] = []
    for split_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        split = SPLIT_FOLDERS.get(split_dir.name.lower())
        if split is None:
            continue
        for class_dir in sorted(p for p in split_dir.iterdir() if p.is_dir() and not p.name.startswith(".")):
            for path in find_videos(class_dir):
                items.append((path, {"name": f"{split_dir.name}/{class_dir.name}/{path.name}", "split": split}))
                labels.append(class_dir.name)
    if not items:
        raise ProjectValidationError(
            f"{root}: no videos found in train/<class>/, val/<class>/ or test/<class>/ folders"
        )
    result = ImportResult()
    videos = probe_all(
        items, fps=fps, scan=scan, progress=progress, cancel=cancel,
        on_error=(lambda p, e: result.skipped.append(str(e))) if skip_unreadable else None,
    )
    existing = project.data.classes
    new_classes: dict[str, LabelClass] = {}
    added, clips = [], []
    for video, label in zip(videos, labels, strict=True):
        if video is None:
            continue
        project.check_not_duplicate(video, among=added)
        if video.known_frame_count < 1:  # only without a scan: a scan that finds no frame fails in probe_all
            error = VideoError(video.path, "the header declares no frame count, so the clip's length is unknown: "
                                           "import it with a scan (without --no-scan)")
            if not skip_unreadable:
                raise error
            result.skipped.append(str(error))
            continue
        if label not in existing and label not in new_classes:
            color = PALETTE[(len(existing) + len(new_classes)) % len(PALETTE)]
            new_classes[label] = LabelClass(label, color=color)
        added.append(video)
        clips.append(Subclip(new_id(), video.id, 0, video.known_frame_count, label=label))
    project.execute(Macro(
        [AddEntities("classes", new_classes.values()), AddEntities("videos", added), AddEntities("subclips", clips)],
        f"Import class folders {root.name} ({len(added)} videos)",
    ))
    result.videos = [v.id for v in added]
    result.subclips = [c.id for c in clips]
    result.classes = list(new_classes)
    return result
