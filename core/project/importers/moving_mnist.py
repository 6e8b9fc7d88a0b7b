"""Moving MNIST sequences written as a project of short videos, so the app can play and predict them.

:func:`import_moving_mnist` renders ``sequences`` seeded Moving MNIST sequences
(:mod:`core.data.moving_mnist`, 64x64, two digits) and writes each as a short lossless video (FFV1 in an
``.avi``, the codec :func:`~core.video.join.join_videos` uses, so the frames decode to exactly the
rendered bytes) in ``<project>/moving-mnist/``, added to the project with a split:

* ``train``: sequences of the training digits (images 0..8999 of the file), the training stream (0);
* ``val``: sequences of the held-out digits (images 9000..), the validation stream (1);
* ``test``: sequences of the held-out digits on the evaluation stream (2): test video ``k`` is sequence
  ``k`` of ``framewatch evaluate --dataset moving-mnist`` and ``framewatch predict --dataset moving-mnist
  --sequence k`` with the same seed (at 64x64 and 20 frames).

About a tenth of the sequences go to ``val`` and a tenth to ``test`` (at least one each), the rest to
``train``. Videos are named ``train/0000``, ``val/0000``, ``test/0000``, ...
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from core.atomic_write import atomic_output
from core.errors import VideoError
from core.jobs import ProgressCallback, check_cancelled, report
from core.project.commands import AddEntities, Macro
from core.project.errors import ProjectValidationError
from core.project.importers.common import ImportResult, probe_all

#: Folder of the written videos, inside the project folder.
FOLDER = "moving-mnist"
#: Frame rate of the written videos.
FPS = 10.0
#: Canvas side of the sequences, as the Moving MNIST trainer and evaluation render them.
CANVAS = 64
#: Codec and container: lossless.
FOURCC, SUFFIX = "FFV1", ".avi"
#: Random stream of each split's sequences (those of the trainer, its validation and the evaluation).
STREAMS = {"train": 0, "val": 1, "test": 2}
#: The digit images each split draws from (:data:`core.data.moving_mnist.SPLITS`).
DIGITS = {"train": "train", "val": "validation", "test": "validation"}


def split_counts(sequences: int) -> dict[str, int]:
    """How many of ``sequences`` go to each split: a tenth (at least one) to val and to test, the rest train."""
    if sequences < 3:
        raise ProjectValidationError(f"{sequences} sequences: at least 3 are needed (one each for train, val "
                                     "and test)")
    held = max(1, round(sequences / 10))
    return {"train": sequences - 2 * held, "val": held, "test": held}


def import_moving_mnist(
    project,
    mnist: str | Path,
    sequences: int,
    *,
    seed: int = 0,
    frames: int = 20,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> ImportResult:
    """Write ``sequences`` Moving MNIST sequences of ``frames`` frames as videos of ``project`` (see above).

    ``mnist``: the MNIST images file or its folder. Refused, naming the problem, before anything is
    written: a missing or bad MNIST file, fewer than 3 sequences or 2 frames, a video file that exists
    already. Everything is added as one undoable action; a failure part way leaves no written video behind.
    """
    from core.data.moving_mnist import images_path, mnist_digits, moving_mnist

    if frames < 2:
        raise ProjectValidationError(f"{frames} frames: a sequence needs at least 2")
    counts = split_counts(sequences)
    source = images_path(mnist)
    digits = {name: mnist_digits(source, name) for name in set(DIGITS.values())}
    folder = Path(project.folder) / FOLDER
    plan = [(split, k, folder / f"{split}_{k:04d}{SUFFIX}") for split in STREAMS for k in range(counts[split])]
    existing = [path for _, _, path in plan if path.exists()]
    if existing:
        raise ProjectValidationError(f"{existing[0]}: already exists ({len(existing)} of the videos to write do); "
                                     "import into another project or remove them")
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    try:
        for n, (split, k, path) in enumerate(plan):
            check_cancelled(cancel, "import")
            clip = moving_mnist(1, frames, CANVAS, 2, seed, digits[DIGITS[split]], first=k, stream=STREAMS[split])[0]
            _write_video(path, clip)
            written.append(path)
            report(progress, n + 1, 2 * len(plan), f"wrote {path.name}")
        items = [(path, {"name": f"{split}/{k:04d}", "split": split}) for split, k, path in plan]
        videos = [v for v in probe_all(items, fps=FPS, scan=True, progress=None, cancel=cancel) if v is not None]
        for video in videos:
            if video.known_frame_count != frames:
                raise ProjectValidationError(f"{video.path}: decodes to {video.known_frame_count} frames, not the "
                                             f"{frames} written")
        project.execute(Macro([AddEntities("videos", videos)],
                              f"Import {len(videos)} Moving MNIST sequences (seed {seed})"))
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    report(progress, 2 * len(plan), 2 * len(plan), f"added {len(plan)} videos")
    return ImportResult(videos=[v.id for v in videos])


def _write_video(path: Path, clip: np.ndarray) -> None:
    """``clip`` ``(frames, H, W, 1)`` uint8 as a lossless gray video at :data:`FPS` (written atomically)."""
    import cv2

    height, width = clip.shape[1:3]
    with atomic_output(path) as part:
        writer = cv2.VideoWriter(str(part), cv2.VideoWriter_fourcc(*FOURCC), FPS, (width, height))
        if not writer.isOpened():
            raise VideoError(f"{path}: OpenCV cannot open an {FOURCC} writer here")
        try:
            for frame in clip:
                writer.write(cv2.cvtColor(frame[:, :, 0], cv2.COLOR_GRAY2BGR))
        finally:
            writer.release()
