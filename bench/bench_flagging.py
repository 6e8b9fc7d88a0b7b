"""Live flagging: the cost of one 30 ms flush of new scores on a one-hour video, at its start and its end.

    python -m bench flagging [--quick] [--frames-per-flush N] [--minutes M]

A one-hour video at 25 fps (90,000 frames; ``--quick``: 12 minutes, 18,000) is scored live: its errors
(synthetic: gamma noise, with an anomaly of 10 to 30 s every 5 minutes, the ground truth) reach the review's
:class:`~core.inference.anomaly.flagging_session.FlaggingSession` in flushes, one every 30 ms, each holding the
frames scored meanwhile: ``--frames-per-flush`` 8 by default, a scorer at about 250 frames/s. The
session smooths (causal, 3 frames), flags (99.5th-percentile threshold calibrated on the first 10 minutes,
min run 3, merge gap 10) and measures the AUC after every flush, as the chart shows them.

Figures: the session's median flush over the first and the last 1,000 flushes, their ratio (target:
a flush at the end of the hour costs at most twice one at its start: the cost follows the new frames,
not the video), and the reference, measured in the same run on the same frames: what the chart did
before the session (smooth, flag and rank the whole series again on every flush), timed over 50 flushes
at the start and at the end, and its ratio to the session at the end. A last row times a flush at the
end of the hour with a threshold below every frame (one event open over the whole video, the case whose
frames are flagged again on every flush; reported, not judged).

(``python3 bench/bench_flagging.py`` with the same options prints the same table, without recording it.)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

if __name__ == "__main__":  # run as a script: the repository root on the path
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.figures import Figure
from core.evaluation.intervals import labels_from_intervals
from core.evaluation.roc import roc_auc
from core.inference.anomaly.events import flag_events
from core.inference.anomaly.flagging_session import Flagging, FlaggingSession
from core.inference.anomaly.regularity import Threshold

FPS = 25
#: Flushes at each end of the stream whose median is reported.
WINDOW = 1_000
#: Flushes of the reference (a whole-series recompute each) timed at each end.
REFERENCE_FLUSHES = 50


def synthetic_video(frames: int, seed: int = 0) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Errors float32 ``(frames,)`` and the ground truth: an anomaly of 10-30 s every 5 minutes."""
    rng = np.random.default_rng(seed)
    errors = rng.gamma(2.0, 0.01, frames).astype(np.float32)
    truth = []
    for start in range(5 * 60 * FPS, frames, 5 * 60 * FPS):
        length = int(rng.integers(10 * FPS, 30 * FPS))
        end = min(frames, start + length)
        errors[start:end] += rng.uniform(0.03, 0.08)
        truth.append((start, end))
    return errors, truth


def reference_flush(errors: np.ndarray, flagging: Flagging, truth: list[tuple[int, int]]) -> float:
    """The old chart's work on one flush: the whole series smoothed, flagged and ranked again (seconds)."""
    start = time.perf_counter()
    smoothed = flagging.threshold.smooth(errors)
    flag_events(smoothed, flagging.threshold.value, flagging.min_run, flagging.merge_gap, "v")
    labels = labels_from_intervals(errors.size, truth)
    if labels.any() and not labels.all():
        roc_auc(smoothed, labels)
    return time.perf_counter() - start


def stream(errors: np.ndarray, flagging: Flagging, truth: list[tuple[int, int]], per_flush: int) -> list[float]:
    """Every flush's time (seconds) while ``errors`` stream into a session ``per_flush`` frames at a time."""
    session = FlaggingSession("v")
    session.set_flagging(flagging)
    session.set_ground_truth(truth)
    times = []
    for first in range(0, errors.size, per_flush):
        chunk = errors[first:first + per_flush]
        start = time.perf_counter()
        session.append(first, chunk)
        session.auc  # noqa: B018 - what the chart's summary reads after every flush
        times.append(time.perf_counter() - start)
    expected = flag_events(flagging.threshold.smooth(errors), flagging.threshold.value, flagging.min_run,
                           flagging.merge_gap, "v")
    if session.events != expected:  # the figures mean nothing if the session flags differently
        raise AssertionError("the session's events differ from flagging the whole series")
    return times


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench flagging", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames-per-flush", type=int, default=8, help="frames scored per 30 ms flush (default 8)")
    parser.add_argument("--minutes", type=float, default=None, help="video length (default 60; --quick 12)")
    return parser


