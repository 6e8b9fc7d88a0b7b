"""UCSD Ped2 quality: the shipped anomaly model's frame AUC against the no-learning frame-difference baseline.

The model (default: the one shipped in ``resources/models/ped2-future-frame``, or ``--run``, or one
trained in this run with ``--train MINUTES``) scores the 12 test videos through ``framewatch evaluate``'s
code (:func:`core.inference.anomaly.project_evaluation.evaluate_project`, threshold calibrated on the 16 training
videos). In the same run, the baseline that needs no learning: the largest mean absolute difference
between consecutive full-resolution (240x360) gray frames over 20x20 patches, as is and averaged over the
last 5 frames and over the model's smoothing window. Ped2's anomalies (cyclists, a cart, skaters) move fast, so motion energy alone does well
on it; the model must beat it on both the per-video normalised and the raw AUC.

    python -m bench ped2 [--quick] [--data DIR] [--work DIR] [--run RUN] [--train MINUTES [--ship]]

``--train MINUTES`` trains the ``future-frame`` preset on the work folder's Ped2 project for at most that
many minutes (``framewatch train PROJECT --task anomaly --stride 1 --steps-per-epoch 100 --batch-size 8
--patience 0 --seed 1 --max-minutes MINUTES``, the command docs/models.md records), which then fits the
run's error level (the wall time reported covers both), and evaluates that run; ``--ship`` then exports it (``framewatch export-run ... --error worst-patches --smooth 3``) as the shipped
model. ``--quick`` evaluates without training.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from bench.bench_scoring import ped2_project  # noqa: E402 - the same work project import
from bench.figures import Figure  # noqa: E402
from bench.reference_data import default_data_dir  # noqa: E402

WORK = REPO / "bench" / "out" / "ped2"
SHIPPED = REPO / "resources" / "models" / "ped2-future-frame"
PATCH = 20  # baseline patch side at 240x360
AVERAGE = 5  # baseline's causal average, frames
#: The scoring the shipped model is meant for (recorded in its run.json by export-run).
SHIPPED_SCORING = {"error": "worst-patches", "smooth": 3}
TRAIN_ARGS = ["--task", "anomaly", "--stride", "1", "--steps-per-epoch", "100", "--batch-size", "8",
              "--patience", "0", "--seed", "1", "--epochs", "1000"]


def baseline_errors(project, videos) -> dict[str, object]:
    """Each test video's per-frame baseline score: max over 20x20 patches of |frame t - frame t-1| (gray)."""
    import cv2
    import numpy as np

    from core.video.open import open_video

    scores = {}
    for video in videos:
        values, previous = [], None
        with open_video(video.path) as source:
            for frame in source.iter_frames():
                gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0 if frame.ndim == 3 else (
                    frame.astype(np.float32) / 255.0)
                if previous is not None:
                    diff = np.abs(gray - previous)
                    h, w = (diff.shape[0] // PATCH) * PATCH, (diff.shape[1] // PATCH) * PATCH
                    patches = diff[:h, :w].reshape(h // PATCH, PATCH, w // PATCH, PATCH).mean(axis=(1, 3))
                    values.append(float(patches.max()))
                previous = gray
        values.insert(0, values[0])  # the first frame has no previous one: it carries the second's
        scores[video.id] = np.asarray(values)
    return scores


def _causal_average(values, window: int):
    import numpy as np

    padded = np.concatenate([np.full(window - 1, values[0]), values])
    return np.convolve(padded, np.ones(window) / window, mode="valid")


def baseline_figures(project, videos, model_smoothing: int = 1) -> dict[str, tuple[float, float]]:
    """``{name: (normalised AUC, raw AUC)}`` of the baseline as is, averaged over the model's smoothing
    window (the same smoothing as the model's scores: a like-for-like comparison) and over 5 frames."""
    from core.data.ground_truth import frame_labels
    from core.evaluation.frame_level import frame_level_scores

    scores = baseline_errors(project, videos)
    out = {}
    variants = [("frame difference, 20x20 patch max", lambda v: v)]
    if model_smoothing not in (1, AVERAGE):
        variants.append((f"the same, causal {model_smoothing}-frame average as the model's",
                         lambda v: _causal_average(v, model_smoothing)))
    variants.append((f"the same, causal {AVERAGE}-frame average", lambda v: _causal_average(v, AVERAGE)))
    for name, transform in variants:
        pairs = {key: (transform(values), frame_labels(project.data, key, len(values))) for key, values in scores.items()}
        fl = frame_level_scores(pairs)
        out[name] = (fl.normalised.auc, fl.raw.auc)
    return out


def train(project_folder: Path, minutes: float, name: str) -> tuple[str, float]:
    """Train the future-frame preset for at most ``minutes`` with ``framewatch train``, which then fits the
    run's error level; (run name, wall minutes of both)."""
    from core.cli.main import main as framewatch

    start = time.perf_counter()
    code = framewatch(["train", str(project_folder), *TRAIN_ARGS, "--max-minutes", f"{minutes:g}", "--name", name])
    if code != 0:
        raise RuntimeError(f"framewatch train exited with {code}")
    return name, (time.perf_counter() - start) / 60.0


def without_error_level(project_folder: Path, run: str):
    """``run``'s model scored by its squared errors alone (its error level, if any, left out)."""
    import dataclasses

    from core.inference.anomaly.project_scoring import run_model

    model = run_model(project_folder, run)
    if model.error_level_path is None:
        return None
    return dataclasses.replace(model, error_level_path=None, spec=dataclasses.replace(model.spec, error_level=""))


def figures(argv: list[str], quick: bool) -> list[Figure]:
    parser = argparse.ArgumentParser(prog="python -m bench ped2", description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=default_data_dir(), help="the shared data folder")
    parser.add_argument("--work", type=Path, default=WORK, help="work folder (the Ped2 project, runs)")
    parser.add_argument("--run", default=None, help="a run of the work project or a run folder "
                        "(default: the shipped model)")
    parser.add_argument("--train", type=float, default=None, metavar="MINUTES",
                        help="train the future-frame preset for at most MINUTES first, and evaluate that run")
    parser.add_argument("--ship", action="store_true", help="with --train: export the run as the shipped model")
    args = parser.parse_args(argv)
    if args.ship and args.train is None:
        parser.error("--ship needs --train")
    ped2 = args.data / "ucsd_ped2"
    if not ped2.is_dir():
        return [Figure("Ped2 frame AUC", None, skipped=f"no UCSD Ped2 at {ped2}")]
    args.work.mkdir(parents=True, exist_ok=True)

    from core.inference.anomaly.project_evaluation import evaluate_project
    from core.inference.anomaly.project_scoring import run_model, split_videos

    project = ped2_project(args.work, ped2)
    folder = project.folder
    out: list[Figure] = []
    run = args.run or str(SHIPPED)
    if args.train is not None and not quick:
        project.close()
        run, minutes = train(folder, args.train, time.strftime("future-frame-%Y%m%d-%H%M%S"))
        out.append(Figure("training wall time, future-frame preset and its error level", minutes, "min", "<= 30",
                          f"run {run}, --max-minutes {args.train:g}, then its error level"))
        from core.project import Project

        project = Project.open(folder)
        if args.ship:
            from core.runs import find_run_dir
            from core.runs.export import export_run

            export_run(find_run_dir(folder, run), SHIPPED, overwrite=True, scoring=SHIPPED_SCORING)
            print(f"shipped run {run} as {SHIPPED.relative_to(REPO)}", flush=True)
            run = str(SHIPPED)
    try:
        start = time.perf_counter()
        # a run without a recommended scoring (export-run writes one) is scored as the shipped model is
        recommended = run_model(folder, run).record.data.get("scoring")
        scoring = {} if recommended else {"error": SHIPPED_SCORING["error"], "smoothing": SHIPPED_SCORING["smooth"]}
        result = evaluate_project(project, run, **scoring)
        seconds = time.perf_counter() - start
        figures_ = result.to_dict()
        plain_run = without_error_level(folder, run)
        plain = evaluate_project(project, plain_run, **scoring).to_dict() if plain_run is not None else None
        tests = split_videos(project, result.scores.run, "test")
        baselines = baseline_figures(project, tests, int(figures_["smoothing"]))
    finally:
        project.close()
    normalised, raw = figures_["auc_normalised"], figures_["auc_raw"]
    how = f"frame error {figures_['frame_error']}, smoothing {figures_['smoothing']}"
    print(f"## UCSD Ped2, run {figures_['run']} ({how}): {figures_['videos']} test videos scored and measured "
          f"in {seconds:.0f} s", flush=True)
    print(f"model     AUC {normalised:.4f} normalised, {raw:.4f} raw; {figures_['anomalies_hit']} of "
          f"{figures_['anomalies']} anomalies hit, {figures_['false_alarms_per_minute']:.2f} false alarms/min")
    if plain is not None:
        print(f"model without its error level: AUC {plain['auc_normalised']:.4f} normalised, "
              f"{plain['auc_raw']:.4f} raw; {plain['anomalies_hit']} of {plain['anomalies']} anomalies hit")
    for name, (b_norm, b_raw) in baselines.items():
        print(f"baseline  AUC {b_norm:.4f} normalised, {b_raw:.4f} raw ({name})")
    out += [
        Figure("frame AUC, per-video normalised", normalised, "", ">= 0.95", how),
        Figure("frame AUC, raw", raw, "", ">= 0.90", how),
        Figure("anomalies hit by an event", figures_["anomalies_hit"], "", f">= {figures_['anomalies']}",
               f"of {figures_['anomalies']}, {figures_['false_alarms_per_minute']:.2f} false alarms/min"),
    ]
    for name, (b_norm, b_raw) in baselines.items():
        out.append(Figure(f"normalised AUC over the baseline ({name})", normalised / b_norm, "x", "> 1",
                          f"baseline {b_norm:.4f}"))
        out.append(Figure(f"raw AUC over the baseline ({name})", raw / b_raw, "x", "> 1", f"baseline {b_raw:.4f}"))
    return out


if __name__ == "__main__":
    from bench.runner import run_script

    sys.exit(run_script("ped2", figures, __doc__.splitlines()[0]))
