"""``framewatch project new | add-video | edit-video | import-ucsd | import-folders | import-moving-mnist | label |
normal | verdict | export | info | scan | relink``.

Each editing command opens the project, makes its change as one undoable command and saves atomically.
It holds the project's lock (``project.lock``) from load to save, waiting up to ``--wait`` seconds for
another writer (another command, or the GUI) to finish. ``info`` and ``export`` open read-only and take
no lock. If the project has an autosave newer than its last save (unsaved work from a crashed session),
editing commands refuse to touch it until ``--recover`` (take the autosave) or ``--discard-autosave``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from core.cli.number_options import FINITE, FPS, FRAME, SEED, TRAIN_SEQUENCES_LIMIT, WholeNumber
from core.cli.progress_bar import ProgressBar
from core.cli.project_access import add_project_argument, note_lock, open_project
from core.cli.project_scan import register_scan


def register(subparsers: argparse._SubParsersAction) -> None:
    project = subparsers.add_parser(
        "project", help="create and edit projects: videos, labels, subclips, anomaly intervals",
        description="Projects hold videos, a label schema, labelled subclips, ground-truth anomaly intervals, "
        "review verdicts and model runs. Frames are 0-based; ranges are [start, end), end exclusive.",
    )
    sub = project.add_subparsers(dest="project_command", metavar="ACTION", required=True)

    new = sub.add_parser("new", help="create an empty project folder")
    new.add_argument("dir", type=Path)
    new.add_argument("--name", help="project name (default: the folder name)")
    new.add_argument("--description", default="")
    new.set_defaults(handler=run_new)

    add = sub.add_parser("add-video", help="add video files or image folders (each is decoded once to count frames)")
    add_project_argument(add)
    add.add_argument("videos", type=Path, nargs="+")
    add.add_argument("--fps", type=FPS, help="frame rate of image folders (default 10)")
    add.add_argument("--split", choices=["train", "val", "test"], help="put the videos in this split")
    add.add_argument("--no-scan", action="store_true", help="trust the header's frame count instead of decoding")
    add.set_defaults(handler=run_add_video)

    ucsd = sub.add_parser("import-ucsd", help="import a UCSD anomaly dataset (training/, testing/, *.m ground truth)")
    ucsd.add_argument("source", type=Path, help="dataset folder, e.g. ../shared/data/ucsd_ped2")
    add_project_argument(ucsd, create=True)
    ucsd.add_argument("--gt", type=Path, help="ground-truth .m file (default: the first *.m found)")
    ucsd.add_argument("--fps", type=FPS, default=10.0, help="frame rate of the image folders (default 10)")
    ucsd.add_argument("--no-scan", action="store_true", help="count images instead of decoding every one")
    ucsd.add_argument("--one-recording", type=Path, metavar="FILE.avi",
                      help="join the training videos, in order, into this new lossless video file (FFV1) and add "
                      "it as the project's only training video: the dataset as one long recording of normal activity")
    ucsd.set_defaults(handler=run_import_ucsd)

    folders = sub.add_parser("import-folders", help="import train/<class>/*.mp4 and test/<class>/*.mp4 as labelled clips")
    folders.add_argument("source", type=Path)
    add_project_argument(folders, create=True)
    folders.add_argument("--fps", type=FPS, help="frame rate of image-folder videos (default 10)")
    folders.add_argument("--skip-unreadable", action="store_true", help="skip videos that do not decode")
    folders.add_argument("--no-scan", action="store_true", help="trust the header's frame count instead of decoding")
    folders.set_defaults(handler=run_import_folders)

    mm = sub.add_parser(
        "import-moving-mnist", help="write Moving MNIST sequences as short lossless videos of a project",
        description="Render --sequences seeded Moving MNIST sequences (two digits, 64x64) and write each as a "
        "short lossless video (FFV1 .avi, 10 fps) in DIR/moving-mnist/, added to the project: about a tenth "
        "as val (held-out digits), a tenth as test (held-out digits; test/000k is sequence k of `framewatch "
        "evaluate --dataset moving-mnist` and `framewatch predict --dataset moving-mnist --sequence k` with "
        "the same --seed), the rest as train (training digits). Open the project in the app to play them "
        "and see a next-frame run's predicted frames.")
    add_project_argument(mm, create=True)
    mm.add_argument("--sequences", type=WholeNumber(3, TRAIN_SEQUENCES_LIMIT), required=True, metavar="N",
                    help="sequences (videos) to write, at least 3")
    mm.add_argument("--mnist", type=Path, required=True, metavar="PATH",
                    help="the MNIST images file (t10k-images-idx3-ubyte[.gz]) or its folder")
    mm.add_argument("--seed", type=SEED, default=0, help="seed of the sequences (default 0)")
    mm.add_argument("--frames", type=WholeNumber(2, 1000), default=20, metavar="N",
                    help="frames per sequence (default 20: 10 given and 10 to predict)")
    mm.set_defaults(handler=run_import_moving_mnist)

    edit = sub.add_parser(
        "edit-video", help="rename a video, set its split, or an image folder's frame rate",
        description="Change what the project records of a video, as the app's Videos list does: its name, "
        "its split (train, val, test, or auto: decided by the data options) and, for an image folder, its "
        "frames per second (a video file's frame rate is read from the file).",
    )
    add_project_argument(edit)
    edit.add_argument("video", help="video id, name or path")
    edit.add_argument("--name", help="new name (unique in the project)")
    edit.add_argument("--split", choices=["train", "val", "test", "auto"])
    edit.add_argument("--fps", type=FPS, help="frames per second of an image folder")
    edit.set_defaults(handler=run_edit_video)

    label = sub.add_parser(
        "label", help="add a labelled subclip or an anomaly interval, or import a CSV of video,start,end,label",
        description="Add frames [START, END) of VIDEO (id, name or path) as a subclip with --class or --value, "
        "or as a ground-truth anomaly interval with --anomaly; or import many rows with --csv.",
    )
    add_project_argument(label)
    label.add_argument("--video", help="video id, name or path")
    label.add_argument("--start", type=FINITE)
    label.add_argument("--end", type=FINITE, help="end (exclusive)")
    label.add_argument("--seconds", action="store_true", help="START and END are seconds (default: frames)")
    label.add_argument("--class", dest="label", help="class of the subclip")
    label.add_argument("--value", type=FINITE, help="numeric value of the subclip")
    label.add_argument("--target", help="numeric target the value belongs to")
    label.add_argument("--split", choices=["train", "val", "test"])
    label.add_argument("--note", default="")
    label.add_argument("--anomaly", action="store_true", help="mark [START, END) as an abnormal interval")
    label.add_argument("--create-class", action="store_true", help="add the class to the schema if it is new")
    label.add_argument("--csv", type=Path, help="import subclips from a CSV of video,start,end,label[,split]")
    label.set_defaults(handler=run_label)

    normal = sub.add_parser(
        "normal", help="mark, list or remove normal footage: the spans of a video anomaly training learns from",
        description="Mark frames [START, END) of VIDEO as normal footage, as the app's Label > Mark In-Out as "
        "Normal Footage does. An anomaly run trains on exactly the normal spans of such a video (less any "
        "anomaly interval or confirmed event inside them), and the rest of the video is scored like test "
        "footage: 'train on the first hour, score the rest' is one span, on one file, without cutting it. "
        "Videos without normal spans keep their split (train, val, test or automatic). --list shows the spans "
        "(of VIDEO, or of every video); --remove ID takes spans away again.",
    )
    add_project_argument(normal)
    normal.add_argument("video", nargs="?", help="video id, name or path")
    normal.add_argument("--start", type=FINITE, help="first frame of the span (or seconds, with --seconds)")
    normal.add_argument("--end", type=FINITE, help="end of the span, exclusive (or seconds, with --seconds)")
    normal.add_argument("--seconds", action="store_true",
                        help="START and END are seconds, e.g. --start 0 --end 3600 for the first hour (default: frames)")
    normal.add_argument("--note", default="")
    normal.add_argument("--list", action="store_true", help="list the normal spans (of VIDEO, or of every video)")
    normal.add_argument("--remove", metavar="ID", action="append", default=[],
                        help="remove the normal span with this id (repeat to remove several)")
    normal.add_argument("--json", action="store_true", help="with --list: print the spans as JSON")
    normal.set_defaults(handler=run_normal)

    verdict = sub.add_parser(
        "verdict", help="record a review verdict (confirmed, rejected, unsure) on a flagged event",
        description="Record what a flagged event [START, END) of VIDEO is, as the app's C, R and U keys do: "
        "confirmed (an anomaly), rejected (a false alarm: the next anomaly training run learns its frames as "
        "normal footage) or unsure, with a note. --run names the run that flagged it (the verdict is joined to "
        "that run's events); --interval also marks the frames as a ground-truth anomaly interval (the app's "
        "Shift+C). A second verdict on the same event replaces the first.",
    )
    add_project_argument(verdict)
    verdict.add_argument("--video", required=True, help="video id, name or path")
    verdict.add_argument("--start", type=FRAME, required=True, help="first frame of the event")
    verdict.add_argument("--end", type=FRAME, required=True, help="end of the event (exclusive)")
    verdict.add_argument("--verdict", required=True, choices=["confirmed", "rejected", "unsure"])
    verdict.add_argument("--note", default="")
    verdict.add_argument("--run", help="the training run (name under PROJECT/runs/, or folder) that flagged it")
    verdict.add_argument("--interval", action="store_true",
                         help="with --verdict confirmed: also add the frames as an anomaly interval")
    verdict.set_defaults(handler=run_verdict)

    export = sub.add_parser(
        "export", help="export subclips, labels, intervals and verdicts (CSV, JSON) or clip videos",
        description="Write the project's tables as CSV files or one JSON file, or cut every subclip to its own "
        "video file. Every output is checked before the first is written: existing files are refused "
        "unless --overwrite is given, and the project's own files and videos are never replaced.",
    )
    add_project_argument(export, writes=False)  # read-only; --recover exports the crashed session's edits (without saving)
    export.add_argument("-o", "--output", type=Path, required=True, help="folder (csv, videos) or file (json)")
    export.add_argument("--format", choices=["csv", "json", "videos"], default="csv")
    export.add_argument("--overwrite", action="store_true", help="replace files that already exist")
    export.set_defaults(handler=run_export)

    info = sub.add_parser("info", help="summary of a project and the problems found in it",
                          description="Print a project's contents and every problem found (moved or changed "
                          "videos, duplicates, bad intervals, unknown labels). Exit code 1 if any is an error.")
    add_project_argument(info, recovery=False, writes=False)
    info.add_argument("--json", action="store_true")
    info.add_argument("--no-files", action="store_true", help="do not check that the video files are unchanged")
    info.set_defaults(handler=run_info)

    register_scan(sub)

    relink = sub.add_parser("relink", help="point moved videos at their new place")
    add_project_argument(relink)
    relink.add_argument("--search", type=Path, help="find every missing video under this folder (by content)")
    relink.add_argument("--video", help="video id or name")
    relink.add_argument("--path", type=Path, help="new path of --video")
    relink.add_argument("--force", action="store_true", help="accept a file with different content")
    relink.set_defaults(handler=run_relink)


@contextlib.contextmanager
def _project_to_import_into(args: argparse.Namespace) -> Iterator[Any]:
    """The project in ``args.dir`` (locked, as :func:`~core.cli.project_access.open_project` opens it), or a new one there that is removed
    again if the import fails: a failed import never leaves a project behind, nor changes an existing one
    (it is saved only at the end)."""
    from core.project.provisional import new_project_or_nothing
    from core.project.store import AUTOSAVE_FILE, PROJECT_FILE

    if (args.dir / PROJECT_FILE).exists() or (args.dir / AUTOSAVE_FILE).exists():
        yield open_project(args)
        return
    with new_project_or_nothing(args.dir) as project:
        yield project


def _done(project, message: str) -> int:
    project.save()
    print(message)
    return 0


def run_new(args: argparse.Namespace) -> int:
    from core.project import Project

    project = Project.create(args.dir, name=args.name, description=args.description)
    print(f"created project {project.name!r} in {project.folder}")
    return 0


def run_add_video(args: argparse.Namespace) -> int:
    project = open_project(args)
    for path in args.videos:
        with ProgressBar(f"reading {path.name}") as bar:
            video = project.add_video(path, fps=args.fps, split=args.split, scan=not args.no_scan, progress=bar)
        if video.frame_count is not None:
            frames = f"{video.frame_count} frames"
        elif video.declared_frame_count:
            frames = f"{video.declared_frame_count} frames declared (not scanned)"
        else:
            frames = "frame count unknown (not scanned; the header declares none)"
        print(f"{video.id}  {video.name}  {video.width}x{video.height}  {video.fps:g} fps  {frames}")
        project.save()  # one video at a time: a later failure keeps the earlier ones
    return 0


def run_edit_video(args: argparse.Namespace) -> int:
    from core.project import ProjectValidationError

    changes: dict[str, object] = {}
    if args.name is not None:
        changes["name"] = args.name
    if args.split is not None:
        changes["split"] = None if args.split == "auto" else args.split
    if args.fps is not None:
        changes["fps"] = args.fps
    if not changes:
        raise ProjectValidationError("give --name, --split or --fps")
    project = open_project(args)
    video = project.update_video(project.video(args.video).id, **changes)
    return _done(project, f"{video.id}  {video.name}  split {video.split or 'auto'}  {video.fps:g} fps")


def run_verdict(args: argparse.Namespace) -> int:
    from core.project import ProjectValidationError

    if args.interval and args.verdict != "confirmed":
        raise ProjectValidationError("--interval marks a confirmed event's frames: give --verdict confirmed")
    project = open_project(args)
    run_id = None
    if args.run is not None:
        from core.inference.anomaly.project_scoring import project_run_id, run_model

        run_id = project_run_id(project, run_model(project.folder, args.run))
    video = project.video(args.video)
    if args.interval:
        verdict, interval = project.confirm_as_interval(video.id, args.start, args.end, note=args.note, run_id=run_id)
        extra = f"; interval {interval.id} added"
    else:
        verdict = project.set_verdict(video.id, args.start, args.end, args.verdict, note=args.note, run_id=run_id)
        extra = ""
    return _done(project, f"{verdict.id}  {verdict.verdict} event [{verdict.start}, {verdict.end}) of {video.name}"
                 + (f" flagged by {run_id}" if run_id else "") + extra)


def run_import_ucsd(args: argparse.Namespace) -> int:
    from core.project.importers import import_ucsd

    with _project_to_import_into(args) as project, ProgressBar(f"importing {args.source.name}", unit="video") as bar:
        result = import_ucsd(project, args.source, gt_file=args.gt, fps=args.fps, scan=not args.no_scan,
                             one_recording=args.one_recording, progress=bar)
        project.save()
    videos = [project.videos[i] for i in result.videos]
    intervals = [project.intervals[i] for i in result.intervals]
    splits = Counter(v.split for v in videos)
    test_frames = sum(v.known_frame_count for v in videos if v.split == "test")
    abnormal = sum(i.end - i.start for i in intervals)
    print(f"imported {splits['train']} training and {splits['test']} test videos; ground truth: {abnormal:,} "
          f"abnormal frames of {test_frames:,} test frames in {len(intervals)} intervals -> {project.folder}")
    return 0


def run_import_folders(args: argparse.Namespace) -> int:
    from core.project.importers import import_class_folders

    with _project_to_import_into(args) as project, ProgressBar(f"importing {args.source.name}", unit="video") as bar:
        result = import_class_folders(project, args.source, fps=args.fps, scan=not args.no_scan,
                                      skip_unreadable=args.skip_unreadable, progress=bar)
        project.save()
    for problem in result.skipped:
        print(f"skipped: {problem}")
    counts = Counter(project.subclips[i].label for i in result.subclips)
    per_class = ", ".join(f"{k}: {n}" for k, n in sorted(counts.items()))
    print(f"imported {len(result.videos)} videos as labelled clips ({per_class})")
    return 0


def run_import_moving_mnist(args: argparse.Namespace) -> int:
    from core.project.importers.moving_mnist import import_moving_mnist

    with _project_to_import_into(args) as project, ProgressBar("writing Moving MNIST", unit="video") as bar:
        result = import_moving_mnist(project, args.mnist, args.sequences, seed=args.seed, frames=args.frames,
                                     progress=bar)
        project.save()
    splits = Counter(project.videos[i].split for i in result.videos)
    print(f"wrote {len(result.videos)} Moving MNIST videos of {args.frames} frames ({splits['train']} train, "
          f"{splits['val']} val, {splits['test']} test; seed {args.seed}) -> {project.folder}")
    return 0


def _frame_range(video, start: float, end: float, seconds: bool) -> tuple[int, int]:
    """Frames ``[start, end)`` of ``video`` from what was typed: frame numbers, or with ``seconds`` the frames
    whose display starts in ``[start, end)`` seconds, as ``framewatch cut`` takes them."""
    import math

    from core.project import ProjectValidationError
    from core.video import open_video

    if not (math.isfinite(start) and math.isfinite(end)):
        raise ProjectValidationError(f"start and end must be finite numbers, not {start:g}..{end:g}")
    if seconds:
        try:
            with open_video(video.path, fps=video.fps) as source:  # the frames' real timestamps
                return source.frames_between(start, end)
        except ValueError:  # 1e308 s * fps is infinite: no video is that long
            raise ProjectValidationError(
                f"{start:g}..{end:g} seconds is beyond the end of any video ({video.name})") from None
    if start != int(start) or end != int(end):
        raise ProjectValidationError(f"frame numbers must be whole: {start:g}..{end:g} (use --seconds for times)")
    return int(start), int(end)


def run_normal(args: argparse.Namespace) -> int:
    from core.project import ProjectValidationError
    from core.project.validation import normal_span_conflicts

    marking = args.start is not None or args.end is not None
    if sum((marking, args.list, bool(args.remove))) != 1:
        raise ProjectValidationError("give --start and --end (mark a span), --list, or --remove ID")
    if args.json and not args.list:
        raise ProjectValidationError("--json goes with --list")
    if args.list:
        project = open_project(args, read_only=True)
        videos = [project.video(args.video)] if args.video is not None else list(project.videos.values())
        spans = [span for video in videos for span in project.normal_spans_of(video.id)]
        if args.json:
            print(json.dumps([{"id": s.id, "video": project.videos[s.video_id].name, "start": s.start, "end": s.end,
                               "note": s.note} for s in spans], indent=2))
            return 0
        for s in spans:
            video = project.videos[s.video_id]
            print(f"{s.id}  {video.name}  frames [{s.start}, {s.end})  {(s.end - s.start) / video.fps:.1f} s"
                  + (f"  {s.note}" if s.note else ""))
        if not spans:
            print("no normal spans" + (f" in {videos[0].name}" if args.video is not None else ""))
        return 0
    project = open_project(args)
    if args.remove:
        if args.video is not None:
            video = project.video(args.video)
            other = [i for i in args.remove if i in project.normal_spans and project.normal_spans[i].video_id != video.id]
            if other:
                raise ProjectValidationError(f"normal span {other[0]} is not a span of {video.name}")
        project.remove_normal_spans(args.remove)
        return _done(project, f"removed {len(args.remove)} normal span{'s' if len(args.remove) != 1 else ''}")
    if args.video is None or args.start is None or args.end is None:
        raise ProjectValidationError("give VIDEO, --start and --end")
    video = project.video(args.video)
    start, end = _frame_range(video, args.start, args.end, args.seconds)
    span = project.add_normal_span(video.id, start, end, note=args.note)
    for conflict in normal_span_conflicts(project.data, span):
        print(f"warning: the span overlaps {conflict}; training leaves those frames out", file=sys.stderr)
    return _done(project, f"{span.id}  normal frames [{start}, {end}) of {video.name} "
                 f"({(end - start) / video.fps:.1f} s); anomaly training learns from them, the rest of the video is scored")


def run_label(args: argparse.Namespace) -> int:
    from core.project import ProjectValidationError

    project = open_project(args)
    if args.csv is not None:
        from core.project.importers import import_csv_labels

        result = import_csv_labels(project, args.csv, unit="seconds" if args.seconds else "frames",
                                   create_classes=args.create_class)
        return _done(project, f"imported {len(result.subclips)} subclips from {args.csv.name}"
                     + (f"; new classes: {', '.join(result.classes)}" if result.classes else ""))
    if args.video is None or args.start is None or args.end is None:
        raise ProjectValidationError("give --video, --start and --end (or --csv FILE)")
    video = project.video(args.video)
    start, end = _frame_range(video, args.start, args.end, args.seconds)
    if args.anomaly:
        interval = project.add_interval(video.id, start, end, note=args.note)
        return _done(project, f"{interval.id}  abnormal frames [{start}, {end}) of {video.name}")
    if args.label is None and args.value is None:
        raise ProjectValidationError("give --class or --value (or --anomaly)")
    if args.label is not None and args.label not in project.classes and args.create_class:
        project.add_class(args.label)
    clip = project.add_subclip(video.id, start, end, label=args.label, value=args.value, target=args.target,
                               split=args.split, note=args.note)
    what = clip.label if clip.label is not None else f"{clip.target}={clip.value:g}"
    return _done(project, f"{clip.id}  frames [{start}, {end}) of {video.name}: {what}")


def run_export(args: argparse.Namespace) -> int:
    from core.project import exporters

    project = open_project(args, read_only=True)
    if args.format == "json":
        print(exporters.export_json(project, args.output, overwrite=args.overwrite))
    elif args.format == "csv":
        for path in exporters.export_csv(project, args.output, overwrite=args.overwrite):
            print(path)
    else:
        with ProgressBar("cutting subclips") as bar:
            written = exporters.export_subclip_videos(project, args.output, overwrite=args.overwrite, progress=bar)
        print(f"wrote {len(written)} subclip videos to {args.output}")
    return 0


def run_info(args: argparse.Namespace) -> int:
    from core.project import Project
    from core.project.summary import project_summary

    project = Project.open(args.dir, read_only=True)
    note_lock(project)
    data = project_summary(project, check_files=not args.no_files).as_dict()
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    rows = [
        ("project", f"{data['name']} ({data['folder']})"),
        ("videos", f"{data['videos']}{_counts(data['videos_by_split'])}, {data['frames']:,} frames"
                   + (f" ({data['unscanned_videos']} not scanned: project scan)" if data["unscanned_videos"] else "")),
        ("classes", ", ".join(data["classes"]) or "none"),
        ("targets", ", ".join(data["targets"]) or "none"),
        ("subclips", f"{data['subclips']}{_counts(data['subclips_by_label'])}"),
        ("anomaly intervals", f"{data['intervals']} ({data['abnormal_frames']:,} abnormal frames)"),
        ("normal spans", f"{data['normal_spans']} ({data['normal_frames']:,} frames of normal footage)"),
        ("verdicts", _counts(data["verdicts"]).strip(" ()") or "none"),
        ("model runs", str(data["runs"])),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    if data["recovery"]:
        print(f"recovery: {data['recovery']} (open with --recover to continue from it)")
    for issue in data["issues"]:
        print(f"{issue['severity']}: {issue['message']}")
    return 1 if any(i["severity"] == "error" for i in data["issues"]) else 0


def _counts(counter: dict) -> str:
    return " (" + ", ".join(f"{k}: {n}" for k, n in counter.items()) + ")" if counter else ""


def run_relink(args: argparse.Namespace) -> int:
    from core.project import ProjectValidationError

    project = open_project(args)
    if args.search is not None:
        found = project.relink_moved(args.search)
        for video_id, path in found.items():
            print(f"{project.videos[video_id].name} -> {path}")
        missing = [v.name for v in project.videos.values() if not v.path.exists()]
        if missing:
            print(f"still missing: {', '.join(missing)}")
        return _done(project, f"relinked {len(found)} video(s)")
    if args.video is None or args.path is None:
        raise ProjectValidationError("give --search FOLDER, or --video and --path")
    video = project.relink_video(args.video, args.path, force=args.force)
    return _done(project, f"{video.name} -> {video.path}")
