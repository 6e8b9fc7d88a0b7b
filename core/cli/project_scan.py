"""``framewatch project scan PROJECT``: decode videos added with ``--no-scan`` to learn their exact frame counts."""

from __future__ import annotations

import argparse
import sys

from core.cli.project_access import add_project_argument, open_project


def register_scan(sub: argparse._SubParsersAction) -> None:
    """Add ``scan`` to the ``project`` sub-commands (``sub`` is their subparsers)."""
    scan = sub.add_parser(
        "scan", help="decode videos added with --no-scan to count their frames (progress bar; Ctrl+C stops)",
        description="Decode each video that has no scanned frame count (with --all: every video) and record "
        "the number of frames that decode, as one edit. Ctrl+C stops without changing the project. "
        "Exit code 2 if a video could not be scanned (missing or unreadable); the others are recorded.")
    add_project_argument(scan)
    scan.add_argument("--video", action="append", dest="videos", metavar="VIDEO",
                      help="only this video (id, name or path); repeatable")
    scan.add_argument("--all", action="store_true", help="rescan videos that already have a frame count")
    scan.set_defaults(handler=run_scan)


def run_scan(args: argparse.Namespace) -> int:
    from core.cli.progress_bar import ProgressBar
    from core.project.scan import scan_frame_counts

    project = open_project(args)
    with ProgressBar("scanning frame counts") as bar:
        result = scan_frame_counts(project, args.videos, rescan=args.all, progress=bar)
    for item in result.scanned:
        before = "not scanned" if item.before is None else f"{item.before:,}"
        print(f"{item.name}: {item.after:,} frames (was {before})")
    if not result.scanned and not result.problems:
        print("every video already has a scanned frame count (--all rescans them)")
    project.save()
    for problem in result.problems:
        print(f"not scanned: {problem}", file=sys.stderr)
    return 2 if result.problems else 0
