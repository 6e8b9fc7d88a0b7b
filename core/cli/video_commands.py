"""``framewatch info | cut | frames``: video sub-commands."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from core.cli.number_options import FINITE, FPS, FRAME, FRAME_COUNT, PIECES_LIMIT, POSITIVE, WholeNumber
from core.cli.progress_bar import ProgressBar


def register(subparsers: argparse._SubParsersAction) -> None:
    info = subparsers.add_parser("info", help="metadata of a video file or image folder, decoded frame count included")
    info.add_argument("path", type=Path, help="video file or folder of images")
    info.add_argument("--json", action="store_true", help="print JSON instead of a table")
    info.add_argument("--fps", type=FPS, default=None, help="frame rate of an image folder (default 10)")
    info.set_defaults(handler=run_info)

    cut = subparsers.add_parser(
        "cut",
        help="cut a subclip to a new file, or a video into N equal subclips",
        description="Cut [START, END) of SOURCE to OUTPUT, or with --pieces cut N subclips of --duration "
        "seconds from --offset into the folder OUTPUT. Times are seconds unless --frames is given. "
        "An existing output is refused unless --overwrite is given (with --pieces, every piece is checked "
        "before the first is written); an output that is SOURCE itself is always refused.",
    )
    cut.add_argument("source", type=Path)
    cut.add_argument("-o", "--output", type=Path, required=True, help="output file (or folder with --pieces)")
    cut.add_argument("--start", type=FINITE, help="first frame or second of the subclip (inclusive)")
    cut.add_argument("--end", type=FINITE, help="end of the subclip (exclusive)")
    cut.add_argument("--frames", action="store_true", help="START, END, --duration and --offset are frame numbers")
    cut.add_argument("--pieces", type=WholeNumber(1, PIECES_LIMIT), help="cut this many equal, non-overlapping subclips")
    cut.add_argument("--duration", type=POSITIVE, help="length of each piece (with --pieces)")
    cut.add_argument("--offset", type=FINITE, default=0.0, help="where the first piece starts (with --pieces)")
    cut.add_argument("--fps", type=FPS, default=None, help="frame rate of an image-folder source (default 10)")
    cut.add_argument("--overwrite", action="store_true", help="replace output files that already exist")
    cut.set_defaults(handler=run_cut, check=_check_cut_args)

    frames = subparsers.add_parser(
        "frames", help="extract every k-th frame into an image folder",
        description="Write every k-th frame of [START, END) of SOURCE to OUTPUT as <frame>.<format> (000120.png). "
        "The range is checked against the frames that decode before anything is written; images of the "
        "range that already exist are refused unless --overwrite is given.",
    )
    frames.add_argument("source", type=Path)
    frames.add_argument("-o", "--output", type=Path, required=True, help="folder to write the images to")
    frames.add_argument("--every", type=FRAME_COUNT, default=1, help="keep every k-th frame (default 1)")
    frames.add_argument("--start", type=FRAME, default=0, help="first frame (default 0)")
    frames.add_argument("--end", type=FRAME, default=None, help="stop before this frame (default: the last)")
    frames.add_argument("--format", choices=["png", "jpg", "tif", "bmp"], default="png")
    frames.add_argument("--overwrite", action="store_true", help="replace images that already exist")
    frames.set_defaults(handler=run_frames)


def _format_info(meta: dict) -> str:
    rows = [
        ("path", meta["path"]),
        ("kind", meta["kind"]),
        ("size", f"{meta['width']}x{meta['height']}"),
        ("fps", f"{meta['fps']:g}"),
        ("codec", meta["codec"]),
        ("frames (declared)", meta["declared_frame_count"]),
        ("frames (decoded)", meta["frame_count"]),
        ("duration", f"{meta['duration_s']:.3f} s" if meta["duration_s"] is not None else "unknown"),
        ("seeking", meta["seek_mode"]),
    ]
    if meta["file_size"]:
        rows.append(("file size", f"{meta['file_size']:,} bytes"))
    width = max(len(k) for k, _ in rows)
    lines = [f"{k:<{width}}  {v}" for k, v in rows]
    if meta["truncated"]:
        lines.append(
            f"warning: only {meta['frame_count']} of the {meta['declared_frame_count']} declared frames decode "
            "(the file is truncated or damaged)"
        )
    return "\n".join(lines)


def run_info(args: argparse.Namespace) -> int:
    from core.video import open_video

    with open_video(args.path, fps=args.fps) as source, ProgressBar(f"scanning {args.path.name}") as bar:
        source.scan(progress=bar)
        meta = source.metadata
        if meta.kind == "file":
            source.seek_mode  # noqa: B018 - verifies seeking so the report can say how it is done
            meta = source.metadata
    data = meta.to_dict()
    print(json.dumps(data, indent=2) if args.json else _format_info(data))
    return 0


def _check_cut_args(args: argparse.Namespace) -> None:
    """A range, or pieces with a duration: usage errors (exit 2) before any file is opened."""
    if args.pieces is not None:
        if args.duration is None:
            args.parser.error("--pieces needs --duration (the length of each piece)")
        if args.start is not None or args.end is not None:
            args.parser.error("give --start and --end, or --pieces and --duration, not both")
    elif args.start is None or args.end is None:
        missing = " and ".join(name for name, value in (("--start", args.start), ("--end", args.end)) if value is None)
        args.parser.error(f"missing {missing}: give --start and --end, or --pieces and --duration")


def run_cut(args: argparse.Namespace) -> int:
    from core.video.cutting import cut_subclip, split_equal

    unit = "frames" if args.frames else "seconds"
    if args.pieces is not None:
        with ProgressBar(f"cutting {args.pieces} pieces") as bar:
            outputs = split_equal(
                args.source, args.output, args.pieces, args.duration, offset=args.offset, unit=unit,
                fps=args.fps, progress=bar, overwrite=args.overwrite,
            )
        for path in outputs:
            print(path)
        return 0
    with ProgressBar(f"cutting {args.source.name}") as bar:
        out = cut_subclip(args.source, args.output, args.start, args.end, unit=unit, fps=args.fps, progress=bar,
                          overwrite=args.overwrite)
    print(out)
    return 0


def run_frames(args: argparse.Namespace) -> int:
    from core.video.cutting import extract_frames

    with ProgressBar(f"extracting from {args.source.name}") as bar:
        written = extract_frames(
            args.source, args.output, every=args.every, start=args.start, stop=args.end, image_format=args.format,
            overwrite=args.overwrite, progress=bar,
        )
    print(f"wrote {len(written)} images to {args.output}")
    return 0
