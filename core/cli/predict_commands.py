"""``framewatch predict``: roll a next-frame run out over a video or a Moving MNIST sequence, with per-step metrics
and a side-by-side export."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from core.cli.number_options import (
    CLIP_FRAMES,
    EVALUATE_SEQUENCES_LIMIT,
    FPS,
    FRAME,
    FUTURE,
    SEED,
    WholeNumber,
)
from core.cli.progress_bar import ProgressBar
from core.cli.train_dataset import add_source_arguments
from core.errors import FramewatchError
from core.runs.model import CHECKPOINT_HELP


class PredictError(FramewatchError):
    """``framewatch predict`` cannot run as asked (a run of another task, frames past the end, ...)."""


#: Frame rate of a Moving MNIST sequence's export (and of the videos ``project import-moving-mnist`` writes).
DATASET_FPS = 10.0


def register(subparsers: argparse._SubParsersAction) -> None:
    predict = subparsers.add_parser(
        "predict", help="predict future frames with a next-frame run and compare them with the real ones",
        description="Read --given frames of VIDEO from frame --start at the run's frame size, predict --future "
        "frames one after another (each prediction fed back as the next input, recurrent state carried), "
        "print MSE, PSNR and SSIM per step against the video's real frames where it has them, and with -o "
        "write the real frames beside the predicted ones as a GIF or MP4. An existing output is refused "
        "unless --overwrite is given; a video of the project always. Without a project, --dataset "
        "moving-mnist --mnist PATH --run RUN_FOLDER does the same on a Moving MNIST sequence of held-out "
        "digits (--sequence N of the sequences `framewatch evaluate --dataset moving-mnist` measures), "
        "e.g. -o seq.gif --error for truth | predicted | error as the Keras example draws it.",
    )
    predict.add_argument("project", type=Path, nargs="?",
                         help="project folder (runs are looked up in PROJECT/runs); not with --dataset")
    predict.add_argument("--run", required=True, help="run name under PROJECT/runs, or a run folder")
    predict.add_argument("--video", type=Path, help="video file or image folder to predict in (with PROJECT)")
    predict.add_argument("--start", type=FRAME, help="first given frame (0-based; with --video)")
    predict.add_argument("--given", type=CLIP_FRAMES, default=10, help="real frames given (default 10)")
    predict.add_argument("--future", type=FUTURE, default=10, help="frames to predict (default 10)")
    predict.add_argument("--checkpoint", choices=["best", "last"], default="best",
                         help=CHECKPOINT_HELP)
    predict.add_argument("-o", "--output", type=Path, help="side-by-side export: a .gif or .mp4 file")
    predict.add_argument("--error", action="store_true", help="add an |error| panel to the export")
    predict.add_argument("--fps", type=FPS, default=None,
                         help=f"export frame rate (default: the video's; {DATASET_FPS:g} for --dataset)")
    predict.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    predict.add_argument("--json", action="store_true", help="print the per-step metrics as JSON")
    group = predict.add_argument_group("dataset (instead of a project and video): a Moving MNIST sequence")
    add_source_arguments(group, "moving-mnist: roll the run out over a seeded sequence of held-out digits "
                         "(images 9000.. of the file), at the run's frame size")
    group.add_argument("--sequence", type=WholeNumber(0, EVALUATE_SEQUENCES_LIMIT - 1), default=None, metavar="N",
                       help="which sequence (0-based, default 0): sequence N of `framewatch evaluate --dataset "
                       "moving-mnist` with the same --seed")
    group.add_argument("--seed", type=SEED, default=None, help="seed of the sequences (default 0)")
    predict.set_defaults(handler=run_predict)



def check_args(args: argparse.Namespace) -> None:
    """Usage errors (exit 2): a project and a video, or --dataset and --mnist, never a mix."""
    dataset_only = [option for option, value in (("--dataset", args.dataset), ("--mnist", args.mnist),
                                                 ("--sequence", args.sequence), ("--seed", args.seed))
                    if value is not None]
    if args.project is not None:
        if dataset_only:
            args.parser.error(f"{dataset_only[0]} predicts without a project: give either PROJECT --video V "
                              "--start N or --dataset moving-mnist --mnist PATH")
        missing = [option for option, value in (("--video", args.video), ("--start", args.start)) if value is None]
        if missing:
            args.parser.error(f"PROJECT needs {' and '.join(missing)}: the video and its first given frame")
        return
    if not args.dataset:
        args.parser.error("PROJECT is required (or, without a project, --dataset moving-mnist --mnist PATH)")
    if args.mnist is None:
        args.parser.error("--dataset moving-mnist needs --mnist: the MNIST images file or its folder")
    video_only = [option for option, value in (("--video", args.video), ("--start", args.start)) if value is not None]
    if video_only:
        args.parser.error(f"{video_only[0]}: not used with --dataset (it predicts in a project's video)")


def _metric(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def run_predict(args: argparse.Namespace) -> int:
    from core.inference.rollout.rollout import step_plan
    from core.inference.rollout.video_rollout import (
        predict_run,
        predict_run_folder,
        rollout_frames,
        rollout_video,
    )
    from core.models.files import load_model_file

    check_args(args)
    dataset = args.project is None
    run = predict_run_folder(args.run, args.checkpoint) if dataset else predict_run(args.project, args.run,
                                                                                     args.checkpoint)
    output = args.output
    if output is not None:
        from core.project.own_files import refuse_own_files_of
        from core.video.cutting import check_outputs

        if output.suffix.lower() not in (".gif", ".mp4"):
            raise PredictError(f"{output}: unknown export format {output.suffix or '(none)'!r}: use .gif or .mp4")
        if not dataset:
            refuse_own_files_of(args.project, [output])  # before any work: never a video of the project
        check_outputs([] if dataset else [args.video], [output], overwrite=args.overwrite)
    if dataset:
        sequence, source = _moving_mnist_sequence(args, run)
    model = run.load_model(load_model_file)
    with ProgressBar("predicting") as bar:
        if dataset:
            result = rollout_frames(model, sequence, args.given, args.future, source, DATASET_FPS, progress=bar)
        else:
            result = rollout_video(model, args.video, run.spec.preprocess, args.start, args.given, args.future,
                                   progress=bar)
    total, first_future = result.frame_count, result.first_future
    steps = []
    if len(result.truth):
        from core.evaluation.frames import step_metrics

        found = step_metrics(result.truth[None], result.predicted[None, :len(result.truth)])
        steps = [{"step": k + 1, "frame": first_future + k, "mse": _metric(found.mse[k]),
                  "psnr": _metric(found.psnr[k]), "ssim": _metric(found.ssim[k])} for k in range(len(result.truth))]
    if output is not None:
        from core.render.side_by_side import rollout_side_by_side, write_side_by_side

        write_side_by_side(output, rollout_side_by_side(result, error=args.error), args.fps or result.fps,
                           overwrite=args.overwrite)
    plan = step_plan(model)
    summary = {"run": run.record.run_id, "video": str(result.video), "start": result.start, "given": args.given,
               "future": args.future, "rollout": plan.reason, "steps": steps,
               "output": None if output is None else str(output)}
    if dataset:
        summary.update(dataset=args.dataset, sequence=args.sequence or 0, seed=args.seed or 0)
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    print(f"run {run.record.run_id}: {args.given} given frames from {result.start} of {result.video}, "
          f"{args.future} predicted ({plan.reason})")
    if steps:
        print(f"{'step':>4} {'frame':>6} {'MSE':>9} {'PSNR dB':>8} {'SSIM':>6}")
        for s in steps:
            psnr = "inf" if s["psnr"] is None else f"{s['psnr']:.2f}"
            print(f"{s['step']:>4} {s['frame']:>6} {s['mse']:>9.5f} {psnr:>8} {s['ssim']:>6.3f}")
    if len(steps) < args.future:
        print(f"no real frames for steps {len(steps) + 1}..{args.future}: the "
              f"{'sequence' if dataset else 'video'} ends at frame {total - 1}")
    if output is not None:
        print(f"wrote {output}")
    return 0


def _moving_mnist_sequence(args: argparse.Namespace, run) -> tuple:
    """Sequence ``--sequence`` of the evaluation's Moving MNIST sequences (``(frames, H, W, 1)`` uint8 at the
    run's frame size), and the name it goes by: ``moving-mnist:validation:seed S:sequence N``."""
    from core.cli.evaluate_dataset import EVALUATION_STREAM
    from core.cli.train_dataset import CANVAS
    from core.data import MovingMnistBatches, mnist_digits
    from core.data.moving_mnist import images_path

    preprocess = run.spec.preprocess
    if not preprocess.grayscale:
        raise PredictError(f"{run.run_dir}: the run's model takes color frames; Moving MNIST frames are gray")
    index, seed = args.sequence or 0, args.seed or 0
    digits = mnist_digits(images_path(args.mnist), "validation")
    sequences = MovingMnistBatches(digits, index + 1, batch_size=1, frames=args.given + args.future, size=CANVAS,
                                   seed=seed, stream=EVALUATION_STREAM,
                                   frame_size=(preprocess.height, preprocess.width), shuffle=False)
    return sequences.sequence_batch(index)[0], f"moving-mnist:validation:seed {seed}:sequence {index}"
