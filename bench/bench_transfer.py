"""Scene transfer: each anomaly scorer beside the no-learning flow baseline on Ped2, Ped2 as one recording, planted anomalies.

One table, a row per scene and a column group per scorer, every scorer measured on the same frames with the
same rules in the same run:

* (a) ``ped2``: UCSD Ped2 as shipped (16 training videos, 12 test videos and their ground truth);
* (b) ``one-recording``: the 16 training videos joined into one file, the project's only normal video;
* (c) ``planted``: people cut from Ped2 training videos 01-10 pasted into the unseen videos 11-16: too fast, against
  their lane's flow, slowly where nobody walks (:mod:`core.data.planted`; the projects: :mod:`bench.scenes`).

Scorers: the **flow baseline** (:func:`core.motion.baseline.flow_baseline_scores`: dense flow at half size, mean
speed per 12-pixel cell, z-score against the normal footage, max over cells; no learning), computed here for every
scene; the **motion** preset (per-cell flow statistics, fitted here in seconds on each scene's normal footage
unless ``--no-motion``); the **model** column: the shipped ``future-frame`` model on (a) (``--run-a`` another), and
on (b) and (c) the runs given with ``--run-b`` / ``--run-c`` (trained by the commands in docs/benchmarks.md; the
shipped model learned from all 16 Ped2 training videos, so it has seen (b)'s footage whole and (c)'s "unseen" videos);
the **fusion**: the model run scored with ``--scorer fused`` (its prediction error and its own motion statistics,
fitted when it was trained or by ``framewatch fit-motion``; :mod:`core.inference.anomaly.fusion`), where it has them.

Per scorer and scene: frame AUC per-video normalised and raw, anomalies hit by an event at the calibrated
threshold, false alarms per minute of the test frames outside the anomalies, and frames/s (decode included;
learned scorers: calibration and test frames scored with the score cache emptied first). Every scorer is scored
as ``framewatch evaluate`` scores it by default: its frame error, smoothing and threshold (for a run that held
normal time out: about 0.2 false alarms a minute on that held-out footage, errors averaged over 0.3 s; an older
run such as the shipped model: the 99.5th percentile of its train-split videos, its recommended smoothing). The
baseline's threshold is the same rate rule on its scores of normal footage it did not learn from (each normal
video's halves, scored against statistics of the other halves), smoothed the same way.

    python -m bench transfer [--quick] [--data DIR] [--work DIR] [--run-a RUN] [--run-b RUN] [--run-c RUN]
        [--no-motion] [--scenes ped2,one-recording,planted]

``--quick``: the flow baseline alone (no learned scorer), on every scene.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from bench.figures import Figure  # noqa: E402
from bench.reference_data import default_data_dir  # noqa: E402
from bench.scenes import SCENES, scene_project  # noqa: E402

WORK = REPO / "bench" / "out" / "transfer"
SHIPPED = REPO / "resources" / "models" / "ped2-future-frame"
LABELS = {"ped2": "(a) Ped2 as shipped", "one-recording": "(b) Ped2 one recording", "planted": "(c) planted anomalies"}
#: The issue's quality bar for the learned scorer (model column) per scene: (normalised AUC, raw AUC, false
#: alarms per minute outside the anomalies); every anomaly must be hit.
BAR = {"ped2": (0.97, 0.925, None), "one-recording": (0.95, 0.90, 2.0), "planted": (None, None, 1.0)}
MOTION_RUN = "bench-motion"


@dataclass(frozen=True)
class Row:
    """One scorer on one scene: AUCs in [0, 1] (``None`` where undefined), events at its threshold, speed."""

    auc_normalised: float | None
    auc_raw: float | None
    anomalies: int
    hit: int
    false_alarms: int
    normal_minutes: float
    frames_per_s: float
    note: str = ""

    @property
    def false_alarms_per_minute(self) -> float:
        return self.false_alarms / self.normal_minutes if self.normal_minutes > 0 else 0.0

    def cells(self) -> list[str]:
        def auc(value):
            return "-" if value is None else f"{value:.3f}"

        return [auc(self.auc_normalised), auc(self.auc_raw), f"{self.hit}/{self.anomalies}",
                f"{self.false_alarms_per_minute:.2f}", f"{self.frames_per_s:.0f}"]


def measure(series: dict[str, object], truth: dict[str, list[tuple[int, int]]], threshold: float, fps: float,
            frames_per_s: float, note: str = "", min_run: int = 1, merge_gap: int = 0) -> Row:
    """The :class:`Row` of per-frame scores ``series`` (``{video: (frames,) array}``, already smoothed as the
    threshold expects) against ``truth`` (``{video: [(start, end), ...]}``, frames ``[start, end)``) at
    ``threshold``: events are runs of frames above it (at least ``min_run`` frames, merged ``merge_gap`` apart,
    as scoring flags them); a false alarm is an event touching no anomaly, counted
    per minute of the frames outside the anomalies at ``fps``. The AUCs are of the videos holding an anomaly
    (a video's normalised scores mean nothing without one: its worst normal frame would score 1); the false
    alarms count every video's."""
    import numpy as np

    from core.evaluation.errors import EvaluationError
    from core.evaluation.frame_level import frame_level_scores
    from core.inference.anomaly.events import flag_events

    pairs, anomalies, hit, false, normal_frames = {}, 0, 0, 0, 0
    for key, values in series.items():
        values = np.asarray(values, np.float64)
        labels = np.zeros(len(values), bool)
        for start, end in truth.get(key, []):
            labels[start:end] = True
        if labels.any():
            pairs[key] = (values, labels)
        normal_frames += int((~labels).sum())
        events = flag_events(values, threshold, min_run, merge_gap)
        spans = truth.get(key, [])
        anomalies += len(spans)
        hit += sum(any(e.start < end and start < e.end for e in events) for start, end in spans)
        false += sum(not any(e.start < end and start < e.end for start, end in spans) for e in events)
    try:
        fl = frame_level_scores(pairs)
        normalised, raw = fl.normalised.auc, fl.raw.auc
    except EvaluationError:
        normalised = raw = None
    return Row(normalised, raw, anomalies, hit, false, normal_frames / fps / 60.0, frames_per_s, note)


def _truth(project, videos) -> dict[str, list[tuple[int, int]]]:
    return {v.id: [(i.start, i.end) for i in project.intervals_of(v.id)] for v in videos}


def _gray_frames(path: Path):
    from core.data.planted import read_gray

    return read_gray(path)


def baseline_row(project, min_run: int = 1, merge_gap: int | None = None) -> Row:
    """The flow baseline on ``project``'s test-split videos, learned from its train-split videos (module doc),
    its events flagged with ``min_run`` and ``merge_gap`` (which its rate threshold is calibrated for; ``None``:
    the default of a run calibrated on normal footage it never learned from, about
    :data:`~core.inference.anomaly.regularity.DEFAULT_MERGE_SECONDS`)."""

    from core.data.splits import assign_splits
    from core.inference.anomaly.project_scoring import footage_fps
    from core.inference.anomaly.regularity import (
        DEFAULT_ALARM_RATE,
        DEFAULT_MERGE_SECONDS,
        DEFAULT_SMOOTH_SECONDS,
        Threshold,
    )
    from core.motion.baseline import flow_baseline_scores

    splits = assign_splits(project.data, 0.0)
    normal = [v for v in project.videos.values() if splits[v.id] in ("train", "val")]
    tests = [v for v in project.videos.values() if splits[v.id] == "test"]
    # the threshold: scores of normal footage the statistics never saw (each video's halves, crossed)
    frames = [_gray_frames(v.path) for v in normal]
    first = [f[: len(f) // 2] for f in frames]
    second = [f[len(f) // 2:] for f in frames]
    held_out = [*flow_baseline_scores(first, second), *flow_baseline_scores(second, first)]
    fps = footage_fps(normal)
    window = max(1, round(DEFAULT_SMOOTH_SECONDS * fps))
    merge_gap = round(DEFAULT_MERGE_SECONDS * fps) if merge_gap is None else merge_gap
    threshold = Threshold.calibrate(held_out, window=window, rate=DEFAULT_ALARM_RATE, fps=fps, min_run=min_run,
                                    merge_gap=merge_gap)
    del frames, first, second
    start = time.perf_counter()
    scores = flow_baseline_scores([v.path for v in normal], [v.path for v in tests])
    seconds = time.perf_counter() - start
    count = sum(v.known_frame_count for v in [*normal, *tests])
    fps = tests[0].fps if tests else 10.0
    return measure({v.id: threshold.smooth(s) for v, s in zip(tests, scores, strict=True)}, _truth(project, tests),
                   threshold.value, fps, count / seconds,
                   f"threshold {threshold.describe()} (z), {len(normal)} normal videos", min_run, merge_gap)


def learned_row(project, run: str, scorer: str | None = None, **rule: int | None) -> Row:
    """``run`` scored as ``framewatch evaluate --scorer SCORER`` scores it by default (its calibrated threshold,
    its smoothing; ``rule``: ``min_run``, ``merge_gap`` as ``--min-run``, ``--merge-gap``), the score cache emptied first so frames/s counts every frame it scores (calibration and
    test, both signals of a fused run), decode included."""
    from core.inference.anomaly.project_evaluation import evaluate_project
    from core.inference.anomaly.project_scoring import cached_video_scores, calibration_footage, run_model

    shutil.rmtree(project.cache_dir / "scores", ignore_errors=True)
    model = run_model(project.folder, run, scorer)
    start = time.perf_counter()
    result = evaluate_project(project, model, **rule)
    seconds = time.perf_counter() - start
    scores = result.scores
    tests = [project.videos[v.video_id] for v in scores.videos]
    videos = {video.id: video for video, _ in calibration_footage(project, scores.run)} | {v.id: v for v in tests}
    frames = sum(len(cached_video_scores(project, scores.run, key)) for key in videos)
    series = {v.video_id: scores.threshold.smooth(v.errors) for v in scores.videos}
    fps = tests[0].fps if tests else 10.0
    return measure(series, _truth(project, tests), scores.threshold.value, fps, frames / seconds,
                   f"run {scores.run.run_id}, scorer {scores.run.scorer}, frame error {scores.run.spec.error}, "
                   f"threshold {scores.threshold.describe()}", scores.flagging["min_run"],
                   scores.flagging["merge_gap"])


def fit_motion(folder: Path) -> str:
    """The scene project's ``motion`` run (:data:`MOTION_RUN`), fitted the first time."""
    from core.project import Project
    from core.training.from_project import train_project
    from core.training.request import TrainingRequest

    if (folder / "runs" / MOTION_RUN / "run.json").exists():
        return MOTION_RUN
    project = Project.open(folder)
    try:
        start = time.perf_counter()
        train_project(project, TrainingRequest("anomaly", preset="motion", run_name=MOTION_RUN))
        print(f"fitted the motion preset on {folder.name} in {time.perf_counter() - start:.1f} s", flush=True)
    finally:
        project.close()
    return MOTION_RUN


def table(rows: dict[str, dict[str, Row | str]], scorers: list[str]) -> str:
    """The markdown table: a row per scene, per scorer its five columns (or why it is missing)."""
    columns = ["AUC norm", "AUC raw", "hit", "FA/min", "frames/s"]
    head = ["scene", *[f"{s}: {c}" for s in scorers for c in columns]]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for scene, by_scorer in rows.items():
        cells = [LABELS[scene]]
        for scorer in scorers:
            row = by_scorer.get(scorer, "not run")
            cells += row.cells() if isinstance(row, Row) else [str(row)] + [""] * (len(columns) - 1)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def figures(argv: list[str], quick: bool) -> list[Figure]:
    parser = argparse.ArgumentParser(prog="python -m bench transfer", description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=default_data_dir(), help="the shared data folder")
    parser.add_argument("--work", type=Path, default=WORK, help="work folder (the scene projects, their runs)")
    for scene in ("a", "b", "c"):
        parser.add_argument(f"--run-{scene}", default=None, metavar="RUN",
                            help=f"learned model for scene ({scene}): a run of its work project or a run folder"
                            + (" (default: the shipped model)" if scene == "a" else ""))
    parser.add_argument("--no-motion", action="store_true", help="leave the motion preset out")
    parser.add_argument("--scenes", default=",".join(SCENES), help=f"which scenes (default {','.join(SCENES)})")
    parser.add_argument("--seed", type=int, default=0, help="the planted scene's seed (default 0)")
    parser.add_argument("--min-run", type=int, default=None, metavar="N",
                        help="flag every scorer's events with this minimum run, its threshold calibrated for it "
                        "(default: each run's own rule; the baseline 1)")
    parser.add_argument("--merge-gap", type=int, default=None, metavar="N",
                        help="and this merge gap (default: each run's own; the baseline the product's default "
                        "for a run holding time out, about 0.5 s)")
    args = parser.parse_args(argv)
    ped2 = args.data / "ucsd_ped2"
    if not ped2.is_dir():
        return [Figure("scene transfer", None, skipped=f"no UCSD Ped2 at {ped2}")]
    chosen = [s.strip() for s in args.scenes.split(",") if s.strip()]
    unknown = sorted(set(chosen) - set(SCENES))
    if unknown:
        parser.error(f"unknown scene {', '.join(unknown)}; scenes: {', '.join(SCENES)}")
    args.work.mkdir(parents=True, exist_ok=True)
    runs = {"ped2": args.run_a or str(SHIPPED), "one-recording": args.run_b, "planted": args.run_c}

    from core.inference.errors import ScoreError
    from core.project import Project

    rows: dict[str, dict[str, Row | str]] = {}
    scorers = ["flow baseline"] + ([] if quick else [*(["motion"] if not args.no_motion else []), "model",
                                                      *(["fusion"] if not args.no_motion else [])])
    for scene in chosen:
        folder = scene_project(scene, args.work, ped2, args.seed)
        if not quick and not args.no_motion:
            fit_motion(folder)
        project = Project.open(folder)
        try:
            rule = {"min_run": args.min_run, "merge_gap": args.merge_gap}
            rows[scene] = {"flow baseline": baseline_row(project, args.min_run or 1, args.merge_gap)}
            if not quick and not args.no_motion:
                rows[scene]["motion"] = learned_row(project, MOTION_RUN, **rule)
            if not quick and runs[scene]:
                rows[scene]["model"] = learned_row(project, runs[scene], **rule)
                if not args.no_motion:
                    try:
                        rows[scene]["fusion"] = learned_row(project, runs[scene], "fused", **rule)
                    except ScoreError:  # the shipped model has no motion statistics
                        rows[scene]["fusion"] = "not run: the run has no motion statistics (framewatch fit-motion)"
            elif not quick:
                rows[scene]["model"] = f"no run: --run-{'abc'[SCENES.index(scene)]}"
        finally:
            project.close()
        for scorer, row in rows[scene].items():
            if isinstance(row, Row):
                print(f"{LABELS[scene]}, {scorer}: {' '.join(row.cells())} ({row.note})", flush=True)
    print(table(rows, scorers), flush=True)
    return _figures(rows)


def _figures(rows: dict[str, dict[str, Row | str]]) -> list[Figure]:
    out = []
    for scene, by_scorer in rows.items():
        base = by_scorer["flow baseline"]
        label = LABELS[scene].split(" ", 1)[0]
        for scorer, row in by_scorer.items():
            if not isinstance(row, Row):
                out.append(Figure(f"{label} {scorer}", None, skipped=row))
                continue
            bar = BAR[scene] if scorer == "model" else (None, None, None)
            norm_target = f">= {bar[0]}" if bar[0] is not None else None
            raw_target = f">= {bar[1]}" if bar[1] is not None else None
            if scorer != "flow baseline" and row.auc_raw is not None and base.auc_raw is not None and bar[1] is None:
                raw_target = f"> {base.auc_raw:.4f}"  # beat the baseline measured in this run
            name = f"{label} {scorer}"
            if row.auc_normalised is not None:
                out.append(Figure(f"{name}: frame AUC normalised", row.auc_normalised, "", norm_target))
            if row.auc_raw is not None:
                out.append(Figure(f"{name}: frame AUC raw", row.auc_raw, "", raw_target,
                                  "baseline in this run" if raw_target and raw_target.startswith(">") and bar[1] is None
                                  else ""))
            out.append(Figure(f"{name}: anomalies hit", row.hit, "",
                              f">= {row.anomalies}" if scorer == "model" else None, f"of {row.anomalies}"))
            out.append(Figure(f"{name}: false alarms/min outside anomalies", row.false_alarms_per_minute, "/min",
                              f"<= {bar[2]}" if bar[2] is not None else None,
                              f"{row.false_alarms} in {row.normal_minutes:.2f} min"))
            out.append(Figure(f"{name}: frames/s", row.frames_per_s, "fps", None, row.note[:80]))
    return out


if __name__ == "__main__":
    from bench.runner import run_script

    sys.exit(run_script("transfer", figures, __doc__.splitlines()[0]))
