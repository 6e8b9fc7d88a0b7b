"""``framewatch train | resume | presets | devices``: the training engine from the command line.

``framewatch train PROJECT --task anomaly --preset conv-ae --size 64 --epochs 5`` builds the task's
datasets from the project, trains in ``PROJECT/runs/<name>/`` with a progress bar, an epoch line per
epoch and a summary; ``--resume RUN`` continues a run (its name under ``runs/`` or its folder).
Ctrl+C, SIGTERM (``kill``, a shutdown) and SIGHUP (a closed terminal) stop within one batch and leave
the run ``cancelled`` and resumable (exit code 130); a second signal stops at once. ``framewatch runs
PROJECT`` lists the project's runs; one whose process is gone (killed, crashed) shows as
``interrupted (resumable with --resume NAME)``.
``framewatch train --dataset moving-mnist --mnist MNIST --runs-dir DIR --task predict`` trains on
generated Moving MNIST sequences instead of a project (see :mod:`core.cli.train_dataset`).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.cli.number_options import (
    BATCH,
    EPOCHS,
    FRAME,
    FRAME_COUNT,
    MINUTES_LIMIT,
    OUTPUTS_LIMIT,
    SEED,
    SMOOTH,
    THREAD_LIMIT,
    TRAIN_SEQUENCES_LIMIT,
    Number,
    WholeNumber,
)
from core.cli.progress_bar import ProgressBar
from core.cli.train_dataset import DEFAULT_SEQUENCES, DEFAULT_VAL_FRACTION, add_source_arguments
from core.jobs import Stage
from core.preprocessing.spec import SIGNALS
from core.tasks import TASKS
from core.training.errors import ConfigError
from core.training.frame_size import MAX_SCALE, MIN_SCALE
from core.training.request import ResumeRequest, TrainingRequest, spec_option


def _default(name: str) -> Any:
    """A :class:`TrainingRequest` default, for a help text: the request holds each default once."""
    return TrainingRequest.__dataclass_fields__[name].default


def _int_tuple(text: str) -> tuple[int, ...] | str:
    """``"64x96"`` / ``"1,2,3"`` -> ``(64, 96)`` / ``(1, 2, 3)``; text that is not whole numbers comes back as
    is, for the handler to refuse in one line (argparse would print its usage too)."""
    try:
        return tuple(int(v) for v in text.replace("x", ",").split(",") if v.strip())
    except ValueError:
        return text


def _numbers(value, option: str, what: str, count: tuple[int, int] = (1, 1000)) -> tuple[int, ...] | None:
    """A parsed ``_int_tuple`` option, or :class:`ConfigError` naming the option and the expected form."""
    if value is None:
        return None
    if isinstance(value, str) or not count[0] <= len(value) <= count[1]:
        raise ConfigError(f"{option} takes {what}, not {value if isinstance(value, str) else 'x'.join(map(str, value))!r}")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    train = subparsers.add_parser(
        "train", help="train a model on a project's videos (progress bar, checkpoints, resumable)",
        description="Train a preset of a task on the project's videos, split by video into train and validation. "
        "Runs are written to PROJECT/runs/NAME/ (run.json, last.keras, best.keras; a motion run: run.json, "
        "motion.npz) and listed in the project. "
        "Without a project, --dataset moving-mnist trains next-frame prediction on generated Moving MNIST "
        "sequences in --runs-dir DIR/NAME/.",
    )
    train.add_argument("project", type=Path, nargs="?", help="project folder (not with --dataset)")
    train.add_argument("--task", choices=TASKS, help="what to learn (not needed with --resume)")
    train.add_argument("--preset", help="model preset (see 'framewatch presets'; default: the task's default); "
                       "--task anomaly --preset motion trains no network: it fits the motion scorer's statistics "
                       "(optical flow per cell) on the normal footage in one pass, in seconds")
    train.add_argument("--resume", metavar="RUN",
                       help="continue this run (name under runs/ or folder) from its checkpoint; refused for a run "
                       "that never finished an epoch and for a read-only model folder (export-run's, the shipped "
                       "model)")
    train.add_argument("--name", help="run name (default: date-time-task-preset)")
    data = train.add_argument_group("data")
    data.add_argument("--size", type=_int_tuple, metavar="H[xW]",
                      help="frame size in pixels (default: predict and anomaly runs keep the training videos' "
                      "aspect ratio at about the preset's pixel count, each side rounded to what the model needs: "
                      "64x96 for 360x240 footage with the default anomaly preset, 68x92 for 640x480; other tasks "
                      "and reference presets: the preset's)")
    data.add_argument("--scale", type=Number(MIN_SCALE, MAX_SCALE), metavar="S",
                      help="multiply both sides of the frame size by S, e.g. 1.5 for small or fast movers "
                      "(slower: time grows with the pixel count; default 1)")
    data.add_argument("--frames", type=int, help="frames per input clip (default: the preset's)")
    color = data.add_mutually_exclusive_group()
    color.add_argument("--gray", dest="grayscale", action="store_const", const=True, help="gray frames")
    color.add_argument("--rgb", dest="grayscale", action="store_const", const=False, help="color frames")
    data.add_argument("--input", dest="signal", choices=SIGNALS, default=None,
                      help="what the model sees of each frame (classify, regress): the frame itself, or speed: its "
                           "optical-flow speed map at --size, each pixel the fastest motion in its block since the "
                           "frame before (DIS at half the video's size), so a classifier learns how fast things "
                           "move rather than what they look like (default: the preset's: speed for the speed "
                           "preset, frames for the others)")
    data.add_argument("--stride", type=int, help="frames between clip starts (predict, anomaly)")
    data.add_argument("--frame-steps", type=_int_tuple, help="anomaly stride augmentation, e.g. 1,2,3")
    data.add_argument("--val-fraction", type=float,
                      help="share of the normal footage held out for validation, the error level and the threshold: "
                      "whole videos, or (next-frame and anomaly runs with fewer than 5 videos) time blocks inside "
                      f"each video (default {_default('val_fraction')}; with --dataset: the share of --sequences "
                      f"generated for validation, default {DEFAULT_VAL_FRACTION})")
    data.add_argument("--target", help="numeric target to regress (regress; default: the only one)")
    dataset = train.add_argument_group("dataset (instead of a project)")
    add_source_arguments(dataset, "moving-mnist: two MNIST digits bouncing in 64x64 frames, 20 per sequence "
                         "(seeded by --seed; training digits are images 0..8999 of the file, validation 9000..)")
    dataset.add_argument("--sequences", type=WholeNumber(1, TRAIN_SEQUENCES_LIMIT), metavar="N",
                         help=f"training sequences (default {DEFAULT_SEQUENCES:,}); validation: N x --val-fraction")
    dataset.add_argument("--runs-dir", type=Path, metavar="DIR",
                         help="folder of the run folders (with --dataset, or with --resume RUN of such a run)")
    fit = train.add_argument_group("training")
    fit.add_argument("--epochs", type=EPOCHS, help=f"epochs in all (default {_default('epochs')}; with --resume: "
                     "train a finished run longer)")
    fit.add_argument("--batch-size", type=BATCH,
                     help=f"clips per step (default {_default('batch_size')}); a smaller one is used, and said, when the "
                     "memory estimate for this one is more than the memory available")
    fit.add_argument("--lr", type=float, dest="learning_rate",
                     help="learning rate (default: the preset's; with --resume: replaces the run's current rate)")
    fit.add_argument("--patience", type=WholeNumber(0, EPOCHS.high),
                     help=f"early-stopping patience in epochs (default {_default('patience')}; 0: off)")
    fit.add_argument("--lr-patience", type=WholeNumber(0, EPOCHS.high),
                     help=f"reduce-LR-on-plateau patience in epochs (default {_default('lr_patience')}; 0: off)")
    fit.add_argument("--lr-factor", type=float,
                     help=f"what a plateau multiplies the learning rate by, in (0, 1) (default {_default('lr_factor')})")
    fit.add_argument("--steps-per-epoch", type=WholeNumber(1, 10**6),
                     help="batches per epoch (default: the whole training set; with --resume: replaces the run's "
                     "own from the next epoch on, and is kept in its run.json)")
    fit.add_argument("--max-minutes", type=Number(0.0, MINUTES_LIMIT, above_low=True), metavar="M",
                     help="training time budget in minutes: stop at the first batch boundary after M minutes of "
                     "training (that epoch is validated, checkpointed and counts as finished; status stopped_early "
                     "with a note); per invocation: with --resume the run gets M minutes again (default: the "
                     "run's own budget, if any)")
    fit.add_argument("--max-steps", type=WholeNumber(1, 10**9), metavar="N",
                     help="training budget in steps (batches), for a new run: stop after N steps, as --max-minutes "
                     "stops (with both, whichever comes first); a preset whose learning rate follows the budget "
                     "(simvp, convlstm-patch) anneals it over the N steps")
    fit.add_argument("--seed", type=SEED, help=f"random seed (default {_default('seed')})")
    fit.add_argument("--no-error-level", action="store_true",
                     help="--task anomaly with a next-frame preset (the default): do not fit the run's error level "
                     "after training (see framewatch fit-error-level; by default it is fitted, a couple of minutes "
                     "outside --max-minutes, and scoring divides errors by it)")
    fit.add_argument("--no-motion", action="store_true",
                     help="--task anomaly with a next-frame preset (the default): do not fit motion statistics on the "
                     "footage the run trained on when it ends (see framewatch fit-motion; by default they are "
                     "fitted, seconds, for score --scorer motion or fused)")
    fit.add_argument("--deterministic", action="store_true", help="bit-identical reruns (slower)")
    model = train.add_argument_group("model")
    model.add_argument("--set", dest="spec_options", action="append", default=[], metavar="FIELD=VALUE",
                       help="set any other option of the preset's model spec, e.g. --set translator_blocks=8 "
                            "(repeatable; recorded in run.json's spec; a wrong name lists the preset's options)")
    model.add_argument("--filters", type=_int_tuple,
                       help="filters per layer, e.g. 32,32 (ConvLSTM layers, Conv3D layers, or the LRCN's CNN)")
    model.add_argument("--backbone", help="LRCN backbone: scratch, mobilenet_v2, inception_v3, ...")
    model.add_argument("--weights", help="backbone weights: imagenet, none, or a local weights file")
    model.add_argument("--differences", action="store_true", default=None,
                       help="LRCN presets (classify, regress): the per-frame CNN sees the absolute differences between "
                       "consecutive frames (what moved, computed inside the model) instead of the frames")
    model.add_argument("--outputs", type=WholeNumber(1, OUTPUTS_LIMIT), help="regression outputs (classes come from the project)")
    device = train.add_argument_group("device")
    device.add_argument("--threads", type=WholeNumber(1, THREAD_LIMIT), help="CPU threads (default: all cores)")
    device.add_argument("--reserve-cores", type=WholeNumber(0, THREAD_LIMIT),
                        help=f"cores to leave free (default {_default('reserve_cores')})")
    device.add_argument("--mixed-precision", action="store_true", help="float16 compute on a GPU")
    device.add_argument("--device", metavar="D",
                        help="where the model trains: auto (the first GPU if the backend sees one, else the CPU), "
                        "cpu (even with a GPU), gpu or gpu:N (refused if the backend does not see it); "
                        "framewatch devices lists them")
    train.set_defaults(handler=run_train, needs_tensorflow=True, check=_check_train_args)

    presets = subparsers.add_parser("presets", help="list the model presets of each task")
    presets.add_argument("--task", choices=TASKS)
    presets.set_defaults(handler=run_presets)

    runs = subparsers.add_parser(
        "runs", help="list a project's training runs and their status (interrupted runs are resumable)",
        description="List the runs under PROJECT/runs/: status, epochs, best value. A run whose training "
        "process is gone shows as 'interrupted (resumable with --resume NAME)', a model folder without training "
        "checkpoints (an export, the shipped model) as 'STATUS (read-only model folder)', and a run whose "
        "run.json cannot be read as 'damaged' with the problem, the others listed as usual.",
    )
    runs.add_argument("project", type=Path, help="project folder")
    runs.add_argument("--json", action="store_true", help="one JSON object per run")
    runs.set_defaults(handler=run_runs)

    export = subparsers.add_parser(
        "export-run", help="copy a run's model and record to a portable folder (no optimizer state, no local paths)",
        description="Write RUN's best model (weights only) as OUT/model.keras and its record as OUT/run.json, "
        "without the training machine's paths and process. The folder works wherever a run folder does "
        "(framewatch score/evaluate/predict --run OUT) and can be copied or shipped; it is a read-only model folder "
        "(no training checkpoint: it cannot be resumed, nor given an error level of its own).",
    )
    export.add_argument("project", type=Path, help="project folder")
    export.add_argument("--run", required=True, help="training run: its name under PROJECT/runs/, or its folder")
    export.add_argument("--to", required=True, type=Path, metavar="OUT", help="folder to write")
    export.add_argument("--checkpoint", default="", metavar="FILE",
                        help="model file of the run folder to export (default: the run's model, as scoring uses; "
                        "or a file name such as last.keras)")
    export.add_argument("--error", choices=("mse", "worst-patches"), default=None,
                        help="record the frame error the model is meant to be scored with (score and evaluate "
                        "use it unless told otherwise)")
    export.add_argument("--smooth", type=SMOOTH, default=None, metavar="N",
                        help="record the error smoothing (frames) the model is meant to be scored with")
    export.add_argument("--min-run", type=FRAME_COUNT, default=None, metavar="N",
                        help="record the event rule's minimum run (frames above the threshold an event needs) the "
                        "model is meant to be flagged with")
    export.add_argument("--merge-gap", type=FRAME, default=None, metavar="N",
                        help="record the event rule's merge gap (frames) the model is meant to be flagged with")
    export.add_argument("--format", dest="formats", action="append", choices=("onnx", "openvino"), default=[],
                        help="also write the model (and its error-level model) for a faster runtime beside "
                        "model.keras: onnx (model.onnx, ONNX Runtime) or openvino (model.xml/.bin); repeat for both. "
                        "run.json records each with the fingerprint of the Keras file it came from; score and "
                        "evaluate use it while it matches (--runtime; pip install \"framewatch[runtime]\")")
    export.add_argument("--overwrite", action="store_true",
                        help="replace a previous export in OUT, whole (a folder with other files is never "
                        "replaced; an export that fails or is killed leaves the previous one intact)")
    export.set_defaults(handler=run_export)

    devices = subparsers.add_parser("devices", help="what the training backend sees: CPUs, GPUs, threads")
    devices.add_argument("--json", action="store_true")
    devices.set_defaults(handler=run_devices, needs_tensorflow=True)


class _Reporter:
    """A progress bar per stage of the job (preparing data, training, error level), and one line per epoch on
    stderr (also when stderr is not a terminal)."""

    #: What each stage's bar counts.
    UNITS = {Stage.PREPARING: "frame", Stage.TRAINING: "batch", Stage.ERROR_LEVEL: "step", Stage.MOTION: "frame"}

    def __init__(self) -> None:
        self.bar: ProgressBar | None = None
        self.stage: Stage | None = None
        self.last = None

    def __call__(self, event) -> None:
        from tqdm import tqdm

        from core.training import events as ev

        if self.bar is None or event.stage is not self.stage:  # a new part of the job: its own bar
            self.close()
            self.stage = event.stage
            self.bar = ProgressBar(event.stage.label if event.stage else "working",
                                   unit=self.UNITS.get(event.stage, "step"))
        if isinstance(event, ev.RunStarted | ev.RunNote):
            tqdm.write(event.message, file=sys.stderr)
            return
        if isinstance(event, ev.EpochEnded):
            rate = f", {event.samples_per_s:.1f} clips/s" if event.samples_per_s else ""
            lr = f", lr {event.learning_rate:.3g}"
            eta = f", eta {event.eta_s:.0f}s" if event.eta_s else ""
            best = " (best)" if event.is_best else ""
            tqdm.write(f"{event.message}{lr}{rate}{eta}{best}", file=sys.stderr)
        if isinstance(event, ev.RunEnded):
            self.last = event
            return
        self.bar(event)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _summary(result) -> str:
    record = result.record
    lines = [
        f"run        {result.run_dir}",
        f"status     {result.status}",
        f"epochs     {record.epochs_completed}",
    ]
    if record.best_value is not None:
        lines.append(f"best       {record.monitor} {record.best_value:.5g} at epoch {(record.best_epoch or 0) + 1}")
    if record.history:
        last = record.history[-1]
        lines.append("last       " + ", ".join(f"{k} {v:.4g}" for k, v in last.items() if isinstance(v, float)))
    lines.append(f"model      {result.model_path or ''}")
    lines.append(f"device     {record.device.get('summary', '')}")
    lines.append(f"time       {record.duration_s:.1f} s")
    level = record.data.get("error_level")
    if isinstance(level, dict):
        lines.append(f"error lvl  {level.get('file')}: {level.get('windows')} windows of held-out footage in "
                     f"{level.get('videos')} video(s), {level.get('seconds')} s")
    motion = record.data.get("motion") if record.spec.get("family") != "motion" else None
    if isinstance(motion, dict):
        lines.append(f"motion     {motion.get('file')}: statistics of {motion.get('normal_frames')} trained frames in "
                     f"{motion.get('videos')} video(s) (score --scorer motion or fused)")
    from core.inference.anomaly.trust import trust_report

    trust = trust_report(record)
    if trust is not None:
        lines.append(f"trust      {trust.summary()}")
        if trust.warning():
            lines.append(f"warning    {trust.warning()}")
    return "\n".join(lines)


def _check_train_args(args: argparse.Namespace) -> None:
    """Usage errors (exit 2) and the request (``args.request``), checked before TensorFlow is imported."""
    from core.cli.train_dataset import check_args

    check_args(args)
    if not args.resume and not args.task:
        args.parser.error("missing --task: give --task (or --resume RUN)")
    if args.resume and args.spec_options:
        args.parser.error("--set changes a new run's model: a resumed run keeps its own")
    if args.resume and args.max_steps is not None:
        args.parser.error("--max-steps sets a new run's step budget: a resumed run keeps its own (give --max-minutes "
                          "or --epochs to change how long it trains)")
    args.request = training_request(args)


def _given(args: argparse.Namespace, **names: str) -> dict[str, Any]:
    """``{field: args.<option>}`` of the options given (``None``: left to the request's default)."""
    return {field: getattr(args, option) for field, option in names.items() if getattr(args, option) is not None}


def training_request(args: argparse.Namespace) -> TrainingRequest | ResumeRequest:
    """The request ``framewatch train`` makes of its arguments; :class:`ConfigError` (one line) for a bad value.

    The options given as text (``--size``, ``--filters``, ``--frame-steps``) are read here; every range is
    the request's.
    """
    device = _given(args, device="device", cpu_threads="threads", reserve_cores="reserve_cores")
    if args.resume:
        return ResumeRequest(args.resume, epochs=args.epochs, learning_rate=args.learning_rate,
                             max_minutes=args.max_minutes, steps_per_epoch=args.steps_per_epoch,
                             error_level=not args.no_error_level,
                             mixed_precision=args.mixed_precision, **device)
    size = _numbers(args.size, "--size", "a frame size H or HxW in pixels, e.g. 64 or 64x96", (1, 2))
    spec_options = tuple(spec_option(args.task, args.preset, text) for text in args.spec_options)
    return TrainingRequest(
        task=args.task, preset=args.preset, run_name=args.name, learning_rate=args.learning_rate,
        filters=_numbers(args.filters, "--filters", "filters per layer, e.g. 32,32"), backbone=args.backbone,
        weights=args.weights, outputs=args.outputs, frame_differences=args.differences, height=size[0] if size else None,
        width=size[-1] if size else None, scale=args.scale, grayscale=args.grayscale, frames=args.frames, stride=args.stride,
        frame_steps=_numbers(args.frame_steps, "--frame-steps", "frame steps, e.g. 1,2,3"), target=args.target,
        signal=args.signal,
        steps_per_epoch=args.steps_per_epoch, max_minutes=args.max_minutes, max_steps=args.max_steps,
        deterministic=args.deterministic,
        error_level=not args.no_error_level, motion=not args.no_motion, mixed_precision=args.mixed_precision,
        spec_options=spec_options, **device, **_given(args, val_fraction="val_fraction", epochs="epochs", batch_size="batch_size", patience="patience",
                 lr_patience="lr_patience", lr_factor="lr_factor", seed="seed"),
    )


def _stop_on_termination(cancel) -> Callable[[], None]:
    """SIGTERM and SIGHUP set ``cancel`` (the run stops within one batch, resumable); a second one interrupts.

    Returns a function that puts the previous handlers back. Signals can only be caught in the main thread;
    elsewhere nothing changes.
    """
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def on_signal(signum: int, frame) -> None:
        if cancel.is_set():
            raise KeyboardInterrupt
        cancel.set()
        print(f"framewatch: {signal.Signals(signum).name} received: stopping after this batch; the run stays "
              "resumable", file=sys.stderr, flush=True)

    names = [name for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)]
    previous = {name: signal.signal(getattr(signal, name), on_signal) for name in names}

    def restore() -> None:
        for name, handler in previous.items():
            signal.signal(getattr(signal, name), handler)

    return restore


