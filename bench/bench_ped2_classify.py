"""UCSD Ped2 window classification: a classify preset on held-out videos beside the majority class and frame difference.

Task (:mod:`core.data.ped2_windows`): windows of ``--length`` consecutive frames (gray, ``--size``), one
every ``--stride`` frames, labelled positive ("something other than pedestrians is in view") when all
their frames lie in the dataset's ground-truth abnormal intervals (``--positive-fraction`` lowers that to
"most"), negative when none does; windows straddling an interval's border are ambiguous and dropped (the
count is printed). The classifier sees each window as the absolute differences between its consecutive
frames (``--input differences``, the default but for the ``speed`` preset; ``--input frames`` gives it the
frames: the LRCN's per-frame CNN ends in global average pooling and learns the look of the training videos'
vehicles, not their motion, docs/models.md; ``--input speed``, the ``speed`` preset's, gives it each frame's
optical-flow speed map, :mod:`core.motion.speed`, as ``framewatch train --input speed`` does). The
``speed`` preset (a small LRCN: one conv block of 8, global max pooling, LSTM(16)) on speed maps beats the
majority class and frame difference on both folds with two sets of fresh seeds, docs/models.md; the
``default`` LRCN on them does with seeds 0-4 only. The classifier (``--preset``, default the ``classify``
task's ``default`` LRCN; give several to compare them) trains for ``--epochs`` on the 16 training videos
(all negative) plus one half of
the 12 test videos, with class weights that balance the two classes and the windows' left-right mirror
images added (``--no-flip`` leaves them out), and is evaluated on the other half:
whole videos are held out. ``--folds 2`` swaps the halves and reports both.

In the same run, fitted on the training side only and applied to the same held-out windows: the majority
class, and two no-learning baselines: the window's mean frame difference (largest mean absolute difference
between consecutive frames over 4x4 cells), and its mean largest speed (each frame's fastest block of its
speed map, :func:`~core.evaluation.window_baselines.frame_speed`), each above a threshold chosen for the best
balanced accuracy on the training windows. The bar (issue 20's): the classifier's balanced accuracy beats the
majority class and frame difference on the held-out videos; the largest speed is printed beside them, the
stronger no-learning reference a classifier of motion has to beat to be worth training.

    python -m bench ped2_classify [--quick] [--data DIR] [--preset default [conv3d ...]] [--folds 1|2]

``--quick`` trains 1 epoch of fold 0 (a smoke run; its figures are not the bar's). What else can be tried:
``--pooling max`` (the LRCN's per-frame CNN ends in global max pooling: one fast object in a crowd), smaller
networks (``--filters``, ``--lstm``), time-reversed copies (``--reverse``), ``--average-epochs K`` (the mean
probabilities of the last K epochs, one model) and ``--validation`` (whole test videos of the training side
validate: the epoch, or with ``--average-epochs`` only the decision threshold, chosen for the best
validation balanced accuracy, as the baseline chooses its threshold on the training windows). ``--seeds N``
trains N classifiers (seeds ``--seed`` on) and classifies with the mean of their probabilities: the spread
between seeds of one setting is larger than any margin over the baseline, and the mean takes it out.

``--save-run PROJECT`` writes each fold's classifier as a ``classify`` run (it takes the window's frames, an
LRCN computing the differences itself, or with ``--input speed`` their speed maps, which the run's record asks
for) that ``framewatch classify`` runs on a held-out video, e.g. (fold 0 holds out the even test videos; an
image folder is a video to it)::

    python -m bench ped2_classify --preset speed --seed 10 --seeds 5 --save-run bench/out/ped2_classify
    python -m core.cli.main classify bench/out/ped2_classify ../shared/data/ucsd_ped2/testing/02 --run ped2-fold0 \
        --stride 4 --annotated bench/out/ped2_classify/testing-02-labelled.mp4
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

import numpy as np  # noqa: E402

from bench.figures import Figure  # noqa: E402
from bench.reference_data import default_data_dir  # noqa: E402
from core.data.ped2_windows import label_windows  # noqa: E402


def _size(text: str) -> tuple[int, int]:
    try:
        height, width = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected HEIGHTxWIDTH, e.g. 40x60") from None
    if not (8 <= height <= 240 and 8 <= width <= 360):
        raise argparse.ArgumentTypeError(f"{text!r}: height 8..240 and width 8..360")
    return height, width


def parse(argv: list[str], quick: bool) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench ped2_classify", description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=default_data_dir(),
                        help="the shared data folder (holding ucsd_ped2/) or a Ped2 folder itself")
    parser.add_argument("--size", type=_size, default=None, metavar="HxW", help="frame size (default 24x36)")
    parser.add_argument("--length", type=int, default=8, help="frames per window (default 8)")
    parser.add_argument("--stride", type=int, default=4, help="frames between window starts (default 4)")
    parser.add_argument("--positive-fraction", type=float, default=1.0,
                        help="fraction of a window's frames that must be abnormal for it to be positive (default 1)")
    parser.add_argument("--preset", nargs="+", default=["default"], help="classify preset(s) (default: default)")
    parser.add_argument("--epochs", type=int, default=None, help="training epochs (default 10)")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--folds", type=int, choices=(1, 2), default=None, help="1: fold 0 only; 2: both (default)")
    parser.add_argument("--input", choices=("frames", "differences", "speed"), default=None,
                        help="what the classifier sees per window: its gray frames, the absolute differences "
                             "between its consecutive frames (length - 1 of them), or speed: each frame's optical-flow "
                             "speed from the frame before (DIS at half Ped2's size), each pixel of the frame size the "
                             "largest speed of its block, as framewatch train --input speed gives it "
                             "(default: speed for the speed preset, else differences)")
    parser.add_argument("--no-flip", dest="flip", action="store_false",
                        help="do not add left-right mirrored copies of the training windows")
    parser.add_argument("--reverse", action="store_true",
                        help="add time-reversed copies of the training windows (after the mirrored ones)")
    parser.add_argument("--validation", action="store_true",
                        help="hold whole videos of the training side out as a validation split (every third "
                             "trained test video, every fourth training video): keep the epoch with the best "
                             "validation balanced accuracy and the decision threshold on the positive class's "
                             "probability chosen there, as the frame-difference baseline chooses its own")
    parser.add_argument("--filters", type=lambda t: tuple(int(v) for v in t.split(",")), default=None,
                        metavar="F1,F2,..", help="LRCN per-frame CNN filters (default: the preset's)")
    parser.add_argument("--lstm", type=lambda t: tuple(int(v) for v in t.split(",")), default=None,
                        metavar="U1,..", help="LRCN LSTM units (default: the preset's)")
    parser.add_argument("--pooling", choices=("avg", "max"), default=None,
                        help="LRCN: global average or max pooling of the per-frame CNN's features (default: avg)")
    parser.add_argument("--save-run", type=Path, default=None, metavar="PROJECT",
                        help="save each fold's trained classifier (of the first --preset) as a classify run "
                             "PROJECT/runs/ped2-fold<N> (run.json with the class names and, with --validation, its "
                             "decision threshold), for framewatch classify PROJECT --run ped2-fold<N> ...")
    parser.add_argument("--average-epochs", type=int, default=0, metavar="K",
                        help="classify with the mean probabilities of the last K epochs' weights (a snapshot "
                             "ensemble; with --validation the threshold is chosen for it, no epoch is picked)")
    parser.add_argument("--balance-sources", action="store_true",
                        help="weigh the negative windows so the trained test videos' (a few dozen) count as much as "
                             "the training videos' (hundreds): every positive comes from a test video, so without "
                             "it 'looks like a test video' alone separates the classes in training")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--seeds", type=int, default=1, metavar="N",
                        help="train N classifiers, seeds SEED..SEED+N-1, and classify with the mean of their "
                             "probabilities (a seed ensemble, saved as one model; default 1)")
    args = parser.parse_args(argv)
    if args.input is None:  # what the first preset is made for
        from core.models.registry import presets

        made_for = presets("classify").get(args.preset[0])
        args.input = "speed" if made_for is not None and made_for.signal == "speed" else "differences"
    args.size = args.size or (24, 36)
    args.epochs = args.epochs or (1 if quick else 10)
    args.folds = args.folds or (1 if quick else 2)
    if args.length < 2 or args.stride < 1 or args.epochs < 1:
        parser.error("--length must be >= 2, --stride and --epochs >= 1")
    if not 0 <= args.average_epochs <= args.epochs:
        parser.error(f"--average-epochs must be from 0 to --epochs ({args.epochs})")
    if args.seeds < 1 or (args.seeds > 1 and args.validation):
        parser.error("--seeds must be >= 1, and more than 1 is not combined with --validation")
    return args


def validation_split(trained: list[str], abnormal: dict[str, np.ndarray], length: int, stride: int,
                     positive_fraction: float = 1.0) -> list[str]:
    """The validation videos of a fold's training side: whole test videos of the trained half, every second
    one (the 1st, 3rd, ...) of those holding windows of both classes, so the threshold is chosen against
    pedestrian-only windows of the test videos (the 16 training videos' negatives are easier: no vehicle
    ever crosses them). Chosen from the training side's labels only; nothing of the held-out half is used."""
    both = [video for video in sorted(trained)
            if len(set(label_windows(abnormal[video], length, stride, positive_fraction)[1].tolist())) == 2]
    return both[0::2]


