"""``framewatch predict``: roll a next-frame run out over a video, with per-step metrics and a side-by-side export."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from core.cli.number_options import CLIP_FRAMES, FPS, FRAME, FUTURE
from core.cli.progress_bar import ProgressBar
from core.errors import FramewatchError
from core.runs.model import CHECKPOINT_HELP


class PredictError(FramewatchError):
    """``framewatch predict`` cannot run as asked (a run of another task, frames past the end, ...)."""


def register(subparsers: argparse._SubParsersAction) -> None:
    predict = subparsers.add_parser(
        "predict", help="predict future frames with a next-frame run and compare them with the real ones",
        description="Read --given frames of VIDEO from frame --start at the run's frame size, predict --future "
        "frames one after another (each prediction fed back as the next input, recurrent state carried), "
        "print MSE, PSNR and SSIM per step against the video's real frames where it has them, and with -o "
        "write the real frames beside the predicted ones as a GIF or MP4. An existing output is refused "
        "unless --overwrite is given; a video of the project always.",
    )
    predict.add_argument("project", type=Path, help="project folder (runs are looked up in PROJECT/runs)")
    predict.add_argument("--run", required=True, help="run name under PROJECT/runs, or a run folder")
    predict.add_argument("--video", type=Path, required=True, help="video file or image folder to predict in")
    predict.add_argument("--start", type=FRAME, required=True, help="first given frame (0-based)")
    predict.add_argument("--given", type=CLIP_FRAMES, default=10, help="real frames given (default 10)")
    predict.add_argument("--future", type=FUTURE, default=10, help="frames to predict (default 10)")
    predict.add_argument("--checkpoint", choices=["best", "last"], default="best",
                         help=CHECKPOINT_HELP)
    predict.add_argument("-o", "--output", type=Path, help="side-by-side export: a .gif or .mp4 file")
    predict.add_argument("--error", action="store_true", help="add an |error| panel to the export")
    predict.add_argument("--fps", type=FPS, default=None, help="export frame rate (default: the video's)")
    predict.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    predict.add_argument("--json", action="store_true", help="print the per-step metrics as JSON")
    predict.set_defaults(handler=run_predict)


def _metric(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def run_predict(args: argparse.Namespace) -> int:
    from core.inference.rollout.rollout import step_plan
    from core.inference.rollout.video_rollout import predict_run, rollout_video
    from core.models.files import load_model_file

    run = predict_run(args.project, args.run, args.checkpoint)
    output = args.output
    if output is not None:
        from core.project.own_files import refuse_own_files_of
        from core.video.cutting import check_outputs

        if output.suffix.lower() not in (".gif", ".mp4"):
            raise PredictError(f"{output}: unknown export format {output.suffix or '(none)'!r}: use .gif or .mp4")
        refuse_own_files_of(args.project, [output])  # before any work: never a video of the project
        check_outputs([args.video], [output], overwrite=args.overwrite)
    model = run.load_model(load_model_file)
    with ProgressBar("predicting") as bar:
        result = rollout_video(model, args.video, run.spec.preprocess, args.start, args.given, args.future, progress=bar)
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
    summary = {"run": run.record.run_id, "video": str(args.video), "start": args.start, "given": args.given,
               "future": args.future, "rollout": plan.reason, "steps": steps,
               "output": None if output is None else str(output)}
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    print(f"run {run.record.run_id}: {args.given} given frames from {args.start}, {args.future} predicted "
          f"({plan.reason})")
    if steps:
        print(f"{'step':>4} {'frame':>6} {'MSE':>9} {'PSNR dB':>8} {'SSIM':>6}")
        for s in steps:
            psnr = "inf" if s["psnr"] is None else f"{s['psnr']:.2f}"
            print(f"{s['step']:>4} {s['frame']:>6} {s['mse']:>9.5f} {psnr:>8} {s['ssim']:>6.3f}")
    if len(steps) < args.future:
        print(f"no real frames for steps {len(steps) + 1}..{args.future}: the video ends at frame {total - 1}")
    if output is not None:
        print(f"wrote {output}")
    return 0
