"""``framewatch classify``: a long video window by window through a classify or regress run, merged into segments.

``framewatch classify PROJECT --run RUN --all`` (or ``--video V``, or video files and image folders given as
PATH, which need not be in the project) runs the run's clip model on windows of its clip length every
``--stride`` frames, prints each video's segments (frames, times, label and confidence, or value) and with
``--annotated OUT.mp4`` / ``--annotated-dir DIR`` writes a copy of the video with each frame's label drawn
above it. ``--json`` prints the same as JSON (``--windows`` adds every window). The project is only read.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from core.cli.number_options import BATCH, BIN_WIDTH, CLIP_FRAMES, PROBABILITY
from core.errors import FramewatchError

#: What ``--annotated-dir`` calls the annotated copy of ``clip.avi``: ``clip.annotated.mp4``.
ANNOTATED_SUFFIX = ".annotated.mp4"


class ClassifyError(FramewatchError):
    """``framewatch classify`` cannot run as asked (an option that does not fit the run, ...)."""


def register(subparsers: argparse._SubParsersAction) -> None:
    classify = subparsers.add_parser(
        "classify", help="label (or rate) a long video window by window with a classify or regress run",
        description="Run a classify or regress run's clip model on windows of its clip length across whole "
        "videos (the last window ends at the last frame; a run that learnt from optical-flow speed maps, "
        "--input speed or the speed preset, is given the videos' speed maps), merge consecutive windows with "
        "the same label (or, "
        "for a regressor, the same --bin of values) into segments and print them. With --annotated or "
        "--annotated-dir, write a copy of each video with its window's label and confidence (or value) "
        "drawn above every frame, as MP4. A run whose run.json holds a decision threshold (data.decision) labels "
        "a window with that class when its probability is above the threshold. An existing output is refused "
        "unless --overwrite is given; a video of "
        "the project always.",
    )
    classify.add_argument("project", type=Path, help="project folder (runs are looked up in PROJECT/runs)")
    classify.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                          help="video files or image folders to classify (need not be in the project)")
    classify.add_argument("--run", required=True, help="classify or regress run: its name under PROJECT/runs, "
                          "or its folder")
    classify.add_argument("--video", action="append", metavar="V",
                          help="a project video to classify (id, name or path; repeatable)")
    classify.add_argument("--all", action="store_true", help="classify every video of the project")
    classify.add_argument("--stride", type=CLIP_FRAMES, metavar="N",
                          help="frames between window starts, 1 to the clip length (default: the clip length, "
                          "windows side by side)")
    classify.add_argument("--min-confidence", type=PROBABILITY, metavar="P",
                          help="a window whose top class has a probability below P is uncertain (classify runs)")
    classify.add_argument("--bin", type=BIN_WIDTH, metavar="W", dest="bin_width",
                          help="regress runs: merge consecutive windows whose values fall in the same bin "
                          "[k*W, (k+1)*W) (default: one segment per window)")
    classify.add_argument("--batch-size", type=BATCH, default=None, metavar="N",
                          help="windows per model call (default 8)")
    out = classify.add_mutually_exclusive_group()
    out.add_argument("--annotated", type=Path, metavar="OUT.mp4",
                     help="write the one video classified with its labels drawn on every frame")
    out.add_argument("--annotated-dir", type=Path, metavar="DIR",
                     help=f"write each video's annotated copy into DIR as NAME{ANNOTATED_SUFFIX} (NAME: the file's "
                     f"name without extension, or the folder's, as one safe file name; NAME-N, N its place in the "
                     "list, where two would share a name)")
    classify.add_argument("--overwrite", action="store_true", help="replace existing annotated videos")
    classify.add_argument("--json", action="store_true", help="print JSON instead of text")
    classify.add_argument("--windows", action="store_true", help="with --json: every window's result as well")
    classify.set_defaults(handler=run_classify, check=_check_args, more_positionals="paths")


def _check_args(args: argparse.Namespace) -> None:
    given = [name for name, on in (("--video", bool(args.video)), ("--all", args.all), ("PATH", bool(args.paths)))
             if on]
    if len(given) != 1:
        args.parser.error(f"give one of --video V, --all or PATH, not {' and '.join(given)}" if given
                          else "give the videos to classify: --video V, --all or PATH")
    if args.annotated is not None and (args.all or len(args.video or args.paths) > 1):
        args.parser.error("--annotated writes one video: with several, give --annotated-dir DIR")


def _targets(args: argparse.Namespace) -> list[tuple[str, Path]]:
    """``(name, path)`` of each video to classify: PATHs as given, or the project's videos."""
    if args.paths:
        return [(str(path), path) for path in args.paths]
    from core.project import Project

    project = Project.open(args.project, read_only=True)
    try:
        videos = list(project.videos.values()) if args.all else [project.video(key) for key in args.video]
    finally:
        project.close()
    if not videos:
        raise ClassifyError(f"{args.project}: the project has no videos to classify")
    return [(video.name, Path(video.path)) for video in videos]


