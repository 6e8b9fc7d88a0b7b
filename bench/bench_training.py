"""Models: keras-example training against the machine's conv peak; train and inference rate of every preset.

    python -m bench training            # keras-example vs conv peak, then every preset (a few minutes)
    python -m bench training --quick    # one interleaved round, then every preset timed on 1 step
    python -m bench training --only-peak-ratio
    python -m bench training --json results.json

(``python bench/bench_training.py`` with the same options prints the same table, without recording it.)

1. Peak: the best FLOP/s of large Conv2D and Conv3D layers (forward, float32), timed in this process.
2. ``keras-example`` (the reference ConvLSTM) on 64x64 frames: FLOPs per training step counted
   analytically (:mod:`core.models.flops`, forward x 3 for a training step) divided by the measured
   step time, as a share of the peak. Peak and steps are timed in interleaved rounds, best of each
   kept, so load from other processes cannot favour one side. Target: at least 60%.
3. ``simvp`` (the predict default) trained with Keras's ``TimeDistributed`` and with ``PerFrame`` (the per-frame
   layers folded into the batch), the same model: the step time ratio, interleaved rounds.
4. Every preset at a small size: forward FLOPs per clip, clips/s for training (``train_on_batch``) and
   inference (``predict_on_batch``). Regress presets are the classify models with a linear head, so
   they are not repeated.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import keras  # noqa: E402
import numpy as np  # noqa: E402

from bench.figures import Figure  # noqa: E402
from bench.reference_data import default_data_dir  # noqa: E402
from core.models import build_model, make_spec, presets  # noqa: E402
from core.models.flops import count_flops  # noqa: E402


def best_time(fn, repeats: int, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def conv_peak_cases():
    """Large convolutions (forward, float32): ``{name: (flops, callable)}``, the practical peak for conv models."""
    import tensorflow as tf

    rng = np.random.default_rng(0)
    shapes = {
        "conv2d 8x64x64x128 -> 128, 3x3": ((8, 64, 64, 128), (3, 3, 128, 128), tf.nn.conv2d),
        "conv2d 8x64x64x64 -> 256, 5x5": ((8, 64, 64, 64), (5, 5, 64, 256), tf.nn.conv2d),
        "conv3d 4x8x32x32x64 -> 64, 3x3x3": ((4, 8, 32, 32, 64), (3, 3, 3, 64, 64), tf.nn.conv3d),
    }
    cases = {}
    for name, (xs, ks, op) in shapes.items():
        x = tf.constant(rng.random(xs, dtype=np.float32))
        k = tf.constant(rng.random(ks, dtype=np.float32))
        strides = [1] * len(xs)
        fn = tf.function(lambda x=x, k=k, op=op, strides=strides: op(x, k, strides, "SAME"), autograph=False)
        cases[name] = (float(2 * np.prod(xs[:-1]) * np.prod(ks)), lambda fn=fn: fn().numpy())
    return cases


def train_rate(model, x, y, steps: int) -> float:
    """Seconds per training step (best of ``steps`` after one warm-up step)."""
    return best_time(lambda: model.train_on_batch(x, y), repeats=steps, warmup=1)


def infer_rate(model, x, steps: int) -> float:
    return best_time(lambda: model.predict_on_batch(x), repeats=steps, warmup=1)


def fake_batch(spec, batch: int):
    rng = np.random.default_rng(0)
    x = rng.random((batch, *spec.input_shape), dtype=np.float32)
    if spec.task in ("predict", "anomaly"):
        return x, rng.random((batch, *spec.input_shape), dtype=np.float32)
    if spec.task == "classify":
        return x, rng.integers(0, spec.outputs, batch)
    return x, rng.random((batch, spec.outputs), dtype=np.float32)


def keras_example_ratio(size: int, frames: int, batch: int, steps: int, rounds: int) -> dict:
    """keras-example training FLOP/s over the conv peak, both timed in ``rounds`` interleaved rounds.

    The machine may be shared, so each round times the peak convolutions and then the training steps,
    and the best of every round is kept for both: a busy moment cannot favour one side.
    """
    spec = make_spec("predict", "keras-example", frames=frames, height=size, width=size)
    model = build_model(spec)
    flops = count_flops(model)
    x, y = fake_batch(spec, batch)
    model.train_on_batch(x, y)  # trace and warm up
    cases = conv_peak_cases()
    peak = dict.fromkeys(cases, 0.0)
    step_s = float("inf")
    for _ in range(rounds):
        for name, (case_flops, fn) in cases.items():
            peak[name] = max(peak[name], case_flops / best_time(fn, repeats=3, warmup=1))
        step_s = min(step_s, best_time(lambda: model.train_on_batch(x, y), repeats=steps, warmup=0))
    best_peak = max(peak.values())
    achieved = flops.training * batch / step_s
    return {
        "input": f"{batch} x {frames}x{size}x{size}x1", "forward_gflop_per_clip": round(flops.forward / 1e9, 2),
        "train_gflop_per_step": round(flops.training * batch / 1e9, 1), "step_s": round(step_s, 3),
        "achieved_gflops": round(achieved / 1e9, 1), "peak_gflops": round(best_peak / 1e9, 1),
        "peak_cases_gflops": {k: round(v / 1e9, 1) for k, v in peak.items()},
        "ratio": round(achieved / best_peak, 3), "jit_compile": str(model.jit_compile), "rounds": rounds,
    }


def per_frame_ratio(batch: int, steps: int, rounds: int) -> dict:
    """``simvp``'s training step (the predict default, Moving MNIST's 10 + 10 frames of 64x64) with Keras's own
    ``TimeDistributed`` over its step with :class:`~core.models.layers.PerFrame` (the same model, the per-frame
    layers folded into the batch), both timed in ``rounds`` interleaved rounds, best of each."""
    from core.models import block_predictor

    spec = make_spec("predict", "simvp")
    models = {}
    for name, wrapper in (("PerFrame", block_predictor.PerFrame), ("TimeDistributed", keras.layers.TimeDistributed)):
        keras.utils.set_random_seed(0)
        saved, block_predictor.PerFrame = block_predictor.PerFrame, wrapper
        try:
            models[name] = build_model(spec)
        finally:
            block_predictor.PerFrame = saved
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (batch, *spec.input_shape), dtype=np.uint8)
    y = rng.integers(0, 256, (batch, spec.future, *spec.input_shape[1:]), dtype=np.uint8)
    best = dict.fromkeys(models, float("inf"))
    for model in models.values():
        model.train_on_batch(x, y)  # trace and warm up
    for _ in range(rounds):
        for name, model in models.items():
            best[name] = min(best[name], best_time(lambda m=model: m.train_on_batch(x, y), repeats=steps, warmup=1))
    return {"input": f"{batch} x {spec.frames}+{spec.future} frames of {spec.height}x{spec.width}",
            "step_s": {k: round(v, 4) for k, v in best.items()}, "rounds": rounds,
            "ratio": round(best["TimeDistributed"] / best["PerFrame"], 2)}


def preset_table(size: int, frames: int, batch: int, steps: int) -> list[dict]:
    rows = []
    for task in ("predict", "anomaly", "classify"):
        for name in presets(task):
            options = dict(frames=frames, height=size, width=size, outputs=3 if task == "classify" else 1)
            if name.startswith("lrcn-"):
                options.update(weights="none", channels=3, height=max(size, 96), width=max(size, 96))
            spec = make_spec(task, name, **options)
            model = build_model(spec)
            flops = count_flops(model).forward
            x, y = fake_batch(spec, batch)
            train_s = train_rate(model, x, y, steps)
            infer_s = infer_rate(model, x, steps)
            rows.append({
                "task": task, "preset": name, "input": "x".join(str(v) for v in spec.input_shape),
                "params": model.count_params(), "gflop_per_clip": round(flops / 1e9, 3),
                "train_clips_per_s": round(batch / train_s, 2), "infer_clips_per_s": round(batch / infer_s, 2),
            })
            print(f"  {task:<9} {name:<18} {rows[-1]['input']:<12} {rows[-1]['gflop_per_clip']:>9.3f} GFLOP/clip "
                  f"train {rows[-1]['train_clips_per_s']:>7.2f} clips/s  infer {rows[-1]['infer_clips_per_s']:>8.2f} clips/s",
                  flush=True)
            keras.backend.clear_session()
    return rows


DATA = default_data_dir()


def moving_mnist(n: int, frames: int, size: int, digit: int, seed: int) -> np.ndarray:
    """Moving MNIST: two MNIST test digits (scaled to ``digit`` px) bouncing in ``size`` x ``size`` frames.

    Returns ``(n, frames, size, size, 1)`` float32 in [0, 1] (digits combined by maximum).
    """
    import gzip

    import cv2

    with gzip.open(DATA / "mnist" / "t10k-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)
    rng = np.random.default_rng(seed)
    out = np.zeros((n, frames, size, size, 1), np.float32)
    limit = size - digit
    for i in range(n):
        for _ in range(2):
            img = cv2.resize(images[rng.integers(len(images))], (digit, digit), interpolation=cv2.INTER_AREA) / 255.0
            pos = rng.uniform(0, limit, 2)
            vel = rng.uniform(-2.5, 2.5, 2)
            for t in range(frames):
                r, c = (int(round(v)) for v in pos)
                view = out[i, t, r:r + digit, c:c + digit, 0]
                np.maximum(view, img, out=view)
                pos += vel
                for axis in range(2):
                    if not 0 <= pos[axis] <= limit:
                        vel[axis] = -vel[axis]
                        pos[axis] = min(max(pos[axis], 0), limit)
    return out


def quality_at_equal_time(budget_s: float, size: int, frames: int, batch: int) -> list[dict]:
    """Train keras-example and default for the same wall-clock time on Moving MNIST; held-out next-frame MSE."""
    train = moving_mnist(512, frames + 1, size, size * 7 // 16, seed=1)
    val = moving_mnist(64, frames + 1, size, size * 7 // 16, seed=2)
    vx, vy = val[:, :-1], val[:, 1:]
    rows = [{"preset": "copy the current frame", "val_mse": round(float(np.mean((vx - vy) ** 2)), 5)},
            {"preset": "predict black frames", "val_mse": round(float(np.mean(vy ** 2)), 5)}]
    for row in rows:
        print("  ", json.dumps(row), flush=True)
    for name in ("keras-example", "default"):
        keras.utils.set_random_seed(0)
        spec = make_spec("predict", name, frames=frames, height=size, width=size)
        model = build_model(spec)
        model.train_on_batch(train[:batch, :-1], train[:batch, 1:])  # trace
        start, seen, step = time.perf_counter(), 0, 0
        while time.perf_counter() - start < budget_s:
            i = (step * batch) % len(train)
            model.train_on_batch(train[i:i + batch, :-1], train[i:i + batch, 1:])
            seen += batch
            step += 1
        pred = np.concatenate([np.asarray(model.predict_on_batch(vx[j:j + 16])) for j in range(0, len(vx), 16)])
        rows.append({"preset": name, "train_s": round(time.perf_counter() - start, 1), "clips_seen": seen,
                     "gflop_per_clip": round(count_flops(model).forward / 1e9, 2),
                     "val_mse": round(float(np.mean((pred - vy) ** 2)), 5)})
        print("  ", json.dumps(rows[-1]), flush=True)
        keras.backend.clear_session()
    return rows


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench training", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=64, help="keras-example frame size (default 64, Moving MNIST)")
    parser.add_argument("--frames", type=int, default=10, help="keras-example frames per clip (default 10)")
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--steps", type=int, help="timed steps per round and per preset, best of (default 2; quick: 1 per preset)")
    parser.add_argument("--rounds", type=int, help="interleaved peak / training rounds (default 3; quick 1)")
    parser.add_argument("--preset-size", type=int, default=32, help="frame size for the preset table")
    parser.add_argument("--preset-frames", type=int, default=8)
    parser.add_argument("--only-peak-ratio", action="store_true")
    parser.add_argument("--quality", type=float, default=0.0, metavar="SECONDS",
                        help="also train keras-example and default this long each on Moving MNIST (32x32) "
                             "and compare held-out next-frame MSE")
    parser.add_argument("--json", type=Path, help="also write the results here")
    return parser


def figures(argv: list[str], quick: bool) -> list[Figure]:
    """keras-example's share of the conv peak (target >= 60%); clips/s of every preset; optional quality."""
    args = _parser().parse_args(argv)
    preset_steps = args.steps or (1 if quick else 2)
    args.steps = args.steps or 2
    args.rounds = args.rounds or (1 if quick else 3)
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    device = f"GPU: {', '.join(g.name for g in gpus)}" if gpus else f"CPU: {os.cpu_count()} cores, {platform.processor() or platform.machine()}"
    print(f"keras {keras.__version__} ({keras.backend.backend()}), tensorflow {tf.__version__}; {device}")
    ratio = keras_example_ratio(args.size, args.frames, args.batch, args.steps, args.rounds)
    print("keras-example training:", json.dumps(ratio))
    print(f"=> {ratio['ratio']:.0%} of the conv peak (target >= 60%)", flush=True)
    out = [Figure("keras-example training, share of conv peak", 100 * ratio["ratio"], "%", ">= 60",
                  note=f"{ratio['achieved_gflops']} of {ratio['peak_gflops']} GFLOP/s, {ratio['input']}, "
                       f"{ratio['rounds']} round(s); {device}")]
    results = {"device": device, "keras_example": ratio}
    if not args.only_peak_ratio:
        folded = per_frame_ratio(8, 3 if quick else 5, args.rounds)
        results["per_frame"] = folded
        print("simvp training step, TimeDistributed vs PerFrame:", json.dumps(folded), flush=True)
        out.append(Figure("simvp training step: Keras TimeDistributed / PerFrame", folded["ratio"], "x",
                          note=f"{folded['step_s']['TimeDistributed']} vs {folded['step_s']['PerFrame']} s a step, "
                               f"{folded['input']}, {folded['rounds']} round(s)"))
        print(f"presets ({args.preset_frames} frames of {args.preset_size}x{args.preset_size}, LRCN backbones 96x96 RGB, "
              f"batch {args.batch}):")
        results["presets"] = preset_table(args.preset_size, args.preset_frames, args.batch, preset_steps)
        out += [Figure(f"train rate, {row['task']} {row['preset']}", row["train_clips_per_s"], "clips/s",
                       note=f"inference {row['infer_clips_per_s']} clips/s; {row['input']}, "
                            f"{row['gflop_per_clip']} GFLOP/clip")
                for row in results["presets"]]
    if args.quality:
        print(f"quality at equal training time ({args.quality:g} s each, Moving MNIST 32x32, 10 frames, batch 8):")
        results["quality"] = quality_at_equal_time(args.quality, 32, 10, 8)
        baselines = {r["preset"]: r["val_mse"] for r in results["quality"] if "clips_seen" not in r}
        out += [Figure(f"next-frame MSE after {args.quality:g} s training, {r['preset']}", r["val_mse"],
                       note=f"{r['clips_seen']:,} clips seen; baselines: "
                            + ", ".join(f"{k} {v}" for k, v in baselines.items()))
                for r in results["quality"] if "clips_seen" in r]
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return out


if __name__ == "__main__":
    from bench.runner import run_script

    sys.exit(run_script("training", figures))
