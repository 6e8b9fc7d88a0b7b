"""Fused scoring (prediction error + motion statistics): frames/s against real time and prediction alone; Ped2 AUC.

1. **Rate.** A one-video work project holds bikes.mp4 played 4 times (1,000 frames of 640x272 H.264, the
   video ``python -m bench scoring`` times the default model on) as normal footage, and a run of the default
   anomaly model (the ``future-frame`` predictor with its error level, untrained: weights do not change its
   speed) whose motion statistics are fitted on that video (``framewatch fit-motion``'s code: half size up to
   Ped2's half-size area, here 225x96). The video is scored through :func:`score_project` (the code of
   ``framewatch score``: decode, resize, models, score cache, threshold, events) with ``--scorer prediction``
   and with ``--scorer fused``, the score cache emptied before each pass and the models loaded once (as a
   session scoring several videos does), interleaved, best of 3 (``--quick``: 1), on each runtime that runs
   here: Keras, and where OpenVINO is installed the run exported for it (``framewatch export-run --format
   openvino``), scored in f32 (``--runtime openvino``) and, on a CPU with native bf16, in bf16
   (``--runtime openvino-bf16``). Figures: the fastest runtime's fused rate in multiples of real time at 25 fps
   (target >= 4, decode included) and as a share of its prediction-only scoring; the other runtimes' rates.
2. **Ped2 AUC** (with ``--project P --run RUN``: a UCSD Ped2 project, ``framewatch project import-ucsd``, and
   one of its ``future-frame`` runs with motion statistics): ``framewatch evaluate``'s frame AUC, normalised
   per video and raw, of ``--scorer prediction``, ``motion`` and ``fused``, the latter combined by ``max``
   (the default) and by ``sum`` (the mean, up to a factor the threshold absorbs), each signal divided by its
   99th percentile on the run's held-out normal frames.

    python -m bench fusion [--quick] [--data DIR] [--work DIR] [--project P --run RUN]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from bench.bench_scoring import REAL_TIME_FPS, rate_video  # noqa: E402
from bench.figures import Figure  # noqa: E402
from bench.reference_data import default_data_dir  # noqa: E402

WORK = REPO / "bench" / "out" / "fusion"
RUN = "untrained-future-frame"


def rate_project(work: Path, data: Path) -> Path:
    """The work project: the 1,000-frame video as its one train-split video, and the untrained run with its
    error level and motion statistics (made the first time)."""
    import keras

    from core.atomic_write import copy_file
    from core.models import build_model, make_spec
    from core.models.error_level import build_error_level_model
    from core.models.files import save_model
    from core.project import Project
    from core.runs import RunRecord, write_state
    from core.training.error_level import ERROR_LEVEL_FILE
    from core.training.motion_run import fit_run_motion

    folder = work / "project"
    if (folder / "runs" / RUN / "motion.npz").is_file():
        return folder
    if folder.exists():
        shutil.rmtree(folder)  # a setup that did not finish
    video = rate_video(work, data)
    project = Project.create(folder, name="fusion-rate")
    try:
        project.add_video(video, split="train")
        project.save()
        keras.utils.set_random_seed(0)
        spec = make_spec("anomaly")
        run_dir = project.runs_dir / RUN
        run_dir.mkdir(parents=True)
        save_model(build_model(spec, compile=False), run_dir / "best.keras")
        copy_file(run_dir / "best.keras", run_dir / "last.keras")
        write_state(run_dir, {"epoch": 0})  # a run's folder, not a read-only model folder
        save_model(build_error_level_model(spec.frames, spec.height, spec.width, spec.channels),
                   run_dir / ERROR_LEVEL_FILE)
        RunRecord(run_id=RUN, task=spec.task, preset=spec.preset, spec=spec.to_dict(), config={"seed": 0},
                  data={"options": {"val_fraction": 0.0},
                        "preprocess": {"height": spec.height, "width": spec.width, "grayscale": True},
                        "error_level": {"file": ERROR_LEVEL_FILE}},
                  status="completed", model_path="best.keras").save(run_dir)
        fit = fit_run_motion(project, RUN)
        print(f"motion statistics at {fit.width}x{fit.height} fitted on {fit.frames:,} frames in {fit.seconds:.1f} s",
              flush=True)
    finally:
        project.close()
    return folder


def _runtimes(work: Path, folder: Path) -> dict[str, Path | str]:
    """The runtimes to time, each with the run it scores: Keras on the project's run, and, where OpenVINO is
    installed, the run exported with ``framewatch export-run --format openvino`` (its motion statistics go with
    it) for ``openvino`` and, on a CPU that computes bf16 natively, ``openvino-bf16``."""
    from core.models.runtimes import RuntimeMissing, native_bf16, require
    from core.runs.export import export_run

    runs: dict[str, Path | str] = {"keras": RUN}
    try:
        require("openvino", export=True)
    except RuntimeMissing as exc:
        print(f"timing Keras only: {exc}", flush=True)
        return runs
    exported = work / "exported-openvino"
    if not (exported / "run.json").is_file():
        export_run(folder / "runs" / RUN, exported, overwrite=True, formats=["openvino"])
    runs["openvino"] = exported
    if native_bf16():
        runs["openvino-bf16"] = exported
    else:
        print("skipping openvino-bf16: this CPU does not compute bf16 natively", flush=True)
    return runs


def bench_rate(work: Path, data: Path, quick: bool) -> list[Figure]:
    import core.models.runtimes as runtimes_module
    from core.inference.anomaly.project_scoring import run_model, score_project
    from core.inference.anomaly.score_cache import scores_dir
    from core.models.files import load_model_file
    from core.project import Project

    folder = rate_project(work, data)
    loaded: dict[object, object] = {}

    def load_once(path: Path):  # the models are read once, as a session scoring several videos reads them
        if path.name not in loaded:
            loaded[path.name] = load_model_file(path)
        return loaded[path.name]

    compile_runtime = runtimes_module.load_runtime_model

    def compile_once(path: Path, runtime: str):  # likewise an exported model is compiled once per runtime
        if (path, runtime) not in loaded:
            loaded[(path, runtime)] = compile_runtime(path, runtime)
        return loaded[(path, runtime)]

    project = Project.open(folder, read_only=True)
    runs = {(runtime, scorer): dataclasses.replace(run_model(folder, run, scorer), runtime=runtime)
            for runtime, run in _runtimes(work, folder).items() for scorer in ("prediction", "fused")}
    rates: dict[tuple[str, str], list[float]] = {variant: [] for variant in runs}
    frames = 0
    runtimes_module.load_runtime_model = compile_once
    try:
        for run in runs.values():  # warm-up: loads the models and traces their calls
            shutil.rmtree(scores_dir(folder), ignore_errors=True)
            score_project(project, run, load_model=load_once)
        for _ in range(1 if quick else 3):  # interleaved, so every variant sees the same machine load
            for variant, run in runs.items():
                shutil.rmtree(scores_dir(folder), ignore_errors=True)
                t = time.perf_counter()
                result = score_project(project, run, load_model=load_once)
                frames = result.videos[0].frames
                rates[variant].append(frames / (time.perf_counter() - t))
    finally:
        runtimes_module.load_runtime_model = compile_runtime
        project.close()
    best = {variant: max(values) for variant, values in rates.items()}
    motion = runs[("keras", "fused")].motion.spec.preprocess
    print(f"## Fused scoring of {frames:,} frames of 640x272 H.264 (future-frame with its error level at 96x64, "
          f"motion at {motion.width}x{motion.height}), framewatch score's code, best of {len(rates[('keras', 'fused')])}")
    for (runtime, scorer), rate in best.items():
        print(f"{runtime:14s} {scorer:10s} {rate:6.1f} frames/s = {rate / REAL_TIME_FPS:.1f}x real time", flush=True)
    fastest = max((variant for variant in best if variant[1] == "fused"), key=best.get)[0]
    fused, prediction = best[(fastest, "fused")], best[(fastest, "prediction")]
    out = [
        Figure("fused scoring, x real time at 25 fps", fused / REAL_TIME_FPS, "x", ">= 4",
               note=f"{fastest}: {fused:.0f} frames/s decode included, {frames:,} frames of 640x272 H.264, "
                    f"motion at {motion.width}x{motion.height}"),
        Figure("fused scoring rate / prediction-only rate", fused / prediction, "x",
               note=f"{fastest}: prediction only {prediction:.0f} frames/s in the same run"),
    ]
    for runtime in sorted({runtime for runtime, _ in best} - {fastest}):
        rate = best[(runtime, "fused")]
        out.append(Figure(f"fused scoring, x real time at 25 fps, {runtime}", rate / REAL_TIME_FPS, "x",
                          note=f"{rate:.0f} frames/s; prediction only {best[(runtime, 'prediction')]:.0f}"))
    return out


def bench_auc(project_folder: Path, run: str) -> list[Figure]:
    from core.inference.anomaly.project_evaluation import evaluate_project
    from core.inference.anomaly.project_scoring import run_model
    from core.project import Project

    variants = [("prediction", run_model(project_folder, run, "prediction")),
                ("motion", run_model(project_folder, run, "motion"))]
    fused = run_model(project_folder, run, "fused")
    variants += [("fused max", dataclasses.replace(fused, fusion="max")),
                 ("fused sum", dataclasses.replace(fused, fusion="sum"))]
    out = []
    project = Project.open(project_folder, read_only=True)
    try:
        print(f"## Ped2 frame AUC of run {run} by scorer (framewatch evaluate --scorer ...)")
        for name, model in variants:
            t = time.perf_counter()
            figures = evaluate_project(project, model).to_dict()
            norm, raw = figures["auc_normalised"], figures["auc_raw"]
            print(f"{name:11s} normalised {norm:.4f}  raw {raw:.4f}  recall {figures['event_recall']:.3f}  "
                  f"false alarms/min {figures['false_alarms_per_minute']:.2f}  ({time.perf_counter() - t:.0f} s)",
                  flush=True)
            out += [Figure(f"Ped2 AUC normalised, {name}", norm, "", note=f"raw {raw:.4f}, run {run}")]
    finally:
        project.close()
    return out


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench fusion", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=default_data_dir(), help="the shared reference data folder")
    parser.add_argument("--work", type=Path, default=WORK, help="where the rate project is kept (bench/out/fusion)")
    parser.add_argument("--project", type=Path, help="a UCSD Ped2 project (for the AUC part)")
    parser.add_argument("--run", help="its future-frame run with motion statistics (framewatch fit-motion)")
    return parser


def figures(argv: list[str], quick: bool) -> list[Figure]:
    """Fused scoring >= 4x real time at 25 fps (and its share of prediction-only); Ped2 AUC by scorer if given."""
    args = _parser().parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    out = bench_rate(args.work, args.data, quick)
    if args.project is not None and args.run:
        out += bench_auc(args.project, args.run)
    else:
        out.append(Figure("Ped2 AUC by scorer", None, "", skipped="give --project P --run RUN (a Ped2 project's "
                          "future-frame run with motion statistics)"))
    return out

