"""Frame spans ``[(start, end), ...]`` (frames ``[start, end)``): join, cut and intersect them."""

from __future__ import annotations

from collections.abc import Iterable


def merge(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """``spans`` sorted, with overlapping or touching spans joined and empty ones dropped."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted((int(s), int(e)) for s, e in spans if e > s):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def subtract(spans: Iterable[tuple[int, int]], removed: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """The frames of ``spans`` outside every span of ``removed`` (merged)."""
    cuts = merge(removed)
    kept: list[tuple[int, int]] = []
    for start, end in merge(spans):
        for cut_start, cut_end in cuts:
            if cut_end <= start or cut_start >= end:
                continue
            if cut_start > start:
                kept.append((start, cut_start))
            start = max(start, cut_end)
            if start >= end:
                break
        if start < end:
            kept.append((start, end))
    return kept


def intersect(spans: Iterable[tuple[int, int]], other: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """The frames in both ``spans`` and ``other`` (merged)."""
    a, b = merge(spans), merge(other)
    return merge((max(s, t), min(e, f)) for s, e in a for t, f in b if min(e, f) > max(s, t))


def frames_in(spans: Iterable[tuple[int, int]]) -> int:
    """How many frames ``spans`` cover (each counted once)."""
    return sum(end - start for start, end in merge(spans))
