"""The normal footage a window-task run may learn from (and hold part of out, :mod:`core.data.held_out`).

Spans are ``{video id: [(start, end), ...]}``, frames ``[start, end)``, sorted and disjoint per video.
"""

from __future__ import annotations

from collections.abc import Mapping

from core.data.spans import subtract
from core.data.verdicts import Spans, abnormal_spans, verdict_spans, widen
from core.project.entities import ProjectData


def normal_footage(data: ProjectData, splits: Mapping[str, str], counts: Mapping[str, int],
                   reach: int = 0) -> Spans:
    """``{video id: [(start, end), ...]}``: the footage of the videos in ``counts`` (``{id: frames}``) a run
    may learn from.

    A train- or val-split video (``splits``) gives all its frames; a video of another split gives the
    frames every window touching one of its rejected events reads (each event widened by ``reach``, the
    frames of a window past its first, :mod:`core.data.verdicts`). The abnormal spans (anomaly intervals,
    confirmed events) are taken out of both. Videos with no such footage are left out.
    """
    abnormal = abnormal_spans(data)
    rejected = verdict_spans(data, "rejected")
    footage: Spans = {}
    for video_id, count in counts.items():
        if splits.get(video_id) in ("train", "val"):
            spans = [(0, int(count))]
        elif video_id in rejected:
            spans = [(start, min(end, int(count))) for start, end in widen(rejected[video_id], reach)]
        else:
            continue
        kept = subtract(spans, abnormal.get(video_id, []))
        if kept:
            footage[video_id] = kept
    return footage