def source_weights(videos, labels) -> np.ndarray:
    """Per-window training weights that balance the two classes, and within the negatives the two sources: the
    windows of test videos (``testing/..``) and of training videos each weigh half of the negative class. Every
    positive window comes from a test video, so unweighted, the test videos' look (their day, their light, their
    crowd) separates the classes in training as well as what moves does."""
    labels = np.asarray(labels)
    testing = np.array([str(v).startswith("testing") for v in videos])
    weights = np.zeros(len(labels))
    positive = labels == 1
    weights[positive] = 0.5 / max(1, positive.sum())
    for source in (testing, ~testing):
        group = ~positive & source
        if group.any():
            share = 0.5 if (~positive & testing).any() and (~positive & ~testing).any() else 1.0
            weights[group] = 0.5 * share / group.sum()
    return weights * len(labels)  # mean weight 1, as class weights that balance would give


def train_classifier(preset: str, x_train, y_train, x_test, *, epochs: int, batch_size: int, seed: int,
                     flip: bool = True, reverse: bool = False, validation=None, spec_changes=None,
                     average: int = 0, sample_weight=None):
    """Train preset ``preset`` of the ``classify`` task on clips ``x_train`` ``(n, frames, h, w, 1)`` uint8 with
    class weights balancing ``y_train`` (0/1), and with ``flip`` their left-right mirror images as well (people and
    vehicles cross the walkway both ways), with ``reverse`` their time-reversed copies too.

    With ``validation`` ``(x_val, y_val)`` (whole videos of the training side), after every epoch the positive
    class's probability on the validation clips gets the threshold with the best balanced accuracy there
    (:func:`best_threshold`, as the frame-difference baseline picks its own); the epoch with the best
    validation balanced accuracy is kept (its weights and its threshold). Without it the last epoch and the
    argmax (threshold 0.5) decide. With ``average`` > 0 the model is instead the mean of the probabilities of
    the last ``average`` epochs' weights (one Keras model; a validation split then only picks the threshold).

    ``sample_weight`` (one per training clip) replaces the class weights (:func:`source_weights`).

    Returns ``(predicted class of each x_test clip, seconds, details)``; ``details`` has ``threshold``,
    ``epoch`` (1-based, the one kept), ``validation`` (its balanced accuracy, or None), ``model``, ``spec``."""
    import keras
    import numpy as np

    from core.evaluation.window_baselines import balanced_accuracy_of, best_threshold
    from core.models.registry import build_model, make_spec

    keras.utils.set_random_seed(seed)
    given = None if sample_weight is None else np.asarray(sample_weight, np.float64)
    if flip:
        x_train, y_train = np.concatenate([x_train, x_train[:, :, :, ::-1]]), np.concatenate([y_train, y_train])
        given = None if given is None else np.concatenate([given, given])
    if reverse:
        x_train, y_train = np.concatenate([x_train, x_train[:, ::-1]]), np.concatenate([y_train, y_train])
        given = None if given is None else np.concatenate([given, given])
    _, frames, height, width, channels = x_train.shape
    spec = make_spec("classify", preset, frames=frames, height=height, width=width, channels=channels, outputs=2,
                     **(spec_changes or {}))
    model = build_model(spec)
    counts = np.bincount(y_train, minlength=2)
    weights = {c: len(y_train) / (2.0 * counts[c]) for c in range(2) if counts[c]}
    details = {"threshold": 0.5, "epoch": epochs, "validation": None, "model": model, "spec": spec}
    x_val = None if validation is None else validation[0].astype(np.float32) / 255.0
    y_val = None if validation is None else np.asarray(validation[1])

    def pick_threshold(scores):
        threshold = best_threshold(scores, y_val)
        return threshold, balanced_accuracy_of(y_val, (scores > threshold).astype(np.int64))

    class EveryEpoch(keras.callbacks.Callback):
        """Keeps every epoch's weights; with a validation split, the epoch whose best threshold gives the best
        validation balanced accuracy."""

        weights: list = []
        best = (-1.0, None, None, 0)

        def on_epoch_end(self, epoch, logs=None):
            self.weights.append(self.model.get_weights())
            if validation is None:
                return
            threshold, balanced = pick_threshold(self.model.predict(x_val, batch_size=64, verbose=0)[:, 1])
            print(f"    epoch {epoch + 1}: validation balanced accuracy {balanced:.3f} at p > {threshold:.3f}",
                  flush=True)
            if balanced > self.best[0]:
                self.best = (balanced, threshold, self.model.get_weights(), epoch + 1)

    keeper = EveryEpoch()
    started = time.perf_counter()
    balance = {"class_weight": weights} if given is None else {"sample_weight": given}
    model.fit(x_train.astype(np.float32) / 255.0, y_train, epochs=epochs, batch_size=batch_size, shuffle=True,
              verbose=2, callbacks=[keeper], **balance)
    seconds = time.perf_counter() - started
    if average:  # the mean of the last ``average`` epochs' probabilities, as one model
        frames_in = keras.Input(model.input_shape[1:], name="frames")
        members = []
        for k, epoch_weights in enumerate(keeper.weights[-average:]):
            member = keras.models.clone_model(model)
            member.set_weights(epoch_weights)
            members.append(keras.Model(member.input, member.output, name=f"epoch_{epochs - average + k + 1}")(frames_in))
        model = keras.Model(frames_in, keras.layers.Average(name="mean_probabilities")(members), name="epoch_mean")
        details.update(model=model, epoch=epochs)
        if validation is not None:
            threshold, balanced = pick_threshold(model.predict(x_val, batch_size=64, verbose=0)[:, 1])
            details.update(threshold=float(threshold), validation=balanced)
    elif validation is not None:
        balanced, threshold, best_weights, epoch = keeper.best
        model.set_weights(best_weights)
        details.update(threshold=float(threshold), epoch=epoch, validation=balanced)
    probabilities = model.predict(x_test.astype(np.float32) / 255.0, batch_size=64, verbose=0)
    details["probabilities"] = probabilities[:, 1]
    return (probabilities[:, 1] > details["threshold"]).astype(np.int64), seconds, details


