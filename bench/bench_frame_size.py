"""Frame size: AUC, hits, false alarms and scoring frames/s of anomaly runs trained at several scales.

Issue 18 asks for the default frame size to be chosen by measurement on footage that is not Ped2 as shipped.
Given a project with ground truth and runs of the same recipe trained at different ``--scale`` (the same steps,
seed and data; the commands are in docs/models.md), each run is measured as ``framewatch evaluate`` measures it
by default (frame AUC per-video normalised and raw, anomalies hit, false alarms per minute of the footage
outside the anomalies, at its calibrated threshold), and its **scoring rate**: the project's first test video
scored through ``score_project`` (decode, resize, model, error level) with the score cache emptied first, the
runs interleaved, best of 3 (``--quick``: 1), as frames/s and as a ratio to the first run's rate in the same
run (absolute rates vary between machines; ratios hold).

    python -m bench frame_size --project bench/out/transfer/planted --runs ff-scale-0.75,future-frame,ff-scale-1.5
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from bench.figures import Figure  # noqa: E402


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench frame_size", description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, default=REPO / "bench" / "out" / "transfer" / "planted",
                        help="a project with test videos and ground truth (default: the planted scene's)")
    parser.add_argument("--runs", default="ff-scale-0.75,future-frame,ff-scale-1.5",
                        help="comma-separated runs of the project, the first one the reference of the ratios")
    return parser


def figures(argv: list[str], quick: bool) -> list[Figure]:
    args = _parser().parse_args(argv)
    if not (args.project / "project.json").exists():
        return [Figure("frame size", None, skipped=f"no project at {args.project} (docs/models.md: how to make it)")]
    from core.errors import FramewatchError
    from core.inference.anomaly.project_evaluation import evaluate_project
    from core.inference.anomaly.project_scoring import run_model, score_project
    from core.inference.anomaly.score_cache import scores_dir
    from core.models.files import load_model_file
    from core.project import Project

    names = [name.strip() for name in args.runs.split(",") if name.strip()]
    project = Project.open(args.project, read_only=True)
    loaded: dict[Path, object] = {}

    def load_once(path: Path):  # each model is read once, as a session scoring several videos reads it
        if path not in loaded:
            loaded[path] = load_model_file(path)
        return loaded[path]

    try:
        try:
            runs = {name: run_model(args.project, name) for name in names}
        except FramewatchError as error:  # a run not trained yet
            return [Figure("frame size", None, skipped=str(error).splitlines()[0][:200])]
        quality = {name: evaluate_project(project, run, load_model=load_once).to_dict() for name, run in runs.items()}
        test = next(v for v in project.videos.values() if v.split == "test")
        rates: dict[str, list[float]] = {name: [] for name in names}
        for _ in range(1 if quick else 3):  # interleaved: every run sees the same machine load
            for name, run in runs.items():
                shutil.rmtree(scores_dir(args.project), ignore_errors=True)
                start = time.perf_counter()
                result = score_project(project, run, [test.id], load_model=load_once)
                rates[name].append(sum(len(v.errors) for v in result.videos) / (time.perf_counter() - start))
    finally:
        project.close()
    out = []
    reference = max(rates[names[0]])
    for name in names:
        data, rate = quality[name], max(rates[name])
        size = f"{runs[name].spec.preprocess.width}x{runs[name].spec.preprocess.height}"
        print(f"{name} ({size}): AUC {data['auc_normalised']:.3f} / {data['auc_raw']:.3f}, "
              f"{data['anomalies_hit']} of {data['anomalies']} hit, "
              f"{data['false_alarms_per_normal_minute']:.2f} false alarms a normal minute, "
              f"{rate:.0f} frames/s ({rate / reference:.2f}x {names[0]})", flush=True)
        out += [Figure(f"{name} {size}: frame AUC normalised", data["auc_normalised"]),
                Figure(f"{name} {size}: frame AUC raw", data["auc_raw"]),
                Figure(f"{name} {size}: anomalies hit", data["anomalies_hit"], note=f"of {data['anomalies']}"),
                Figure(f"{name} {size}: false alarms/min outside anomalies", data["false_alarms_per_normal_minute"],
                       "/min"),
                Figure(f"{name} {size}: scoring frames/s", rate, "fps", note=f"{rate / reference:.2f}x {names[0]}, "
                       f"decode included, best of {len(rates[name])}")]
    return out


if __name__ == "__main__":
    from bench.runner import run_script

    sys.exit(run_script("frame_size", figures, __doc__.splitlines()[0]))
