"""CPU time per frame of fused scoring, stage by stage (decode, resizes, predictor, error level, flow, ...).

Fused scoring (``--scorer fused``) decodes each frame once, resizes it for the predictor and for the motion
statistics' flow, runs the predictor and its error level on batches of clips, and computes the DIS flow, its
per-cell summary and its motion score per frame (:mod:`core.inference.anomaly.shared_decode`). This script
times each stage by **CPU time** (``time.process_time``: all threads of the process), which other jobs on the
machine distort far less than wall time, in two passes over the same videos so the stages do not bill each other:

1. the frame path with no network (OpenCV on one thread, as in a shared pass): decode (gray), resize for the
   predictor, resize for the flow, DIS flow, cell summary, motion score; plus writing the two signals'
   score-cache entries and fusing the series;
2. the networks on the clips of pass 1's frames: the predictor (``predict_on_batch``, batches of 8), the squared
   error, the error level and the relative error with the frame error.

It then scores the same videos end to end, twice each, interleaved: prediction only
(:func:`~core.inference.anomaly.scoring.score_video`) and fused (:func:`~core.inference.anomaly.shared_decode.score_shared`,
both signals from one decode), models loaded once, no score cache, and gives their process CPU time per frame
beside the sum (``--no-end-to-end`` skips it).

    python -m bench.fusion_stages --project P --run RUN [--videos N] [--split test] [--flow PRESET] [--scale S]

``--flow`` / ``--scale`` time pass 1 with another DIS preset or working scale (of the source frame) than the
run's motion statistics were fitted with (for choosing one; the scores are not used).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

BATCH = 8


class Clock:
    """Process CPU seconds per named stage."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._t = time.process_time()

    def lap(self, stage: str) -> None:
        now = time.process_time()
        self.seconds[stage] = self.seconds.get(stage, 0.0) + now - self._t
        self._t = now

    def reset(self) -> None:
        self._t = time.process_time()


def frame_pass(videos, prediction, model, grid, clock: Clock, keep: list) -> int:
    """Pass 1 (module doc) with the motion ``model`` on flow ``grid``; the predictor's frames of each video are
    appended to ``keep``."""
    import cv2

    from core.inference.anomaly.fusion import fuse
    from core.inference.anomaly.score_cache import CachedScores, ScoreCache, ScoreKey
    from core.motion.flow import FlowStream, cell_features
    from core.preprocessing.frames import resize_frame
    from core.video.open import open_video

    frames = 0
    temporary = tempfile.TemporaryDirectory(prefix="fusion-stages-")
    cache = ScoreCache(temporary.name)
    for video in videos:
        source = open_video(video.path)
        stream = FlowStream(grid)
        scores: list[float] = []
        kept = []
        clock.reset()
        iterator = source.iter_frames(0, color="gray")
        previous = None
        while True:
            try:
                frame = next(iterator)
            except StopIteration:
                break
            clock.lap("decode (gray)")
            kept.append(resize_frame(frame, prediction.preprocess))
            clock.lap("resize for the predictor")
            small = cv2.resize(frame, (grid.width, grid.height), interpolation=cv2.INTER_AREA)
            clock.lap("resize for the flow")
            if previous is not None:
                flow = stream._dis.calc(previous, small, None)
                clock.lap("DIS flow")
                features = cell_features(flow, grid)
                clock.lap("cell summary")
                cell_map = model.cell_map(features)
                scores.append(model.frame_score(cell_map))
                clock.lap("motion score")
            previous = small
            frames += 1
        source.close()
        keep.append(kept)
        clock.reset()
        for name in ("prediction", "motion"):
            key = ScoreKey.of_model(name, video.fingerprint, {"signal": name})
            cache.write(CachedScores(key, np.asarray(scores, np.float32), len(scores), None, video.id))
        clock.lap("score-cache writes (2 entries)")
        fuse([np.asarray(scores), np.asarray(scores)], [1.0, 2.0], "sum")
        clock.lap("fusion")
    temporary.cleanup()
    return frames


