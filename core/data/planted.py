"""Planted anomalies: people cut from normal footage of a fixed camera, pasted moving into unseen normal footage.

A benchmark for "a scene Framewatch was never tuned on" needs anomalies whose truth is known to the frame. This
module makes them from footage of one fixed camera (UCSD Ped2's training videos in ``bench/planted.py``):

1. **Scene statistics** (:func:`scene_statistics`) from the *source* videos (the normal footage a run trains on):
   each video's background is its per-pixel median; foreground is where a frame differs from it by more than
   ``threshold`` gray levels; connected components of a person's size are people, linked frame to frame by
   their nearest centroid into tracks. From them: how often each pixel is foreground (the occupancy map),
   the usual walking speed (median speed of moving people, pixels per frame), the usual height of a person,
   and per horizontal band the usual direction of horizontal motion and how many agree with it.
2. **Cut-outs** (:func:`cut_out_people`): tracks of one isolated person (no other foreground near it, not at the
   frame's border) for at least ``min_track`` frames: per frame the pixels of its box and its mask.
3. **Planting** (:func:`plant`): a cut-out person walks a straight horizontal path into a *target* video (normal
   footage no run trained on), entering from one side, one pasted patch per frame (the cut-out's frames in order,
   back and forth; mirrored when it walks the other way than it was filmed walking), blended by its mask. The
   ground truth is every frame in which at least :data:`VISIBLE_SHARE` of the person's mask is inside the frame.

The three kinds (:data:`KINDS`), each chosen from the statistics, never from hand-picked coordinates:

* ``fast``: along the busiest band, in its usual direction, ``fast_factor`` (4 to 6) times the walking speed;
* ``against``: along the band whose people agree most on one direction, the other way, at walking speed;
* ``nowhere``: along a band where the source footage has no foreground at all (nearest the busy part of the
  scene), slowly (half the walking speed).

Everything is deterministic from ``seed`` (a :class:`numpy.random.Generator`). Frames are gray ``uint8``
``(height, width)`` arrays; positions are pixels, ``x`` to the right, ``y`` down; speeds pixels per frame.
This module is pure NumPy and OpenCV (no Qt, no Keras); :func:`write_planted_video` writes PNG frames (lossless).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

#: The kinds of planted anomaly.
KINDS = ("fast", "against", "nowhere")
#: A planted person counts as visible (abnormal frame) when at least this share of its mask is in the frame.
VISIBLE_SHARE = 1 / 3


@dataclass(frozen=True)
class Detection:
    """Defaults for finding people by background difference (UCSD Ped2: people of about 20x33 pixels)."""

    threshold: int = 25
    min_area: int = 150
    max_area: int = 1500
    max_step: float = 8.0
    min_aspect: float = 1.0  # box height / width of a standing person
    max_aspect: float = 4.0


@dataclass
class Track:
    """One person followed over frames: per frame its index, centroid ``(x, y)``, box ``(x0, y0, w, h)`` and
    whether it stood alone (:func:`_isolated`)."""

    video: int
    frames: list[int] = field(default_factory=list)
    centroids: list[tuple[float, float]] = field(default_factory=list)
    boxes: list[tuple[int, int, int, int]] = field(default_factory=list)
    isolated: list[bool] = field(default_factory=list)


@dataclass(frozen=True)
class CutOut:
    """A person cut from normal footage: ``patches[i]`` gray ``uint8`` ``(h, w)`` and ``masks[i]`` float32 in
    [0, 1] of the same shape, one per frame of the track; ``direction`` the sign of its own horizontal motion."""

    patches: tuple[np.ndarray, ...]
    masks: tuple[np.ndarray, ...]
    direction: int
    source: str = ""

    @property
    def size(self) -> tuple[int, int]:
        """``(height, width)`` of the largest patch."""
        return max(p.shape[0] for p in self.patches), max(p.shape[1] for p in self.patches)


@dataclass(frozen=True)
class SceneStats:
    """What the normal footage of a fixed camera looks like (see the module doc).

    ``occupancy``: ``(height, width)`` float32, the share of frames each pixel is foreground; ``walking_speed``:
    pixels per frame; ``person_height``: pixels; ``bands``: per band ``(y_top, y_bottom, people seen, mean vx,
    share moving the usual way)``, ``usual`` the sign of that way (+1: to the right).
    """

    occupancy: np.ndarray
    walking_speed: float
    person_height: int
    person_width: int
    bands: tuple[tuple[int, int, int, float, float, int], ...]


def background(frames: np.ndarray) -> np.ndarray:
    """The per-pixel median of ``frames`` ``(T, H, W)`` uint8: the empty scene of a fixed camera."""
    return np.median(frames, axis=0).astype(np.uint8)


def foreground(frames: np.ndarray, bg: np.ndarray, threshold: int) -> np.ndarray:
    """``(T, H, W)`` bool: pixels more than ``threshold`` gray levels from ``bg``, specks removed, holes closed."""
    import cv2

    diff = np.abs(frames.astype(np.int16) - bg.astype(np.int16)) > threshold
    kernel = np.ones((3, 3), np.uint8)
    out = np.empty_like(diff)
    for t, mask in enumerate(diff.astype(np.uint8)):
        mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, kernel)
        out[t] = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8)) > 0
    return out


def _people(mask: np.ndarray, det: Detection) -> list[tuple[tuple[float, float], tuple[int, int, int, int], np.ndarray]]:
    """Components of ``mask`` of a person's size and shape: ``(centroid, box, component mask in the box)``."""
    import cv2

    count, labels, stats, centroids = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    found = []
    for i in range(1, count):
        x, y, w, h, area = (int(v) for v in stats[i])
        if not det.min_area <= area <= det.max_area or not det.min_aspect <= h / max(w, 1) <= det.max_aspect:
            continue
        found.append(((float(centroids[i][0]), float(centroids[i][1])), (x, y, w, h),
                      labels[y:y + h, x:x + w] == i))
    return found


