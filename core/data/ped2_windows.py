"""UCSD Ped2 as a clip-classification task: windows labelled "something other than pedestrians is in view".

The dataset's frame-level ground truth (``testing/UCSDped2.m``, read by
:func:`~core.project.importers.ucsd.parse_ucsd_ground_truth`) marks the frames where a cyclist, a skater or
a cart is on the walkway. A window of ``length`` consecutive frames is **positive** (label 1) when at
least ``positive_fraction`` of its frames are abnormal (default 1.0: all of them), **negative** (label 0)
when none is, and **ambiguous** otherwise: it straddles the border of an abnormal interval and is
dropped, so no label depends on where inside the window the vehicle enters (:func:`label_windows`).

The classifier trains on the 16 training videos (all negative) plus one half of the 12 test videos and is
evaluated on the other half; whole videos are held out (:func:`split_test_videos`), so no frame of an
evaluated video was seen in training, and ``fold`` 1 swaps the halves.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.project.errors import DatasetError

#: Labels of the two classes, by index.
CLASSES = ("pedestrians only", "other than pedestrians")


@dataclass(frozen=True)
class Windows:
    """Labelled windows of some videos: window ``i`` is frames ``start[i] .. start[i] + length - 1`` of
    video ``video[i]``, label ``label[i]`` (0 or 1, :data:`CLASSES`). ``dropped``: ambiguous windows left out."""

    video: tuple[str, ...]
    start: np.ndarray
    label: np.ndarray
    length: int
    dropped: int = 0

    def __len__(self) -> int:
        return len(self.label)

    @property
    def positives(self) -> int:
        return int(self.label.sum())

    def clips(self, frames: dict[str, np.ndarray]) -> np.ndarray:
        """The windows' frames ``(n, length, height, width, 1)`` uint8, from ``frames[video]`` ``(count, h, w)``."""
        if not len(self):
            return np.zeros((0, self.length, 1, 1, 1), np.uint8)
        return np.stack([frames[v][s : s + self.length] for v, s in zip(self.video, self.start, strict=True)])[..., None]


def label_windows(abnormal: np.ndarray, length: int, stride: int,
                  positive_fraction: float = 1.0) -> tuple[np.ndarray, np.ndarray, int]:
    """``(starts, labels, dropped)`` of the windows of one video with per-frame ``abnormal`` ``(frames,)`` bool.

    A window starts every ``stride`` frames and must fit in the video. Positive (1): at least
    ``positive_fraction`` (in (0, 1]) of its frames are abnormal; negative (0): none is; otherwise it is
    ambiguous (it straddles an interval's border) and counted in ``dropped`` instead.
    """
    if length < 1 or stride < 1:
        raise ValueError(f"length and stride must be >= 1, not {length} and {stride}")
    if not 0 < positive_fraction <= 1:
        raise ValueError(f"positive_fraction must be in (0, 1], not {positive_fraction}")
    flags = np.asarray(abnormal, bool)
    starts = np.arange(0, len(flags) - length + 1, stride)
    if not len(starts):
        return starts, np.zeros(0, np.int64), 0
    counts = np.convolve(flags.astype(np.int64), np.ones(length, np.int64), mode="valid")[starts]
    positive = counts >= positive_fraction * length - 1e-9
    keep = positive | (counts == 0)
    return starts[keep], positive[keep].astype(np.int64), int((~keep).sum())


def abnormal_frames(count: int, intervals: list[tuple[int, int]]) -> np.ndarray:
    """``(count,)`` bool from 0-based ``[start, end)`` intervals (clipped to the video)."""
    flags = np.zeros(count, bool)
    for start, end in intervals:
        flags[max(start, 0) : min(end, count)] = True
    return flags


