"""A GPU run ready to go: the figures a lent accelerator machine should give, beside this project's CPU's.

Runs on any Keras backend (``KERAS_BACKEND=jax`` or ``torch``: a machine without TensorFlow) and needs only
the repository, its pip dependencies and the shared reference data (``--data``: ``mnist/`` and
``ucsd_ped2/``). In order:

1. **Device**: the Keras backend and the devices it sees (``jax.devices()``, or torch's CUDA devices).
2. **Moving MNIST**: ``framewatch train --dataset moving-mnist`` (the default next-frame preset) for at most
   ``--minutes`` minutes, then ``framewatch evaluate --dataset moving-mnist --json`` on 200 held-out
   sequences: MSE and SSIM per frame beside the blank-frame and copy-last baselines.
3. **Ped2 training throughput**: the default anomaly preset trained on the UCSD Ped2 training videos
   (``train_project``, ``--stride 1``, batch 8) for 2 epochs of ``--steps`` batches; clips/s of the second
   epoch (the first includes compilation).
4. **Ped2 scoring throughput**: the shipped model (``resources/models/ped2-future-frame``, with its error
   level) scores Ped2 test videos with ``score_video``: frames/s, decoding included, after a warm-up video.

Every figure is printed beside the reference CPU's (``device_check_cpu.json`` next to this file, with the
command that measured it). Results go to ``$OUT/device_check.json`` and ``device_check.txt`` (or ``--out``).

    python3 bench/device_check.py [--minutes 3] [--steps 40] [--videos 4] [--data DIR] [--work DIR] [--out DIR]
    python3 bench/device_check.py --record-cpu   # measure this machine and write device_check_cpu.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

CPU_FILE = Path(__file__).resolve().parent / "device_check_cpu.json"
SHIPPED = REPO / "resources" / "models" / "ped2-future-frame"


def default_data() -> Path:
    for candidate in (REPO / "shared" / "data", REPO.parent / "shared" / "data", Path("/work/shared/data")):
        if (candidate / "mnist").is_dir():
            return candidate
    return REPO / "shared" / "data"


def devices() -> dict:
    import keras

    backend = keras.backend.backend()
    found: list[str] = []
    if backend == "jax":
        import jax

        found = [str(d) for d in jax.devices()]
    elif backend == "torch":
        import torch

        found = [f"cuda:{i} {torch.cuda.get_device_name(i)}" for i in range(torch.cuda.device_count())] or ["cpu"]
    else:
        import tensorflow as tf

        found = [d.name for d in tf.config.list_physical_devices()]
    return {"backend": backend, "devices": found, "keras": keras.__version__, "python": platform.python_version(),
            "processor": platform.processor() or platform.machine(), "cpus": os.cpu_count()}


def cli(*args: str) -> str:
    """Run ``framewatch ARGS`` in a child process (same backend); its stdout, or exit with its error."""
    result = subprocess.run([sys.executable, "-m", "core.cli.main", *args], cwd=REPO, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"framewatch {' '.join(args)} failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return result.stdout


def moving_mnist(data: Path, work: Path, minutes: float, sequences: int) -> dict:
    mnist = data / "mnist"
    runs = work / "mm-runs"
    name = f"device-check-{int(time.time())}"
    started = time.perf_counter()
    cli("train", "--task", "predict", "--dataset", "moving-mnist", "--mnist", str(mnist), "--runs-dir", str(runs), "--name", name,
        "--max-minutes", str(minutes), "--seed", "1")
    trained_s = time.perf_counter() - started
    report = json.loads(cli("evaluate", "--dataset", "moving-mnist", "--mnist", str(mnist), "--run",
                            str(runs / name), "--sequences", str(sequences), "--json"))
    return {"preset": report.get("preset"), "train_wall_s": round(trained_s, 1), "evaluation": report}


def _mean(report: dict, who: str, key: str) -> float | None:
    """The mean over future steps of ``key`` (``sse``: per-frame MSE; ``ssim``) for ``who`` (``model``,
    ``blank_frame``, ``copy_last_frame``) in ``framewatch evaluate --dataset moving-mnist --json``'s report."""
    value = report.get(who, {}).get("mean", {}).get(key) if isinstance(report, dict) else None
    return float(value) if isinstance(value, (int, float)) else None


def ped2_training(data: Path, work: Path, steps: int) -> dict:
    from bench.bench_scoring import ped2_project
    from core.training.events import EpochEnded
    from core.training.from_project import train_project
    from core.training.request import TrainingRequest

    project = ped2_project(work, data / "ucsd_ped2")
    rates: list[float] = []

    def progress(event) -> None:
        if isinstance(event, EpochEnded):
            rates.append(event.samples_per_s)

    name = f"device-check-{int(time.time())}"
    result = train_project(project, TrainingRequest("anomaly", run_name=name, stride=1, epochs=2, batch_size=8,
                                                    steps_per_epoch=steps, patience=0, lr_patience=0,
                                                    error_level=False, motion=False), progress=progress)
    if len(rates) < 2:
        sys.exit(f"Ped2 training ended after {len(rates)} epoch(s): {result.status}")
    return {"clips_per_s": round(rates[-1], 2), "first_epoch_clips_per_s": round(rates[0], 2),
            "steps": steps, "batch_size": 8, "status": str(result.status)}


