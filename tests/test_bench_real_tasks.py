"""The real-data task benchmarks end to end on tiny data: ``python -m bench ped2_classify`` and ``speed_regress``."""

from __future__ import annotations

import gzip
from pathlib import Path

import cv2
import numpy as np
import pytest

from bench.runner import main


def _tiny_ped2(root: Path) -> Path:
    """2 training videos and 4 test videos of 8 frames, 24x36; a bright square moves where frames are abnormal."""
    rng = np.random.default_rng(0)
    gt = ["[4:8]", "[1:8]", "[5:8]", "[1:3]"]
    for part, count in (("training", 2), ("testing", 4)):
        for v in range(count):
            folder = root / "ucsd_ped2" / part / f"{v + 1:02d}"
            folder.mkdir(parents=True)
            for k in range(8):
                frame = rng.integers(90, 110, (24, 36)).astype(np.uint8)
                if part == "testing":
                    first, last = (int(x) for x in gt[v].strip("[]").split(":"))
                    if first <= k + 1 <= last:
                        frame[6:14, 3 * k : 3 * k + 8] = 250
                cv2.imwrite(str(folder / f"{k:03d}.jpg"), np.repeat(frame[:, :, None], 3, axis=2))
    lines = "\n".join(f"TestVideoFile{{end+1}}.gt_frame = {g};" for g in gt)
    (root / "ucsd_ped2" / "testing" / "UCSDped2.m").write_text(f"TestVideoFile = {{}};\n{lines}\n")
    return root


TINY_CLASSIFY = ["--size", "16x24", "--length", "3", "--stride", "1", "--epochs", "1", "--batch-size", "4"]


