"""Which normal footage a window-task run trains on and which it holds out, never to train on.

Checkpoint choice (validation loss), the error level and the flagging threshold are fitted on footage the
model never saw (:func:`hold_out`), so the error of new normal footage is what they learn:

* ``"videos"``: whole videos are held out, when the run has some in ``val``
  (:func:`core.data.splits.window_splits`: the analyst's, or ``round(n * val_fraction)`` of ``n >= 5``).
* ``"time"``: otherwise (one to four normal videos, the common case of one's own footage) about
  ``val_fraction`` of each normal span is held out in up to :data:`MAX_BLOCKS` blocks spread through it, one
  per equal part of the span (a scene drifts: the end alone is not a fair sample), placed by a hash of the
  video's content and the seed, so any import of the same footage holds out the same frames. A span too
  short for a block, its gaps and one training window trains whole.
* ``"none"``: ``val_fraction`` 0 and no val video: nothing is held out.

Every held-out frame lies more than ``gap`` frames from every trained frame: ``gap`` is a window's reach
(its frames past the first, the longest frame step's), so no window straddles the border and the
near-identical frames next to a block do not leak into training. Rejected events (false alarms the analyst
marked, :mod:`core.data.verdicts`) always train, and held-out footage keeps that gap from them too.

A run records the result (:meth:`HeldOut.record`, ``run.json``'s ``data["held_out"]``) by video name and
content; :func:`replay_held_out` finds the same spans in any project holding the footage.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.data.spans import frames_in, intersect, merge, subtract
from core.data.verdicts import Spans, verdict_spans, widen
from core.project.entities import ProjectData

#: How training's normal footage was split: whole videos, time blocks inside videos, or nothing held out.
MODES = ("videos", "time", "none")
#: The most held-out blocks in one span of normal footage.
MAX_BLOCKS = 4


@dataclass(frozen=True)
class HeldOut:
    """What a run trains on (``train``) and holds out (``held``), ``{video id: [(start, end), ...]}``
    (frames ``[start, end)``), how (``mode``, one of :data:`MODES`) and the ``gap`` kept between them."""

    mode: str
    gap: int
    train: Spans
    held: Spans

    @property
    def held_frames(self) -> int:
        return sum(frames_in(spans) for spans in self.held.values())

    @property
    def train_frames(self) -> int:
        return sum(frames_in(spans) for spans in self.train.values())

    def record(self, data: ProjectData) -> dict[str, Any]:
        """``run.json``'s ``data["held_out"]``: ``{"mode", "gap", "held_frames", "trained_frames", "videos":
        [held out: {"name", "content", "spans": [[start, end], ...]}], "trained": [the same for the trained]}``,
        videos in project order, ``content`` their :attr:`~core.project.entities.Fingerprint.key`."""

        def entries(spans: Spans) -> list[dict[str, Any]]:
            return [{"name": video.name, "content": video.fingerprint.key,
                     "spans": [[int(start), int(end)] for start, end in spans[video.id]]}
                    for video in data.videos.values() if spans.get(video.id)]

        return {"mode": self.mode, "gap": int(self.gap), "held_frames": self.held_frames,
                "trained_frames": self.train_frames, "videos": entries(self.held), "trained": entries(self.train)}


def time_blocks(start: int, end: int, fraction: float, gap: int, key: str) -> list[tuple[int, int]]:
    """The held-out blocks of the normal span ``[start, end)``: about ``fraction`` of its frames in up to
    :data:`MAX_BLOCKS` blocks of at least ``gap + 1`` frames (one window), one in each equal part of the
    span, ``gap`` frames from that part's edges, placed by a hash of ``key`` (content and seed).

    ``[]`` when the span cannot hold a block, its two gaps and one training window.
    """
    length = end - start
    target = round(length * fraction)
    least = gap + 1
    if target < 1 or length <= 0:
        return []
    count = max(1, min(MAX_BLOCKS, target // max(least, 2 * gap)))
    while count >= 1:
        size = max(least, -(-target // count))
        if length >= count * (size + 2 * gap) + least:
            break
        count -= 1
    if count < 1:
        return []
    blocks = []
    for part in range(count):
        low = start + (part * length) // count + gap
        high = start + ((part + 1) * length) // count - gap - size
        digest = int(hashlib.sha1(f"{key}:{start}:{part}".encode()).hexdigest()[:12], 16)
        first = low + digest % (high - low + 1) if high > low else low
        blocks.append((first, first + size))
    return blocks


def hold_out(data: ProjectData, footage: Spans, splits: Mapping[str, str], *, val_fraction: float, seed: int,
             gap: int) -> HeldOut:
    """Split ``footage`` (:func:`core.data.normal_footage.normal_footage`) into what trains and what is held
    out (module doc). ``splits``: :func:`core.data.splits.window_splits`'s answer (its ``val`` videos are
    held out whole); ``gap``: the window's reach in frames."""
    rejected = verdict_spans(data, "rejected")
    forced = {video_id: intersect(widen(rejected[video_id], gap), spans)
              for video_id, spans in footage.items() if video_id in rejected}
    held_videos = {video_id for video_id in footage if splits.get(video_id) == "val"}
    blocks: Spans = {}
    if held_videos:
        mode = "videos"
        blocks = {video_id: list(footage[video_id]) for video_id in held_videos}
    elif val_fraction > 0:
        mode = "time"
        for video_id, spans in footage.items():
            if splits.get(video_id) == "train":
                key = f"{seed}:{data.videos[video_id].fingerprint.key}"
                blocks[video_id] = [b for start, end in spans for b in time_blocks(start, end, val_fraction, gap, key)]
    else:
        mode = "none"
    train: Spans = {}
    held: Spans = {}
    for video_id, spans in footage.items():
        own = blocks.get(video_id, [])
        base = [] if video_id in held_videos else subtract(spans, widen(own, gap))
        trained = merge(base + forced.get(video_id, []))
        kept = subtract(own, widen(forced.get(video_id, []), gap))
        if trained:
            train[video_id] = trained
        if kept:
            held[video_id] = kept
    return HeldOut(mode, int(gap), train, held)


