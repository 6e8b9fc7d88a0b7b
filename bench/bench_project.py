"""Projects and datasets: save/load of a 100,000-subclip project, Ped2 epochs from the frame cache.

    python -m bench project                      # everything (about a minute on 2 cores)
    python -m bench project --quick              # Ped2: only the pipeline training uses, anomaly clips
    python -m bench project --skip-ped2          # save/load only

(``python3 bench/bench_project.py`` with the same options prints the same table, without recording it.)
Targets: save and load each under a second; epoch 2+ at least 10x faster than epoch 1 for the
``tf.data uint8`` pipeline on the reference anomaly setup.

1. Save and load of a project with 1,000 videos and 100,000 subclips (plus 1,000 intervals and 1,000
   verdicts): median of 3 runs each, the file size, and undo/redo of a 100,000-subclip import.
2. Data loading over the UCSD Ped2 training set (16 videos, 2,550 frames) at 128x128 gray, for the
   reference anomaly setup (10-frame clips at every start, frame strides 1-3) and for next-frame clips
   (20 frames, non-overlapping). The first epoch starts with an empty cache, so it decodes every JPEG;
   the next three read the cache (their median is printed). Printed four ways: uint8 clips (what the
   loader fetches from the cache), float32 numpy batches (what ``ClipBatches[i]`` returns), the tf.data
   pipeline with float32 clips, and the tf.data pipeline with uint8 clips that training from a project
   uses (models scale frames in their first layer, see ``core.models.frame_input``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from bench.figures import Figure  # noqa: E402
from bench.reference_data import default_data_dir  # noqa: E402
from core.project import Project  # noqa: E402
from core.project.commands import AddEntities  # noqa: E402
from core.project.entities import (  # noqa: E402
    AnomalyInterval,
    Fingerprint,
    LabelClass,
    ProjectData,
    ProjectInfo,
    Subclip,
    Verdict,
    Video,
    new_id,
)
from core.project.store import read_project_file, write_project_file  # noqa: E402


def big_project(folder: Path, videos: int = 1000, subclips: int = 100_000) -> ProjectData:
    data = ProjectData(ProjectInfo("bench", created="2026-01-01T00:00:00+00:00"))
    for n in range(videos):
        v = Video(new_id(), folder / "media" / f"camera-{n:04d}.mp4", f"camera-{n:04d}.mp4", "file", 1280, 720, 25.0,
                  9000, Fingerprint(50_000_000 + n, 1_700_000_000_000_000_000, f"{n:032x}"), 9000, "h264",
                  split=("train", "val", "test")[n % 3], added="2026-01-01T00:00:00+00:00")
        data.videos[v.id] = v
    for name in ("walk", "run", "cycle", "skate", "cart"):
        data.classes[name] = LabelClass(name, "#808080")
    ids = list(data.videos)
    labels = list(data.classes)
    for n in range(subclips):
        start = (n * 37) % 8900
        s = Subclip(new_id(), ids[n % videos], start, start + 50, label=labels[n % 5], note="checked" if n % 10 == 0 else "")
        data.subclips[s.id] = s
    for n in range(videos):
        i = AnomalyInterval(new_id(), ids[n], 100, 400, source="UCSDped2.m")
        data.intervals[i.id] = i
        e = Verdict(new_id(), ids[n], 120, 380, ("confirmed", "rejected", "unsure")[n % 3], note="reviewed", run_id="r1")
        data.verdicts[e.id] = e
    return data


def bench_save_load() -> list[Figure]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        data = big_project(folder)
        path = folder / "project.json"
        saves, loads = [], []
        for _ in range(3):
            t = time.perf_counter()
            write_project_file(path, data, folder)
            saves.append(time.perf_counter() - t)
            t = time.perf_counter()
            loaded = read_project_file(path, folder)
            loads.append(time.perf_counter() - t)
        assert loaded.same_as(data)
        print(f"project with {len(data.videos):,} videos, {len(data.subclips):,} subclips, "
              f"{len(data.intervals):,} intervals, {len(data.verdicts):,} verdicts; "
              f"project.json {path.stat().st_size / 1e6:.1f} MB")
        print(f"  save (atomic, fsync): median {statistics.median(saves):.3f} s  (runs: "
              + ", ".join(f"{s:.3f}" for s in saves) + ")")
        print(f"  load (parse + check): median {statistics.median(loads):.3f} s  (runs: "
              + ", ".join(f"{s:.3f}" for s in loads) + ")")
        project = Project(folder, ProjectData(data.info, videos=dict(data.videos), classes=dict(data.classes)))
        t = time.perf_counter()
        project.execute(AddEntities("subclips", list(data.subclips.values()), "Import"))
        t_do = time.perf_counter() - t
        t = time.perf_counter()
        project.undo()
        t_undo = time.perf_counter() - t
        t = time.perf_counter()
        project.redo()
        t_redo = time.perf_counter() - t
        print(f"  one command adding 100,000 subclips: do {t_do:.3f} s, undo {t_undo:.3f} s, redo {t_redo:.3f} s",
              flush=True)

    def runs(times: list[float]) -> str:
        return "median of 3: " + ", ".join(f"{t:.3f}" for t in times)

    return [
        Figure("save 1,000 videos + 100,000 subclips", statistics.median(saves), "s", "< 1",
               note=runs(saves)),
        Figure("load 1,000 videos + 100,000 subclips", statistics.median(loads), "s", "< 1",
               note=runs(loads)),
        Figure("one command adding 100,000 subclips, do", t_do, "s", note=f"undo {t_undo:.3f} s, redo {t_redo:.3f} s"),
    ]


PIPELINES = ("uint8 clips", "float32 batches", "tf.data float32", "tf.data uint8 (training)")
TRAINING_PIPELINE = "tf.data uint8 (training)"


def bench_ped2(ped2: Path, quick: bool = False) -> list[Figure]:
    """Epoch 1 (decode + cache) against epochs 2+ (cache); with ``quick``, only what training uses on anomaly clips."""
    import tensorflow as tf  # imported before timing: its start-up is not data loading

    from core.data import build_batches, to_tf_dataset
    from core.preprocessing import PreprocessSpec
    from core.project.importers import import_ucsd

    tf.constant(0)
    spec = PreprocessSpec(height=128, width=128, grayscale=True)
    setups = {
        "anomaly clips (10 frames, every start, frame strides 1-3)":
            dict(task="anomaly", length=10, frame_steps=(1, 2, 3), stride=1),
        "next-frame clips (20 frames, non-overlapping)": dict(task="next_frame", length=20, stride=20),
    }
    if quick:
        setups = dict(list(setups.items())[:1])

    def epoch_raw(b) -> int:
        return sum(len(b.raw(i)[0]) for i in range(len(b)))

    def epoch_float(b) -> int:
        return sum(len(b[i][0]) for i in range(len(b)))

    def epoch_tf(ds) -> int:
        # Consumed inside the TensorFlow graph, as model.fit does: no eager Python step per batch.
        return int(ds.reduce(tf.constant(0, tf.int64), lambda n, batch: n + tf.shape(batch[0], out_type=tf.int64)[0]))

    def timed(epoch, data, clips: int) -> float:
        t = time.perf_counter()
        assert epoch(data) == clips
        return time.perf_counter() - t

    with tempfile.TemporaryDirectory() as tmp:
        project = Project.create(Path(tmp) / "ped2")
        t = time.perf_counter()
        import_ucsd(project, ped2)
        t_import = time.perf_counter() - t
        print(f"Ped2 import (28 videos, every frame decoded once to count frames): {t_import:.2f} s", flush=True)
        out = [Figure("Ped2 import, 28 videos", t_import, "s")]
        cache = project.cache_dir / "frames"
        for title, setup in setups.items():
            results = {}
            for name in (TRAINING_PIPELINE,) if quick else PIPELINES:
                for f in cache.glob("*.npy") if cache.exists() else []:
                    f.unlink()  # epoch 1 starts with an empty cache
                t = time.perf_counter()
                batches = build_batches(project, spec=spec, batch_size=16, val_fraction=0.0, **setup)
                if name.startswith("tf.data"):
                    dataset = to_tf_dataset(batches, raw="uint8" in name)
                    clips = epoch_tf(dataset)
                    first = time.perf_counter() - t
                    again = [timed(epoch_tf, dataset, clips) for _ in range(3)]
                else:
                    run = epoch_raw if name == "uint8 clips" else epoch_float
                    clips = run(batches)
                    first = time.perf_counter() - t
                    again = [timed(run, batches, clips) for _ in range(3)]
                results[name] = (first, statistics.median(again))
            gb = clips * batches.samples.length * 128 * 128 * 4 / 1e9
            print(f"Ped2 training set, {title}: {clips:,} clips, 128x128 gray, batch 16 ({gb:.2f} GB of float32 per epoch)")
            for name, (first, second) in results.items():
                print(f"  {name:<26} epoch 1 (decode + cache) {first:6.2f} s   epoch 2+ (cache, median of 3) {second:6.2f} s   "
                      f"ratio {first / second:5.1f}x", flush=True)
                judged = name == TRAINING_PIPELINE and setup["task"] == "anomaly"
                out.append(Figure(f"Ped2 {setup['task'].replace('_', '-')} clips, {name}: epoch 1 / epoch 2+", first / second, "x",
                                  ">= 10" if judged else None, note=f"{first:.2f} s / {second:.2f} s, {clips:,} clips"))
    return out


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench project", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ped2", type=Path, default=default_data_dir() / "ucsd_ped2")
    parser.add_argument("--skip-ped2", action="store_true", help="save/load only")
    return parser


def figures(argv: list[str], quick: bool) -> list[Figure]:
    """Save/load medians (target < 1 s each) and Ped2 epoch ratios (target >= 10x for the training pipeline)."""
    args = _parser().parse_args(argv)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    out = bench_save_load()
    if args.skip_ped2:
        out.append(Figure("Ped2 anomaly clips, tf.data uint8 (training): epoch 1 / epoch 2+", None, "x", ">= 10",
                          skipped="--skip-ped2"))
    else:
        out += bench_ped2(args.ped2, quick)
    return out


if __name__ == "__main__":
    from bench.runner import run_script

    sys.exit(run_script("project", figures))