def test_ped2_classify_entry_point_reports_the_model_beside_both_baselines_per_fold(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _tiny_ped2(tmp_path)
    assert main(["ped2_classify", "--quick", "--no-record", "--data", str(data), "--folds", "2", *TINY_CLASSIFY]) == 0
    out = capsys.readouterr().out
    assert "ambiguous dropped" in out
    rows = {cells[2]: cells for cells in (line.split("|") for line in out.splitlines()) if len(cells) > 6}
    for fold in (0, 1):
        rows = {name.strip(): cells for name, cells in rows.items()}
        assert float(rows[f"fold {fold}: majority class, balanced accuracy"][3]) == 0.5
        motion = rows[f"fold {fold}: frame difference, balanced accuracy"]
        assert 0.0 <= float(motion[3]) <= 1.0 and "chosen on the training windows" in motion[6]
        fastest = rows[f"fold {fold}: largest speed, balanced accuracy"]
        assert 0.0 <= float(fastest[3]) <= 1.0 and "largest optical-flow speed" in fastest[6]
        model = rows[f"fold {fold}: default preset, balanced accuracy"]
        assert 0.0 <= float(model[3]) <= 1.0 and "TP" in model[6]
    # fold 0 holds out test videos 02 and 04, fold 1 videos 01 and 03: whole videos, never in both
    assert "held out 02, 04" in rows["fold 0: default preset, balanced accuracy"][6]
    assert "held out 01, 03" in rows["fold 1: default preset, balanced accuracy"][6]


def test_ped2_classify_validation_split_and_the_saved_run_labels_a_held_out_video(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The threshold comes from whole validation videos of the training side, for the mean of the last epochs'
    probabilities; the saved run takes frames (the LRCN computes the differences) and framewatch classify
    writes the held-out video annotated with it."""
    import json

    from core.cli.main import main as framewatch
    from tests.video_factory import decode_all

    data = _tiny_ped2(tmp_path)
    project = tmp_path / "project"
    assert main(["ped2_classify", "--quick", "--no-record", "--data", str(data), "--validation",
                 "--save-run", str(project), "--filters", "4", "--lstm", "4", *TINY_CLASSIFY, "--epochs", "2",
                 "--average-epochs", "2"]) == 0
    out = capsys.readouterr().out
    # fold 0 trains on test videos 01 and 03, both holding both classes: 01 validates, 03 is fitted
    assert "validation: testing/01:" in out and "mean of epochs 1-2, p > " in out
    record = json.loads((project / "runs" / "ped2-fold0" / "run.json").read_text())
    assert record["spec"]["frame_differences"] is True and record["spec"]["frames"] == 3
    assert record["data"]["decision"]["class_index"] == 1 and 0 <= record["data"]["decision"]["threshold"] < 1
    video = data / "ucsd_ped2" / "testing" / "02"  # held out in fold 0
    annotated = tmp_path / "02-labelled.mp4"
    assert framewatch(["classify", str(project), "--run", "ped2-fold0", str(video), "--stride", "1", "--json",
                       "--annotated", str(annotated)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["decision"]["threshold"] == record["data"]["decision"]["threshold"]
    assert result["videos"][0]["frames"] == 8 and len(decode_all(annotated)) == 8


def test_ped2_classify_seed_ensemble_averages_the_seeds_and_saves_one_model(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import keras

    from core.models.files import load_model_file

    data = _tiny_ped2(tmp_path)
    project = tmp_path / "project"
    assert main(["ped2_classify", "--quick", "--no-record", "--data", str(data), "--seeds", "2", "--save-run",
                 str(project), "--filters", "4", "--lstm", "4", *TINY_CLASSIFY]) == 0
    out = capsys.readouterr().out
    assert "seed 0 alone:" in out and "seed 1 alone:" in out and "mean of seeds 0-1, each epoch 1 of 1" in out
    model = load_model_file(project / "runs" / "ped2-fold0" / "best.keras")
    members = [layer for layer in model.layers if isinstance(layer, keras.Model)]
    assert [m.name for m in members] == ["seed_0", "seed_1"]
    clips = np.random.default_rng(2).integers(0, 256, (3, *model.input_shape[1:])).astype(np.float32) / 255.0
    mean = np.mean([m.predict(clips, verbose=0) for m in members], axis=0)
    assert np.allclose(model.predict(clips, verbose=0), mean, atol=1e-6)  # the saved model is the seeds' mean
    assert not np.allclose(members[0].predict(clips, verbose=0), members[1].predict(clips, verbose=0))


def test_balanced_sources_weigh_the_test_videos_negatives_as_much_as_the_training_videos(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from bench.bench_ped2_classify import source_weights

    videos = ["training/01"] * 6 + ["testing/01"] * 2 + ["testing/02"] * 4
    labels = [0] * 6 + [0] * 2 + [1] * 4
    weights = source_weights(videos, labels)
    assert weights.mean() == pytest.approx(1.0)
    assert weights[8:].sum() == pytest.approx(weights[:8].sum())  # the classes weigh the same
    assert weights[:6].sum() == pytest.approx(weights[6:8].sum())  # and so do the negatives' two sources
    assert np.allclose(source_weights(["training/01", "testing/01"], [0, 1]), [1.0, 1.0])  # one source: classes only
    data = _tiny_ped2(tmp_path)
    assert main(["ped2_classify", "--quick", "--no-record", "--data", str(data), "--balance-sources",
                 "--filters", "4", "--lstm", "4", *TINY_CLASSIFY]) == 0
    out = capsys.readouterr().out
    assert "sources balanced, argmax" in out and "held-out ROC AUC of the positive class's probability" in out


def test_ped2_classify_on_speed_saves_a_run_that_framewatch_classify_feeds_speed_maps(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The benchmark's speed maps are the product's: the saved run asks for them, and framewatch classify gives
    the model the same maps of the held-out video (its probabilities are the model's on them)."""
    import json

    from core.cli.main import main as framewatch
    from core.models.files import load_model_file
    from core.motion.speed import speed_maps
    from core.video import open_video

    data = _tiny_ped2(tmp_path)
    project = tmp_path / "project"
    assert main(["ped2_classify", "--quick", "--no-record", "--data", str(data), "--preset", "speed", "--save-run",
                 str(project), "--filters", "4", "--lstm", "4", *TINY_CLASSIFY]) == 0
    assert "speed on speed" in capsys.readouterr().out  # the speed preset is given speed maps unless told otherwise
    run = project / "runs" / "ped2-fold0"
    record = json.loads((run / "run.json").read_text())
    assert record["data"]["preprocess"]["signal"] == "speed" and record["spec"]["frames"] == 3
    video = data / "ucsd_ped2" / "testing" / "02"  # held out in fold 0
    assert framewatch(["classify", str(project), "--run", "ped2-fold0", str(video), "--stride", "3", "--json",
                       "--windows"]) == 0
    windows = json.loads(capsys.readouterr().out)["videos"][0]["windows"]
    with open_video(video) as source:
        gray = np.stack(list(source.iter_frames(color="gray")))
    maps = speed_maps(gray, 16, 24)[:, :, :, None]
    clips = np.stack([maps[w["start"]:w["stop"]] for w in windows]).astype(np.float32) / 255.0
    expected = load_model_file(run / "best.keras").predict(clips, verbose=0)
    np.testing.assert_allclose([w["probabilities"] for w in windows], expected, atol=1e-5)


def test_speed_regress_entry_point_reports_mae_beside_the_mean_predictor(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    images = np.random.default_rng(1).integers(0, 256, (9010, 28, 28)).astype(np.uint8)  # 9000 train, 10 held out
    header = (2051).to_bytes(4, "big") + b"".join(n.to_bytes(4, "big") for n in images.shape)
    (tmp_path / "mnist").mkdir()
    (tmp_path / "mnist" / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(header + images.tobytes()))
    argv = ["speed_regress", "--quick", "--no-record", "--data", str(tmp_path), "--sequences", "8",
            "--test-sequences", "4", "--frames", "3", "--size", "8", "--batch-size", "4"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "default preset, MAE" in out and "mean predictor, MAE" in out and "held-out clips" in out
    assert main([*argv, "--preset", "speed"]) == 0  # the speed preset is given the clips' speed maps
    out = capsys.readouterr().out
    assert "speed on speed" in out and "speed preset, MAE" in out


def test_speed_maps_benchmark_reads_the_same_maps_as_the_plain_loop(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    data = _tiny_ped2(tmp_path)  # no clips/bikes.mp4 there: that input is skipped, not failed
    # 1 when a ratio misses its target on a busy machine (16 tiny maps time nothing): only a crash fails here
    assert main(["speed_maps", "--quick", "--no-record", "--data", str(data), "--repeats", "1"]) in (0, 1)
    out = capsys.readouterr().out
    assert "ran to the end" not in out  # the row a crash leaves
    assert "speed maps vs OpenCV + DIS loop, Ped2 JPEGs" in out and "largest difference 0/255" in out
    assert "no bikes.mp4 in" in out