def _isolated(mask: np.ndarray, box: tuple[int, int, int, int], own: np.ndarray, margin: int = 4) -> bool:
    """No other foreground within ``margin`` pixels of ``box``, and the box clear of the frame's border."""
    x, y, w, h = box
    height, width = mask.shape
    if x < margin or y < margin or x + w > width - margin or y + h > height - margin:
        return False
    around = mask[y - margin:y + h + margin, x - margin:x + w + margin].sum()
    return int(around) == int(own.sum())


def track_people(frames: np.ndarray, det: Detection = Detection(), video: int = 0,
                 bg: np.ndarray | None = None) -> tuple[list[Track], np.ndarray]:
    """Tracks of people in one video ``(T, H, W)`` uint8 and its foreground ``(T, H, W)`` bool."""
    bg = background(frames) if bg is None else bg
    fg = foreground(frames, bg, det.threshold)
    tracks: list[Track] = []
    open_tracks: list[Track] = []
    for t in range(len(frames)):
        people = _people(fg[t], det)
        next_open = []
        taken: set[int] = set()
        for centroid, box, own in people:
            best, best_d = None, det.max_step
            for k, track in enumerate(open_tracks):
                if k in taken:
                    continue
                px, py = track.centroids[-1]
                d = math.hypot(centroid[0] - px, centroid[1] - py)
                if d < best_d:
                    best, best_d = k, d
            if best is None:
                track = Track(video)
                tracks.append(track)
            else:
                taken.add(best)
                track = open_tracks[best]
            track.frames.append(t)
            track.centroids.append(centroid)
            track.boxes.append(box)
            track.isolated.append(_isolated(fg[t], box, own))
            next_open.append(track)
        open_tracks = next_open
    return tracks, fg


def scene_statistics(videos: Sequence[np.ndarray], det: Detection = Detection(),
                     band_height: int | None = None) -> SceneStats:
    """The :class:`SceneStats` of normal footage ``videos`` (each ``(T, H, W)`` uint8, one fixed camera)."""
    occupancy = None
    frames_seen = 0
    moves: list[tuple[float, float, float]] = []  # (y, vx, speed) per linked step
    heights, widths = [], []
    for index, frames in enumerate(videos):
        tracks, fg = track_people(frames, det, index)
        occupancy = fg.sum(0, dtype=np.float64) if occupancy is None else occupancy + fg.sum(0)
        frames_seen += len(fg)
        for track in tracks:
            heights += [b[3] for b in track.boxes]
            widths += [b[2] for b in track.boxes]
            for i in range(1, len(track.frames)):
                (x0, y0), (x1, y1) = track.centroids[i - 1], track.centroids[i]
                step = track.frames[i] - track.frames[i - 1]
                moves.append((y1, (x1 - x0) / step, math.hypot(x1 - x0, y1 - y0) / step))
    if occupancy is None or not moves:
        raise ValueError("no people found in the normal footage: nothing to learn the scene from")
    occupancy = (occupancy / frames_seen).astype(np.float32)
    moving = np.array([m for m in moves if m[2] > 0.3]) if any(m[2] > 0.3 for m in moves) else np.array(moves)
    person_height = int(np.median(heights))
    band = band_height or person_height
    bands = []
    height = occupancy.shape[0]
    for top in range(0, height, band):
        inside = moving[(moving[:, 0] >= top) & (moving[:, 0] < top + band)]
        if not len(inside):
            bands.append((top, min(top + band, height), 0, 0.0, 0.0, 1))
            continue
        vx = inside[:, 1]
        right, left = float((vx > 0.3).mean()), float((vx < -0.3).mean())
        usual = 1 if right >= left else -1
        agree = max(right, left) / max(right + left, 1e-9)
        bands.append((top, min(top + band, height), len(inside), float(vx.mean()), agree, usual))
    return SceneStats(occupancy, float(np.median(moving[:, 2])), person_height, int(np.median(widths)), tuple(bands))