def run_train(args: argparse.Namespace) -> int:
    import threading

    from core.project import Project
    from core.training.devices import configure_devices
    from core.training.from_project import resume_project_run, train_project

    request = args.request  # made and checked before TensorFlow was imported
    # thread pools must be set before TensorFlow runs anything
    try:
        configure_devices(request.mixed_precision, request.reserve_cores, request.cpu_threads, request.device)
    except ValueError as exc:  # a GPU the backend does not see
        raise ConfigError(str(exc)) from None
    project = Project.open(args.project) if args.project is not None else None
    cancel = threading.Event()
    reporter = _Reporter()
    restore = _stop_on_termination(cancel)
    try:
        if project is None:
            from core.cli.train_dataset import resume_dataset_run, train_on_dataset

            if args.resume:
                result = resume_dataset_run(args, request, reporter, cancel)
            else:
                result = train_on_dataset(args, request, reporter, cancel)
        elif args.resume:
            result = resume_project_run(project, request.run, epochs=request.epochs,
                                        learning_rate=request.learning_rate, max_minutes=request.max_minutes,
                                        steps_per_epoch=request.steps_per_epoch, error_level=request.error_level,
                                        hold_project=False, progress=reporter, cancel=cancel)
        else:
            result = train_project(project, request, hold_project=False, progress=reporter, cancel=cancel)
    except KeyboardInterrupt:
        cancel.set()
        raise
    finally:
        restore()
        reporter.close()
    print(_summary(result))
    return 0


