"""Assign whole videos to train / val / test, so that no video feeds two splits.

Rules, in order (see :func:`assign_splits`):

1. a video's own ``split`` wins;
2. else the split its subclips name (they must agree: subclips of one video in two splits is an error);
3. else the video is assigned automatically: a deterministic shuffle (``seed``) puts ``val_fraction`` of
   such videos in ``val`` and the rest in ``train``;
4. if no video ends up in ``val`` and ``val_fraction > 0``, that fraction of the train videos (at least one,
   when there are two or more) is held out for validation, again whole videos.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict

from core.project.entities import SPLITS, ProjectData
from core.project.errors import DatasetError


def _order(video_id: str, seed: int) -> str:
    return hashlib.sha1(f"{seed}:{video_id}".encode()).hexdigest()


def _take(ids: list[str], fraction: float, seed: int, at_least_one: bool) -> set[str]:
    count = round(len(ids) * fraction)
    if at_least_one and fraction > 0 and len(ids) >= 2:
        count = max(count, 1)
    count = min(count, len(ids) - 1) if len(ids) >= 2 else 0
    return set(sorted(ids, key=lambda i: _order(i, seed))[:count])


def assign_splits(data: ProjectData, val_fraction: float = 0.2, seed: int = 0) -> dict[str, str]:
    """``{video id: "train" | "val" | "test"}`` for every video of the project (rules in the module doc).

    Raises :class:`DatasetError` naming the video when its subclips (or a subclip and the video) name
    different splits.
    """
    if not 0.0 <= val_fraction < 1.0:
        raise DatasetError(f"val_fraction must be in [0, 1), not {val_fraction}")
    named: dict[str, set[str]] = defaultdict(set)
    for clip in data.subclips.values():
        if clip.split is not None:
            named[clip.video_id].add(clip.split)
    splits: dict[str, str] = {}
    auto: list[str] = []
    for video in data.videos.values():
        wanted = set(named.get(video.id, set()))
        if video.split is not None:
            wanted.add(video.split)
        if len(wanted) > 1:
            raise DatasetError(
                f"video {video.name} would feed {' and '.join(sorted(wanted))}: its subclips (or the video) name "
                "different splits; give all of them one split so no footage leaks between splits"
            )
        if wanted:
            splits[video.id] = wanted.pop()
        else:
            auto.append(video.id)
    val = _take(auto, val_fraction, seed, at_least_one=False)
    for ident in auto:
        splits[ident] = "val" if ident in val else "train"
    if val_fraction > 0 and "val" not in splits.values():
        train = [i for i, s in splits.items() if s == "train"]
        for ident in _take(train, val_fraction, seed, at_least_one=True):
            splits[ident] = "val"
    assert set(splits.values()) <= set(SPLITS)
    return splits