def cut_out_people(videos: Sequence[np.ndarray], det: Detection = Detection(), min_track: int = 8,
                   names: Sequence[str] | None = None) -> list[CutOut]:
    """Every isolated person followed for at least ``min_track`` frames in ``videos``, longest first (ties: in
    video order): the pixels of its box and its mask per frame (cut from the frame, not the background)."""
    found: list[tuple[int, int, CutOut]] = []
    for index, frames in enumerate(videos):
        tracks, fg = track_people(frames, det, index)
        for track in tracks:
            run: list[int] = []
            runs: list[list[int]] = []
            for i, ok in enumerate(track.isolated):
                if ok:
                    run.append(i)
                else:
                    runs.append(run)
                    run = []
            runs.append(run)
            best = max(runs, key=len)
            if len(best) < min_track:
                continue
            patches, masks = [], []
            for i in best:
                x, y, w, h = track.boxes[i]
                t = track.frames[i]
                patches.append(frames[t, y:y + h, x:x + w].copy())
                masks.append(fg[t, y:y + h, x:x + w].astype(np.float32))
            vx = track.centroids[best[-1]][0] - track.centroids[best[0]][0]
            name = f"{names[index] if names else index}: frames {track.frames[best[0]]}-{track.frames[best[-1]]}"
            found.append((len(best), len(found), CutOut(tuple(patches), tuple(masks), 1 if vx >= 0 else -1, name)))
    found.sort(key=lambda item: (-item[0], item[1]))
    return [cut for _, _, cut in found]


@dataclass(frozen=True)
class Walk:
    """A straight horizontal walk: the person's box top-left at frame ``start`` is ``(x0, y0)``, moving
    ``speed`` pixels per frame in ``direction`` (+1: right), until it leaves the frame or the video ends."""

    start: int
    x0: float
    y0: int
    speed: float
    direction: int


@dataclass(frozen=True)
class PlantedEvent:
    """What was planted into one target video, and its ground truth ``[first, end)`` (visible frames)."""

    kind: str
    target: str
    cutout: str
    start: int
    first: int
    end: int
    y: int
    speed: float
    direction: int
    positions: tuple[tuple[int, int], ...]  # box top-left (x, y) per frame from ``start``

    def to_dict(self) -> dict:
        return {"kind": self.kind, "target": self.target, "cutout": self.cutout, "start": self.start,
                "first": self.first, "end": self.end, "y": self.y, "speed": round(self.speed, 4),
                "direction": self.direction}


