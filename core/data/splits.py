"""Assign whole videos to train / val / test, so that no video feeds two splits.

Rules, in order (see :func:`assign_splits`):

1. a video's own ``split`` wins;
2. else the split its subclips name (they must agree: subclips of one video in two splits is an error);
3. else the video is assigned automatically: a deterministic shuffle (``seed``) puts ``val_fraction`` of
   such videos in ``val`` and the rest in ``train``;
4. if no video ends up in ``val`` and ``val_fraction > 0``, that fraction of the train videos (at least one,
   when there are two or more) is held out for validation, again whole videos.

The shuffle orders videos by their **content** (:attr:`~core.project.entities.Fingerprint.key`, then name),
never by their ids: ids are random per project, so two imports of the same footage would hold out
different videos and calibrate different thresholds. With the content, any import of the same footage is
split alike.

Window tasks (next-frame and anomaly runs) split by :func:`window_splits` instead: rules 1 and 2, then
whole videos held out only when there are enough (rule 3 and 4 become one: ``round(n * val_fraction)`` of
the ``n >= 5`` train videos); otherwise every video trains and :mod:`core.data.held_out` holds out time
blocks inside them. Classification and regression keep :func:`assign_splits`.

A training run records which videos it trained and validated on (:func:`recorded_splits`, its record's
``data["splits"]``); scoring and evaluation replay the split from that record (:func:`replay_splits`), in
any project holding the same footage, and use the rules above only for videos the record does not name
(or a run recorded before runs kept their split).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Collection, Mapping
from typing import Any

from core.project.entities import SPLITS, ProjectData, Video
from core.project.errors import DatasetError


def _order(video: Video, seed: int) -> tuple[str, str, str]:
    """The automatic shuffle's sort key: a hash of the seed and the video's content, ties by name."""
    return hashlib.sha1(f"{seed}:{video.fingerprint.key}".encode()).hexdigest(), video.name, video.id


def _take(videos: list[Video], fraction: float, seed: int, at_least_one: bool) -> set[str]:
    """Ids of ``fraction`` of ``videos`` (rounded), chosen by :func:`_order`."""
    count = round(len(videos) * fraction)
    if at_least_one and fraction > 0 and len(videos) >= 2:
        count = max(count, 1)
    count = min(count, len(videos) - 1) if len(videos) >= 2 else 0
    return {video.id for video in sorted(videos, key=lambda v: _order(v, seed))[:count]}


#: The share of a project's train-split videos (or time) held out for validation unless told otherwise:
#: the one default of training, its request and scoring's replay of its split.
DEFAULT_VAL_FRACTION = 0.2


def assign_splits(data: ProjectData, val_fraction: float = DEFAULT_VAL_FRACTION, seed: int = 0) -> dict[str, str]:
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
    auto: list[Video] = []
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
            auto.append(video)
    val = _take(auto, val_fraction, seed, at_least_one=False)
    for video in auto:
        splits[video.id] = "val" if video.id in val else "train"
    if val_fraction > 0 and "val" not in splits.values():
        train = [data.videos[i] for i, s in splits.items() if s == "train"]
        for ident in _take(train, val_fraction, seed, at_least_one=True):
            splits[ident] = "val"
    assert set(splits.values()) <= set(SPLITS)
    return splits


#: The fewest train videos from which a window-task run holds out whole videos (:func:`window_splits`);
#: with fewer it holds out time blocks inside each (:mod:`core.data.held_out`).
MIN_VIDEOS_TO_HOLD_OUT = 5


def window_splits(data: ProjectData, val_fraction: float = DEFAULT_VAL_FRACTION, seed: int = 0,
                  video_ids: Collection[str] | None = None) -> dict[str, str]:
    """``{video id: "train" | "val" | "test"}`` for a window-task run (next-frame, anomaly).

    Each video's own split (or its subclips') wins, as in :func:`assign_splits`; the others train. If no
    video of the run (``video_ids``; default all) is then in ``val`` and ``val_fraction > 0``, and the run
    has ``n >= MIN_VIDEOS_TO_HOLD_OUT`` train videos, ``round(n * val_fraction)`` of them (chosen by
    content and ``seed``, as :func:`assign_splits` chooses) are held out whole. With fewer videos none is:
    time blocks inside them are (:func:`core.data.held_out.hold_out`). A project of 16 train videos and
    no val video is split exactly as :func:`assign_splits` splits it.
    """
    splits = assign_splits(data, 0.0, seed)  # rules 1 and 2; every other video trains
    chosen = set(data.videos) if video_ids is None else set(video_ids)
    if val_fraction <= 0 or any(splits[i] == "val" for i in chosen if i in splits):
        return splits
    pool = [data.videos[i] for i in data.videos if i in chosen and splits[i] == "train"]
    if len(pool) >= MIN_VIDEOS_TO_HOLD_OUT:
        for ident in _take(pool, val_fraction, seed, at_least_one=False):
            splits[ident] = "val"
    return splits


#: The splits a run records (the footage it learned from and validated on).
RECORDED_SPLITS = ("train", "val")


def recorded_splits(data: ProjectData, splits: Mapping[str, str],
                    video_ids: Collection[str] | None = None) -> dict[str, list[dict[str, Any]]]:
    """What a run records of its split: ``{"train": [...], "val": [...]}``, one ``{"name", "content"}`` per
    video (``content``: its :attr:`~core.project.entities.Fingerprint.key`), in project order.

    ``splits`` is :func:`assign_splits`'s answer; ``video_ids`` the videos the run trained on (default: all).
    """
    chosen = set(data.videos) if video_ids is None else set(video_ids)
    return {split: [{"name": video.name, "content": video.fingerprint.key} for video in data.videos.values()
                    if video.id in chosen and splits.get(video.id) == split]
            for split in RECORDED_SPLITS}


def replay_splits(data: ProjectData, recorded: Any, val_fraction: float = DEFAULT_VAL_FRACTION, seed: int = 0) -> dict[str, str]:
    """:func:`assign_splits` for a trained run: each video whose content a run's :func:`recorded_splits`
    names takes the split recorded; the others (all of them for a run without a record, ``recorded`` of
    ``None``) are assigned by the rules. A record that is not as :func:`recorded_splits` writes it is ignored
    entry by entry (it can only make the rules decide)."""
    splits = assign_splits(data, val_fraction, seed)
    named: dict[str, str] = {}
    if isinstance(recorded, Mapping):
        for split in RECORDED_SPLITS:
            entries = recorded.get(split)
            for entry in entries if isinstance(entries, list) else ():
                content = entry.get("content") if isinstance(entry, Mapping) else None
                if isinstance(content, str):
                    named.setdefault(content, split)
    for video in data.videos.values():
        if video.fingerprint.key in named:
            splits[video.id] = named[video.fingerprint.key]
    return splits
