"""Scoring: Ped2 at stride 10 against every window, the default model's frames/s, memory flat in length.

1. **Ped2, stride 10 against the reference procedure.** A ``conv-ae`` reconstruction model (64x64 gray,
   10-frame clips) is trained on the UCSD Ped2 training videos of a project made by the UCSD importer for
   6 epochs of 100 batches of 8 clips (``--quick``: 2 of 60); the project and the trained model are kept
   in the work folder, so reruns skip both. The
   12 test videos are scored with it twice through ``score_video``: at stride 1 (every 10-frame window,
   each frame reconstructed 10 times and its errors averaged: the reference procedure) and at stride 10
   (each frame reconstructed once). Figures: the speed ratio, and the frame-level ROC AUC of each,
   normalised per video and raw (``core.evaluation``), against the project's ground truth. The model
   need not be good: both procedures score with the same model.
2. **The default anomaly model's scoring rate.** ``make_spec("anomaly")`` (the ``future-frame``
   predictor, 4 gray frames of 64x96, untrained: weights do not change its speed) scores a real H.264
   video end to end (decode, resize, model, errors): bikes.mp4 played 4 times (1,000 frames of 640x272,
   stream-copied by FFmpeg into the work folder). Target: 4x real time for 25 fps video, i.e. 100
   frames/s, decoding included; OpenCV's bare decode of the same file is printed beside it.
3. **Peak memory against video length.** Two generated videos (1,000 and 10,000 frames of 320x240) are
   scored in child processes with small models of both kinds (the future-frame predictor, and a
   ``conv-ae`` at stride 1, which holds the most windows in flight); the peak RSS of the longer over the
   shorter must stay within 10 %.

    python -m bench scoring [--quick] [--data DIR] [--work DIR] [--skip-ped2] [--skip-rate] [--skip-memory]

``--quick`` trains the reconstruction model briefly, scores 3 of the 12 Ped2 test videos, times one scoring pass instead of the best of 3, and
measures memory with the predictor alone. (``python3 bench/bench_scoring.py`` with the same options prints
the same table, without recording it.)
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from bench.figures import Figure  # noqa: E402
from bench.peak_rss import peak_rss  # noqa: E402
from bench.reference_data import default_data_dir  # noqa: E402

WORK = REPO / "bench" / "out" / "scoring"
SIZE, CLIP = 64, 10  # the reconstruction model: 64x64 gray, 10-frame clips
#: (epochs, batches of 8 clips per epoch) of the reconstruction model: quick runs train briefly (a few
#: minutes on 2 cores); full runs train 5x longer, since a briefly trained model's error curve is noisy
#: and the comparison should be of a model someone would use.
TRAINING = {True: (2, 60), False: (6, 100)}
REAL_TIME_FPS = 25.0
TARGET_FPS = 100.0  # 4x real time for 25 fps video


# ------------------------------------------------------------------------------------------------
# 1. Ped2: stride 10 against every window


def ped2_project(work: Path, ped2: Path):
    """The work folder's Ped2 project, made by the UCSD importer the first time (train and test splits)."""
    from core.project import Project
    from core.project.importers import import_ucsd

    folder = work / "ped2"
    if (folder / "project.json").exists():
        return Project.open(folder)
    if folder.exists():
        shutil.rmtree(folder)  # an import that did not finish
    project = Project.create(folder, name="ped2")
    t = time.perf_counter()
    import_ucsd(project, ped2)
    project.save()
    print(f"imported UCSD Ped2 into {folder.name}/ in {time.perf_counter() - t:.1f} s", flush=True)
    return project


def trained_run(project, quick: bool) -> str:
    """The name of the project's trained ``conv-ae`` run, training it the first time."""
    from core.training.from_project import train_project
    from core.training.request import TrainingRequest

    epochs, steps = TRAINING[quick]
    name = f"conv-ae-{SIZE}-{epochs}x{steps}"
    run_dir = project.runs_dir / name
    if run_dir.exists():
        return name
    print(f"training {name}: conv-ae, {SIZE}x{SIZE} gray, {CLIP}-frame clips, {epochs} epochs of "
          f"{steps} batches (kept for later runs)", flush=True)
    t = time.perf_counter()
    result = train_project(project, TrainingRequest(
        "anomaly", "conv-ae", run_name=name, height=SIZE, width=SIZE, frames=CLIP, epochs=epochs,
        steps_per_epoch=steps, patience=0, lr_patience=0))
    print(f"trained in {time.perf_counter() - t:.0f} s: {result.status}, loss "
          f"{result.history[-1].get('loss', float('nan')):.4f}", flush=True)
    return name


def score_videos(model, videos, spec, stride: int) -> tuple[float, dict]:
    """Seconds to score ``videos`` at ``stride``, and each video's errors by id."""
    import numpy as np

    from core.inference.anomaly.scoring import score_video

    errors = {}
    start = time.perf_counter()
    for video in videos:
        errors[video.id] = np.array([s.error for s in score_video(model, video.path, spec, stride=stride)])
    return time.perf_counter() - start, errors