def plant(frames: np.ndarray, cutout: CutOut, path: Walk) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int]]]:
    """``frames`` ``(T, H, W)`` uint8 with ``cutout`` walking ``path``: the new frames, ``visible`` ``(T,)`` bool
    (at least :data:`VISIBLE_SHARE` of its mask inside the frame) and the box's top-left per frame from
    ``path.start`` while any of it is inside."""
    import cv2

    out = frames.copy()
    count, height, width = frames.shape
    visible = np.zeros(count, bool)
    positions: list[tuple[int, int]] = []
    n = len(cutout.patches)
    cycle = [*range(n), *range(n - 2, 0, -1)] or [0]
    mirror = cutout.direction != path.direction
    for k, t in enumerate(range(path.start, count)):
        i = cycle[k % len(cycle)]
        patch, mask = cutout.patches[i], cutout.masks[i]
        if mirror:
            patch, mask = np.ascontiguousarray(patch[:, ::-1]), np.ascontiguousarray(mask[:, ::-1])
        alpha = cv2.GaussianBlur(mask, (3, 3), 0) * mask  # the person only (not its own background), edge soft
        x = int(round(path.x0 + path.direction * path.speed * k))
        y = path.y0
        h, w = patch.shape
        if x >= width or x + w <= 0:
            if k and positions:
                break  # walked out of the frame
            continue
        positions.append((x, y))
        fx0, fx1, fy0, fy1 = max(x, 0), min(x + w, width), max(y, 0), min(y + h, height)
        px0, py0 = fx0 - x, fy0 - y
        a = alpha[py0:py0 + fy1 - fy0, px0:px0 + fx1 - fx0]
        region = out[t, fy0:fy1, fx0:fx1].astype(np.float32)
        out[t, fy0:fy1, fx0:fx1] = np.clip(region * (1 - a) + patch[py0:py0 + fy1 - fy0, px0:px0 + fx1 - fx0] * a,
                                           0, 255).round().astype(np.uint8)
        inside = mask[py0:py0 + fy1 - fy0, px0:px0 + fx1 - fx0].sum()
        visible[t] = inside >= VISIBLE_SHARE * mask.sum() and mask.sum() > 0
    return out, visible, positions


def _entry_x(direction: int, width: int, patch_width: int) -> float:
    """Where a walk in ``direction`` starts: just outside the frame on the side it comes from."""
    return float(-patch_width + 1) if direction > 0 else float(width - 1)