def _outputs(args: argparse.Namespace, targets: list[tuple[str, Path]]) -> list[Path | None]:
    """The annotated video of each target (``None``: not asked for), all checked before any work."""
    if args.annotated is None and args.annotated_dir is None:
        return [None] * len(targets)
    from core.project.own_files import refuse_own_files_of
    from core.video.cutting import check_outputs

    if args.annotated is not None:
        if len(targets) > 1:
            raise ClassifyError(f"--annotated writes one video, but {len(targets)} are to be classified: give "
                                "--annotated-dir DIR")
        outputs = [args.annotated]
    else:
        from core.file_names import safe_file_stem, unique_stems

        stems = unique_stems({n: safe_file_stem(path.stem if path.suffix else path.name, "video")
                              for n, (_, path) in enumerate(targets)}, {n: str(n + 1) for n in range(len(targets))})
        outputs = [args.annotated_dir / f"{stems[n]}{ANNOTATED_SUFFIX}" for n in range(len(targets))]
    for output in outputs:
        if output.suffix.lower() != ".mp4":
            raise ClassifyError(f"{output}: annotated videos are MP4 files: give a name ending in .mp4")
    refuse_own_files_of(args.project, outputs)
    check_outputs([path for _, path in targets], outputs, overwrite=args.overwrite)
    return list(outputs)


def _number(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _print_text(run: Any, results: list[tuple[str, Any, Path | None]]) -> None:
    task = run.spec.task
    stride = results[0][1].stride
    print(f"run {run.run_id}: {task}, windows of {run.spec.frames} frames every {stride}")
    if task == "classify" and run.decision is not None:
        k = run.decision.class_index
        name = run.class_names[k] if k < len(run.class_names) else f"class {k}"
        print(f"decision (from the run record): {name} when its probability is above {run.decision.threshold:.4g}, "
              "else the most likely other class")
    for name, found, output in results:
        print(f"{name}: {found.frames:,} frames, {len(found.windows)} windows, {len(found.segments)} segments")
        what = "value (mean, min-max)" if task == "regress" else "confidence (mean / min)"
        rows = [("frames", "seconds", "label", what)]
        for s in found.segments:
            if task == "regress":
                detail = f"{s.mean_value:.4g} ({s.min_value:.4g}-{s.max_value:.4g})"
            else:
                detail = f"{_number(s.mean_confidence)} / {_number(s.min_confidence)}"
            rows.append((f"[{s.start}, {s.stop})", f"{s.start_s:.2f}-{s.stop_s:.2f}",
                         "(uncertain)" if s.uncertain else str(s.label), detail))
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        for row in rows:
            print("  " + "  ".join(cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True))
                  + "  " + row[3])
        if output is not None:
            print(f"wrote {output}")


def run_classify(args: argparse.Namespace) -> int:
    from core.cli.progress_bar import ProgressBar
    from core.cli.score_commands import _load_model_quietly
    from core.inference.clip_input import DEFAULT_BATCH_SIZE, resolve_stride
    from core.inference.labelling.windows import classify_video, window_model
    from core.render.window_video import write_window_video
    from core.video.open import open_video

    run = window_model(args.project, args.run)
    if args.bin_width is not None and run.spec.task != "regress":
        raise ClassifyError(f"{run.run_dir}: --bin merges values of a regress run; run {run.run_id!r} is a "
                            f"{run.spec.task} run")
    if args.min_confidence is not None and run.spec.task != "classify":
        raise ClassifyError(f"{run.run_dir}: --min-confidence applies to classify runs; run {run.run_id!r} is a "
                            f"{run.spec.task} run")
    resolve_stride(run.spec, args.stride)  # a stride the run cannot take fails before any work
    targets = _targets(args)
    outputs = _outputs(args, targets)
    for _, path in targets:  # an unreadable video fails now, before the model loads
        open_video(path).close()
    model = run.load_model(_load_model_quietly)
    results = []
    with ProgressBar("classifying", enabled=None if not args.json else False, log_interval_s=None) as bar:
        for (name, path), output in zip(targets, outputs, strict=True):
            found = classify_video(model, path, run, args.stride, args.min_confidence, args.bin_width,
                                   args.batch_size or DEFAULT_BATCH_SIZE, progress=bar)
            if output is not None:
                output.parent.mkdir(parents=True, exist_ok=True)
                write_window_video(path, output, found.windows, overwrite=args.overwrite, progress=bar)
            results.append((name, found, output))
    if args.json:
        videos = [{"name": name, **found.to_dict(with_windows=args.windows),
                   "annotated": None if output is None else str(output)} for name, found, output in results]
        print(json.dumps({"run": run.run_id, "task": run.spec.task, "window": run.spec.frames,
                          "stride": results[0][1].stride, "min_confidence": args.min_confidence,
                          "bin_width": args.bin_width, "class_names": list(run.class_names),
                          "decision": None if run.decision is None else run.decision.to_dict(), "videos": videos},
                         indent=2))
        return 0
    _print_text(run, results)
    return 0
