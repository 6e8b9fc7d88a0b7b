"""Scoring runtimes: the shipped model on Keras (TensorFlow), ONNX Runtime and OpenVINO (f32, and bf16 on a CPU that computes it natively), with and without frames decoded ahead; Ped2 frames/s and AUC.

The shipped model (``resources/models/ped2-future-frame``, the ``future-frame`` predictor with its error level)
is exported with ``framewatch export-run --format onnx --format openvino`` (those whose packages are
installed) to ``--work``; a UCSD Ped2 project is imported there (``framewatch project import-ucsd --no-scan``).

1. **Same scores.** For each exported runtime, ``framewatch evaluate``'s code (:func:`evaluate_project`, the score
   cache emptied first, a hand-set threshold so only the 12 test videos are scored) on the 12 test videos:
   the largest difference of per-frame scores from Keras's (absolute, and relative to the score) and the
   frame AUC (normalised per video, and raw) difference (target <= 0.001).
2. **Frames/s.** The 12 test videos (2,010 frames of 360x240) scored by :func:`score_video` (decode, resize,
   model, error level, frame errors) with the models loaded once, for each runtime with frames decoded in
   line (``prefetch=0``, scoring's default) and decoded ahead on a thread (``prefetch=64``), interleaved
   in rounds so every variant sees the same machine load, best of 3 (``--quick``: 1). Figures are ratios
   against Keras with in-line decoding measured in the same run: the best runtime with decoding ahead has
   the target >= 2.

    python -m bench runtime [--quick] [--data DIR] [--work DIR]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from bench.figures import Figure  # noqa: E402
from bench.reference_data import default_data_dir  # noqa: E402

WORK = REPO / "bench" / "out" / "runtime"
SHIPPED = REPO / "resources" / "models" / "ped2-future-frame"


def _setup(work: Path, data: Path) -> tuple[Path, Path, list[str]]:
    """The Ped2 project, the shipped model exported for the installed runtimes, and those runtimes."""
    from core.models.runtimes import FORMATS, RuntimeMissing, require
    from core.runs.export import export_run

    project = work / "ped2"
    if not (project / "project.json").is_file():
        shutil.rmtree(project, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "core.cli.main", "project", "import-ucsd", str(data / "ucsd_ped2"),
                        str(project), "--no-scan"], cwd=REPO, check=True)
    formats = []
    for fmt in FORMATS:
        try:
            require(fmt, export=True)
            formats.append(fmt)
        except RuntimeMissing as exc:
            print(f"skipping {fmt}: {exc}", flush=True)
    exported = export_run(SHIPPED, work / "model", overwrite=True, formats=formats)
    runtimes = list(formats)
    if "openvino" in formats:
        from core.models.runtimes import native_bf16

        if native_bf16():
            runtimes.append("openvino-bf16")
        else:
            print("skipping openvino-bf16: this CPU does not compute bf16 natively", flush=True)
    return project, exported, runtimes


def _runs(project: Path, exported: Path, runtimes: list[str]) -> dict[str, object]:
    from core.inference.anomaly.project_scoring import run_model

    base = run_model(project, exported, "prediction")
    return {runtime: dataclasses.replace(base, runtime=runtime) for runtime in runtimes}


def bench_fidelity(project_folder: Path, runs: dict[str, object]) -> list[Figure]:
    import numpy as np

    from core.inference.anomaly.project_evaluation import evaluate_project
    from core.inference.anomaly.score_cache import scores_dir
    from core.project import Project

    project = Project.open(project_folder, read_only=True)
    results = {}
    try:
        for runtime, run in runs.items():
            shutil.rmtree(scores_dir(project_folder), ignore_errors=True)
            t = time.perf_counter()
            result = evaluate_project(project, run, threshold=1.0)
            data = result.to_dict()
            errors = np.concatenate([video.errors for video in result.scores.videos])
            results[runtime] = (data["auc_normalised"], data["auc_raw"], errors)
            print(f"{runtime:9s} AUC normalised {data['auc_normalised']:.5f} raw {data['auc_raw']:.5f} "
                  f"({len(errors):,} frames, {time.perf_counter() - t:.0f} s)", flush=True)
    finally:
        project.close()
        shutil.rmtree(scores_dir(project_folder), ignore_errors=True)
    norm0, raw0, errors0 = results["keras"]
    out = []
    for runtime, (norm, raw, errors) in results.items():
        if runtime == "keras":
            continue
        diff = np.abs(errors.astype(np.float64) - errors0)
        rel = float(np.max(diff / np.maximum(np.abs(errors0), 1e-12)))
        auc_diff = max(abs(norm - norm0), abs(raw - raw0))
        print(f"{runtime}: max |score - keras| {diff.max():.3g} (relative {rel:.3g}), AUC difference "
              f"{auc_diff:.2g}", flush=True)
        out += [Figure(f"{runtime}: Ped2 AUC difference from Keras", auc_diff, "", "<= 0.001",
                       note=f"normalised {norm:.5f} vs {norm0:.5f}, raw {raw:.5f} vs {raw0:.5f}"),
                Figure(f"{runtime}: max per-frame score difference from Keras", float(diff.max()), "",
                       note=f"relative {rel:.2g}, over {len(errors):,} test frames")]
    return out


def _score_all(run, models, videos: list[Path], prefetch: int) -> int:
    from core.inference.anomaly.scoring import score_video

    model, level = models
    frames = 0
    for video in videos:
        for _ in score_video(model, video, run.spec, error_level=level, prefetch=prefetch):
            frames += 1
    return frames


def bench_rate(project_folder: Path, runs: dict[str, object], quick: bool) -> list[Figure]:
    from core.inference.anomaly.project_scoring import split_videos
    from core.preprocessing.frames import PREFETCH_FRAMES
    from core.project import Project

    project = Project.open(project_folder, read_only=True)
    try:
        videos = [video.path for video in split_videos(project, runs["keras"], "test")]
    finally:
        project.close()
    models = {runtime: run.load_models() for runtime, run in runs.items()}
    variants = [(runtime, prefetch) for runtime in runs for prefetch in (0, PREFETCH_FRAMES)]
    for runtime, run in runs.items():  # warm-up: traces the Keras model's calls, the runtimes' first runs
        _score_all(run, models[runtime], videos[:1], 0)
    rates: dict[tuple[str, int], list[float]] = {variant: [] for variant in variants}
    frames = 0
    for _ in range(1 if quick else 3):
        for runtime, prefetch in variants:
            t = time.perf_counter()
            frames = _score_all(runs[runtime], models[runtime], videos, prefetch)
            rates[(runtime, prefetch)].append(frames / (time.perf_counter() - t))
    best = {variant: max(values) for variant, values in rates.items()}
    base = best[("keras", 0)]
    print(f"## Scoring the {len(videos)} Ped2 test videos ({frames:,} frames, decode included), best of "
          f"{len(rates[variants[0]])}, frames/s and ratio to Keras with in-line decoding")
    for (runtime, prefetch), rate in best.items():
        how = "decoded ahead" if prefetch else "decoded in line"
        print(f"{runtime:9s} {how:16s} {rate:7.1f} frames/s  {rate / base:5.2f}x", flush=True)
    out = []
    for (runtime, prefetch), rate in best.items():
        if (runtime, prefetch) == ("keras", 0):
            continue
        how = "frames decoded ahead" if prefetch else "decoded in line"
        out.append(Figure(f"{runtime}, {how}: rate / Keras in line", rate / base, "x",
                          note=f"{rate:.0f} vs {base:.0f} frames/s, Ped2 test set, decode included"))
    fastest = max((variant for variant in best if variant[1]), key=best.get)
    out.append(Figure("fastest runtime with frames decoded ahead / Keras in line", best[fastest] / base, "x",
                      ">= 2", note=f"{fastest[0]}: {best[fastest]:.0f} vs {base:.0f} frames/s"))
    return out


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench runtime", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=default_data_dir(), help="the shared reference data folder")
    parser.add_argument("--work", type=Path, default=WORK, help="where the Ped2 project and the export are kept")
    return parser


def figures(argv: list[str], quick: bool) -> list[Figure]:
    """Exported runtimes score as Keras (AUC within 0.001); their frames/s against Keras, decode included."""
    args = _parser().parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    project, exported, formats = _setup(args.work, args.data)
    runs = _runs(project, exported, ["keras", *formats])
    out = bench_rate(project, runs, quick)
    if formats:
        out += bench_fidelity(project, runs)
    else:
        out.append(Figure("exported runtimes score as Keras", None, "", skipped='pip install "framewatch[runtime]"'))
    return out