def train_ensemble(preset: str, x_train, y_train, x_test, *, seeds: list[int], **options):
    """:func:`train_classifier` once per seed of ``seeds``; the ensemble's class is the argmax of the mean of
    their probabilities, and its ``details["model"]`` one Keras model averaging theirs. One seed: that
    classifier alone. Returns ``(predicted, seconds, details)`` as :func:`train_classifier` does."""
    import keras

    runs = [train_classifier(preset, x_train, y_train, x_test, seed=seed, **options) for seed in seeds]
    if len(runs) == 1:
        return runs[0]
    seconds = sum(run[1] for run in runs)
    members = [run[2] for run in runs]
    mean = np.mean([member["probabilities"] for member in members], axis=0)
    for seed, (predicted, _, _) in zip(seeds, runs, strict=True):
        print(f"    seed {seed} alone: {int(predicted.sum())} of {len(predicted)} held-out windows positive",
              flush=True)
    frames_in = keras.Input(members[0]["model"].input_shape[1:], name="frames")
    outputs = [keras.Model(m["model"].input, m["model"].output, name=f"seed_{seed}")(frames_in)
               for seed, m in zip(seeds, members, strict=True)]
    model = keras.Model(frames_in, keras.layers.Average(name="mean_probabilities")(outputs), name="seed_mean")
    details = {**members[0], "model": model, "probabilities": mean, "threshold": 0.5}
    return (mean > 0.5).astype(np.int64), seconds, details