def bench_ped2(data: Path, work: Path, quick: bool) -> list[Figure]:
    from core.data.ground_truth import frame_labels
    from core.evaluation.frame_level import frame_level_scores
    from core.inference.anomaly.project_scoring import run_model
    from core.models.files import load_model_file

    project = ped2_project(work, data / "ucsd_ped2")
    try:
        run = run_model(project.folder, trained_run(project, quick))
        videos = sorted((v for v in project.videos.values() if v.split == "test"), key=lambda v: v.name)
        videos = videos[:3] if quick else videos
        model = run.load_model(load_model_file)
        score_videos(model, videos[:1], run.spec, CLIP)  # warm-up: traces the model's call
        slow, reference = score_videos(model, videos, run.spec, 1)
        fast, once = score_videos(model, videos, run.spec, CLIP)
        labels = {key: frame_labels(project.data, key, len(e)) for key, e in reference.items()}
    finally:
        project.close()
    ref = frame_level_scores({key: (e, labels[key]) for key, e in reference.items()})
    new = frame_level_scores({key: (e, labels[key]) for key, e in once.items()})
    frames = sum(len(e) for e in reference.values())
    what = f"{len(videos)} test videos, {frames:,} frames"
    print(f"## UCSD Ped2, {what}, run {run.run_id}")
    print(f"stride 1 (every window, 10 reconstructions per frame): {slow:6.1f} s  AUC normalised "
          f"{ref.normalised.auc:.4f}, raw {ref.raw.auc:.4f}")
    print(f"stride {CLIP} (one reconstruction per frame):          {fast:6.1f} s  AUC normalised "
          f"{new.normalised.auc:.4f}, raw {new.raw.auc:.4f}")
    print(f"speed-up {slow / fast:.2f}x (target >= 5)", flush=True)
    return [
        Figure(f"Ped2 scoring, stride 1 / stride {CLIP} time", slow / fast, "x", ">= 5",
               note=f"{slow:.1f} s vs {fast:.1f} s, {what}"),
        Figure("Ped2 AUC lost at stride 10, normalised", ref.normalised.auc - new.normalised.auc, "", "<= 0.01",
               note=f"AUC {ref.normalised.auc:.4f} at stride 1, {new.normalised.auc:.4f} at stride {CLIP}"),
        Figure("Ped2 AUC lost at stride 10, raw", ref.raw.auc - new.raw.auc, "", "<= 0.01",
               note=f"AUC {ref.raw.auc:.4f} at stride 1, {new.raw.auc:.4f} at stride {CLIP}"),
    ]


# ------------------------------------------------------------------------------------------------
# 2. the default model's frames per second, decoding included


def rate_video(work: Path, data: Path, times: int = 4) -> Path:
    """bikes.mp4 played ``times`` times, stream-copied (still H.264) into the work folder the first time."""
    import imageio_ffmpeg

    from core.atomic_write import atomic_output

    out = work / f"bikes_x{times}.mp4"
    if out.exists():
        return out
    bikes = data / "clips" / "bikes.mp4"
    listing = work / "bikes_list.txt"
    listing.write_text("".join(f"file '{bikes.resolve()}'\n" for _ in range(times)), encoding="utf-8")
    with atomic_output(out) as tmp:
        subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-y", "-f", "concat", "-safe", "0",
                        "-i", str(listing), "-c", "copy", "-f", "mp4", str(tmp)], check=True)
    listing.unlink()
    return out


def opencv_decode(path: Path) -> int:
    import cv2

    capture = cv2.VideoCapture(str(path))
    frames = 0
    while capture.grab():
        ok, _ = capture.retrieve()
        frames += ok
    capture.release()
    return frames


