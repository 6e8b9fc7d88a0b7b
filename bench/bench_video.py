"""Video core: streaming decode against a plain OpenCV loop, memory as videos grow, random-read latency.

1. Streaming decode + resize to 128x128 gray float32 through ``core`` against a plain OpenCV loop over
   the same input, measured in the same run: bikes.mp4 and the 16 Ped2 training folders.
2. Peak RSS while streaming a generated 10,000-frame video against a 1,000-frame one (child processes).
3. Latency of frame-accurate random reads on bikes.mp4 (median, p95), against sequential decode per frame.

Run from the repository root:  python -m bench video [--quick] [--data DIR] [--repeats 5] [--skip-memory]
(``python3 bench/bench_video.py`` with the same options prints the same table, without recording it).
``--quick`` interleaves 3 runs instead of 5; the figures and targets are the same.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.figures import Figure  # noqa: E402
from bench.peak_rss import peak_rss  # noqa: E402
from bench.reference_data import default_data_dir  # noqa: E402
from core.preprocessing import PreprocessSpec, iter_preprocessed  # noqa: E402
from core.video import list_images, open_video  # noqa: E402

SIZE = 128


def reference_video(path: Path) -> int:
    cap = cv2.VideoCapture(str(path))
    n = 0
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        small = cv2.resize(gray, (SIZE, SIZE), interpolation=cv2.INTER_AREA)
        _ = small.astype(np.float32) / 255.0
        n += 1
    cap.release()
    return n


def reference_folders(folders: list[Path]) -> int:
    n = 0
    for folder in folders:
        for file in list_images(folder):
            gray = cv2.imread(str(file), cv2.IMREAD_GRAYSCALE)
            small = cv2.resize(gray, (SIZE, SIZE), interpolation=cv2.INTER_AREA)
            _ = small.astype(np.float32) / 255.0
            n += 1
    return n


def ours(paths: list[Path]) -> int:
    spec = PreprocessSpec(SIZE, SIZE, grayscale=True)
    n = 0
    for path in paths:
        with open_video(path) as source:
            for _ in iter_preprocessed(source, spec):
                n += 1
    return n


def best_rate(fn, repeats: int) -> tuple[float, int]:
    """Frames per second of the best of ``repeats`` runs (the least disturbed by other load)."""
    rates, frames = [], 0
    for _ in range(repeats):
        start = time.perf_counter()
        frames = fn()
        rates.append(frames / (time.perf_counter() - start))
    return max(rates), frames


def throughput(data: Path, repeats: int) -> list[dict]:
    rows = []
    bikes = data / "clips" / "bikes.mp4"
    folders = sorted(p for p in (data / "ucsd_ped2" / "training").iterdir() if p.is_dir())
    cases = [
        ("bikes.mp4 (H.264 640x272)", "bikes.mp4", lambda: reference_video(bikes), lambda: ours([bikes])),
        ("Ped2 training, 16 folders of JPEG", "Ped2 JPEGs", lambda: reference_folders(folders), lambda: ours(folders)),
    ]
    for name, short, ref_fn, our_fn in cases:
        ref_fn(), our_fn()  # warm caches
        ref_rates, our_rates = [], []
        for _ in range(repeats):  # interleave so both see the same machine load
            r, n_ref = best_rate(ref_fn, 1)
            o, n_ours = best_rate(our_fn, 1)
            ref_rates.append(r)
            our_rates.append(o)
        assert n_ref == n_ours, (n_ref, n_ours)
        ref, our = statistics.median(ref_rates), statistics.median(our_rates)
        rows.append({"input": name, "short": short, "frames": n_ours, "opencv_fps": ref, "framewatch_fps": our, "ratio": our / ref})
    return rows


CHILD = """
from core.preprocessing import PreprocessSpec, iter_preprocessed
from core.video import open_video
source = open_video({path!r})
source.scan()
n = sum(1 for _ in iter_preprocessed(source, PreprocessSpec(128, 128)))
for k in range(0, n, max(1, n // 50)):
    source.read(k)
result = {{"frames": n}}
"""


def make_video(path: Path, frames: int) -> None:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 25, (320, 240))
    rng = np.random.default_rng(0)
    base = rng.integers(0, 255, (240, 320, 3), dtype=np.uint8)
    for i in range(frames):
        writer.write(np.roll(base, i * 3, axis=1))
    writer.release()


def memory(lengths: tuple[int, ...] = (1_000, 10_000)) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in lengths:
            path = Path(tmp) / f"gen_{n}.mp4"
            make_video(path, n)
            rows.append({"frames": n, **peak_rss(CHILD.format(path=str(path)))})
    return rows


def random_reads(data: Path, reads: int = 200) -> dict:
    bikes = data / "clips" / "bikes.mp4"
    source = open_video(bikes)
    source.scan()
    mode = source.seek_mode
    rng = random.Random(0)
    latencies = []
    for _ in range(reads):
        k = rng.randrange(source.frame_count)
        start = time.perf_counter()
        source.read(k)
        latencies.append((time.perf_counter() - start) * 1000)
    start = time.perf_counter()
    n = sum(1 for _ in source.iter_frames())
    sequential_ms = (time.perf_counter() - start) * 1000 / n
    latencies.sort()
    return {
        "reads": reads, "seek_mode": mode, "median_ms": statistics.median(latencies),
        "p95_ms": latencies[int(0.95 * len(latencies)) - 1], "sequential_ms_per_frame": sequential_ms,
    }


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench video", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=default_data_dir(), help="the shared reference data folder")
    parser.add_argument("--repeats", type=int, help="interleaved runs per throughput case (default 5, quick 3)")
    parser.add_argument("--skip-memory", action="store_true", help="leave out the 1,000 vs 10,000-frame memory part")
    return parser


def figures(argv: list[str], quick: bool) -> list[Figure]:
    """Throughput ratios against OpenCV (target >= 0.80), RSS growth 1k -> 10k frames (< 100 MB), read latency."""
    args = _parser().parse_args(argv)
    repeats = args.repeats or (3 if quick else 5)
    out: list[Figure] = []
    print("## Streaming decode + resize to 128x128 gray float32 (median of interleaved runs)")
    for row in throughput(args.data, repeats):
        print(f"{row['input']:<36} {row['frames']:>5} frames  OpenCV loop {row['opencv_fps']:8.0f} fps  "
              f"framewatch {row['framewatch_fps']:8.0f} fps  ratio {row['ratio']:.2f} (target >= 0.80)", flush=True)
        out.append(Figure(f"decode+resize vs OpenCV loop, {row['short']}", row["ratio"], "x", ">= 0.80",
                          note=f"{row['framewatch_fps']:.0f} vs {row['opencv_fps']:.0f} fps, median of {repeats}"))
    growth_name = "peak RSS growth, 1,000 -> 10,000 frames"
    if args.skip_memory:
        out.append(Figure(growth_name, None, "MB", "< 100", skipped="--skip-memory"))
    else:
        print("## Peak RSS while streaming (scan + preprocess every frame + 50 random reads)")
        rows = memory()
        for row in rows:
            print(f"{row['frames']:>6} frames  peak RSS {row['peak_rss_mb']:7.1f} MB")
        growth = rows[-1]["peak_rss_mb"] - rows[0]["peak_rss_mb"]
        print(f"growth 1,000 -> 10,000 frames: {growth:+.1f} MB (target < 100 MB)", flush=True)
        out.append(Figure(growth_name, growth, "MB", "< 100",
                          note=f"{rows[0]['peak_rss_mb']:.0f} -> {rows[-1]['peak_rss_mb']:.0f} MB"))
    print("## Frame-accurate random reads, bikes.mp4")
    r = random_reads(args.data)
    print(f"{r['reads']} reads, seek mode {r['seek_mode']}: median {r['median_ms']:.1f} ms, p95 {r['p95_ms']:.1f} ms "
          f"(sequential decode {r['sequential_ms_per_frame']:.2f} ms/frame)", flush=True)
    note = f"{r['reads']} reads, seek mode {r['seek_mode']}; sequential {r['sequential_ms_per_frame']:.2f} ms/frame"
    out.append(Figure("random read, bikes.mp4, median", r["median_ms"], "ms", note=note))
    out.append(Figure("random read, bikes.mp4, p95", r["p95_ms"], "ms", note="one keyframe every 250 frames"))
    return out


if __name__ == "__main__":
    from bench.runner import run_script

    sys.exit(run_script("video", figures))
