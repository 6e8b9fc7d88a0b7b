"""Moving MNIST speed regression: a regress preset's MAE and RMSE on held-out digits beside predicting the mean.

Task: clips of ``--frames`` Moving MNIST frames (two digits on the 64x64 canvas, resized to ``--size``)
whose digits move at a speed drawn per clip, uniformly from ``--speed-range`` pixels per frame of the
64x64 canvas; the target is that speed, the generator's own quantity
(:func:`core.data.moving_mnist.moving_mnist_speeds`), not an estimate. Training clips draw from the
training digits (MNIST test-file images 0..8999), evaluation clips from the held-out digits (9000..) on
another random stream, so no digit image and no trajectory is shared. The model (``--preset``, default
the ``regress`` task's ``default`` LRCN) sees the absolute differences between consecutive frames
(``--input differences``, the default; with ``--input frames`` the LRCN, whose per-frame CNN ends in
global average pooling, has no position to take a speed from: docs/models.md; ``--input speed``, the
``speed`` preset's default, gives it each frame's optical-flow speed map, :mod:`core.motion.speed`, computed
on the 64x64 canvas as ``framewatch train --input speed`` computes it on a video) and trains for
``--epochs`` with MSE; beside it, the mean predictor (the training targets' mean for every clip). The
bar: the model's MAE is at most half the mean predictor's.

    python -m bench speed_regress [--quick] [--data DIR] [--sequences N] [--epochs N] [--size S]

``--quick`` trains 1 epoch on 128 clips at 16x16 (a smoke run; its figures are not the bar's).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from bench.figures import Figure  # noqa: E402
from bench.reference_data import default_data_dir  # noqa: E402

#: Side of the Moving MNIST canvas, pixels (speeds are in its pixels per frame).
CANVAS = 64


def parse(argv: list[str], quick: bool) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench speed_regress", description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=default_data_dir(),
                        help="the shared data folder (holding mnist/) or the MNIST folder or images file itself")
    parser.add_argument("--sequences", type=int, default=None, help="training clips (default 3000)")
    parser.add_argument("--test-sequences", type=int, default=None, help="held-out clips (default 500)")
    parser.add_argument("--frames", type=int, default=10, help="frames per clip (default 10)")
    parser.add_argument("--size", type=int, default=None, help="frame side the model sees (default 32)")
    parser.add_argument("--speed-range", type=float, nargs=2, default=(0.5, 6.0), metavar=("LOW", "HIGH"),
                        help="speeds drawn uniformly from LOW..HIGH pixels per frame of the 64x64 canvas "
                             "(default 0.5 6)")
    parser.add_argument("--input", choices=("frames", "differences", "speed"), default=None,
                        help="what the model sees: the clip's frames, the absolute differences between its "
                             "consecutive frames, or their optical-flow speed maps (default: speed for the speed "
                             "preset, else differences)")
    parser.add_argument("--preset", default="default", help="regress preset (default: default)")
    parser.add_argument("--epochs", type=int, default=None, help="training epochs (default 20)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.input is None:  # what the preset is made for
        from core.models.registry import presets

        made_for = presets("regress").get(args.preset)
        args.input = "speed" if made_for is not None and made_for.signal == "speed" else "differences"
    args.sequences = args.sequences or (128 if quick else 3000)
    args.test_sequences = args.test_sequences or (64 if quick else 500)
    args.size = args.size or (16 if quick else 32)
    args.epochs = args.epochs or (1 if quick else 20)
    if args.frames < 2 or args.sequences < 2 or args.test_sequences < 1 or args.epochs < 1 or not 8 <= args.size <= CANVAS:
        parser.error(f"--frames and --sequences must be >= 2, --test-sequences and --epochs >= 1, --size 8..{CANVAS}")
    return args


def speed_clips(images, count: int, args: argparse.Namespace, stream: int):
    """``(clips (count, frames, size, size, 1) uint8, speeds (count,) float32)`` resized to ``args.size``."""
    import cv2
    import numpy as np

    from core.data.moving_mnist import moving_mnist_speeds

    clips, speeds = moving_mnist_speeds(count, images, speed_range=tuple(args.speed_range), frames=args.frames,
                                        size=CANVAS, seed=args.seed, stream=stream)
    if args.input == "speed":  # the flow on the canvas at half its size, as a video's (core.motion.speed)
        from core.motion.speed import speed_maps

        return np.stack([speed_maps(clip[..., 0], args.size, args.size) for clip in clips])[..., None], speeds
    if args.size != CANVAS:
        clips = np.stack([[cv2.resize(f[:, :, 0], (args.size, args.size), interpolation=cv2.INTER_AREA)
                           for f in clip] for clip in clips])[..., None]
    return clips, speeds


def figures(argv: list[str], quick: bool) -> list[Figure]:
    args = parse(argv, quick)
    source = args.data / "mnist" if (args.data / "mnist").is_dir() else args.data
    from core.data.moving_mnist import images_path, mnist_digits
    from core.project.errors import DatasetError

    try:
        path = images_path(source)
    except DatasetError as error:
        return [Figure("Moving MNIST speed, MAE", None, skipped=str(error))]
    if not path.is_file():
        return [Figure("Moving MNIST speed, MAE", None, skipped=f"no MNIST images at {path}")]

    import keras
    import numpy as np

    from core.evaluation.regression import mae, rmse
    from core.models.registry import build_model, make_spec
    from core.preprocessing.differences import clip_input

    x_train, y_train = speed_clips(mnist_digits(path, "train"), args.sequences, args, stream=0)
    x_test, y_test = speed_clips(mnist_digits(path, "validation"), args.test_sequences, args, stream=1)
    if args.input != "speed":  # speed maps are the input as they are
        x_train, x_test = clip_input(x_train, args.input), clip_input(x_test, args.input)
    print(f"{args.sequences} training clips (training digits), {args.test_sequences} held-out clips (held-out "
          f"digits); {args.frames} frames of {args.size}x{args.size}; speed {args.speed_range[0]:g}.."
          f"{args.speed_range[1]:g} px/frame (64x64 canvas)", flush=True)
    keras.utils.set_random_seed(args.seed)
    spec = make_spec("regress", args.preset, frames=x_train.shape[1], height=args.size, width=args.size, channels=1,
                     outputs=1)
    model = build_model(spec)
    started = time.perf_counter()
    model.fit(x_train.astype(np.float32) / 255.0, y_train, epochs=args.epochs, batch_size=args.batch_size,
              shuffle=True, verbose=2)
    seconds = time.perf_counter() - started
    predicted = model.predict(x_test.astype(np.float32) / 255.0, batch_size=64, verbose=0).reshape(-1)
    mean = np.full(len(y_test), float(np.mean(y_train)))
    model_mae, model_rmse = mae(y_test, predicted), rmse(y_test, predicted)
    mean_mae, mean_rmse = mae(y_test, mean), rmse(y_test, mean)
    print(f"  {args.preset} on {args.input} ({args.epochs} epochs, {seconds:.0f} s): MAE {model_mae:.3f}  RMSE {model_rmse:.3f} px/frame",
          flush=True)
    print(f"  mean predictor ({mean[0]:.3f}):{'':>12}MAE {mean_mae:.3f}  RMSE {mean_rmse:.3f} px/frame", flush=True)
    setting = (f"{args.input}, {args.sequences} clips, {args.epochs} epochs in {seconds:.0f} s, {args.size}x{args.size}, "
               f"{args.test_sequences} held-out clips")
    return [
        Figure(f"{args.preset} preset, MAE", model_mae, "px/frame",
               None if quick else f"<= {mean_mae / 2:.4f}", f"at most half the mean predictor's; {setting}"),
        Figure(f"{args.preset} preset, RMSE", model_rmse, "px/frame", note=setting),
        Figure("mean predictor, MAE", mean_mae, "px/frame", note=f"predicts {mean[0]:.3f}, the training mean"),
        Figure("mean predictor, RMSE", mean_rmse, "px/frame"),
    ]


if __name__ == "__main__":
    for figure in figures(sys.argv[1:], quick=False):
        print(figure)
