"""``framewatch train --dataset moving-mnist``: train on a generated benchmark dataset, without a project.

``framewatch train --dataset moving-mnist --mnist MNIST --runs-dir DIR --task predict`` trains a
next-frame preset on Moving MNIST sequences (:mod:`core.data.moving_mnist`) in ``DIR/<run name>/``;
``framewatch train --runs-dir DIR --resume NAME`` continues it. Nothing is written but the run folder:
sequences are rendered batch by batch from the seed, and the run record stores what rebuilds them
(the MNIST file, the number of sequences, the seed, the sizes), so a resumed run sees the same data.
"""

from __future__ import annotations

import argparse
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.jobs import ProgressCallback
from core.runs import RECORD_FILE, RunRecord, default_run_name

if TYPE_CHECKING:  # the trainer imports Keras: only when a run starts, not when the parser is built
    from core.models.specs import ModelSpec
    from core.training.data import TrainingData
    from core.training.request import ResumeRequest, TrainingRequest
    from core.training.trainer import RunResult

#: Datasets ``--dataset`` accepts, and the source name their run records carry.
DATASETS = ("moving-mnist",)
#: Training sequences when ``--sequences`` is not given: enough that a 20-minute CPU run of ``simvp``
#: (about 9,000 batches of 8) sees each sequence about twice, not one small set many times over (10,000
#: were memorised by then: docs/models.md).
DEFAULT_SEQUENCES = 40_000
#: Validation sequences as a share of the training ones when ``--val-fraction`` is not given: generated
#: sequences are plentiful, and every epoch's validation is time taken from a training budget.
DEFAULT_VAL_FRACTION = 0.05
#: Side of the Moving MNIST canvas in pixels (the benchmark's 64x64); ``--size`` resizes frames from it.
CANVAS = 64


def add_source_arguments(group: argparse._ArgumentGroup, dataset_help: str) -> None:
    """``--dataset`` (with ``dataset_help``) and ``--mnist``: which generated dataset, and its source file."""
    group.add_argument("--dataset", choices=DATASETS, help=dataset_help)
    group.add_argument("--mnist", type=Path, metavar="PATH",
                       help="the MNIST images file (t10k-images-idx3-ubyte[.gz]) or its folder")


def check_args(args: argparse.Namespace) -> None:
    """Usage errors (exit 2) of a dataset run, before TensorFlow is imported."""
    if args.project is not None:
        if args.dataset or args.runs_dir:
            args.parser.error("--dataset and --runs-dir train without a project: give either PROJECT or them")
        return
    if not args.runs_dir:
        args.parser.error("PROJECT is required (or, without a project, --dataset moving-mnist --mnist PATH "
                          "--runs-dir DIR; --runs-dir DIR --resume RUN continues such a run)")
    if args.resume:
        return
    if not args.dataset:
        args.parser.error("without a PROJECT, give --dataset moving-mnist (or --resume RUN)")
    if args.mnist is None:
        args.parser.error("--dataset moving-mnist needs --mnist: the MNIST images file or its folder")
    if args.task is None:
        args.parser.error("missing --task: give --task predict (or --resume RUN)")
    if args.task != "predict":
        args.parser.error(f"--dataset moving-mnist trains next-frame prediction: use --task predict, not "
                          f"--task {args.task}")
    unused = [option for option, value in (("--stride", args.stride), ("--frame-steps", args.frame_steps),
                                           ("--target", args.target)) if value is not None]
    if args.grayscale is False:
        unused.append("--rgb")
    if unused:
        args.parser.error(f"{', '.join(unused)}: not used with --dataset (Moving MNIST frames are gray sequences)")


