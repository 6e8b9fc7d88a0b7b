"""What the analyst's verdicts on flagged events mean for the data of the next anomaly training run.

An anomaly model learns from normal footage only. A review changes what counts as normal:

* a **confirmed** event is abnormal, like a ground-truth anomaly interval: no training window touches it;
* a **rejected** event is a false alarm: its frames are normal footage the model found strange, so they
  are exactly what the next run must learn. On a train-split video they already are normal footage; on a
  video of another split (the test footage usually scored and reviewed), the training windows that touch
  a rejected event are added to the train split (:func:`core.data.datasets.build_batches`), and the
  windows of that video's own split stay clear of every frame those windows read
  (:func:`widen` by the reach of a window), so no frame feeds two splits;
* an **unsure** verdict changes nothing.
"""

from __future__ import annotations

from core.project.entities import ProjectData

Spans = dict[str, list[tuple[int, int]]]


def verdict_spans(data: ProjectData, verdict: str, run_id: str | None = None) -> Spans:
    """``{video id: [(start, end), ...]}`` of the events given ``verdict`` (frames ``[start, end)``); with
    ``run_id``, only the events that run flagged."""
    spans: Spans = {}
    for entry in data.verdicts.values():
        if entry.verdict == verdict and (run_id is None or entry.run_id == run_id):
            spans.setdefault(entry.video_id, []).append((entry.start, entry.end))
    return spans


def abnormal_spans(data: ProjectData) -> Spans:
    """Frames no normal training window may touch: the anomaly intervals and the confirmed events."""
    spans: Spans = {}
    for interval in data.intervals.values():
        spans.setdefault(interval.video_id, []).append((interval.start, interval.end))
    for video_id, found in verdict_spans(data, "confirmed").items():
        spans.setdefault(video_id, []).extend(found)
    return spans


def widen(spans: list[tuple[int, int]], reach: int) -> list[tuple[int, int]]:
    """Each span grown by ``reach`` frames on both sides (start clipped at 0): every frame a window of that
    reach touching the span can read."""
    return [(max(0, start - reach), end + reach) for start, end in spans]
