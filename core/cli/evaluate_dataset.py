"""``framewatch evaluate --dataset moving-mnist``: next-frame quality of a run on held-out Moving MNIST.

``framewatch evaluate --dataset moving-mnist --mnist MNIST --run RUN_FOLDER`` renders ``--sequences``
seeded Moving MNIST sequences of ``--given + --future`` frames from the **validation** digits (the
images no training sequence draws from; :data:`~core.data.moving_mnist.SPLITS`) on their own random
stream (:data:`EVALUATION_STREAM`, so their trajectories are not the validation sequences that chose
``best.keras``), rolls the run's model out from the first ``--given`` frames and prints per future step
the per-frame MSE (squared error summed over a frame's pixels), the MSE per pixel, PSNR and SSIM, with
their means, beside those of two baselines on the same sequences: a blank (all-black) prediction and
the last given frame repeated (:mod:`core.inference.rollout.evaluation`), and says whether the model
beats both on MSE and on SSIM.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from core.cli.number_options import CLIP_FRAMES, EVALUATE_SEQUENCES_LIMIT, FUTURE, SEED, WholeNumber
from core.cli.train_dataset import CANVAS, add_source_arguments
from core.errors import FramewatchError
from core.runs.model import CHECKPOINT_HELP

#: Random stream of the evaluation sequences (training uses 0, validation 1).
EVALUATION_STREAM = 2
#: Sequences evaluated when ``--sequences`` is not given.
DEFAULT_SEQUENCES = 200
#: Sequences rendered and rolled out per batch.
BATCH = 16
#: Options of a project evaluation that mean nothing with ``--dataset``, and their defaults.
PROJECT_ONLY = {"--stride": ("stride", None), "--min-run": ("min_run", None), "--merge-gap": ("merge_gap", None),
                "--percentile": ("percentile", None), "--alarm-rate": ("alarm_rate", None), "--smooth": ("smooth", None), "--error": ("error", None),
                "--batch-size": ("batch_size", None), "--threshold": ("threshold", None)}


class DatasetEvaluationError(FramewatchError):
    """``framewatch evaluate --dataset`` cannot run as asked (a run of another task, color frames, ...)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("dataset (instead of a project): next-frame quality on Moving MNIST")
    add_source_arguments(group, "moving-mnist: roll a next-frame run out over seeded sequences drawn from the "
                         "validation digits (images 9000.. of the file) and print MSE, PSNR and SSIM per future step, "
                         "beside the blank-frame and copy-last baselines on the same sequences")
    group.add_argument("--sequences", type=WholeNumber(1, EVALUATE_SEQUENCES_LIMIT), default=None, metavar="N",
                       help=f"sequences to evaluate (default {DEFAULT_SEQUENCES})")
    group.add_argument("--given", type=CLIP_FRAMES, default=10, metavar="N", help="real frames given (default 10)")
    group.add_argument("--future", type=FUTURE, default=10, metavar="N", help="frames to predict (default 10)")
    group.add_argument("--seed", type=SEED, default=0, help="seed of the sequences (default 0)")
    group.add_argument("--checkpoint", choices=["best", "last"], default="best",
                       help=CHECKPOINT_HELP)


def check_args(args: argparse.Namespace) -> None:
    """Usage errors (exit 2) of ``evaluate``, with or without a project, before TensorFlow is imported."""
    dataset_only = [option for option, value in (("--mnist", args.mnist), ("--sequences", args.sequences))
                    if value is not None]
    if args.project is not None:
        if args.dataset or dataset_only:
            args.parser.error(f"{args.dataset and '--dataset' or dataset_only[0]} evaluates without a project: "
                              "give either PROJECT or --dataset moving-mnist --mnist PATH")
        return
    if not args.dataset:
        args.parser.error("PROJECT is required (or, without a project, --dataset moving-mnist --mnist PATH)")
    if args.mnist is None:
        args.parser.error("--dataset moving-mnist needs --mnist: the MNIST images file or its folder")
    unused = [option for option, (name, default) in PROJECT_ONLY.items() if getattr(args, name) != default]
    if unused:
        args.parser.error(f"{', '.join(unused)}: not used with --dataset (they set up a project's anomaly scoring)")