def save_run(run_dir: Path, details: dict, args: argparse.Namespace, held: list[str], seconds: float) -> Path:
    """Write a trained classifier as a ``classify`` run folder (``run.json``, ``best.keras``) that
    ``framewatch classify`` reads: frames in, gray at the benchmark's size; the class names; with a
    validation split, the decision threshold chosen there (``data.decision``)."""
    import datetime

    from core.data.ped2_windows import CLASSES
    from core.models.files import save_model
    from core.models.specs import spec_from_dict
    from core.preprocessing.spec import PreprocessSpec
    from core.runs.record import BEST_CHECKPOINT, RunRecord

    model = details["model"]
    _, frames, height, width, channels = model.input_shape
    if frames != args.length or channels != 1:
        raise ValueError(f"only a model that takes the {args.length} gray frames or speed maps of a window can be "
                         f"saved as a run (--input differences with an LRCN preset, --input frames or speed); this "
                         f"one takes {model.input_shape}")
    spec = details["spec"]
    spec_from_dict(spec.to_dict())  # what a reader of the run will rebuild
    run_dir.mkdir(parents=True, exist_ok=True)
    save_model(model, run_dir / BEST_CHECKPOINT)
    data = {"class_names": list(CLASSES),
            "preprocess": PreprocessSpec(height=height, width=width, grayscale=True,
                                         signal="speed" if args.input == "speed" else "frames").to_dict(),
            "options": {"source": "bench ped2_classify", "held_out": [h.split("/")[-1] for h in held]}}
    if details["validation"] is not None:
        data["decision"] = {"class_index": 1, "threshold": details["threshold"],
                            "chosen_on": "validation videos of the training side (best balanced accuracy)",
                            "validation_balanced_accuracy": details["validation"], "epoch": details["epoch"]}
    now = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    RunRecord(run_id=run_dir.name, task="classify", preset=spec.preset, spec=spec.to_dict(),
              config={"seed": args.seed, "epochs": args.epochs, "batch_size": args.batch_size}, data=data,
              status="completed", created=now, finished=now, duration_s=seconds, epochs_completed=args.epochs,
              best_epoch=details["epoch"] - 1, model_path=BEST_CHECKPOINT, monitor="validation balanced accuracy"
              ).save(run_dir)
    print(f"  saved the classifier as run {run_dir}", flush=True)
    return run_dir