def network_pass(predictor, error_level, spec, kept: list, clock: Clock) -> None:
    """Pass 2 (module doc) on the predictor's frames of pass 1."""
    from core.inference.anomaly.scoring import frame_error, squared_errors

    length = spec.frames
    for frames in kept:
        stack = np.stack(frames)
        starts = list(range(0, len(frames) - length))
        for i in range(0, len(starts), BATCH):
            chunk = starts[i:i + BATCH]
            clock.reset()
            clips = np.stack([stack[s:s + length] for s in chunk])
            targets = np.stack([stack[s + length] for s in chunk])
            clock.lap("clip batches")
            output = np.asarray(predictor.predict_on_batch(spec.model_input(clips)))
            clock.lap("predictor network")
            squared = squared_errors(output[:, -1], targets)
            clock.lap("squared error")
            if error_level is not None:
                level = np.exp(np.minimum(np.asarray(error_level.predict_on_batch(clips), np.float32)[..., 0], 0.0))
                clock.lap("error-level network")
                squared = squared / (level + np.float32(1e-4))
            for error_map in squared:
                frame_error(error_map, spec.error)
            clock.lap("relative error, frame error")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.fusion_stages", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--project", type=Path, required=True)
    parser.add_argument("--run", required=True, help="a future-frame run with motion statistics")
    parser.add_argument("--split", default="test")
    parser.add_argument("--videos", type=int, default=4, help="the first N videos of the split")
    parser.add_argument("--flow", help="time pass 1 with this DIS preset instead of the run's")
    parser.add_argument("--scale", type=float, help="time pass 1 at this working scale instead of the run's")
    parser.add_argument("--no-end-to-end", action="store_true", help="skip the end-to-end timing")
    args = parser.parse_args(argv)

    from core.inference.anomaly.project_scoring import run_model
    from core.models.files import load_model_file
    from core.motion.flow import FlowGrid
    from core.motion.model import load_motion_model
    from core.project import Project

    fused = run_model(args.project, args.run, "fused")
    prediction, motion = fused.pinned(), fused.motion
    predictor = load_model_file(prediction.model_path)
    error_level = load_model_file(prediction.error_level_path) if prediction.error_level_path else None
    model = load_motion_model(motion.model_path)
    grid, timed = model.grid, model
    if args.flow or args.scale:
        first = Project.open(args.project, read_only=True)
        video = [v for v in first.videos.values() if v.split == args.split][0]
        first.close()
        grid = FlowGrid.for_frame(video.height, video.width, args.scale or motion.spec.preprocess.width / video.width,
                                  model.grid.cell, model.grid.moving_speed, args.flow or model.grid.preset)
        from core.motion.flow import CHANNELS
        from core.motion.model import MotionFit

        fit = MotionFit(grid, model.settings)  # statistics of the right shape, for timing only
        fit.add(np.zeros(grid.shape + (len(CHANNELS),), np.float32))
        timed = fit.model()
    project = Project.open(args.project, read_only=True)
    videos = [v for v in project.videos.values() if v.split == args.split][:args.videos]
    try:
        clock = Clock()
        kept: list = []
        import contextlib

        from core.inference.anomaly import shared_decode

        # OpenCV's threads as a shared pass sets them (a tree before that change leaves them as they are)
        with getattr(shared_decode, "opencv_on_one_thread", contextlib.nullcontext)():
            frames = frame_pass(videos, prediction.spec, timed, grid, clock, kept)
        predictor.predict_on_batch(prediction.spec.model_input(np.zeros((BATCH, prediction.spec.frames)
                                                                        + kept[0][0].shape, np.uint8)))
        if error_level is not None:
            error_level.predict_on_batch(np.zeros((BATCH, prediction.spec.frames) + kept[0][0].shape, np.uint8))
        network_pass(predictor, error_level, prediction.spec, kept, clock)
        size = f"{grid.width}x{grid.height} {grid.preset}"
        print(f"## CPU ms per frame by stage: {frames:,} frames of {len(videos)} {args.split} videos, flow at {size}")
        print("| stage | CPU ms / frame |\n|---|---:|")
        for stage, seconds in clock.seconds.items():
            print(f"| {stage} | {1000 * seconds / frames:.3f} |")
        print(f"| **sum** | **{1000 * sum(clock.seconds.values()) / frames:.2f}** |")
        if args.no_end_to_end:
            return
        from core.inference.anomaly.scoring import score_video
        from core.inference.anomaly.shared_decode import score_shared

        for name in ("prediction", "fused", "prediction", "fused"):
            cpu, wall = time.process_time(), time.perf_counter()
            for video in videos:
                if name == "fused":
                    for _ in score_shared(predictor, error_level, model, video.path, prediction.spec, motion.spec,
                                          1, BATCH, (0, 0)):
                        pass
                else:
                    for _ in score_video(predictor, video.path, prediction.spec, 1, BATCH, error_level=error_level):
                        pass
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            print(f"{name} scoring (score_video / score_shared): {1000 * cpu / frames:.2f} CPU ms a frame, "
                  f"{frames / wall:.1f} frames/s", flush=True)
    finally:
        project.close()


if __name__ == "__main__":
    main()
