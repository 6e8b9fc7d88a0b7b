"""File names made from what users type: video names, labels, ids. One rule for every export.

A video's name may hold anything a project accepts: ``training/01`` (UCSD imports name videos by their
folder), ``..``, a colon, a control character, hundreds of characters. Used as it is in a file name it
would point into another folder, or fail to be created. :func:`safe_file_stem` turns such text into one
file name component that every common file system takes; :func:`unique_stems` then makes the stems of one
export distinct, also where only the case differs (two names that one file on a case-insensitive file
system would take).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TypeVar

#: Anything but letters, digits (of any script), ``_``, ``.`` and ``-`` becomes ``_``.
_UNSAFE = re.compile(r"[^\w.-]+")
#: The longest stem in UTF-8 bytes: file systems take 255 bytes per name, and an export adds a tag
#: (``-<video id>``) and a suffix (``.annotated.mp4``) to it.
MAX_STEM_BYTES = 150
#: Names Windows reserves for devices, whatever the extension.
_RESERVED = frozenset({"con", "prn", "aux", "nul", *(f"com{n}" for n in range(10)), *(f"lpt{n}" for n in range(10))})

Key = TypeVar("Key")


def safe_file_stem(text: str, fallback: str = "file") -> str:
    """``text`` as one file name component: no folder separators, no characters file systems refuse or
    shells mangle (each run of them becomes ``_``), no leading dot (no hidden file, no ``..``), at most
    :data:`MAX_STEM_BYTES` bytes; ``fallback`` when nothing is left. ``"training/01"`` -> ``"training_01"``."""
    stem = _UNSAFE.sub("_", text).strip("_").lstrip("._")
    encoded = stem.encode("utf-8")
    if len(encoded) > MAX_STEM_BYTES:
        stem = encoded[:MAX_STEM_BYTES].decode("utf-8", errors="ignore")
    stem = stem.rstrip("._")  # Windows drops trailing dots
    if not stem or stem.split(".")[0].lower() in _RESERVED:
        return f"{fallback}_{stem}" if stem else fallback
    return stem


def unique_stems(stems: Mapping[Key, str], tags: Mapping[Key, str]) -> dict[Key, str]:
    """``stems`` with ``-<tag>`` added to each stem another one equals, ignoring case, until all differ.

    ``tags`` (one per key, distinct, e.g. video ids) tell apart the items that share a stem; they are made
    safe as stems are. An item whose stem is unique keeps it unchanged.
    """
    result = dict(stems)
    for _ in range(len(result) + 1):
        counts: dict[str, int] = {}
        for stem in result.values():
            counts[stem.casefold()] = counts.get(stem.casefold(), 0) + 1
        clashing = [key for key, stem in result.items() if counts[stem.casefold()] > 1]
        if not clashing:
            return result
        for key in clashing:
            result[key] = f"{result[key]}-{safe_file_stem(str(tags[key]), 'item')}"
    raise ValueError("the tags given to unique_stems are not distinct")
