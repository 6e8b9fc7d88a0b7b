"""``framewatch score | evaluate | fit-error-level | trust | refit``: score a project's videos with a run's model,
measure the run, and fit its calibration.

``framewatch score PROJECT --run RUN --all`` scores every video of the project (``--video V`` for some),
with a progress bar over frames, and prints per video its frames, events and peak error; ``--json`` prints
the same as JSON (``--frames`` adds every frame's error). Scores are cached in ``PROJECT/cache/scores/``:
a second run is instant and an interrupted one (Ctrl+C, a crash) resumes where it stopped. The threshold
is calibrated on the normal footage the run held out of training (a run trained before runs held out time:
the train-split videos; ``--threshold E`` sets one by hand); the events go to the run's ``events.json``. ``--export DIR``
writes each scored video's per-frame scores and events as CSV and JSON; ``--annotated OUT.mp4`` (one
video) or ``--annotated-dir DIR`` its annotated anomaly video (``core/inference/anomaly/exports.py``,
``core/render/annotated_video.py``). An existing output is refused, before any scoring, unless
``--overwrite``. ``--workers N`` (a local Ray started for the command) or ``--cluster ADDRESS`` (an existing Ray
cluster, joined from here or, with ``http://HEAD:8265``, given the scoring as a Ray job) scores the videos first on Ray workers, in segments, into the same score cache
(:mod:`core.distributed`), with one progress bar over the archive; calibrating, flagging and the output then
run as without them.
``framewatch evaluate PROJECT --run RUN`` scores the test-split videos (or reads their cached scores) and
prints frame-level ROC AUC (per-video normalised and raw), EER, event recall and false alarms per minute.
``framewatch refit PROJECT --run RUN`` learns from the events rejected in review
(:mod:`core.training.verdict_refit`): it refits the run's error level and threshold on its held-out footage
plus those frames, flags its scored videos again and prints the threshold and events before and after.
The project is opened read-only: no command here needs its lock. Without a project, ``framewatch evaluate
--dataset moving-mnist --mnist MNIST --run RUN_FOLDER`` measures a next-frame run on Moving MNIST
(:mod:`core.cli.evaluate_dataset`).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
from pathlib import Path
from typing import Any

from core.cli.evaluate_dataset import add_arguments as add_dataset_arguments
from core.cli.evaluate_dataset import check_args as check_evaluate_args
from core.cli.number_options import (
    ALARM_RATE,
    BATCH,
    CLIP_FRAMES,
    EPOCHS,
    FINITE,
    FRAME,
    FRAME_COUNT,
    GPU_SHARE,
    MINUTES,
    PERCENTILE,
    SEED,
    SMOOTH,
    WORKERS,
    Number,
    WholeNumber,
)
from core.inference.anomaly.regularity import (
    DEFAULT_ALARM_RATE,
    DEFAULT_MERGE_SECONDS,
    DEFAULT_PERCENTILE,
    DEFAULT_SMOOTH_SECONDS,
)


def _add_common(parser: argparse.ArgumentParser, project_optional: bool = False) -> None:
    if project_optional:
        parser.add_argument("project", type=Path, nargs="?", help="project folder (not with --dataset)")
    else:
        parser.add_argument("project", type=Path, help="project folder")
    parser.add_argument("--run", required=True, help="training run: its name under PROJECT/runs/, or its folder"
                        + (" (with --dataset: its folder)" if project_optional else ""))
    parser.add_argument("--stride", type=CLIP_FRAMES, metavar="N",
                        help="frames between clip windows of a reconstruction model, 1 to the clip length "
                        "(default: the clip length, each frame reconstructed once; smaller strides average)")
    parser.add_argument("--min-run", type=FRAME_COUNT, default=None, metavar="N",
                        help="an event needs N consecutive frames above the threshold (default: the run's "
                        "recommendation, framewatch export-run --min-run, else 1); a calibrated --alarm-rate counts "
                        "its false alarms by this rule")
    parser.add_argument("--merge-gap", type=FRAME, default=None, metavar="N",
                        help="merge events at most N normal frames apart (default: the run's recommendation, else for "
                        f"a run that held out normal time about {DEFAULT_MERGE_SECONDS:g} s of frames, else 0)")
    parser.add_argument("--alarm-rate", type=ALARM_RATE, default=None, metavar="R",
                        help="threshold: the level at which the normal footage the run held out of training would "
                        "give about R false alarms a minute (a tail fitted to its highest errors) (default "
                        f"{DEFAULT_ALARM_RATE:g}: new footage of a scene crosses it more often than held-out time of "
                        "the same recordings; the trust report says how often)")
    parser.add_argument("--percentile", type=PERCENTILE, default=None, metavar="P",
                        help="threshold: this percentile of the errors of that held-out footage instead of "
                        "--alarm-rate (a run trained before runs held out time: of the train-split videos, "
                        f"always so, default {DEFAULT_PERCENTILE:g})")
    parser.add_argument("--threshold", type=FINITE, default=None, metavar="E",
                        help="flag frames whose (smoothed) error is above E, in the run's error units, instead of "
                        "calibrating a threshold on held-out normal footage (what dragging the threshold line in "
                        "the app does); no normal footage is needed"
                        + ("; evaluate: event recall and false alarms at E" if project_optional else ""))
    parser.add_argument("--smooth", type=SMOOTH, default=None, metavar="N",
                        help="average errors over the last N frames before thresholding, and (evaluate) "
                        "before measuring AUC and EER (default: the run's recommendation, else for a run that held "
                        f"out normal time about {DEFAULT_SMOOTH_SECONDS:g} s of frames, else 1: none)")
    parser.add_argument("--error", choices=("mse", "worst-patches"), default=None,
                        help="a frame's error: mse, the mean squared error over the frame, or worst-patches, "
                        "the mean over its worst sixteenth of patches (default: the run's recommendation, "
                        "else mse)")
    parser.add_argument("--scorer", choices=("prediction", "motion", "fused"), default=None,
                        help="what scores the frames: prediction (the model's error), motion (how unlikely each "
                        "frame's optical flow is under the motion statistics fitted on the footage the run trained "
                        "on) or fused (both, each divided by its 99th percentile on the run's held-out normal "
                        "frames, added up); motion and fused need the run's motion statistics "
                        "(framewatch fit-motion; fitted when a next-frame anomaly run ends) (default: the run's "
                        "own, prediction unless its run.json says otherwise; a motion run: motion)")
    parser.add_argument("--batch-size", type=BATCH, default=None, metavar="N", help="clip windows per model call")
    parser.add_argument("--runtime", choices=("keras", "onnx", "openvino", "openvino-bf16"), default=None,
                        help="what runs the model: keras (the model file itself), or the run's export for onnx or "
                        "openvino (framewatch export-run --format; refused if the run has none made from its "
                        "current model file); openvino-bf16 scores the openvino export in bf16 on a CPU that "
                        "computes bf16 natively (about half the CPU time; scores within about 2%%, cached apart). Default: "
                        "openvino-bf16 when the run has a fresh openvino export and this CPU computes bf16 natively, "
                        "else keras (docs/inference.md)"
                        + ("; not with --dataset" if project_optional else ""))
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")


def register(subparsers: argparse._SubParsersAction) -> None:
    score = subparsers.add_parser(
        "score", help="score a project's videos with a trained model (per-frame errors, events; cached, resumable)",
        description="Score videos of a project with a training run's model: each frame's reconstruction (or "
        "next-frame prediction) error, or for a motion run (--preset motion) how unlikely the frame's optical flow "
        "is under its statistics. Scores are cached in PROJECT/cache/scores/ (a rerun is instant; an "
        "interrupted one resumes); the threshold is calibrated on the normal footage the run held out of "
        "training, never on frames it learned from (a run trained before runs held out time: on the "
        "train-split videos), or set with --threshold; the events flagged are written to the run's events.json. --export, --annotated and --annotated-dir also write each video's "
        "scores and events as CSV and JSON, and its annotated anomaly video; existing files are refused, before "
        "any scoring, unless --overwrite, and the project's own files and videos always.",
    )
    _add_common(score)
    which = score.add_mutually_exclusive_group(required=True)
    which.add_argument("--video", action="append", metavar="V", help="a video to score (id, name or path; repeatable)")
    which.add_argument("--all", action="store_true", help="score every video of the project")
    score.add_argument("--frames", action="store_true", help="with --json: every frame's error as well")
    score.add_argument("--export", type=Path, metavar="DIR",
                       help="write each scored video's <video>.scores.csv (one row per frame), <video>.events.csv "
                       "and <video>.scores.json into DIR")
    annotated = score.add_mutually_exclusive_group()
    annotated.add_argument("--annotated", type=Path, metavar="OUT.mp4",
                           help="write the annotated anomaly video of the one --video scored: each frame above "
                           "its score curve, with the threshold, the events and the flagged frames marked")
    annotated.add_argument("--annotated-dir", type=Path, metavar="DIR",
                           help="write each scored video's annotated anomaly video to DIR/<video>.annotated.mp4")
    score.add_argument("--curve", choices=("error", "regularity", "abnormality"), default="error",
                       help="the curve of the annotated video: the smoothed error the threshold is set on "
                       "(default), or it normalised over the video as regularity sr or abnormality sa")
    score.add_argument("--overwrite", action="store_true", help="replace existing export and annotated files")
    ray = score.add_argument_group("archive scoring on Ray (needs pip install \"framewatch[cluster]\"; "
                                   "docs/scaling.md)")
    where = ray.add_mutually_exclusive_group()
    where.add_argument("--workers", type=WORKERS, default=None, metavar="N",
                       help="score on N Ray workers of a local Ray started for this command (each loads the model "
                       "once and scores segments of the videos), then calibrate and flag as usual")
    where.add_argument("--cluster", default=None, metavar="ADDRESS",
                       help="score on an existing Ray cluster: joined from here (auto, HOST:6379 or "
                       "ray://HOST:10001), or submitted to it as a Ray job (its dashboard, http://HEAD:8265: the "
                       "job goes on if this command is lost; Ctrl+C stops it); the project folder, its videos and "
                       "the run folder must be at the same path on every node and here")
    ray.add_argument("--gpus-per-worker", type=GPU_SHARE, default=None, metavar="G",
                     help="give each Ray worker G of a GPU (0.25: four workers share a GPU; default: CPU workers, "
                     "which see no GPU); without --workers, as many workers as the GPUs hold")
    ray.add_argument("--segment-minutes", type=MINUTES, default=None, metavar="M",
                     help="footage per segment a worker scores at a time (default 5 minutes)")
    score.set_defaults(handler=run_score, check=_check_score_args)
    evaluate = subparsers.add_parser(
        "evaluate", help="frame-level AUC, EER, event recall and false alarms of a run on the test videos "
        "(or, with --dataset moving-mnist, next-frame MSE, PSNR and SSIM per future step)",
        description="Score the project's test-split videos with a run's model (cached scores are reused) and "
        "measure them against the project's anomaly intervals: frame-level ROC AUC and EER per-video "
        "normalised and raw, event recall and false alarms per minute at the calibrated threshold (or at "
        "--threshold E). "
        "Without a project, --dataset moving-mnist --mnist PATH --run RUN_FOLDER rolls a next-frame run out "
        "over --sequences seeded Moving MNIST sequences of the validation digits (--given real frames, "
        "--future predicted) and prints per future step the per-frame MSE (squared error summed over the "
        "frame's pixels), the MSE per pixel, PSNR and SSIM, their means, and those of a copy-last-frame "
        "baseline.",
    )
    _add_common(evaluate, project_optional=True)
    add_dataset_arguments(evaluate)
    evaluate.set_defaults(handler=run_evaluate, check=_check_evaluate_args)
    level = subparsers.add_parser(
        "fit-error-level", help="learn a next-frame run's normal error level per pixel from the normal footage "
        "it held out of training; scoring then divides errors by it",
        description="Run a next-frame run's model over the normal footage it held out of its training (whole "
        "videos or time blocks, recorded in its run.json; a run trained before runs held out time: the "
        "project's train- and val-split videos) and train a small network to predict, per pixel, the squared error the model makes there on normal footage. "
        "It is saved as error_level.keras in the run folder; from then on score, evaluate and the app score "
        "each frame by its squared errors divided by that level (in multiples of the normal error), which "
        "keeps busy or near parts of a scene from outscoring a small or distant intruder. With two or more "
        "held-out blocks it also fits one level per fold of them (up to 4) on the other folds' windows and "
        "keeps each block's errors under its own fold's level (error_level_calibration.npz): the threshold is "
        "calibrated on those, frames no level it is divided by learned from, while new footage is scored with "
        "the level fitted on every block. export-run takes the level along. Run it again to replace it.",
    )
    level.add_argument("project", type=Path, help="project folder")
    level.add_argument("--run", required=True, help="training run: its name under PROJECT/runs/, or its folder")
    level.add_argument("--epochs", type=EPOCHS, default=16, metavar="N", help="training epochs (default 16)")
    level.add_argument("--seed", type=SEED, default=0, help="random seed (default 0)")
    level.add_argument("--json", action="store_true", help="print JSON instead of text")
    level.set_defaults(handler=run_fit_error_level)
    motion = subparsers.add_parser(
        "fit-motion", help="fit motion statistics on the footage a next-frame run trained on, for score "
        "--scorer motion or fused",
        description="Read the footage a run trained on (recorded in its run.json; a run trained before runs held "
        "out time: its train-split videos), compute the dense optical flow between consecutive frames at half "
        "size and fit per-cell statistics of normal speed and direction (the motion preset's). Saved as "
        "motion.npz in the run folder and recorded in run.json; seconds a minute of footage. From then on score, "
        "evaluate and the app can score the run with --scorer motion or fused. A next-frame anomaly run fits "
        "them when its training ends (unless framewatch train --no-motion); run it for an older run, or again "
        "to replace them. export-run takes the file along.",
    )
    motion.add_argument("project", type=Path, help="project folder")
    motion.add_argument("--run", required=True, help="training run: its name under PROJECT/runs/, or its folder")
    motion.add_argument("--default-scorer", choices=("prediction", "fused"), default=None,
                        help="also record the scorer score, evaluate and the app use for this run when none is named "
                        "(run.json's data[\"scorer\"]; default: leave it, prediction unless set)")
    motion.add_argument("--flow-scale", type=Number(0.0, 1.0, above_low=True), metavar="S", default=None,
                        help="the flow's working size as a share of the source frame's (default 0.5, at most Ped2's "
                        "half-size area of 180x120 pixels); recorded with the statistics, which then score at it")
    motion.add_argument("--cell", type=WholeNumber(1, 256), metavar="PIXELS", default=None,
                        help="cell side in pixels at the working size (default 12)")
    motion.add_argument("--flow-preset", choices=("ultrafast", "fast", "medium"), default=None,
                        help="OpenCV DIS preset of the flow (default medium: the cheaper ones smooth slow, far-away "
                        "motion away and lose AUC, docs/benchmarks.md)")
    motion.add_argument("--json", action="store_true", help="print JSON instead of text")
    motion.set_defaults(handler=run_fit_motion)
    trust = subparsers.add_parser(
        "trust", help="measure how far to trust an anomaly run on the normal footage it held out: false alarms "
        "per minute and held-out over training error",
        description="Score the normal footage an anomaly run held out of its training (from the score cache "
        "when scored before), then report the false alarms per minute its calibrated threshold gives there, "
        "measured by 2-fold over the held-out blocks (calibrated on one half, counted on the other, and "
        "swapped; the events of both halves over their minutes) with its one-sided 95% Poisson upper bound, "
        "scored with the run's recommended frame error and smoothing, and the best epoch's held-out (validation) loss over its training loss, with a warning "
        "above 2x (memorised footage, too little normal video). framewatch train reports the same when an "
        "anomaly run ends; this records it in the run's run.json again.",
    )
    trust.add_argument("project", type=Path, help="project folder")
    trust.add_argument("--run", required=True, help="training run: its name under PROJECT/runs/, or its folder")
    trust.add_argument("--json", action="store_true", help="print JSON instead of text")
    trust.set_defaults(handler=run_trust)
    refit = subparsers.add_parser(
        "refit", help="learn from the events rejected in review: refit a run's error level and threshold on "
        "its held-out footage plus those frames, and flag its scored videos again (minutes, not a retrain)",
        description="The frames of the events rejected for RUN (framewatch project verdict ... --verdict "
        "rejected, or Reject Event in the app's review) are normal footage it found strange. This adds them, "
        "less any frame the run trained on and any abnormal frame, to the held-out normal footage its "
        "calibration uses: a next-frame run's error level is fitted again on both, a motion run's statistics "
        "take their motion in (then every video the run scored is scored again, its scores being in new units), the threshold is calibrated again on both "
        "(the percentile and smoothing of its stored threshold), and the events of every video it scored "
        "are flagged again (its stored min run and merge gap). From then on score and the app calibrate on "
        "the same footage. Recorded in the run's run.json (data.verdict_refits); run it again after more "
        "verdicts. Ctrl+C leaves the run as it was.",
    )
    refit.add_argument("project", type=Path, help="project folder")
    refit.add_argument("--run", required=True, help="training run: its name under PROJECT/runs/, or its folder")
    refit.add_argument("--epochs", type=EPOCHS, default=None, metavar="N",
                       help="error-level training epochs (default: as it was fitted)")
    refit.add_argument("--seed", type=SEED, default=None, help="random seed (default: the run's)")
    refit.add_argument("--json", action="store_true", help="print JSON instead of text")
    refit.set_defaults(handler=run_refit)


def _check_threshold_args(args: argparse.Namespace) -> None:
    given = [name for name, value in (("--threshold", args.threshold), ("--percentile", args.percentile),
                                      ("--alarm-rate", args.alarm_rate)) if value is not None]
    if len(given) > 1:
        args.parser.error(f"{', '.join(given[:-1])} and {given[-1]} {'both' if len(given) == 2 else 'all'} set the "
                          "threshold: give one of them")


def _check_score_args(args: argparse.Namespace) -> None:
    if args.annotated is not None and (args.all or len(args.video) != 1):
        args.parser.error("--annotated writes one video: give exactly one --video (or --annotated-dir DIR)")
    for option, value in (("--segment-minutes", args.segment_minutes), ("--gpus-per-worker", args.gpus_per_worker)):
        if value is not None and args.workers is None and args.cluster is None:
            args.parser.error(f"{option} is for Ray workers: give --workers N or --cluster ADDRESS")
    _check_threshold_args(args)


def _check_evaluate_args(args: argparse.Namespace) -> None:
    check_evaluate_args(args)
    _check_threshold_args(args)


def _outputs(args: argparse.Namespace, project: Any) -> dict[str, tuple[str, dict[str, Path]]]:
    """Per video id, the stem and the files ``--export`` and ``--annotated[-dir]`` will write, checked (none of
    the project's own files or videos, not existing unless ``--overwrite``, writable) before any scoring."""
    from core.inference.anomaly.exports import export_paths, unique_file_stems
    from core.project.own_files import refuse_own_files
    from core.render.annotated_video import check_video_format
    from core.video.cutting import check_outputs

    videos = list(project.videos.values()) if args.all else [project.video(key) for key in args.video]
    stems = unique_file_stems(videos)
    outputs = {}
    for video in videos:
        stem = stems[video.id]
        paths = export_paths(args.export, stem) if args.export is not None else {}
        if args.annotated is not None:
            check_video_format(args.annotated)
            paths["annotated"] = args.annotated
        elif args.annotated_dir is not None:
            paths["annotated"] = args.annotated_dir / f"{stem}.annotated.mp4"
        refuse_own_files(project, paths.values())
        check_outputs([video.path], list(paths.values()), args.overwrite)
        outputs[video.id] = (stem, paths)
    return outputs


def _write_outputs(args: argparse.Namespace, project: Any, result: Any,
                   outputs: dict[str, tuple[str, dict[str, Path]]]) -> dict[str, list[str]]:
    """Write the exports and annotated videos of ``result``'s videos; the files written, per video id."""
    from core.cli.progress_bar import ProgressBar
    from core.inference.anomaly.exports import scored_videos, write_score_exports
    from core.render.annotated_video import write_annotated_video

    written: dict[str, list[str]] = {video_id: [] for video_id in outputs}
    if not any(paths for _, paths in outputs.values()):
        return written  # nothing asked for: no model file to fingerprint
    for video in scored_videos(project, result):
        stem, paths = outputs[video.video_id]
        files = []
        if args.export is not None:
            exported = write_score_exports(args.export, video, stem, overwrite=args.overwrite)
            files += [str(path) for path in exported.values()]
        if "annotated" in paths:
            with ProgressBar(f"annotating {video.name}", enabled=None if not args.json else False,
                             log_interval_s=None) as bar:
                write_annotated_video(paths["annotated"], video, args.curve, args.overwrite, progress=bar)
            files.append(str(paths["annotated"]))
        written[video.video_id] = files
    return written


def _scoring_options(args: argparse.Namespace) -> dict[str, Any]:
    from core.inference.clip_input import DEFAULT_BATCH_SIZE

    return {"stride": args.stride, "min_run": args.min_run, "merge_gap": args.merge_gap,
            "percentile": args.percentile, "alarm_rate": args.alarm_rate,
            "smoothing": args.smooth, "error": args.error, "scorer": args.scorer,
            "batch_size": args.batch_size or DEFAULT_BATCH_SIZE,
            **({"threshold": args.threshold} if getattr(args, "threshold", None) is not None else {})}


def _scoring_text(scores: Any) -> str:
    """How the errors were made and smoothed, e.g. ``frame error worst-patches, smoothed over 3 frames``."""
    window = scores.threshold.window
    smoothing = f"smoothed over {window} frames" if window > 1 else "not smoothed"
    if scores.run.scorer == "motion":
        return f"scorer motion, {smoothing}"
    level = ", relative to the run's error level" if scores.run.spec.error_level else ""
    fused = f"scorer fused ({scores.run.fusion} of prediction and motion on their held-out scales), " if (
        scores.run.scorer == "fused") else ""
    return f"{fused}frame error {scores.run.spec.error}{level}, {smoothing}"


def _open(args: argparse.Namespace):
    from core.project import Project

    return Project.open(args.project, read_only=True)


def _load_model_quietly(path: Path) -> Any:
    """Load the model file, importing TensorFlow without its start-up chatter (only when a frame needs scoring)."""
    from core.models.files import load_model_file
    from core.quiet_tensorflow import import_tensorflow_quietly

    import_tensorflow_quietly()
    return load_model_file(path)


def _number(value: float | None, digits: int = 4) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def _score_on_ray(args: argparse.Namespace, project: Any, options: dict[str, Any], bar: Any) -> Any:
    """With ``--workers`` or ``--cluster``: score the videos (and the calibration footage) into the score cache on
    Ray (:func:`core.distributed.archive.score_archive`) and return what it did; ``None`` otherwise."""
    if args.workers is None and args.cluster is None:
        return None
    from core.distributed.archive import score_archive
    from core.distributed.segments import DEFAULT_SEGMENT_SECONDS

    seconds = DEFAULT_SEGMENT_SECONDS if args.segment_minutes is None else args.segment_minutes * 60.0
    return score_archive(project, _run(args, project, options), None if args.all else args.video,
                         workers=args.workers,
                         address=args.cluster, stride=options["stride"], batch_size=options["batch_size"],
                         error=options["error"], scorer=options["scorer"], calibrate="threshold" not in options,
                         segment_seconds=seconds, gpus_per_worker=args.gpus_per_worker or 0.0, progress=bar,
                         log=bar.write)


def _run(args: argparse.Namespace, project: Any, options: dict[str, Any]) -> Any:
    """``args.run``, or with ``--runtime`` the run's model set to run on it (its scorer applied)."""
    if args.runtime is None:
        return args.run
    from core.inference.anomaly.project_scoring import run_model

    return dataclasses.replace(run_model(project.folder, args.run, options["scorer"]), runtime=args.runtime)


def run_score(args: argparse.Namespace) -> int:
    from core.cli.progress_bar import LOG_INTERVAL_S, ProgressBar
    from core.inference.anomaly.project_scoring import score_project

    options = _scoring_options(args)
    project = _open(args)
    try:
        outputs = _outputs(args, project)
        on_ray_asked = args.workers is not None or args.cluster is not None  # hours: a line a minute in a log
        with ProgressBar("scoring", enabled=None if not args.json else False,
                         log_interval_s=LOG_INTERVAL_S if on_ray_asked else None) as bar:
            on_ray = _score_on_ray(args, project, options, bar)
            result = score_project(project, _run(args, project, options), None if args.all else args.video,
                                   progress=bar,
                                    load_model=_load_model_quietly, **options)
        if on_ray is not None:  # the frames the workers scored now, not "cached"
            result = dataclasses.replace(result, videos=[
                dataclasses.replace(video, scored_now=video.scored_now + on_ray.scored_now.get(video.video_id, 0))
                for video in result.videos])
        written = _write_outputs(args, project, result, outputs)
    finally:
        project.close()
    if args.json:
        videos = []
        for video in result.videos:
            peak = video.peak
            item: dict[str, Any] = {"video_id": video.video_id, "name": video.name, "frames": video.frames,
                                    "scored_now": video.scored_now, "events": [e.to_dict() for e in video.events],
                                    "peak_frame": peak[0] if peak else None, "peak_error": peak[1] if peak else None}
            if args.frames:
                item["errors"] = [float(e) for e in video.errors]
            if written[video.video_id]:
                item["files"] = written[video.video_id]
            videos.append(item)
        print(json.dumps({"run": result.run.run_id, "scorer": result.run.scorer, "stride": result.stride,
                          "frame_error": result.run.spec.error,
                          "error_level": bool(result.run.spec.error_level),
                          "threshold": result.threshold.to_dict(), "flagging": result.flagging, "events_file": str(result.events_path), "videos": videos},
                         indent=2))
        return 0
    print(f"run {result.run.run_id}: threshold {result.threshold.describe()}, stride {result.stride}, "
          f"{_scoring_text(result)}")
    for video in result.videos:
        peak = video.peak
        cached = "cached" if video.scored_now == 0 else f"{video.scored_now:,} scored now"
        peak_text = f"peak {peak[1]:.6g} at frame {peak[0]}" if peak else "no frames"
        count = len(video.events)
        print(f"{video.name}: {video.frames:,} frames ({cached}), {count} event{'s' if count != 1 else ''}, {peak_text}")
        for path in written[video.video_id]:
            print(f"  wrote {path}")
    print(f"events written to {result.events_path}")
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    from core.cli.progress_bar import ProgressBar
    from core.inference.anomaly.project_evaluation import evaluate_project

    if args.dataset:
        from core.cli.evaluate_dataset import run_dataset_evaluate

        return run_dataset_evaluate(args)

    options = _scoring_options(args)
    project = _open(args)
    try:
        with ProgressBar("scoring", enabled=None if not args.json else False, log_interval_s=None) as bar:
            result = evaluate_project(project, _run(args, project, options), progress=bar,
                                    load_model=_load_model_quietly, **options)
    finally:
        project.close()
    data = result.to_dict()
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    print(f"run {data['run']}: {data['videos']} test videos, {data['frames']:,} frames "
          f"({data['abnormal_frames']:,} abnormal), {_scoring_text(result.scores)}")
    print(f"frame AUC  {_number(data['auc_normalised'])} per-video normalised, {_number(data['auc_raw'])} raw")
    print(f"EER        {_number(data['eer_normalised'])} per-video normalised, {_number(data['eer_raw'])} raw")
    recall = data["event_recall"]
    print(f"events     {data['events']} at threshold {result.scores.threshold.describe()}: recall "
          f"{_number(recall, 3)} ({data['anomalies_hit']} of {data['anomalies']} anomalies), "
          f"{_number(data['false_alarms_per_minute'], 2)} false alarms per minute "
          f"({_number(data['false_alarms_per_normal_minute'], 2)} a minute of the footage outside the anomalies)")
    return 0


def run_fit_error_level(args: argparse.Namespace) -> int:
    from core.cli.progress_bar import ProgressBar
    from core.training.error_level import fit_error_level

    project = _open(args)
    try:
        with ProgressBar("error level", enabled=None if not args.json else False, log_interval_s=None) as bar:
            fit = fit_error_level(project, args.run, epochs=args.epochs, seed=args.seed,
                                  load_model=_load_model_quietly, progress=bar)
    finally:
        project.close()
    if args.json:
        aside = None if fit.events_set_aside is None else str(fit.events_set_aside)
        print(json.dumps({**fit.record_entry(), "path": str(fit.path), "events_set_aside": aside}, indent=2))
        return 0
    print(f"wrote {fit.path}: learned from {fit.windows:,} windows of held-out normal footage in {fit.videos} video(s) in "
          f"{fit.seconds:.0f} s ({fit.epochs} epochs, loss {fit.loss:.4f}; the model's mean squared error there "
          f"{fit.mean_error:.3g}). Scores of this run are now relative to this error level.")
    if fit.calibration is not None:
        print(f"cross-fitted over {fit.folds} folds of the held-out blocks: the threshold is calibrated on each "
              f"block as scored by a level fitted without it ({fit.calibration.name})")
    if fit.events_set_aside is not None:
        print(f"its events, flagged in the old units, were set aside as {fit.events_set_aside}; score again to "
              "flag anew")
    return 0


def run_fit_motion(args: argparse.Namespace) -> int:
    import dataclasses

    from core.cli.progress_bar import ProgressBar
    from core.training.motion_run import fit_run_motion

    spec = None
    if args.flow_scale is not None or args.cell is not None or args.flow_preset is not None:
        from core.models.specs import MotionSpec

        default = MotionSpec()
        spec = MotionSpec(scale=args.flow_scale if args.flow_scale is not None else default.scale,
                          cell=args.cell if args.cell is not None else default.cell,
                          flow_preset=args.flow_preset or default.flow_preset)
    project = _open(args)
    try:
        with ProgressBar("motion statistics", enabled=None if not args.json else False, log_interval_s=None) as bar:
            fit = fit_run_motion(project, args.run, spec=spec, default_scorer=args.default_scorer, progress=bar,
                                 cap_area=args.flow_scale is None)
    finally:
        project.close()
    if args.json:
        print(json.dumps({**dataclasses.asdict(fit), "path": str(fit.path)}, indent=2))
        return 0
    print(f"wrote {fit.path}: motion statistics of {fit.frames:,} trained frames in {fit.videos} video(s) at "
          f"{fit.width}x{fit.height}, {fit.seconds:.0f} s. Score with --scorer motion or --scorer fused.")
    if args.default_scorer is not None:
        print(f"run {args.run} now scores with --scorer {args.default_scorer} when none is named")
    return 0


def run_trust(args: argparse.Namespace) -> int:
    from core.cli.progress_bar import ProgressBar
    from core.inference.anomaly.trust import assess_run

    project = _open(args)
    try:
        with ProgressBar("held-out footage", enabled=None if not args.json else False, log_interval_s=None) as bar:
            report = assess_run(project, args.run, load_model=_load_model_quietly, progress=bar)
    finally:
        project.close()
    if args.json:
        print(json.dumps(report.record_entry(), indent=2))
        return 0
    print("\n".join(report.lines()))
    return 0


def run_refit(args: argparse.Namespace) -> int:
    from core.cli.progress_bar import ProgressBar
    from core.training.verdict_refit import refit_from_verdicts

    project = _open(args)
    try:
        with ProgressBar("refit", enabled=None if not args.json else False, log_interval_s=None) as bar:
            refit = refit_from_verdicts(project, args.run, epochs=args.epochs, seed=args.seed,
                                        load_model=_load_model_quietly, progress=bar)
    finally:
        project.close()
    if args.json:
        print(json.dumps({"run": refit.run, **refit.record_entry()}, indent=2))
        return 0
    before = "none" if refit.threshold_before is None else refit.threshold_before.describe()
    print(f"run {refit.run}: learned from {refit.events} rejected event{'s' if refit.events != 1 else ''}, "
          f"{refit.frames:,} frames" + (f" ({refit.left_out:,} more left out: trained on, or abnormal)"
                                        if refit.left_out else ""))
    if refit.error_level is not None:
        print(f"error level  refitted on {refit.error_level['windows']:,} windows of held-out and rejected footage; "
              f"{refit.scored_frames:,} frames scored again")
    if refit.motion is not None:
        print(f"motion       statistics of {refit.motion['base_frames']:,} trained frames plus "
              f"{refit.motion['frames_added']:,} rejected; {refit.scored_frames:,} frames scored again")
    print(f"threshold    {before} -> {refit.threshold_after.describe()}")
    events = "none flagged" if refit.events_before is None else str(refit.events_before)
    print(f"events       {events} -> {refit.events_after} in {refit.videos} scored video"
          f"{'s' if refit.videos != 1 else ''}")
    if refit.trust:
        print(f"trust        {refit.trust}")
    return 0
