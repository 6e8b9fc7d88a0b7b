"""Reading the JSON files Framewatch writes (run records, resume state, events) with one-line errors.

Writing goes through :mod:`core.atomic_write`; reading one back may still meet a file damaged by hand or
by another program. :func:`read_json_object` turns every way that fails into the caller's own error type
(constructed as ``error(path, problem)``), naming the file, what is wrong and, with ``hint``, what to do.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any


def read_json_object(path: Path, what: str, error: Callable[[Path, str], Exception], hint: str = "") -> dict[str, Any]:
    """The JSON object in ``path`` (``what`` names it in messages, e.g. ``"run record"``).

    A missing file raises :class:`FileNotFoundError` for callers that treat it as "none yet"; undecodable
    text, invalid JSON, unreadable files and a JSON value that is not an object raise ``error``.
    """
    hint = f". {hint}" if hint else ""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except FileNotFoundError:
        raise
    except UnicodeDecodeError as exc:
        raise error(path, f"damaged {what}: not UTF-8 text ({exc.reason}){hint}") from exc
    except json.JSONDecodeError as exc:
        raise error(path, f"damaged {what}: not valid JSON (line {exc.lineno}, column {exc.colno}: "
                          f"{exc.msg}){hint}") from exc
    except RecursionError:  # JSON nested thousands deep: nothing Framewatch writes
        raise error(path, f"damaged {what}: JSON nested too deeply{hint}") from None
    except OSError as exc:
        raise error(path, f"cannot read the {what}: {exc.strerror or exc}{hint}") from exc
    if not isinstance(data, dict):
        raise error(path, f"damaged {what}: a JSON {type(data).__name__}, not an object{hint}")
    return data
