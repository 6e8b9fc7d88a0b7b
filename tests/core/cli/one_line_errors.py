"""The checks every CLI error test makes: exit code 2 and one line ``framewatch: error: ...`` (or, for a usage
error, ``framewatch COMMAND: error: ...``) on stderr."""

from __future__ import annotations

import pytest

from core.cli.main import main


def assert_one_line_error(capsys: pytest.CaptureFixture[str], argv: list[str], expected: str) -> None:
    """``framewatch ARGV`` exits 2 with exactly one line on stderr, a ``framewatch: error:`` naming ``expected``."""
    assert main(argv) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("framewatch: error:") and expected in lines[0], err


def assert_usage_error(capsys: pytest.CaptureFixture[str], argv: list[str], expected: str) -> None:
    """``framewatch ARGV`` is refused by argparse (exit 2) in exactly one line naming ``expected``."""
    with pytest.raises(SystemExit) as caught:
        main(argv)
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert caught.value.code == 2 and len(lines) == 1 and "error:" in lines[0] and expected in lines[0], err