def figures(argv: list[str], quick: bool) -> list[Figure]:
    """Per-flush cost of the session at the start and the end of the video, against the old recompute."""
    args = _parser().parse_args(argv)
    minutes = args.minutes if args.minutes is not None else (12.0 if quick else 60.0)
    frames = int(minutes * 60 * FPS)
    per_flush = args.frames_per_flush
    errors, truth = synthetic_video(frames)
    threshold = Threshold.calibrate(errors[:10 * 60 * FPS], 99.5, window=3)
    flagging = Flagging(threshold, 3, 10)
    print(f"{frames:,} frames ({minutes:g} min at {FPS} fps), {per_flush} frames per flush, "
          f"{len(truth)} anomalies, threshold {threshold.value:.6g} (99.5th percentile of the first 10 min, "
          "3-frame causal average)", flush=True)

    times = stream(errors, flagging, truth, per_flush)
    window = min(WINDOW, len(times) // 4)
    start_us = statistics.median(times[:window]) * 1e6
    end_us = statistics.median(times[-window:]) * 1e6
    total = sum(times)
    print(f"session: {len(times):,} flushes in {total:.2f} s; median flush {start_us:.0f} us at the start, "
          f"{end_us:.0f} us at the end", flush=True)

    start_frames = window * per_flush
    reference_start = statistics.median(
        reference_flush(errors[:start_frames + k * per_flush], flagging, truth) for k in range(REFERENCE_FLUSHES))
    reference_end = statistics.median(
        reference_flush(errors[:frames - k * per_flush], flagging, truth) for k in range(REFERENCE_FLUSHES))
    print(f"reference (whole series each flush): {reference_start * 1e3:.2f} ms at the start, "
          f"{reference_end * 1e3:.2f} ms at the end", flush=True)

    # a threshold below every frame: one event open over the whole video, flagged again on every flush
    open_event = Flagging(Threshold(value=-1.0, window=3), 3, 10)
    session = FlaggingSession("v")
    session.set_flagging(open_event)
    session.append(0, errors[:frames - REFERENCE_FLUSHES * per_flush])
    open_times = []
    for first in range(frames - REFERENCE_FLUSHES * per_flush, frames, per_flush):
        start = time.perf_counter()
        session.append(first, errors[first:first + per_flush])
        open_times.append(time.perf_counter() - start)
    open_ms = statistics.median(open_times) * 1e3
    print(f"one event open over the whole video: {open_ms:.2f} ms a flush at the end", flush=True)

    length = f"{minutes:g}-min video"
    return [
        Figure(f"session flush, first {window:,} flushes ({length})", start_us, "us",
               note=f"median; {per_flush} frames a flush"),
        Figure(f"session flush, last {window:,} flushes ({length})", end_us, "us", note=f"median, at {frames:,} frames"),
        Figure("session flush: end / start", end_us / start_us, "x", "<= 2",
               note="the cost follows the new frames, not the video"),
        Figure(f"reference (whole series each flush), start / end ({length})", reference_end * 1e3, "ms",
               note=f"{reference_start * 1e3:.2f} ms at the start, {REFERENCE_FLUSHES} flushes each"),
        Figure("reference / session, at the end", reference_end / (end_us / 1e6), "x", ">= 10"),
        Figure("session flush with one event open over the whole video", open_ms, "ms",
               note="its frames are flagged again each flush"),
    ]


if __name__ == "__main__":
    from bench.runner import run_script

    sys.exit(run_script("flagging", figures))