def run_presets(args: argparse.Namespace) -> int:
    from core.models import DEFAULT_PRESET, presets

    for task in [args.task] if args.task else TASKS:
        print(f"{task}:")
        for name, preset in presets(task).items():
            marks = " (default)" if name == DEFAULT_PRESET[task] else ""
            marks += " [reference]" if preset.reference else ""
            spec = preset.spec
            print(f"  {name:<18} {spec.frames}x{spec.height}x{spec.width}x{spec.channels}  {preset.description}{marks}")
    return 0


def run_devices(args: argparse.Namespace) -> int:
    from core.training.devices import configure_devices, library_versions

    setup = configure_devices()
    versions = library_versions()
    if args.json:
        print(json.dumps({**setup.to_dict(), "versions": versions}, indent=2, default=str))
        return 0
    print(f"backend   {setup.backend} (keras {versions['keras']}"
          + (f", tensorflow {versions['tensorflow']})" if "tensorflow" in versions else ")"))
    for device in setup.devices:
        details = ", ".join(f"{k} {v}" for k, v in device.details.items() if v not in (None, ""))
        print(f"{device.kind:<9} {device.name}" + (f"  ({details})" if details else ""))
    if not setup.gpu:
        print("GPU       none found: training runs on the CPU (mixed precision is GPU only)")
    print(f"threads   {setup.cpu_threads} for training")
    for note in setup.notes:
        print(f"note      {note}")
    return 0


