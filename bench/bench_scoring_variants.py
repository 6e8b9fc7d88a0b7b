"""Scoring variants of one next-frame run, recombined offline: error level, frame error, smoothing, threshold rule.

Issue 18's "one recording" scene asks whether the way a run's prediction errors become a per-frame score and a
threshold, rather than the predictor itself, is what keeps it short of its bar. This benchmark scores a run's
calibration footage (the normal time it held out of training) and the scene's test videos **once**, keeping each
frame's squared errors pooled over 8x8-pixel patches (a 64x96 frame has 8 x 12 of them), with and without its
error level, and then sweeps in numpy:

* **error level**: ``none`` (squared errors as they are), ``fitted`` (the run's ``error_level.keras``, fitted on all
  the held-out windows, which the threshold is then calibrated on: what scoring does today), ``cross-fitted`` (the
  held-out blocks split into ``--folds`` folds; a level fitted here on the other folds' windows, with the run's
  own recipe, divides each fold's errors, so no calibration frame was seen by the level that scores it; test
  videos keep the run's level);
* **frame error**: ``mse`` (mean of the patches), ``worst`` (the worst sixteenth of the patches, the product's
  ``worst-patches``), ``cell`` (each patch divided by its own mean on held-out normal frames, cross-fitted by fold
  for the calibration frames, then the worst sixteenth: "this region always errs" taken out);
* **smoothing** 1, 3, 5, 9 frames (causal), and the **threshold rule**: about 0.2 false alarms a minute on the
  held-out frames (:func:`~core.inference.anomaly.regularity.rate_threshold`, the default) or their 99.5th
  percentile;
* **scorer**: the prediction error alone, or fused with the run's motion statistics as ``--scorer fused`` fuses
  them (each divided by its 99th percentile on the held-out frames, summed), where the score cache holds the
  motion scores (``python -m bench transfer`` leaves them there).

Per variant: frame AUC per-video normalised and raw, anomalies hit and false alarms per minute of the test frames
outside the anomalies at the calibrated threshold (:func:`bench.bench_transfer.measure`, the rules of ``python -m
bench transfer``), and the **best any threshold can do**: the false alarms a minute at the highest threshold that
still hits every anomaly (what limits the scores, whatever the rule).

    python -m bench scoring_variants [--work DIR] [--run-b RUN] [--run-c RUN] [--scenes one-recording,planted]
        [--folds 4]

The scene projects and runs are those of ``python -m bench transfer`` (its ``--work``). The scores are kept in
``WORK/SCENE/cache/variants-RUN.npz`` (the next run of this benchmark reads them back); the runs are not changed.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from bench.bench_transfer import LABELS, WORK, measure  # noqa: E402
from bench.figures import Figure  # noqa: E402

SCENES = ("one-recording", "planted")
#: Patches per side: 8 rows (of height / 8 pixels), as many square columns as fit.
PATCH_ROWS = 8
#: The share of patches ``worst`` and ``cell`` average (the product's worst-patches: 1/16).
WORST_SHARE = 16
SMOOTHING = (1, 3, 5, 9)
RULES = (("rate", 0.2), ("percentile", 99.5))
LEVELS = ("none", "fitted", "cross-fitted")
ERRORS = ("mse", "worst", "cell")
SCORERS = ("prediction", "fused")


def patches(maps: np.ndarray) -> np.ndarray:
    """``(frames, H, W)`` squared errors -> ``(frames, 8, W // (H // 8))`` patch means (float32)."""
    n, height, width = maps.shape
    side = max(1, height // PATCH_ROWS)
    rows, cols = height // side, width // side
    return maps[:, :rows * side, :cols * side].reshape(n, rows, side, cols, side).mean(axis=(2, 4)).astype(np.float32)


def worst_mean(p: np.ndarray, share: int = WORST_SHARE) -> np.ndarray:
    """Per frame, the mean of the worst ``1/share`` of the patches ``p`` ``(frames, rows, cols)`` (all: ``share`` 1)."""
    flat = p.reshape(len(p), -1).astype(np.float64)
    worst = max(1, flat.shape[1] // share)
    return flat.mean(axis=1) if worst >= flat.shape[1] else np.sort(flat, axis=1)[:, -worst:].mean(axis=1)


def _level_maps(level, clips: np.ndarray) -> np.ndarray:
    from core.models.error_level import expected_squared_error

    return np.concatenate([expected_squared_error(level, clips[i:i + 128]) for i in range(0, len(clips), 128)])


def _predict(model, spec, video) -> tuple[np.ndarray, np.ndarray]:
    """A video's input clips ``(frames - L, L, H, W, C)`` and squared error maps of frames ``L ..``."""
    from core.inference.anomaly.scoring import squared_errors
    from core.preprocessing.frames import iter_resized
    from core.video.open import open_video

    length = spec.frames
    with open_video(video.path) as source:
        frames = np.stack(list(iter_resized(source, spec.preprocess)))
    clips = np.lib.stride_tricks.sliding_window_view(frames, length, axis=0)[:-1]
    clips = np.ascontiguousarray(np.moveaxis(clips, -1, 1))
    maps = []
    for i in range(0, len(clips), 64):
        batch = clips[i:i + 64]
        output = np.asarray(model.predict_on_batch(spec.model_input(batch)))
        maps.append(squared_errors(output[:, -1], frames[length + i:length + i + len(batch)]))
    return clips, np.concatenate(maps)


def collect(project, run: str, folds: int) -> tuple[dict[str, np.ndarray], dict]:
    """Score ``run``'s held-out footage and ``project``'s test videos once (module doc): patch errors per level."""
    from core.inference.anomaly.project_scoring import (
        cached_video_scores,
        calibration_footage,
        run_model,
        split_videos,
    )
    from core.training.error_level import _inside, _train

    model_run = run_model(project.folder, run)
    model, fitted = model_run.load_models()
    if fitted is None:
        raise SystemExit(f"run {run!r} has no error level: this study compares its error levels")
    spec = model_run.spec
    length = spec.frames
    started = time.perf_counter()
    videos, units = {}, []
    for video, spans in calibration_footage(project, model_run):
        videos[video.id] = _predict(model, spec, video)
        units += [(video.id, (int(a), int(b))) for a, b in (spans or [(0, len(videos[video.id][0]) + length)])]
    k = max(2, min(folds, len(units)))
    fold_of = {unit: i % k for i, unit in enumerate(units)}
    levels = []
    for fold in range(k):
        clips, errors = [], []
        for (video_id, (a, b)), f in fold_of.items():
            if f == fold:
                continue
            inside = np.flatnonzero(_inside([(a, b)], length)[length:]) if b - a > length else np.zeros(0, int)
            clips.append(videos[video_id][0][inside])
            errors.append(videos[video_id][1][inside])
        fit_clips, fit_errors = np.concatenate(clips), np.concatenate(errors)[..., None].astype(np.float32)
        level, loss = _train(model_run, fit_clips, fit_errors, 16, 16, 0, None, None)
        levels.append(level)
        print(f"  fold {fold + 1}/{k}: error level fitted on {len(fit_clips)} held-out windows (loss {loss:.2f})",
              flush=True)
    arrays: dict[str, np.ndarray] = {}
    meta: dict = {"units": [], "tests": [], "folds": k}
    for i, ((video_id, (a, b)), fold) in enumerate(fold_of.items()):
        clips, maps = videos[video_id]
        first = max(a, length)
        part = slice(first - length, min(b, len(maps) + length) - length)
        arrays[f"unit{i}/none"] = patches(maps[part])
        arrays[f"unit{i}/fitted"] = patches(maps[part] / _level_maps(fitted, clips[part]))
        arrays[f"unit{i}/cross-fitted"] = patches(maps[part] / _level_maps(levels[fold], clips[part]))
        motion = _motion(project, model_run, video_id, cached_video_scores)
        if motion is not None:
            arrays[f"unit{i}/motion"] = motion[first:b]
        meta["units"].append({"video": project.videos[video_id].name, "span": [a, b], "first": first, "fold": fold})
    for i, video in enumerate(split_videos(project, model_run, "test")):
        clips, maps = _predict(model, spec, video)
        arrays[f"test{i}/none"] = patches(maps)
        arrays[f"test{i}/fitted"] = patches(maps / _level_maps(fitted, clips))
        motion = _motion(project, model_run, video.id, cached_video_scores)
        if motion is not None:
            arrays[f"test{i}/motion"] = motion
        meta["tests"].append({"name": video.name, "first": length, "fps": float(video.fps or 10.0),
                              "truth": [[iv.start, iv.end] for iv in project.intervals_of(video.id)]})
    meta["seconds"] = round(time.perf_counter() - started, 1)
    return arrays, meta


def _motion(project, model_run, video_id: str, cached) -> np.ndarray | None:
    from core.inference.anomaly.project_scoring import run_model
    from core.inference.errors import ScoreError

    try:
        motion_run = run_model(project.folder, model_run.run_dir, "motion")
    except ScoreError:
        return None
    found = cached(project, motion_run, video_id)
    return None if found is None else np.asarray(found, np.float64)


def _series(arrays, meta, level: str, error: str) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Calibration series (one per held-out block) and test series (frames ``first ..``) of one variant."""
    units, tests = meta["units"], meta["tests"]
    cal = [arrays[f"unit{i}/{level}"] for i in range(len(units))]
    test = [arrays[f"test{i}/{'fitted' if level == 'cross-fitted' else level}"] for i in range(len(tests))]
    if error == "mse":
        return [worst_mean(p, 1) for p in cal], [worst_mean(p, 1) for p in test]
    if error == "worst":
        return [worst_mean(p) for p in cal], [worst_mean(p) for p in test]
    folds = [u["fold"] for u in units]  # cell: each patch over its held-out mean, cross-fitted by fold

    def cell_mean(parts):
        return np.concatenate(parts).mean(axis=0) + 1e-12

    out = [worst_mean(p / cell_mean([q for q, g in zip(cal, folds, strict=True) if g != f]))
           for p, f in zip(cal, folds, strict=True)]
    return out, [worst_mean(p / cell_mean(cal)) for p in test]


def _fuse(arrays, meta, cal, test):
    """The prediction series fused with the motion scores (module doc), or ``None`` without motion scores."""
    units, tests = meta["units"], meta["tests"]
    if not all(f"unit{i}/motion" in arrays for i in range(len(units))) or not all(
            f"test{i}/motion" in arrays for i in range(len(tests))):
        return None
    motion_cal = [arrays[f"unit{i}/motion"] for i in range(len(units))]
    motion_test = [arrays[f"test{i}/motion"][t["first"]:] for i, t in enumerate(tests)]
    scale_p = np.percentile(np.concatenate(cal), 99)
    scale_m = np.percentile(np.concatenate(motion_cal), 99)

    def fused(p, m):
        n = min(len(p), len(m))
        return p[:n] / scale_p + m[:n] / scale_m

    return ([fused(p, m) for p, m in zip(cal, motion_cal, strict=True)],
            [fused(p, m) for p, m in zip(test, motion_test, strict=True)])


def sweep(arrays, meta) -> list[dict]:
    """Every variant's figures (module doc)."""
    from core.inference.anomaly.regularity import Threshold

    tests = meta["tests"]
    fps = tests[0]["fps"]
    truth = {t["name"]: [tuple(x) for x in t["truth"]] for t in tests}
    rows = []
    for level, error, scorer in itertools.product(LEVELS, ERRORS, SCORERS):
        cal, test = _series(arrays, meta, level, error)
        if scorer == "fused":
            found = _fuse(arrays, meta, cal, test)
            if found is None:
                continue
            cal, test = found
        full = [np.concatenate([np.full(t["first"], s[0]), s]) for t, s in zip(tests, test, strict=True)]
        for window, (rule, value) in itertools.product(SMOOTHING, RULES):
            if rule == "rate":
                threshold = Threshold.calibrate(cal, window=window, rate=value, fps=fps)
            else:
                threshold = Threshold.calibrate(cal, value, window)
            series = {t["name"]: threshold.smooth(s) for t, s in zip(tests, full, strict=True)}
            row = measure(series, truth, threshold.value, fps, 0.0)
            peaks = [float(series[name][a:b].max()) for name, spans in truth.items() for a, b in spans]
            best = measure(series, truth, min(peaks) * (1 - 1e-9), fps, 0.0) if peaks else row
            rows.append({"level": level, "error": error, "scorer": scorer, "smoothing": window,
                         "rule": f"{rule} {value:g}", "threshold": threshold.value, "auc_normalised": row.auc_normalised,
                         "auc_raw": row.auc_raw, "hit": row.hit, "anomalies": row.anomalies,
                         "false_alarms": row.false_alarms, "fa_per_min": row.false_alarms_per_minute,
                         "best_fa_per_min": best.false_alarms_per_minute, "normal_minutes": row.normal_minutes})
    return rows


def _line(r: dict) -> str:
    def auc(v):
        return "-" if v is None else f"{v:.3f}"

    return (f"| {r['level']} | {r['error']} | {r['scorer']} | {r['smoothing']} | {r['rule']} | {auc(r['auc_normalised'])} / "
            f"{auc(r['auc_raw'])} | {r['hit']}/{r['anomalies']} | {r['fa_per_min']:.2f} | {r['best_fa_per_min']:.2f} |")


def figures(argv: list[str], quick: bool) -> list[Figure]:
    parser = argparse.ArgumentParser(prog="python -m bench scoring_variants", description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=WORK, help="python -m bench transfer's work folder")
    parser.add_argument("--run-b", default="ff-full", metavar="RUN", help="the one-recording scene's run")
    parser.add_argument("--run-c", default="future-frame", metavar="RUN", help="the planted scene's run")
    parser.add_argument("--scenes", default=",".join(SCENES), help=f"which scenes (default {','.join(SCENES)})")
    parser.add_argument("--folds", type=int, default=4, help="folds of held-out blocks for cross-fitting (default 4)")
    args = parser.parse_args(argv)
    if quick:
        return [Figure("scoring variants", None, skipped="scores two scenes' runs and fits error levels: no quick form")]
    from core.project import Project

    out = []
    for scene in [s.strip() for s in args.scenes.split(",") if s.strip()]:
        if scene not in SCENES:
            parser.error(f"unknown scene {scene!r}; scenes: {', '.join(SCENES)}")
        folder = args.work / scene
        run = args.run_b if scene == "one-recording" else args.run_c
        if not (folder / "runs" / run / "run.json").is_file():
            out.append(Figure(f"{LABELS[scene]} variants", None, skipped=f"no run {run!r} in {folder}"))
            continue
        saved = folder / "cache" / f"variants-{run}.npz"
        if saved.is_file():
            with np.load(saved, allow_pickle=False) as data:
                arrays = {key: data[key] for key in data.files if key != "meta"}
                meta = json.loads(str(data["meta"]))
        else:
            print(f"{LABELS[scene]}: scoring run {run!r} once", flush=True)
            project = Project.open(folder, read_only=True)
            try:
                arrays, meta = collect(project, run, args.folds)
            finally:
                project.close()
            saved.parent.mkdir(parents=True, exist_ok=True)
            np.savez(saved, meta=np.array(json.dumps(meta)), **arrays)
        rows = sweep(arrays, meta)
        print(f"\n{LABELS[scene]}, run {run} ({len(meta['units'])} held-out blocks, {meta['folds']} folds)\n")
        print("| error level | frame error | scorer | smoothing | threshold | AUC norm / raw | hit | FA/min | "
              "best FA/min hitting all |\n|---|---|---|---|---|---|---|---|---|")
        for r in rows:
            print(_line(r))
        name = LABELS[scene].split(" ", 1)[0]
        default = next(r for r in rows if (r["level"], r["error"], r["scorer"], r["smoothing"], r["rule"])
                       == ("fitted", "mse", "prediction", 3, "rate 0.2"))
        best = min(rows, key=lambda r: (r["best_fa_per_min"], -(r["auc_normalised"] or 0)))
        out += [Figure(f"{name} default scoring: anomalies hit", default["hit"], "", None, f"of {default['anomalies']}"),
                Figure(f"{name} default scoring: false alarms/min", default["fa_per_min"], "/min"),
                Figure(f"{name} lowest false alarms/min of any variant at any threshold hitting all",
                       best["best_fa_per_min"], "/min", None,
                       f"{best['level']}, {best['error']}, {best['scorer']}, {best['smoothing']} frames")]
    return out