def first_frame_size(root: Path) -> tuple[int, int]:
    """``(height, width)`` of the first image of the first training video under the Ped2 folder ``root``."""
    import cv2

    for image in sorted((root / "training").glob("*/*")):
        found = cv2.imread(str(image), cv2.IMREAD_GRAYSCALE)
        if found is not None:
            return found.shape[:2]
    raise SystemExit(f"no readable image under {root / 'training'}")


def _report(name: str, truth, predicted) -> tuple[float, float, str]:
    from core.data.ped2_windows import CLASSES
    from core.evaluation.classification import confusion_matrix
    from core.evaluation.window_baselines import balanced_accuracy_of

    matrix = confusion_matrix(list(truth), list(predicted), classes=[0, 1])
    balanced = balanced_accuracy_of(truth, predicted)
    (tn, fp), (fn, tp) = matrix.counts.tolist()
    line = (f"  {name:<34} accuracy {matrix.accuracy:.3f}  balanced {balanced:.3f}  confusion "
            f"[[{tn} {fp}] [{fn} {tp}]] (rows true, columns predicted: {CLASSES[0]}, {CLASSES[1]})")
    print(line, flush=True)
    return matrix.accuracy, balanced, f"TN {tn} FP {fp} FN {fn} TP {tp}"


def figures(argv: list[str], quick: bool) -> list[Figure]:
    args = parse(argv, quick)
    root = args.data / "ucsd_ped2" if (args.data / "ucsd_ped2").is_dir() else args.data
    if not (root / "testing").is_dir():
        return [Figure("Ped2 window classification, balanced accuracy", None, skipped=f"no UCSD Ped2 at {root}")]

    from core.data.ped2_windows import read_ped2, split_test_videos, windows_of
    from core.evaluation.roc import roc_auc
    from core.evaluation.window_baselines import (
        best_threshold,
        frame_difference,
        frame_speed,
        majority_class,
        window_motion,
    )
    from core.models.registry import get_preset
    from core.motion.flow import working_size
    from core.motion.speed import speed_maps
    from core.preprocessing.differences import clip_input

    ped2 = read_ped2(root, args.size)
    # the flow at its working size, as the product computes it (core.motion.speed)
    working = read_ped2(root, working_size(*first_frame_size(root)))
    speeds = {name: speed_maps(frames, *args.size, scale=1.0) for name, frames in working.frames.items()}
    del working
    seen = speeds if args.input == "speed" else ped2.frames  # what the classifier's windows are cut from
    motion = {name: frame_difference(frames) for name, frames in ped2.frames.items()}
    fastest = {name: frame_speed(maps) for name, maps in speeds.items()}
    out: list[Figure] = []
    for fold in range(args.folds):
        trained, held = split_test_videos(ped2.testing, fold)
        train = windows_of(ped2.training + trained, ped2.abnormal, args.length, args.stride, args.positive_fraction)
        test = windows_of(held, ped2.abnormal, args.length, args.stride, args.positive_fraction)
        overlap = set(train.video) & set(test.video)
        if overlap:  # split_test_videos guarantees this; the figures must not rest on it silently
            raise RuntimeError(f"videos in both training and held-out windows: {sorted(overlap)}")
        print(f"fold {fold}: held out {', '.join(held)}; training windows {len(train)} ({train.positives} positive, "
              f"{train.dropped} ambiguous dropped), held-out windows {len(test)} ({test.positives} positive, "
              f"{test.dropped} ambiguous dropped); {args.length} frames of {args.size[0]}x{args.size[1]}, "
              f"stride {args.stride}", flush=True)
        majority = majority_class(train.label)

        def window_scores(per_frame, windows):
            return np.concatenate([window_motion(per_frame[v], np.asarray([s]), args.length)
                                   for v, s in zip(windows.video, windows.start, strict=True)])

        train_scores, test_scores = window_scores(motion, train), window_scores(motion, test)
        threshold = best_threshold(train_scores, train.label)
        _, base_majority, _ = _report(f"majority class ({majority})", test.label, np.full(len(test), majority))
        _, base_motion, motion_cm = _report(f"frame difference > {threshold:.4f}", test.label,
                                            (test_scores > threshold).astype(np.int64))
        speed_train, speed_test = window_scores(fastest, train), window_scores(fastest, test)
        speed_cut = best_threshold(speed_train, train.label)
        _, base_speed, speed_cm = _report(f"largest speed > {speed_cut:.3f} px/frame", test.label,
                                          (speed_test > speed_cut).astype(np.int64))
        print(f"  held-out ROC AUC: frame difference {roc_auc(test_scores, test.label):.3f}, largest speed "
              f"{roc_auc(speed_test, test.label):.3f}", flush=True)
        bar = max(base_majority, base_motion)
        out.append(Figure(f"fold {fold}: majority class, balanced accuracy", base_majority,
                          note=f"predicts class {majority} (the training side's majority)"))
        out.append(Figure(f"fold {fold}: frame difference, balanced accuracy", base_motion,
                          note=f"threshold {threshold:.4f} chosen on the training windows; {motion_cm}"))
        out.append(Figure(f"fold {fold}: largest speed, balanced accuracy", base_speed,
                          note=f"the window's mean of each frame's largest optical-flow speed > {speed_cut:.3f} "
                               f"px/frame (at the flow's size), chosen on the training windows; {speed_cm}"))
        if args.validation:
            validated = validation_split(trained, ped2.abnormal, args.length, args.stride, args.positive_fraction)
            if not validated:
                raise SystemExit(f"fold {fold}: no trained test video holds windows of both classes, so none can "
                                 "validate; run without --validation")
            fitted = [v for v in ped2.training + trained if v not in validated]
            fit = windows_of(fitted, ped2.abnormal, args.length, args.stride, args.positive_fraction)
            val = windows_of(validated, ped2.abnormal, args.length, args.stride, args.positive_fraction)
            print(f"  validation: {', '.join(validated)}: {len(val)} windows ({val.positives} positive); "
                  f"fitted on {len(fit)} ({fit.positives} positive)", flush=True)
            validation = (val.clips(seen), val.label)
        else:
            fit, validation = train, None
        for preset in args.preset:
            # an LRCN computes the differences itself (a saved model then takes frames, as framewatch classify
            # gives them); other families are given them
            inside = args.input == "differences" and get_preset("classify", preset).family == "lrcn"
            given = "frames" if inside else args.input
            changes = {"cnn_filters": args.filters, "lstm_units": args.lstm, "pooling": args.pooling,
                       "frame_differences": inside or None}
            if args.input == "speed":
                given = "frames"
            x_fit = clip_input(fit.clips(seen), given)
            x_test = clip_input(test.clips(seen), given)
            val = None if validation is None else (clip_input(validation[0], given), validation[1])
            predicted, seconds, details = train_ensemble(
                preset, x_fit, fit.label, x_test, seeds=list(range(args.seed, args.seed + args.seeds)),
                epochs=args.epochs, batch_size=args.batch_size, flip=args.flip, reverse=args.reverse,
                validation=val, spec_changes=changes, average=args.average_epochs,
                sample_weight=source_weights(fit.video, fit.label) if args.balance_sources else None)
            if args.save_run is not None and preset == args.preset[0]:
                save_run(args.save_run / "runs" / f"ped2-fold{fold}", details, args, held, seconds)
            kept = (f"mean of epochs {args.epochs - args.average_epochs + 1}-{args.epochs}" if args.average_epochs
                    else f"epoch {details['epoch']} of {args.epochs}")
            if args.seeds > 1:
                kept = f"mean of seeds {args.seed}-{args.seed + args.seeds - 1}, each {kept}"
            if args.balance_sources:
                kept += ", sources balanced"
            how = (f"{kept}, p > {details['threshold']:.3f} (validation {details['validation']:.3f})"
                   if args.validation else f"{kept}, argmax")
            accuracy, balanced, cm = _report(f"{preset} on {args.input} ({how}, {seconds:.0f} s)", test.label,
                                             predicted)
            ranking = roc_auc(details["probabilities"], test.label)
            print(f"  held-out ROC AUC of the positive class's probability {ranking:.3f} (frame difference "
                  f"{roc_auc(test_scores, test.label):.3f}, largest speed {roc_auc(speed_test, test.label):.3f}): how "
                  "well it ranks, whatever the threshold", flush=True)
            out.append(Figure(f"fold {fold}: {preset} preset, balanced accuracy", balanced,
                              target=None if quick else f"> {bar:.4f}",
                              note=f"accuracy {accuracy:.3f}; {cm}; {args.input}; {how}; trained in {seconds:.0f} s; "
                                   f"held out {', '.join(h.split('/')[-1] for h in held)}"))
    return out


if __name__ == "__main__":
    for figure in figures(sys.argv[1:], quick=False):
        print(figure)
