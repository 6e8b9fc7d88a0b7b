"""Entry point of the ``framewatch`` command.

Each sub-command lives in a module of ``core.cli`` with a ``register(subparsers)`` function that adds
its parser and sets ``handler`` (a function of the parsed arguments returning an exit code).
Handlers import heavy libraries (TensorFlow) lazily, so ``framewatch info`` starts fast.
Errors of the project's own types are printed as one line, without a traceback, with exit code 2;
Ctrl+C exits with 130.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from core import __version__
from core.errors import Cancelled, FramewatchError

COMMAND_MODULES = [
    "core.cli.video_commands",
    "core.cli.project_commands",
    "core.cli.train_commands",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="framewatch",
        description="Framewatch: cut and label video, train spatiotemporal models, score and review anomalies.",
    )
    parser.add_argument("--version", action="version", version=f"framewatch {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "needs_tensorflow", False):
        from core.quiet_tensorflow import import_tensorflow_quietly

        import_tensorflow_quietly()
    try:
        return int(args.handler(args) or 0)
    except Cancelled as exc:
        print(f"framewatch: {exc}", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("framewatch: interrupted", file=sys.stderr)
        return 130
    except FramewatchError as exc:
        print(f"framewatch: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
