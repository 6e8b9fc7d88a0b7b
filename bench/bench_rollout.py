"""Rollout: 10 future frames from 10 given, carried state against the reference loop, every predict preset.

Same model, same weights (the presets at 64x64 with their own layer sizes, random weights), same given
frames: ``core.inference.rollout.rollout`` against ``reference_rollout`` (which reruns the model over the
whole sequence at every step). Each figure is the reference loop's time over the rollout's, the median
of the repeats after one untimed warm-up of each; the frames must agree within 1e-4 or the figure fails.
Target: 3x for every preset with a recurrent layer or a temporal kernel (ConvLSTM2D, Conv3D). The
``future-frame`` preset sees a fixed window of its last 4 frames: its reference loop already costs one
window per step, so its rollout runs that same loop and its ratio is about 1x (reported, not judged). The
block predictors (``simvp``, ``convlstm-patch``) predict their 10 future frames in one call: the rollout is
``ceil(future / 10)`` calls against the one-frame loop's ``future`` calls (one per frame, keeping the first of
each call's frames); only the first frame is the same in both (after it the block rollout uses the model's
own later frames, as it was trained), so only that frame is held to 1e-4.
"""

from __future__ import annotations

import argparse
import statistics
import time

from bench.figures import Figure

PRESETS = ("keras-example", "default", "conv3d", "unet", "unet-conv3d", "future-frame", "simvp",
           "convlstm-patch")


def _time(fn, repeats: int) -> float:
    fn()  # warm-up: traces, allocations
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def figures(argv: list[str], quick: bool) -> list[Figure]:
    parser = argparse.ArgumentParser(prog="python -m bench rollout", description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=64, help="frame size in pixels (default 64)")
    parser.add_argument("--given", type=int, default=10)
    parser.add_argument("--future", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=None, help="timed runs per path (default 3, quick 1)")
    parser.add_argument("--presets", default=",".join(PRESETS),
                        help=f"comma-separated predict presets (default: {','.join(PRESETS)})")
    args = parser.parse_args(argv)
    chosen = [name for name in args.presets.split(",") if name]
    unknown = sorted(set(chosen) - set(PRESETS))
    if unknown:
        parser.error(f"unknown preset(s) {', '.join(unknown)}; choose from {', '.join(PRESETS)}")
    repeats = args.repeats or (1 if quick else 3)

    import keras
    import numpy as np

    from core.inference.rollout.rollout import block_shape, frame_window, reference_rollout, rollout
    from core.models import build_model, make_spec

    out = []
    print(f"## Rollout of {args.future} frames from {args.given}, {args.size}x{args.size}, backend "
          f"{keras.backend.backend()}, median of {repeats}")
    frames = np.random.default_rng(0).random((args.given, args.size, args.size, 1)).astype("float32")
    for preset in chosen:
        keras.utils.set_random_seed(0)
        spec = make_spec("predict", preset, height=args.size, width=args.size)
        model = build_model(spec, compile=False)
        fast = _time(lambda model=model: rollout(model, frames, args.future), repeats)
        slow = _time(lambda model=model: reference_rollout(model, frames, args.future), repeats)
        block = block_shape(model)
        compared = slice(0, 1) if block else slice(None)  # a block rollout shares only its first frame
        gap = float(np.abs(rollout(model, frames, args.future)[compared]
                           - reference_rollout(model, frames, args.future)[compared]).max())
        print(f"{preset:14s} rollout {fast:7.3f} s  reference loop {slow:7.3f} s  ratio {slow / fast:5.2f}x  "
              f"max |difference| {gap:.2e}")
        note = f"{slow:.2f} s vs {fast:.2f} s, max |difference| {gap:.1e}"
        window = frame_window(model)
        target = None if window else ">= 3"
        if window:
            note += f"; a fixed window of {window} frames: the reference loop is already linear"
        if block:
            note += (f"; {block[1]} frames per call: {-(-args.future // block[1])} call(s) against the one-frame "
                     f"loop's {args.future} (first frame compared)")
        if gap > 1e-4:
            out.append(Figure(f"rollout speed-up, {preset}", slow / fast, "x", target,
                              error=f"frames differ from the reference loop by {gap:.2e}"))
        else:
            out.append(Figure(f"rollout speed-up, {preset}", slow / fast, "x", target, note=note))
    return out