def choose_path(kind: str, stats: SceneStats, cutout: CutOut, frame_count: int, rng: np.random.Generator,
                fast_factor: tuple[float, float] = (4.0, 6.0), slow_factor: float = 0.5,
                min_share: float = 0.05) -> Walk:
    """The walk of a planted person of ``kind`` (rules in the module doc) into a video of ``frame_count`` frames:
    it enters at a frame in the first third of the video (chosen by ``rng``). The bands of a fast or against-flow
    walk are among the busy ones (at least ``min_share`` of the people seen)."""
    height, width = stats.occupancy.shape
    patch_h, patch_w = cutout.size
    start = int(rng.integers(frame_count // 6, max(frame_count // 3, frame_count // 6 + 1)))
    seen = sum(b[2] for b in stats.bands)
    busy = [b for b in stats.bands if b[2] >= min_share * seen] or [max(stats.bands, key=lambda b: b[2])]
    if kind == "fast":
        band = max(busy, key=lambda b: b[2])
        direction = band[5]
        speed = float(rng.uniform(*fast_factor)) * stats.walking_speed
    elif kind == "against":
        band = max(busy, key=lambda b: (b[4], b[2]))
        direction = -band[5]
        speed = stats.walking_speed
    elif kind == "nowhere":
        return _nowhere_path(stats, cutout, start, rng, slow_factor)
    else:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    centre = (band[0] + band[1]) // 2
    y0 = int(np.clip(centre - patch_h // 2 + rng.integers(-2, 3), 0, height - patch_h))
    return Walk(start, _entry_x(direction, width, patch_w), y0, speed, direction)


def _nowhere_path(stats: SceneStats, cutout: CutOut, start: int, rng: np.random.Generator,
                  slow_factor: float) -> Walk:
    """A slow walk along the rows where the normal footage never had foreground (nearest the busiest rows)."""
    height, width = stats.occupancy.shape
    patch_h, patch_w = cutout.size
    row_use = stats.occupancy.max(axis=1)  # the most any pixel of the row was foreground
    busiest = int(np.argmax(stats.occupancy.sum(axis=1)))
    margin = 2
    candidates = [y for y in range(margin, height - patch_h - margin + 1)
                  if row_use[y - margin:y + patch_h + margin].max() == 0]
    if not candidates:
        raise ValueError("every row of the scene had foreground in the normal footage: no place where nobody "
                         "walks to plant a person in")
    nearest = sorted(candidates, key=lambda y: abs(y + patch_h // 2 - busiest))[:3]
    y0 = int(nearest[int(rng.integers(len(nearest)))])
    direction = int(rng.choice([-1, 1]))
    return Walk(start, _entry_x(direction, width, patch_w), y0, slow_factor * stats.walking_speed, direction)


def plant_kind(frames: np.ndarray, kind: str, stats: SceneStats, cutouts: Sequence[CutOut], rng: np.random.Generator,
               target: str = "", **path_options) -> tuple[np.ndarray, PlantedEvent]:
    """Plant one person of ``kind`` into ``frames`` (a cut-out chosen by ``rng`` among the first few):
    the new frames and the event with its ground truth. ``ValueError`` when the person is never visible."""
    if not cutouts:
        raise ValueError("no isolated person was found in the normal footage to cut out")
    cutout = cutouts[int(rng.integers(min(len(cutouts), 8)))]
    path = choose_path(kind, stats, cutout, len(frames), rng, **path_options)
    out, visible, positions = plant(frames, cutout, path)
    shown = np.flatnonzero(visible)
    if not len(shown):
        raise ValueError(f"the planted {kind} person is never visible in {target or 'the video'}")
    return out, PlantedEvent(kind, target, cutout.source, path.start, int(shown[0]), int(shown[-1]) + 1, path.y0,
                             path.speed, path.direction, tuple(positions))


def write_planted_video(frames: np.ndarray, folder: Path) -> Path:
    """Write ``frames`` ``(T, H, W)`` uint8 as ``folder/000.png ...`` (lossless; an image-sequence video)."""
    import cv2

    folder.mkdir(parents=True, exist_ok=True)
    for t, frame in enumerate(frames):
        if not cv2.imwrite(str(folder / f"{t:03d}.png"), frame):
            raise OSError(f"{folder / f'{t:03d}.png'}: cannot be written")
    return folder


def read_gray(path: Path) -> np.ndarray:
    """Every frame of a video file or image folder as ``(T, H, W)`` uint8 gray."""
    from core.video import open_video

    with open_video(path) as source:
        return np.stack([frame for frame in source.iter_frames(color="gray")])


@dataclass(frozen=True)
class PlantedSet:
    """A planted-anomaly set on disk: ``normal`` the source videos (train split), ``videos`` the planted target
    videos (test split) in ``folder``, ``events`` one per planted video, with its ground truth."""

    folder: Path
    normal: tuple[Path, ...]
    videos: tuple[Path, ...]
    events: tuple[PlantedEvent, ...]
    stats: SceneStats


def make_planted_set(sources: Sequence[Path], targets: Sequence[Path], folder: Path, seed: int = 0,
                     kinds: Sequence[str] | None = None, det: Detection = Detection(),
                     fast_factor: tuple[float, float] = (4.0, 6.0)) -> PlantedSet:
    """Learn the scene from ``sources`` (normal videos a run trains on), cut people out of them, and plant one
    person into each of ``targets`` (unseen normal videos), the kinds in turn (``kinds``: :data:`KINDS`, cycled),
    written as ``folder/<kind>-<target name>/NNN.png``. Deterministic from ``seed``."""
    kinds = tuple(kinds or KINDS)
    for kind in kinds:
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    rng = np.random.default_rng(seed)
    normal = [read_gray(Path(p)) for p in sources]
    stats = scene_statistics(normal, det)
    cutouts = cut_out_people(normal, det, names=[Path(p).name for p in sources])
    del normal
    videos, events = [], []
    for n, target in enumerate(targets):
        kind = kinds[n % len(kinds)]
        frames = read_gray(Path(target))
        name = f"{kind}-{Path(target).name}"
        out, event = plant_kind(frames, kind, stats, cutouts, rng, target=name, fast_factor=fast_factor)
        videos.append(write_planted_video(out, Path(folder) / name))
        events.append(event)
    return PlantedSet(Path(folder), tuple(Path(p) for p in sources), tuple(videos), tuple(events), stats)


def planted_project(project, planted: PlantedSet, fps: float = 10.0) -> None:
    """Add ``planted``'s normal videos (split ``train``) and planted videos (split ``test``, each with its
    ground truth as an anomaly interval, source ``planted``) to ``project`` (a :class:`~core.project.Project`)."""
    for path in planted.normal:
        project.add_video(path, fps=fps, name=f"normal/{path.name}", split="train", scan=False)
    for path, event in zip(planted.videos, planted.events, strict=True):
        video = project.add_video(path, fps=fps, name=f"planted/{path.name}", split="test", scan=False)
        project.add_interval(video.id, event.first, event.end, source="planted",
                             note=f"{event.kind}: {event.speed:.2f} px/frame, "
                                  f"{'right' if event.direction > 0 else 'left'}, from {event.cutout}")
