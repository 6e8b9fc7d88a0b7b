"""Entry point of the ``framewatch`` command.

Each sub-command lives in a module of ``core.cli`` with a ``register(subparsers)`` function that adds
its parser and sets ``handler`` (a function of the parsed arguments returning an exit code).
Handlers import heavy libraries (TensorFlow) lazily, so ``framewatch info`` starts fast. A command whose
list of paths may follow its options (``classify PROJECT --run R clip.mp4``, which argparse leaves
unmatched) names that list in ``more_positionals``; anything else unmatched is an error.

Exit codes: 2 for every usage error and every error of the project's own types, printed as one line
without a traceback (argparse's own errors, numbers out of the range their option takes
(:mod:`core.cli.number_options`), and arguments that do not go together, which handlers report through
``args.parser.error``, the parser of their sub-command; a usage error names the ``--help`` to read
instead of printing the usage block); 130 for Ctrl+C or a cancelled job; 141
when the reader of the output went away (``framewatch info --json X | head -1``), quietly, as a command
killed by SIGPIPE would.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from core import __version__
from core.cli.number_options import state_limits
from core.errors import Cancelled, FramewatchError

COMMAND_MODULES = [
    "core.cli.video_commands",
    "core.cli.project_commands",
    "core.cli.train_commands",
    "core.cli.score_commands",
    "core.cli.predict_commands",
    "core.cli.classify_commands",
]


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line: ``framewatch cut: error: ... (see: framewatch cut --help)``.

    Sub-command parsers are made of the same class (argparse's default for ``add_subparsers``).
    """

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see: {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="framewatch",
        description="Framewatch: cut and label video, train spatiotemporal models, score footage for anomalies, "
        "evaluate models, roll out predicted frames and classify long videos window by window.",
    )
    parser.add_argument("--version", action="version", version=f"framewatch {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    _give_each_command_its_parser(parser)
    state_limits(parser)
    return parser


def _give_each_command_its_parser(parser: argparse.ArgumentParser) -> None:
    """Set ``args.parser`` to the parser of the sub-command run, so handlers report usage errors as argparse does.

    The innermost parser wins (``project label`` gets the ``label`` parser): argparse copies a
    sub-parser's defaults over its parent's.
    """
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                sub.set_defaults(parser=sub)
                _give_each_command_its_parser(sub)


def _stdout_gone() -> int:
    """The reader of stdout closed it: send what is still buffered nowhere and exit without a word.

    Python's documented way (see "Note on SIGPIPE" in the ``signal`` docs): point stdout at devnull so
    the flush at exit does not raise again.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout is not a real file (tests capture it)
        pass
    return 141


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extras = parser.parse_known_args(argv)
    if extras:  # positionals after an option (``classify PROJECT --run R clip.mp4``) argparse leaves unmatched
        more = getattr(args, "more_positionals", None)
        if more is None or any(extra.startswith("-") for extra in extras):
            parser.error(f"unrecognized arguments: {' '.join(extras)}")
        setattr(args, more, [*getattr(args, more), *(Path(extra) for extra in extras)])
    check = getattr(args, "check", None)
    try:
        if check is not None:  # arguments that do not go together or are out of range, before a slow import
            check(args)
        if getattr(args, "needs_tensorflow", False):
            from core.quiet_tensorflow import import_tensorflow_quietly

            import_tensorflow_quietly()
        code = int(args.handler(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's flush at exit
        return code
    except BrokenPipeError:
        return _stdout_gone()
    except Cancelled as exc:
        print(f"framewatch: {exc}", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("framewatch: interrupted", file=sys.stderr)
        return 130
    except FramewatchError as exc:
        print(f"framewatch: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a file the job touched outside the checks (disk full, a folder removed meanwhile)
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"framewatch: error: {where}{(exc.strerror or str(exc)).lower()}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