def split_test_videos(test_ids: list[str], fold: int = 0) -> tuple[list[str], list[str]]:
    """``(trained, held_out)``: the test videos split into two halves by alternating position in name order
    (01, 03, 05, ... and 02, 04, 06, ...); fold 0 trains on the first half, fold 1 on the second. No video is
    in both."""
    if fold not in (0, 1):
        raise ValueError(f"fold must be 0 or 1, not {fold}")
    ordered = sorted(test_ids)
    if len(ordered) < 2:
        raise DatasetError(f"{len(ordered)} test video(s): at least 2 are needed to hold whole videos out")
    halves = ordered[0::2], ordered[1::2]
    return list(halves[fold]), list(halves[1 - fold])


def windows_of(videos: list[str], abnormal: dict[str, np.ndarray], length: int, stride: int,
               positive_fraction: float = 1.0) -> Windows:
    """The labelled windows of ``videos`` (in that order), from each video's per-frame ``abnormal`` flags."""
    names, starts, labels, dropped = [], [], [], 0
    for video in videos:
        s, lab, d = label_windows(abnormal[video], length, stride, positive_fraction)
        names += [video] * len(s)
        starts.append(s)
        labels.append(lab)
        dropped += d
    return Windows(tuple(names), np.concatenate(starts or [np.zeros(0, np.int64)]),
                   np.concatenate(labels or [np.zeros(0, np.int64)]), length, dropped)


@dataclass(frozen=True)
class Ped2Frames:
    """Ped2 read at a small size: ``frames[name]`` ``(count, height, width)`` uint8 gray, names
    ``training/01`` ... and ``testing/01`` ...; ``abnormal[name]`` ``(count,)`` bool (all False for training)."""

    frames: dict[str, np.ndarray]
    abnormal: dict[str, np.ndarray]

    @property
    def training(self) -> list[str]:
        return sorted(n for n in self.frames if n.startswith("training/"))

    @property
    def testing(self) -> list[str]:
        return sorted(n for n in self.frames if n.startswith("testing/"))


def _read_folder(folder: Path, size: tuple[int, int]) -> np.ndarray:
    import cv2

    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png", ".tif", ".bmp"))
    if not files:
        raise DatasetError("no image frames in this folder", folder)
    height, width = size
    frames = np.empty((len(files), height, width), np.uint8)
    for i, file in enumerate(files):
        image = cv2.imread(str(file), cv2.IMREAD_GRAYSCALE)
        if image is None:
            raise DatasetError("cannot be read as an image", file)
        frames[i] = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
    return frames


def read_ped2(root: str | Path, size: tuple[int, int] = (40, 60)) -> Ped2Frames:
    """Every video of a UCSD Ped2 folder (``training/NN/``, ``testing/NN/``, ``testing/*.m``) as gray frames
    resized to ``size`` ``(height, width)``, with the test videos' abnormal frames from the ``.m`` file."""
    from core.project.importers.ucsd import parse_ucsd_ground_truth

    root = Path(root)
    parts = {}
    for part in ("training", "testing"):
        folder = root / part
        if not folder.is_dir():
            raise DatasetError(f"no {part}/ folder (expected UCSD Ped2's training/ and testing/)", root)
        parts[part] = sorted(p for p in folder.iterdir() if p.is_dir())
    gt_files = sorted((root / "testing").glob("*.m"))
    if not gt_files:
        raise DatasetError("no ground-truth .m file (UCSDped2.m) in testing/", root)
    intervals = parse_ucsd_ground_truth(gt_files[0])
    if len(intervals) != len(parts["testing"]):
        raise DatasetError(f"{len(intervals)} gt_frame lines for {len(parts['testing'])} test videos", gt_files[0])
    frames: dict[str, np.ndarray] = {}
    abnormal: dict[str, np.ndarray] = {}
    for part, folders in parts.items():
        for k, folder in enumerate(folders):
            name = f"{part}/{folder.name}"
            frames[name] = _read_folder(folder, size)
            count = len(frames[name])
            abnormal[name] = abnormal_frames(count, intervals[k]) if part == "testing" else np.zeros(count, bool)
    return Ped2Frames(frames, abnormal)
