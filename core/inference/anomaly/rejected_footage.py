"""The footage of the events an analyst rejected for a run: normal frames its calibration learns from.

A rejected event is a false alarm: frames of normal footage the run found strange. Refitting a run from its
verdicts (``framewatch refit``, :mod:`core.training.verdict_refit`) adds those frames to the footage the
run's error level, motion statistics and threshold are fitted on, beside the normal footage it held out of
its training. :func:`rejected_footage` finds them:

* the events of the project's verdicts ``"rejected"`` whose run is this run
  (:func:`~core.inference.anomaly.project_scoring.project_run_id`);
* less every frame the run trained on (``data["held_out"]["trained"]``, widened by the record's gap as
  held-out footage is; a run recorded before runs held out time: its train-split videos), so nothing is
  ever fitted on frames the model learned from;
* less the abnormal frames (anomaly intervals, confirmed events).

The refit records the spans in ``run.json`` (the last entry of ``data["verdict_refits"]``, by video name and
content, :func:`recorded_rejected`), so the threshold that scoring calibrates from then on
(:func:`~core.inference.anomaly.project_scoring.calibration_footage`) takes the same frames, in any
project holding that footage.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.data.spans import frames_in, merge, subtract
from core.data.verdicts import Spans, abnormal_spans, verdict_spans, widen

#: ``run.json``'s ``data`` entry listing the refits from verdicts, the last one first in force.
REFITS_ENTRY = "verdict_refits"


@dataclass(frozen=True)
class RejectedFootage:
    """The rejected events of a run (``events``, how many) and their frames it may learn from: ``spans``,
    ``{video id: [(start, end), ...]}``; ``left_out`` frames of those events were dropped (trained on, or
    abnormal)."""

    events: int
    spans: Spans
    left_out: int

    @property
    def frames(self) -> int:
        return sum(frames_in(spans) for spans in self.spans.values())

    def record(self, data: Any) -> list[dict[str, Any]]:
        """The spans as ``run.json`` holds them: ``[{"name", "content", "spans": [[start, end], ...]}]``,
        videos in project order (``data``: the project's :class:`~core.project.entities.ProjectData`)."""
        return [{"name": video.name, "content": video.fingerprint.key,
                 "spans": [[int(start), int(end)] for start, end in self.spans[video.id]]}
                for video in data.videos.values() if self.spans.get(video.id)]


def trained_frames(project: Any, run: Any) -> tuple[Spans, int]:
    """``({video id: [(start, end), ...]}, gap)``: the frames of ``project`` that ``run`` (a
    :class:`~core.runs.model.RunModel`) trained on, and the gap its held-out footage keeps from them. A run
    recorded before runs held out time: its train-split videos whole, no gap."""
    from core.data.held_out import replay_held_out
    from core.inference.anomaly.project_scoring import split_videos

    held = replay_held_out(project.data, run.record.data.get("held_out"))
    if held is not None:
        return dict(held.train), held.gap
    return {video.id: [(0, _END)] for video in split_videos(project, run, "train")}, 0


#: The end of a span that runs to the end of its video, whatever its length.
_END = 2**62


def rejected_footage(project: Any, run: Any, reach: int = 0) -> RejectedFootage:
    """The rejected events of ``run`` in ``project`` and their frames it may learn from (module doc).

    ``reach``: each event also takes the ``reach`` frames before it (the input frames of a next-frame
    window predicting its first frame), before the trained and abnormal frames are taken out.
    """
    from core.inference.anomaly.project_scoring import project_run_id

    run_id = project_run_id(project, run)
    found = verdict_spans(project.data, "rejected", run_id)
    events = sum(1 for entry in project.verdicts.values() if entry.verdict == "rejected" and entry.run_id == run_id)
    trained, gap = trained_frames(project, run)
    abnormal = abnormal_spans(project.data)
    spans: Spans = {}
    left_out = 0
    for video_id, events_of_video in found.items():
        if video_id not in project.videos:
            continue
        wanted = merge((max(0, start - reach), end) for start, end in events_of_video)
        kept = subtract(wanted, widen(trained.get(video_id, []), gap) + abnormal.get(video_id, []))
        left_out += frames_in(wanted) - frames_in(kept)
        if kept:
            spans[video_id] = kept
    return RejectedFootage(events, spans, left_out)


def recorded_rejected(project: Any, run: Any) -> Spans:
    """``{video id: [(start, end), ...]}``: the rejected footage ``run``'s last refit from verdicts recorded
    (``data["verdict_refits"]``), found by content in ``project``; ``{}`` for a run never refitted."""
    refits = run.record.data.get(REFITS_ENTRY)
    if not isinstance(refits, list) or not refits or not isinstance(refits[-1], Mapping):
        return {}
    by_content: dict[str, list[tuple[int, int]]] = {}
    for entry in refits[-1].get("videos") or ():
        if not isinstance(entry, Mapping) or not isinstance(entry.get("content"), str):
            continue
        spans = entry.get("spans")
        for pair in spans if isinstance(spans, list) else ():
            if (isinstance(pair, list | tuple) and len(pair) == 2
                    and all(isinstance(v, int) and not isinstance(v, bool) for v in pair)):
                by_content.setdefault(entry["content"], []).append((pair[0], pair[1]))
    return {video.id: merge(by_content[video.fingerprint.key]) for video in project.videos.values()
            if video.fingerprint.key in by_content}
