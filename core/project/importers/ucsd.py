"""Import a UCSD-style anomaly dataset (UCSD Ped1/Ped2 layout).

Layout::

    <root>/training/01/000.jpg ...      (or Train/Train001/001.tif ...; video files work too)
    <root>/testing/01/000.jpg ...
    <root>/testing/UCSDped2.m           (anywhere under <root>: the first ``*.m`` file found)

Each sub-folder of images (or video file) is one video, in natural name order. The ``.m`` file holds one
``TestVideoFile{end+1}.gt_frame = [a:b];`` line per test video, in the same order; ``[a:b, c:d]`` lists
several abnormal ranges. UCSD ranges are **1-based and inclusive**; they become project intervals
``[a - 1, b)`` (0-based, end exclusive): ``[61:180]`` is frames 60..179, i.e. ``start=60, end=180``.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

from core.jobs import ProgressCallback
from core.project.commands import AddEntities, Macro
from core.project.entities import AnomalyInterval, new_id
from core.project.errors import ProjectValidationError
from core.project.importers.common import ImportResult, find_videos, probe_all, require_folder
from core.project.validation import check_span

TRAIN_NAMES = ("training", "train")
TEST_NAMES = ("testing", "test")
#: UCSD image folders carry no frame rate; this is what the dataset's videos were recorded at.
UCSD_FPS = 10.0

_GT_LINE = re.compile(r"gt_frame\s*=\s*\[([^\]]*)\]")
_RANGE = re.compile(r"^\s*(\d+)\s*(?::\s*(\d+))?\s*$")


def parse_ucsd_ground_truth(path: Path) -> list[list[tuple[int, int]]]:
    """The abnormal ranges of each test video in a UCSD ``.m`` file, as 0-based ``[start, end)`` pairs.

    ``gt_frame = [61:180]`` (1-based, inclusive) gives ``[(60, 180)]``; ``[5:90, 140:200]`` gives two
    ranges; a lone number ``[7]`` is one frame. Raises :class:`ProjectValidationError` naming the line
    for anything else.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise ProjectValidationError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    videos: list[list[tuple[int, int]]] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        match = _GT_LINE.search(line.split("%", 1)[0])
        if not match:
            continue
        ranges = []
        body = match.group(1).strip()
        for part in filter(None, (p.strip() for p in re.split(r"[,;]|\s{2,}", body))):
            m = _RANGE.match(part)
            if not m:
                raise ProjectValidationError(f"{path}, line {lineno}: cannot read the range {part!r} (expected a:b)")
            first = int(m.group(1))
            last = int(m.group(2) or first)
            if first < 1 or last < first:
                raise ProjectValidationError(
                    f"{path}, line {lineno}: range {part} is inverted or not 1-based (frames count from 1)"
                )
            ranges.append((first - 1, last))  # 1-based inclusive -> 0-based, end exclusive
        videos.append(ranges)
    if not videos:
        raise ProjectValidationError(f"{path}: no 'gt_frame = [a:b]' lines found")
    return videos


def _subfolder(root: Path, names: tuple[str, ...]) -> Path | None:
    for p in sorted(root.iterdir()):
        if p.is_dir() and p.name.lower() in names:
            return p
    return None


def import_ucsd(
    project,
    root: str | Path,
    *,
    gt_file: str | Path | None = None,
    fps: float = UCSD_FPS,
    scan: bool = True,
    one_recording: str | Path | None = None,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> ImportResult:
    """Add a UCSD dataset's videos (training as split ``train``, testing as ``test``) and ground truth.

    ``one_recording``: a new ``.avi`` file to join the training videos into, in order (lossless,
    :func:`core.video.join.join_videos`), added as the project's only training video (named
    ``training/<file name>``) instead of one video per training folder: the dataset as one long recording
    of normal activity, as an analyst's own footage often is. An existing file is refused.

    ``project`` is a :class:`~core.project.project.Project`. Videos are named ``training/01`` etc.
    Everything is added as one undoable action, or nothing if anything is wrong (a missing folder, a
    ground-truth count that does not match the test videos, a range past the end of its video). Videos
    already in the project are not added again (``ImportResult.skipped`` says which); their ground truth
    is added to the project's video unless the same interval is there already.
    """
    root = require_folder(Path(root), "the UCSD dataset")
    train_dir, test_dir = _subfolder(root, TRAIN_NAMES), _subfolder(root, TEST_NAMES)
    if train_dir is None and test_dir is None:
        raise ProjectValidationError(f"{root}: no training/ or testing/ folder (is this a UCSD dataset?)")
    train = find_videos(train_dir) if train_dir else []
    test = find_videos(test_dir) if test_dir else []
    if gt_file is None:
        candidates = sorted((test_dir or root).glob("*.m")) or sorted(root.rglob("*.m"))
        gt_file = candidates[0] if candidates else None
    ground_truth = parse_ucsd_ground_truth(Path(gt_file)) if gt_file is not None and test else []
    if test and gt_file is not None and len(ground_truth) != len(test):
        raise ProjectValidationError(
            f"{gt_file}: {len(ground_truth)} gt_frame lines for {len(test)} test videos in {test_dir}; they must match"
        )
    if one_recording is not None and train:
        train = [_join_training(train, Path(one_recording), fps, cancel)]
    items = [(p, {"name": f"{train_dir.name}/{p.name}", "split": "train"}) for p in train] if train_dir else []
    items += [(p, {"name": f"{test_dir.name}/{p.name}", "split": "test"}) for p in test] if test_dir else []
    videos = [v for v in probe_all(items, fps=fps, scan=scan, progress=progress, cancel=cancel) if v is not None]
    # A video already in the project (same path or content) is not added again: its ground truth goes to
    # the project's video, and it is reported as skipped. Duplicates inside the dataset are an error.
    resolved = [project.find_duplicate(v) or v for v in videos]
    fresh = [v for v, r in zip(videos, resolved, strict=True) if r is v]
    for n, video in enumerate(fresh):
        project.check_not_duplicate(video, among=fresh[:n])
    new = fresh
    skipped = [f"{v.path}: already in the project as video {r.name!r}"
               for v, r in zip(videos, resolved, strict=True) if r is not v]
    existing_spans = {(i.video_id, i.start, i.end) for i in project.intervals.values()}
    intervals = []
    test_videos = resolved[len(train):]
    for video, ranges in zip(test_videos, ground_truth, strict=False):
        for start, end in ranges:
            check_span(video, start, end, "ground-truth interval")
            if (video.id, start, end) not in existing_spans:
                intervals.append(AnomalyInterval(new_id(), video.id, start, end, source=Path(gt_file).name))
    if not new and not intervals:
        raise ProjectValidationError(f"{root}: every video and ground-truth interval is already in the project")
    project.execute(Macro(
        [AddEntities("videos", new), AddEntities("intervals", intervals)],
        f"Import UCSD dataset {root.name} ({len(new)} videos)",
    ))
    return ImportResult(videos=[v.id for v in new], intervals=[i.id for i in intervals], skipped=skipped)


def _join_training(videos: list[Path], output: Path, fps: float, cancel: threading.Event | None) -> Path:
    """The training ``videos`` joined into ``output`` (refused if it exists: it may be someone's footage)."""
    from core.video.join import join_videos

    if output.exists():
        raise ProjectValidationError(f"{output}: already exists; choose a new file for the joined training videos")
    output.parent.mkdir(parents=True, exist_ok=True)
    join_videos(videos, output, fps, cancel=cancel)
    return output
