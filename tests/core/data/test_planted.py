"""Planted anomalies on tiny synthetic footage: bright blobs walking along a lane of a fixed gray scene."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.data.planted import (
    Detection,
    Walk,
    cut_out_people,
    make_planted_set,
    plant,
    plant_kind,
    planted_project,
    scene_statistics,
)

HEIGHT, WIDTH = 64, 96
DET = Detection(threshold=25, min_area=20, max_area=400, max_step=6.0)
#: The blob "person": 12 high, 6 wide; people walk the lane at rows 30..42, to the right, 1 pixel per frame.
PERSON = (12, 6)
LANE = 30


def scene(seed: int, frames: int = 60, walkers: int = 2) -> np.ndarray:
    """A textured gray background with ``walkers`` blobs walking right along the lane at 1 px/frame."""
    rng = np.random.default_rng(seed)
    bg = (90 + 20 * (np.arange(WIDTH)[None, :] % 7 == 0) + rng.integers(0, 6, (HEIGHT, WIDTH))).astype(np.uint8)
    video = np.repeat(bg[None], frames, 0)
    for w in range(walkers):
        x0 = 8 + 40 * w
        for t in range(frames):
            x = x0 + t
            if x + PERSON[1] < WIDTH - 2:
                video[t, LANE:LANE + PERSON[0], x:x + PERSON[1]] = 220
                video[t, LANE + 8:LANE + 12, x + 1:x + 5] = 160  # "legs": not uniform
    return video


def blob_centroid(after: np.ndarray, before: np.ndarray) -> tuple[float, float] | None:
    changed = np.abs(after.astype(int) - before.astype(int)) > 30
    if not changed.any():
        return None
    ys, xs = np.nonzero(changed)
    return float(xs.mean()), float(ys.mean())


@pytest.fixture(scope="module")
def normal() -> list[np.ndarray]:
    return [scene(seed) for seed in range(3)]


def test_the_scene_is_learned_from_the_normal_footage(normal) -> None:
    stats = scene_statistics(normal, DET, band_height=12)
    assert stats.walking_speed == pytest.approx(1.0, abs=0.05)
    assert stats.person_height == PERSON[0] and stats.person_width == PERSON[1]
    lane = max(stats.bands, key=lambda b: b[2])
    assert lane[0] <= LANE + PERSON[0] // 2 <= lane[1]
    assert lane[2] > 50 and lane[5] == 1 and lane[4] == 1.0  # everybody walks right there
    assert stats.occupancy[:LANE - 1].max() == 0 and stats.occupancy[LANE + 2:LANE + 10, 20:60].max() > 0.1
    cutouts = cut_out_people(normal, DET)
    assert cutouts and all(p.shape == PERSON for p in cutouts[0].patches) and cutouts[0].direction == 1
    assert all(m.sum() >= 0.9 * PERSON[0] * PERSON[1] for m in cutouts[0].masks)


def test_the_pasted_person_is_where_the_ground_truth_says_and_moves_at_the_requested_speed(normal) -> None:
    cutouts = cut_out_people(normal, DET)
    target = scene(99, frames=80, walkers=0)
    walk = Walk(start=10, x0=-PERSON[1] + 1, y0=12, speed=2.5, direction=1)
    out, visible, positions = plant(target, cutouts[0], walk)
    shown = np.flatnonzero(visible)
    assert shown[0] >= 10 and not visible[:10].any()
    centroids = {t: blob_centroid(out[t], target[t]) for t in range(len(out))}
    for t in range(len(out)):
        if visible[t]:
            x, y = centroids[t]
            assert 12 <= y <= 12 + PERSON[0]
        elif t < 10:
            assert centroids[t] is None  # nothing pasted before the walk starts
    steps = [centroids[t + 1][0] - centroids[t][0] for t in shown[:-1]
             if positions[t - 10][0] > 0 and positions[t + 1 - 10][0] + PERSON[1] < WIDTH]  # whole person inside
    assert len(steps) > 10 and np.mean(steps) == pytest.approx(2.5, abs=0.1)
    left = plant(target, cutouts[0], Walk(10, WIDTH - 1, 12, 1.5, -1))
    xs = [blob_centroid(left[0][t], target[t])[0] for t in np.flatnonzero(left[1])]
    assert np.all(np.diff(xs) < 0)  # against its own direction: moving left (mirrored)


@pytest.mark.parametrize("kind", ["fast", "against", "nowhere"])
def test_each_kind_follows_the_scene(normal, kind) -> None:
    stats = scene_statistics(normal, DET, band_height=12)
    cutouts = cut_out_people(normal, DET)
    target = scene(50, frames=90)
    out, event = plant_kind(target, kind, stats, cutouts, np.random.default_rng(3))
    assert 0 < event.first < event.end <= len(target) and event.kind == kind
    if kind == "fast":
        assert 4 <= event.speed <= 6 and event.direction == 1
    elif kind == "against":
        assert event.speed == pytest.approx(stats.walking_speed) and event.direction == -1
    else:  # where nobody walks, slowly
        assert event.speed == pytest.approx(stats.walking_speed / 2)
        assert stats.occupancy[event.y:event.y + PERSON[0]].max() == 0
    changed = np.abs(out.astype(int) - target.astype(int)).max(axis=(1, 2)) > 30
    assert not changed[:event.first - 1].any() and changed[event.first:event.end].all()


def test_the_set_is_deterministic_and_becomes_a_project(normal, tmp_path: Path) -> None:
    import cv2

    from core.project import Project

    paths = []
    for n, video in enumerate([*normal, scene(7, 90), scene(8, 90), scene(9, 90)]):
        folder = tmp_path / "src" / f"{n:02d}"
        folder.mkdir(parents=True)
        for t, frame in enumerate(video):
            cv2.imwrite(str(folder / f"{t:03d}.png"), frame)
        paths.append(folder)
    one = make_planted_set(paths[:3], paths[3:], tmp_path / "a", seed=5, det=DET)
    two = make_planted_set(paths[:3], paths[3:], tmp_path / "b", seed=5, det=DET)
    assert [e.to_dict() for e in one.events] == [e.to_dict() for e in two.events]
    assert [e.kind for e in one.events] == ["fast", "against", "nowhere"]
    for a, b in zip(one.videos, two.videos, strict=True):
        assert all(np.array_equal(cv2.imread(str(p)), cv2.imread(str(b / p.name))) for p in sorted(a.iterdir()))
    project = Project.create(tmp_path / "project")
    planted_project(project, one)
    tests = [v for v in project.videos.values() if v.split == "test"]
    assert len(tests) == 3 and sum(v.split == "train" for v in project.videos.values()) == 3
    spans = sorted((project.videos[i.video_id].name, i.start, i.end) for i in project.intervals.values())
    assert spans == sorted((f"planted/{e.target}", e.first, e.end) for e in one.events)
    project.close(discard=True)