def run_dataset_evaluate(args: argparse.Namespace) -> int:
    from core.cli.progress_bar import ProgressBar
    from core.data import MovingMnistBatches, mnist_digits
    from core.data.moving_mnist import images_path
    from core.inference.rollout.evaluation import evaluate_rollouts
    from core.models.files import load_model_file
    from core.models.specs import spec_from_dict
    from core.quiet_tensorflow import import_tensorflow_quietly
    from core.runs import RunModel, RunRecord

    if getattr(args, "runtime", None) not in (None, "keras"):
        raise FramewatchError(f"--runtime {args.runtime} applies to scoring a project's videos, not to --dataset")

    run_dir = Path(args.run)
    record = RunRecord.load(run_dir)
    if record.task != "predict":
        raise DatasetEvaluationError(f"{run_dir}: run {record.run_id!r} is a model for the {record.task!r} task, "
                                     "not next-frame prediction (train one with --task predict)")
    spec = spec_from_dict(record.spec)
    if spec.channels != 1:
        raise DatasetEvaluationError(f"{run_dir}: the run's model takes {spec.channels}-channel frames; Moving "
                                     "MNIST frames are gray (1 channel)")
    digits = mnist_digits(images_path(args.mnist), "validation")
    count = DEFAULT_SEQUENCES if args.sequences is None else args.sequences
    sequences = MovingMnistBatches(digits, count, batch_size=BATCH, frames=args.given + args.future, size=CANVAS,
                                   seed=args.seed, stream=EVALUATION_STREAM, frame_size=(spec.height, spec.width),
                                   shuffle=False)
    run = RunModel.of(run_dir, args.checkpoint)  # the run's model file, as scoring finds it
    import_tensorflow_quietly()
    model = run.load_model(load_model_file)
    batches = (sequences.sequence_batch(i) for i in range(len(sequences)))
    with ProgressBar("evaluating", unit="sequence", enabled=None if not args.json else False,
                     log_interval_s=None) as bar:
        result = evaluate_rollouts(model, batches, args.given, args.future, count, progress=bar)
    data = {"run": record.run_id, "preset": record.preset, "dataset": args.dataset, "seed": args.seed,
            "checkpoint": args.checkpoint, "epochs_completed": record.epochs_completed,
            "frame_size": [spec.height, spec.width], **result.to_dict()}
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    print(_table(data))
    return 0


def _number(value: float | None, digits: int) -> str:
    return "inf" if value is None else f"{value:.{digits}f}"


def _table(data: dict[str, Any]) -> str:
    """Per step: the model's per-frame MSE (sum over pixels), MSE per pixel, PSNR, SSIM beside the baselines'."""
    height, width = data["frame_size"]
    lines = [f"run {data['run']} ({data['preset']}, {data['epochs_completed']} epochs, {data['checkpoint']} "
             f"checkpoint): {data['sequences']} Moving MNIST sequences of validation digits (seed {data['seed']}), "
             f"{data['given']} given, {data['future']} predicted at {height}x{width}",
             "per-frame MSE = squared error summed over a frame's pixels ([0, 1] scale); baselines on the same "
             "sequences: blank = an all-black frame, copy-last = the last given frame repeated",
             f"{'':>4} {'model':^37}   {'blank':^24}   {'copy-last':^24}",
             f"{'step':>4} {'MSE/frame':>10} {'MSE/pixel':>10} {'PSNR dB':>8} {'SSIM':>6}   "
             + "   ".join(f"{'MSE/frame':>10} {'PSNR dB':>7} {'SSIM':>5}" for _ in range(2))]
    model, blank, copy = data["model"], data["blank_frame"], data["copy_last_frame"]
    rows = [*zip(model["steps"], blank["steps"], copy["steps"], strict=True),
            (model["mean"], blank["mean"], copy["mean"])]
    for k, (m, *bases) in enumerate(rows):
        step = str(k + 1) if k < len(rows) - 1 else "mean"
        lines.append(f"{step:>4} {_number(m['sse'], 2):>10} {_number(m['mse'], 5):>10} {_number(m['psnr'], 2):>8} "
                     f"{_number(m['ssim'], 3):>6}   "
                     + "   ".join(f"{_number(b['sse'], 2):>10} {_number(b['psnr'], 2):>7} {_number(b['ssim'], 3):>5}"
                                  for b in bases))
    beats = data["beats_baselines"]
    lines.append(f"model beats both baselines: on MSE {'yes' if beats['mse'] else 'no'}, "
                 f"on SSIM {'yes' if beats['ssim'] else 'no'}")
    return "\n".join(lines)