def bench_rate(data: Path, work: Path, quick: bool) -> list[Figure]:
    import keras

    from core.inference.anomaly.scoring import ScoringSpec, score_video
    from core.models import build_model, make_spec
    from core.models.error_level import build_error_level_model

    path = rate_video(work, data)
    keras.utils.set_random_seed(0)
    spec = make_spec("anomaly")
    model = build_model(spec, compile=False)
    # the shipped model is scored with its error level (a second, small network on each clip): count it too
    level = build_error_level_model(spec.frames, spec.height, spec.width, spec.channels)
    scoring = ScoringSpec.from_model(model, spec.task)
    repeats = 1 if quick else 3

    def score() -> int:
        return sum(1 for _ in score_video(model, path, scoring, error_level=level))

    score()  # warm-up: traces the model's call for the full and the last, smaller batch
    rates, decode_rates, frames = [], [], 0
    for _ in range(repeats):  # interleaved, so both see the same machine load
        t = time.perf_counter()
        frames = score()
        rates.append(frames / (time.perf_counter() - t))
        t = time.perf_counter()
        decoded = opencv_decode(path)
        decode_rates.append(decoded / (time.perf_counter() - t))
    fps, decode = max(rates), statistics.median(decode_rates)
    print(f"## Default anomaly model ({spec.preset} with its error level, {scoring.frames} frames of "
          f"{scoring.preprocess.height}x{scoring.preprocess.width} gray) scoring {path.name} ({frames:,} frames), best of {repeats}")
    print(f"score_video, decode included: {fps:6.1f} frames/s = {fps / REAL_TIME_FPS:.1f}x real time at 25 fps "
          f"= {fps / TARGET_FPS:.2f}x the {TARGET_FPS:.0f} frames/s target; OpenCV decode alone {decode:.0f} frames/s",
          flush=True)
    return [
        Figure(f"default model ({spec.preset}) scoring, x real time at 25 fps", fps / REAL_TIME_FPS, "x", ">= 4",
               note=f"{fps:.0f} frames/s decode included, {frames:,} frames of 640x272 H.264, best of {repeats}"),
        Figure("default model scoring rate / OpenCV decode rate", fps / decode, "x",
               note=f"OpenCV decode alone {decode:.0f} frames/s, median of {repeats}"),
    ]


# ------------------------------------------------------------------------------------------------
# 3. peak memory against video length

MEMORY_CHILD = """
import os
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import keras
from core.inference.anomaly.scoring import ScoringSpec, score_video
from core.models import build_model, make_spec
keras.utils.set_random_seed(0)
specs = [(make_spec("anomaly", filters=(4, 8, 16)), None)]
if {with_reconstruction}:
    specs.append((make_spec("anomaly", "conv-ae", height=64, width=64, frames=10, encoder=((8, 5, 2), (8, 3, 2)),
                            recurrent=(8, 4, 8)), 1))
for spec, stride in specs:
    model = build_model(spec, compile=False)
    frames = sum(1 for _ in score_video(model, {path!r}, ScoringSpec.from_model(model, spec.task), stride=stride))
result = {{"frames": frames}}
"""


def bench_memory(work: Path, quick: bool, lengths: tuple[int, ...] = (1_000, 10_000)) -> list[Figure]:
    from bench.bench_video import make_video
    from core.atomic_write import atomic_output

    rows = []
    for n in lengths:
        path = work / f"generated_{n}.mp4"
        if not path.exists():
            with atomic_output(path) as tmp:
                make_video(tmp, n)
        rows.append(peak_rss(MEMORY_CHILD.format(path=str(path), with_reconstruction=not quick)))
    models = "future-frame (small)" + ("" if quick else " and conv-ae (small, stride 1)")
    print(f"## Peak RSS scoring generated 320x240 videos with {models}, each length in its own process")
    for row in rows:
        print(f"{row['frames']:>7,} frames  peak RSS {row['peak_rss_mb']:7.1f} MB")
    ratio = rows[-1]["peak_rss_mb"] / rows[0]["peak_rss_mb"]
    print(f"ratio {ratio:.3f} (target <= 1.1)", flush=True)
    return [Figure(f"scoring peak RSS, {lengths[-1]:,} / {lengths[0]:,} frames", ratio, "x", "<= 1.1",
                   note=f"{rows[0]['peak_rss_mb']:.0f} -> {rows[-1]['peak_rss_mb']:.0f} MB, {models}")]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench scoring", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=default_data_dir(), help="the shared reference data folder")
    parser.add_argument("--work", type=Path, default=WORK,
                        help="where the Ped2 project, its trained model and the generated videos are kept "
                             "(default bench/out/scoring)")
    parser.add_argument("--skip-ped2", action="store_true", help="leave out the Ped2 stride comparison")
    parser.add_argument("--skip-rate", action="store_true", help="leave out the default model's scoring rate")
    parser.add_argument("--skip-memory", action="store_true", help="leave out the 1,000 vs 10,000-frame memory part")
    return parser


def figures(argv: list[str], quick: bool) -> list[Figure]:
    """Ped2 stride 10 vs 1 (>= 5x, AUC within 0.01), default model >= 4x real time, peak RSS ratio <= 1.1."""
    args = _parser().parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    out: list[Figure] = []
    parts = (("ped2", lambda: bench_ped2(args.data, args.work, quick),
              f"Ped2 scoring, stride 1 / stride {CLIP} time", ">= 5"),
             ("rate", lambda: bench_rate(args.data, args.work, quick),
              "default model scoring, x real time at 25 fps", ">= 4"),
             ("memory", lambda: bench_memory(args.work, quick), "scoring peak RSS, 10,000 / 1,000 frames", "<= 1.1"))
    for name, run, figure, target in parts:
        if getattr(args, f"skip_{name}"):
            out.append(Figure(figure, None, "x", target, skipped=f"--skip-{name}"))
        else:
            out += run()
    return out


if __name__ == "__main__":
    from bench.runner import run_script

    sys.exit(run_script("scoring", figures))
