"""Speed maps as a model input: core's reader against a plain OpenCV decode + DIS loop, and against real time.

A run trained on speed maps (``framewatch train --input speed``, the ``speed`` preset) reads every video it
caches, trains on or classifies as speed maps (:mod:`core.motion.speed`): the DIS optical flow (``medium``) at
half the video's size, each pixel of the map the largest speed of its block. That is the product's most
expensive preprocessing, so it is measured here against the same work done by the shortest loop OpenCV
allows, in the same run: decode, gray, resize to half size (area), DIS, speed, block maxima. The bar: core's
reader keeps at least 0.80 of that loop's frames a second (its decode and bookkeeping cost at most a fifth),
as decode + resize does (``python -m bench video``). Each input's rate is also given as a multiple of its
own frame rate: how much faster than real time a video is read as speed maps.

Inputs: bikes.mp4 (H.264, 640x272, 25 fps) and the UCSD Ped2 training folders (JPEG, 360x240, 10 fps; the
first 4 with ``--quick``). Maps of 24x36, the ``speed`` preset's. Runs of the two loops are interleaved
(``--repeats``, default 3) and the medians compared, so both see the same machine load.

    python -m bench speed_maps [--quick] [--data DIR] [--repeats N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.figures import Figure  # noqa: E402
from bench.reference_data import default_data_dir  # noqa: E402
from core.motion.speed import SPEED_FULL_SCALE  # noqa: E402
from core.preprocessing import PreprocessSpec, iter_resized  # noqa: E402
from core.video import list_images, open_video  # noqa: E402

#: The map size (the ``speed`` preset's).
HEIGHT, WIDTH = 24, 36


def _reference_maps(frames) -> list[np.ndarray]:
    """The plain loop: each gray frame at half size, DIS from the one before, speed, block maxima, uint8."""
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    previous, maps = None, []
    for gray in frames:
        small = cv2.resize(gray, (round(gray.shape[1] / 2), round(gray.shape[0] / 2)), interpolation=cv2.INTER_AREA)
        if previous is not None:
            flow = dis.calc(previous, small, None)
            speed = cv2.magnitude(flow[..., 0], flow[..., 1])
            rows = np.maximum.reduceat(speed, np.arange(HEIGHT) * speed.shape[0] // HEIGHT, axis=0)
            blocks = np.maximum.reduceat(rows, np.arange(WIDTH) * speed.shape[1] // WIDTH, axis=1)
            maps.append(np.clip(blocks * (255.0 / SPEED_FULL_SCALE), 0, 255).astype(np.uint8))
        previous = small
    return maps[:1] + maps  # frame 0 gets frame 1's motion, as core's


def _video_frames(path: Path):
    capture = cv2.VideoCapture(str(path))
    try:
        while True:
            ok, frame = capture.read()
            if not ok:
                return
            yield cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    finally:
        capture.release()


def _folder_frames(folder: Path):
    for file in list_images(folder):
        yield cv2.imread(str(file), cv2.IMREAD_GRAYSCALE)


def reference(paths: list[Path]) -> list[np.ndarray]:
    maps: list[np.ndarray] = []
    for path in paths:
        maps.extend(_reference_maps(_folder_frames(path) if path.is_dir() else _video_frames(path)))
    return maps


def ours(paths: list[Path]) -> list[np.ndarray]:
    spec = PreprocessSpec(HEIGHT, WIDTH, signal="speed")
    maps: list[np.ndarray] = []
    for path in paths:
        with open_video(path) as source:
            maps.extend(found[:, :, 0] for found in iter_resized(source, spec))
    return maps


def _rate(fn, paths: list[Path]) -> tuple[float, list[np.ndarray]]:
    started = time.perf_counter()
    maps = fn(paths)
    return len(maps) / (time.perf_counter() - started), maps


def figures(argv: list[str], quick: bool) -> list[Figure]:
    parser = argparse.ArgumentParser(prog="python -m bench speed_maps", description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=default_data_dir(), help="the shared data folder")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved runs of each loop (default 3)")
    args = parser.parse_args(argv)
    bikes = args.data / "clips" / "bikes.mp4"
    training = args.data / "ucsd_ped2" / "training"
    folders = sorted(p for p in training.iterdir() if p.is_dir()) if training.is_dir() else []
    cases = [("bikes.mp4 (H.264 640x272, 25 fps)", "bikes.mp4", [bikes] if bikes.is_file() else [], 25.0),
             (f"Ped2 training, {4 if quick else len(folders)} folders of JPEG (10 fps)", "Ped2 JPEGs",
              folders[:4] if quick else folders, 10.0)]
    out: list[Figure] = []
    for name, short, paths, fps in cases:
        if not paths:
            out.append(Figure(f"speed maps vs OpenCV + DIS loop, {short}", None, skipped=f"no {short} in {args.data}"))
            continue
        reference(paths[:1]), ours(paths[:1])  # warm the caches and DIS
        ref_rates, our_rates = [], []
        for _ in range(max(1, args.repeats)):
            rate, ref_maps = _rate(reference, paths)
            ref_rates.append(rate)
            rate, our_maps = _rate(ours, paths)
            our_rates.append(rate)
        if len(ref_maps) != len(our_maps):
            raise RuntimeError(f"{short}: the loops gave {len(ref_maps)} and {len(our_maps)} maps")
        differ = max(int(np.abs(a.astype(np.int16) - b).max()) for a, b in zip(ref_maps, our_maps, strict=True))
        ref, our = statistics.median(ref_rates), statistics.median(our_rates)
        print(f"{name:<40} {len(our_maps):>5} maps  OpenCV + DIS loop {ref:7.0f} fps  framewatch {our:7.0f} fps  "
              f"ratio {our / ref:.2f} (target >= 0.80); {our / fps:.1f}x real time; largest map difference "
              f"{differ}/255", flush=True)
        out.append(Figure(f"speed maps vs OpenCV + DIS loop, {short}", our / ref, "x", ">= 0.80",
                          note=f"{our:.0f} vs {ref:.0f} maps/s, median of {args.repeats}; {len(our_maps)} maps of "
                               f"{HEIGHT}x{WIDTH}; largest difference {differ}/255"))
        out.append(Figure(f"speed maps, {short}, x real time", our / fps, "x",
                          note=f"{our:.0f} maps/s against the video's {fps:g} frames/s"))
    return out


if __name__ == "__main__":
    from bench.runner import run_script

    sys.exit(run_script("speed_maps", figures))