def ped2_scoring(work: Path, data: Path, videos: int) -> dict:
    from bench.bench_scoring import ped2_project
    from core.inference.anomaly.project_scoring import run_model
    from core.inference.anomaly.scoring import score_video

    project = ped2_project(work, data / "ucsd_ped2")
    run = run_model(project.folder, SHIPPED)
    model, level = run.load_models()
    tests = sorted((v for v in project.videos.values() if v.split == "test"), key=lambda v: v.id)
    tests = tests or sorted(project.videos.values(), key=lambda v: v.id)
    sum(1 for _ in score_video(model, tests[0].path, run.spec, error_level=level))  # warm-up: traces the model
    chosen = tests[1:1 + videos] or tests[:1]
    started, frames = time.perf_counter(), 0
    for video in chosen:
        frames += sum(1 for _ in score_video(model, video.path, run.spec, error_level=level))
    seconds = time.perf_counter() - started
    return {"frames_per_s": round(frames / seconds, 1), "frames": frames, "videos": len(chosen)}


def figures(results: dict) -> dict[str, float | None]:
    mm = results.get("moving_mnist", {}).get("evaluation", {})
    return {
        "Moving MNIST MSE/frame (model)": _mean(mm, "model", "sse"),
        "Moving MNIST SSIM (model)": _mean(mm, "model", "ssim"),
        "Moving MNIST MSE/frame (blank)": _mean(mm, "blank_frame", "sse"),
        "Moving MNIST MSE/frame (copy-last)": _mean(mm, "copy_last_frame", "sse"),
        "Moving MNIST SSIM (copy-last)": _mean(mm, "copy_last_frame", "ssim"),
        "Moving MNIST epochs trained": mm.get("epochs_completed") if isinstance(mm, dict) else None,
        "Ped2 training, clips/s": results.get("ped2_training", {}).get("clips_per_s"),
        "Ped2 scoring, frames/s (decode incl.)": results.get("ped2_scoring", {}).get("frames_per_s"),
    }


def table(here: dict, cpu: dict | None) -> str:
    mine, theirs = figures(here), figures(cpu["results"]) if cpu else {}
    lines = [f"{'figure':42s} {'this machine':>14s} {'reference CPU':>14s} {'ratio':>7s}"]
    for key, value in mine.items():
        ref = theirs.get(key)
        ratio = f"{value / ref:6.2f}x" if value and ref else ""
        text = "-" if value is None else f"{value:.4g}"
        lines.append(f"{key:42s} {text:>14s} {('-' if ref is None else f'{ref:.4g}'):>14s} {ratio:>7s}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=default_data(), help="shared data folder (mnist/, ucsd_ped2/)")
    parser.add_argument("--work", type=Path, help="work folder (default: a temporary one)")
    parser.add_argument("--out", type=Path, default=Path(os.environ["OUT"]) if os.environ.get("OUT") else None,
                        help="write device_check.json here (default: $OUT when set)")
    parser.add_argument("--minutes", type=float, default=3.0, help="Moving MNIST training budget (default 3)")
    parser.add_argument("--sequences", type=int, default=200, help="Moving MNIST sequences evaluated (default 200)")
    parser.add_argument("--steps", type=int, default=40, help="Ped2 training batches per epoch (default 40)")
    parser.add_argument("--videos", type=int, default=4, help="Ped2 test videos timed after the warm-up (default 4)")
    parser.add_argument("--skip", action="append", default=[], choices=["mnist", "train", "score"])
    parser.add_argument("--record-cpu", action="store_true", help=f"write the results as {CPU_FILE.name}")
    args = parser.parse_args(argv)
    for needed in [*(["mnist"] if "mnist" not in args.skip else []),
                   *(["ucsd_ped2"] if not {"train", "score"} <= set(args.skip) else [])]:
        if not (args.data / needed).is_dir():
            parser.error(f"{args.data / needed}: not found; give the shared data folder with --data DIR")
    work = (args.work or Path(tempfile.mkdtemp(prefix="device-check-"))).resolve()
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    results: dict = {"device": devices()}
    command = "python3 bench/device_check.py " + " ".join(argv if argv is not None else sys.argv[1:])

    def save() -> None:  # after every stage, so a run cut short still leaves what it measured
        if args.out:
            args.out.mkdir(parents=True, exist_ok=True)
            (args.out / "device_check.json").write_text(json.dumps({"command": command, "results": results}, indent=1))

    save()
    print(f"backend {results['device']['backend']}, devices: {', '.join(results['device']['devices'])}", flush=True)
    if "mnist" not in args.skip:
        results["moving_mnist"] = moving_mnist(args.data, work, args.minutes, args.sequences)
        print(f"Moving MNIST: trained {results['moving_mnist']['train_wall_s']} s", flush=True)
        save()
    if "train" not in args.skip:
        results["ped2_training"] = ped2_training(args.data, work, args.steps)
        print(f"Ped2 training: {results['ped2_training']['clips_per_s']} clips/s", flush=True)
        save()
    if "score" not in args.skip:
        results["ped2_scoring"] = ped2_scoring(work, args.data, args.videos)
        print(f"Ped2 scoring: {results['ped2_scoring']['frames_per_s']} frames/s", flush=True)
        save()
    results["wall_s"] = round(time.perf_counter() - started, 1)
    save()
    if args.record_cpu:
        CPU_FILE.write_text(json.dumps({"command": command.replace(" --record-cpu", ""), "results": results},
                                       indent=1) + "\n")
    cpu = json.loads(CPU_FILE.read_text()) if CPU_FILE.is_file() else None
    summary = [f"backend {results['device']['backend']}, devices: {', '.join(results['device']['devices'])}",
               table(results, cpu)]
    if cpu:
        summary.append(f"reference CPU: {cpu['results']['device'].get('processor')}, "
                       f"{cpu['results']['device'].get('cpus')} cores, backend {cpu['results']['device']['backend']} "
                       f"({cpu['command']})")
    summary.append(f"total {results['wall_s']:.0f} s")
    print("\n" + "\n".join(summary))
    if args.out:
        (args.out / "device_check.txt").write_text("\n".join(summary) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