def moving_mnist_data(description: dict[str, Any], spec: ModelSpec, batch_size: int) -> tuple[TrainingData, ModelSpec]:
    """Training and validation batches of the run ``description`` describes, and ``spec`` fitted to them.

    ``description`` holds ``mnist`` (images file or folder), ``sequences`` / ``validation_sequences``,
    ``frames`` (per sequence: the model sees ``frames - 1``), ``frame_size`` ``[height, width]``,
    ``digits`` and ``seed``; ``given`` (block predictors): the model sees the first ``given`` frames and
    predicts the rest. Frames travel as ``uint8`` and the model scales them.
    """
    from core.data import MovingMnistBatches, mnist_digits, to_pydataset
    from core.data.moving_mnist import SPLITS, STREAMS, images_path
    from core.training.data import TrainingData

    source = images_path(description["mnist"])
    given = description.get("given")
    common = dict(batch_size=batch_size, frames=description["frames"], size=CANVAS, digits=description["digits"],
                  seed=description["seed"], frame_size=tuple(description["frame_size"]), given=given)
    train_batches = MovingMnistBatches(mnist_digits(source, "train"), description["sequences"],
                                       stream=STREAMS["train"], **common)
    validation = None
    if description["validation_sequences"]:
        validation = to_pydataset(MovingMnistBatches(mnist_digits(source, "validation"),
                                                     description["validation_sequences"],
                                                     stream=STREAMS["validation"], shuffle=False, **common), raw=True)
    height, width = description["frame_size"]
    sizes = {"frames": description["frames"] - 1} if given is None else \
        {"frames": given, "future": description["frames"] - given}
    spec = spec.replace(**sizes, height=height, width=width, channels=1, input_dtype="uint8")
    summary = {**description, "mnist": str(source), "train_clips": description["sequences"],
               "validation_clips": description["validation_sequences"], "input_dtype": "uint8",
               "split": {name: f"images {s.start}..{'' if s.stop is None else s.stop - 1}"
                         for name, s in SPLITS.items()}}
    return TrainingData(to_pydataset(train_batches, raw=True), None, validation, batch_size, summary), spec


def train_on_dataset(args: argparse.Namespace, request: TrainingRequest, progress: ProgressCallback,
                     cancel: threading.Event) -> RunResult:
    """A new run of ``request`` on ``--dataset`` (``--mnist``, ``--sequences``) in ``--runs-dir``."""
    from core.training.frame_size import choose_frame_size
    from core.training.trainer import train

    sequences = DEFAULT_SEQUENCES if args.sequences is None else args.sequences
    val_fraction = DEFAULT_VAL_FRACTION if getattr(args, "val_fraction", None) is None else request.val_fraction
    spec, config = request.spec(), request.config()
    # the canvas is square: the preset's size or the given one, times --scale (no footage to take a ratio from)
    fitted = choose_frame_size(spec, "predict", request.height, request.width, request.scale, (), reference=True)
    size = (fitted.height, fitted.width)
    given = spec.frames if request.frames is None else request.frames
    future = getattr(spec, "future", None)  # a block predictor: ``future`` frames per call, not one
    frames = given + (1 if future is None else future)
    description = {"source": args.dataset, "mnist": str(Path(args.mnist).resolve()), "sequences": sequences,
                   "validation_sequences": int(round(sequences * val_fraction)), "frames": frames,
                   "frame_size": list(size), "digits": 2, "seed": config.seed}
    if future is not None:
        description["given"] = given
    data, spec = moving_mnist_data(description, spec, config.batch_size)
    name = request.run_name or default_run_name("predict", spec.preset)
    return train(spec, data, Path(args.runs_dir) / name, progress, cancel, config)


def resume_dataset_run(args: argparse.Namespace, request: ResumeRequest, progress: ProgressCallback,
                       cancel: threading.Event) -> RunResult:
    """Continue run ``request.run`` (a folder, or a name under ``--runs-dir``) on the data it was trained on."""
    from core.models.specs import spec_from_dict
    from core.runs import RunError, resume_refusal
    from core.runs.record import run_file
    from core.training.trainer import TrainingConfig, resume

    candidates = [Path(request.run), Path(args.runs_dir) / request.run]
    run_dir = next((c for c in candidates if (c / RECORD_FILE).is_file()), None)
    if run_dir is None:
        raise RunError(f"no training run {str(request.run)!r} (looked for {RECORD_FILE} in "
                       f"{', '.join(str(c) for c in candidates)})")
    run_file(run_dir, RECORD_FILE)  # a linked run folder or record is refused, never followed
    record = RunRecord.load(run_dir)
    refusal = resume_refusal(run_dir, record)
    if refusal:  # before the sequences are drawn
        raise RunError(refusal)
    if record.data.get("source") not in DATASETS:
        raise RunError(f"{run_dir}: this run was trained on a project ({record.data.get('project')}): resume it "
                       "with framewatch train PROJECT --resume RUN")
    config = TrainingConfig.from_dict(record.config)
    data, _ = moving_mnist_data(record.data, spec_from_dict(record.spec), config.batch_size)
    return resume(run_dir, data, progress, cancel, epochs=request.epochs, learning_rate=request.learning_rate,
                  max_minutes=request.max_minutes, steps_per_epoch=request.steps_per_epoch)