def _spans_by_content(entries: Any) -> dict[str, list[tuple[int, int]]]:
    found: dict[str, list[tuple[int, int]]] = {}
    for entry in entries if isinstance(entries, list) else ():
        if not isinstance(entry, Mapping) or not isinstance(entry.get("content"), str):
            continue
        spans = entry.get("spans")
        pairs = [(int(s[0]), int(s[1])) for s in spans if isinstance(s, list | tuple) and len(s) == 2
                 and all(isinstance(v, int) and not isinstance(v, bool) for v in s)] if isinstance(spans, list) else []
        found.setdefault(entry["content"], []).extend(pairs)
    return {content: merge(pairs) for content, pairs in found.items()}


def replay_held_out(data: ProjectData, recorded: Any) -> HeldOut | None:
    """The :class:`HeldOut` a run recorded (``data["held_out"]``), in ``data``'s video ids: each video whose
    content the record names takes its spans. ``None`` for a run recorded before runs held out time (no
    record) or a record that is not as :meth:`HeldOut.record` writes it."""
    if not isinstance(recorded, Mapping) or recorded.get("mode") not in MODES:
        return None
    gap = recorded.get("gap")
    held = _spans_by_content(recorded.get("videos"))
    trained = _spans_by_content(recorded.get("trained"))
    by_id = {video.id: video.fingerprint.key for video in data.videos.values()}
    return HeldOut(str(recorded["mode"]), int(gap) if isinstance(gap, int) and not isinstance(gap, bool) else 0,
                   {i: trained[key] for i, key in by_id.items() if key in trained},
                   {i: held[key] for i, key in by_id.items() if key in held})