def run_runs(args: argparse.Namespace) -> int:
    from core.project import Project
    from core.runs import list_runs

    project = Project.open(args.project)  # a missing or bad project: one line
    listings = list_runs(project.folder)
    if not listings:
        print(f"no training runs in {project.folder}")
        return 0
    for item in listings:
        record = item.record
        if args.json:
            row = {"name": item.name, "run_dir": str(item.run_dir), "status": item.status,
                   "resumable": item.resumable, "problem": item.problem}
            if record is not None:
                row.update(task=record.task, preset=record.preset, epochs_completed=record.epochs_completed,
                           epochs=record.config.get("epochs"), monitor=record.monitor, best_value=record.best_value,
                           notes=record.notes)
            print(json.dumps(row))
            continue
        if record is None:
            print(f"{item.name}  {item.status}: {item.problem}")
            continue
        best = f", best {record.monitor} {record.best_value:.4g}" if record.best_value is not None else ""
        print(f"{item.name}  {record.task}/{record.preset}  {item.status_text()}  "
              f"{record.epochs_completed}/{record.config.get('epochs', '?')} epochs{best}")
    return 0


def run_export(args: argparse.Namespace) -> int:
    from core.quiet_tensorflow import import_tensorflow_quietly
    from core.runs import RECORD_FILE, RunRecord, find_run_dir
    from core.runs.export import MODEL_FILE, RUNTIME_KEY, export_run

    scoring = {key: value for key, value in (("error", args.error), ("smooth", args.smooth),
                                             ("min_run", args.min_run), ("merge_gap", args.merge_gap))
               if value is not None}
    import_tensorflow_quietly()
    out = export_run(find_run_dir(args.project, args.run), args.to, checkpoint=args.checkpoint,
                     overwrite=args.overwrite, scoring=scoring, formats=args.formats)
    exported = RunRecord.load(out)
    level = exported.error_level_path(out)
    written = [exported.model_file_path(out) or out / MODEL_FILE, out / RECORD_FILE, *([level] if level is not None else [])]
    for entries in (exported.data.get(RUNTIME_KEY) or {}).values():
        written += [out / entry[key] for entry in entries.values() for key in ("file", "weights") if key in entry]
    print("wrote " + ", ".join(str(path) for path in written))
    return 0
