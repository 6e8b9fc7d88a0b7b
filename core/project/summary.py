"""What a project holds, counted: the app's video list and ``framewatch project info`` show the same numbers."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from core.project.entities import NormalSpan
from core.project.project import Project


@dataclass(frozen=True)
class VideoCounts:
    """Per video: labelled subclips, ground-truth anomaly intervals, review verdicts and normal spans."""

    subclips: int = 0
    intervals: int = 0
    verdicts: int = 0
    normal_spans: int = 0


def counts_per_video(project: Project) -> dict[str, VideoCounts]:
    """:class:`VideoCounts` of every video of ``project`` by video id (zeros for a video with nothing)."""
    subclips = Counter(s.video_id for s in project.subclips.values())
    intervals = Counter(i.video_id for i in project.intervals.values())
    verdicts = Counter(v.video_id for v in project.verdicts.values())
    normal = Counter(n.video_id for n in project.normal_spans.values())
    return {vid: VideoCounts(subclips[vid], intervals[vid], verdicts[vid], normal[vid]) for vid in project.videos}


@dataclass
class ProjectSummary:
    """Counts of a project and the problems found in it; :meth:`as_dict` is its JSON form.

    ``frames`` sums the videos' known frame counts (decoded, else declared); ``abnormal_frames`` the
    lengths of the anomaly intervals; ``normal_frames`` the frames the normal spans cover (overlapping
    spans of a video counted once). ``issues`` are ``{"severity", "kind", "message"}`` records.
    """

    name: str
    folder: str
    videos: int
    videos_by_split: dict[str, int]
    frames: int
    unscanned_videos: int
    classes: list[str]
    targets: list[str]
    subclips: int
    subclips_by_label: dict[str, int]
    intervals: int
    abnormal_frames: int
    normal_spans: int
    normal_frames: int
    verdicts: dict[str, int]
    runs: int
    recovery: str | None
    issues: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def project_summary(project: Project, check_files: bool = True) -> ProjectSummary:
    """Summarise ``project``; ``check_files`` also checks that video files exist and are unchanged."""
    videos = list(project.videos.values())
    subclips = list(project.subclips.values())
    issues = project.validate(check_files=check_files)
    return ProjectSummary(
        name=project.name,
        folder=str(project.folder),
        videos=len(videos),
        videos_by_split=dict(Counter(v.split or "auto" for v in videos)),
        frames=sum(v.known_frame_count for v in videos),
        unscanned_videos=sum(v.frame_count is None for v in videos),
        classes=[c.name for c in project.classes.values()],
        targets=[t.name for t in project.targets.values()],
        subclips=len(subclips),
        subclips_by_label=dict(Counter(s.label if s.label is not None else "(value)" for s in subclips)),
        intervals=len(project.intervals),
        abnormal_frames=sum(i.end - i.start for i in project.intervals.values()),
        normal_spans=len(project.normal_spans),
        normal_frames=_covered(project.normal_spans.values()),
        verdicts=dict(Counter(v.verdict for v in project.verdicts.values())),
        runs=len(project.runs),
        recovery=project.recovery.describe() if project.recovery else None,
        issues=[{"severity": i.severity, "kind": i.kind, "message": i.message} for i in issues],
    )


def _covered(spans: Iterable[NormalSpan]) -> int:
    """Frames the spans cover, each frame of a video counted once however many spans hold it."""
    by_video: dict[str, list[tuple[int, int]]] = {}
    for span in spans:
        by_video.setdefault(span.video_id, []).append((span.start, span.end))
    total = 0
    for ranges in by_video.values():
        reached = 0
        for start, end in sorted(ranges):
            start = max(start, reached)
            if end > start:
                total += end - start
                reached = end
    return total
