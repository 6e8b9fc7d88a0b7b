"""The threshold and the error level are fitted on the normal footage a run held out of its training, never
on frames the model learned from; a run recorded before runs held out time keeps the old rule."""

from __future__ import annotations

import dataclasses
import json
from contextlib import closing
from pathlib import Path

import numpy as np
import pytest

from core.inference.anomaly.project_scoring import (
    calibration_footage,
    run_model,
    score_key,
    score_project,
)
from core.inference.anomaly.score_cache import CachedScores, ScoreCache
from core.project import Project
from core.runs import RunRecord
from core.training.error_level import fit_error_level
from tests.core.inference.scoring_project import FRAMES, make_project, save_run

#: The held-out and trained spans of the project's first train video (60 frames), a gap of FRAMES between.
HELD = [[20, 40]]
TRAINED = [[0, 16], [44, 60]]


def record_held_out(project: Project, run_dir: Path, held: list | None = HELD) -> None:
    """Give the run a ``data["held_out"]`` as training records it: time blocks of ``train0.avi``."""
    video = project.video("train0.avi")
    record = RunRecord.load(run_dir)
    entry = {"name": video.name, "content": video.fingerprint.key}
    record.data["held_out"] = {"mode": "time", "gap": FRAMES, "videos": [{**entry, "spans": held}] if held else [],
                               "trained": [{**entry, "spans": TRAINED}]}
    record.save(run_dir)


def cache_errors(project: Project, run_dir: Path, errors: np.ndarray) -> None:
    """``train0.avi``'s scores in the run's score cache, as if scored already (no model runs)."""
    run = run_model(project.folder, run_dir)
    video = project.video("train0.avi")
    ScoreCache(project.folder).write(CachedScores(score_key(run, video), errors.astype(np.float32), len(errors),
                                                  None, video.id))


@pytest.fixture
def project(tmp_path: Path):
    folder = make_project(tmp_path / "proj", frames=(60,))
    with closing(Project.open(folder)) as opened:
        yield opened


def calibrated(project: Project, run_dir: Path, huge_at: int) -> float:
    errors = np.ones(60)
    errors[huge_at] = 1000.0
    cache_errors(project, run_dir, errors)
    return score_project(project, run_dir, ["train0.avi"], percentile=100, smoothing=1).threshold.value


def test_huge_errors_on_held_out_frames_move_the_threshold_and_on_trained_frames_do_not(project: Project) -> None:
    run_dir = save_run(project.folder)
    assert calibrated(project, run_dir, 5) == 1000.0  # an old run: the whole train-split video calibrates
    record_held_out(project, run_dir)
    assert calibration_footage(project, run_model(project.folder, run_dir)) == [
        (project.video("train0.avi"), [(20, 40)])]
    assert calibrated(project, run_dir, 25) == 1000.0  # held out: it calibrates
    for trained in (5, 50, 17):  # trained, and in the gap: never
        assert calibrated(project, run_dir, trained) == 1.0
    result = score_project(project, run_dir, ["train0.avi"], percentile=100)
    assert result.threshold.frames == 20 and result.threshold.videos == 1
    assert len(result.videos[0].errors) == 60  # the video is still scored (and cached) whole


def test_the_rate_threshold_counts_false_alarms_by_the_event_rule_scoring_flags_with(project: Project) -> None:
    from core.inference.anomaly.regularity import Threshold

    run_dir = save_run(project.folder)
    record_held_out(project, run_dir)
    errors = np.random.default_rng(1).gamma(2.0, 1.0, 60)
    cache_errors(project, run_dir, errors)
    fps = project.video("train0.avi").fps
    held = [errors.astype(np.float32)[20:40].astype(np.float64)]  # as the score cache keeps them

    def expected(min_run: int, merge_gap: int, window: int) -> Threshold:
        return dataclasses.replace(Threshold.calibrate(held, window=window, rate=0.2, fps=fps, min_run=min_run,
                                                       merge_gap=merge_gap), videos=1)

    from core.inference.anomaly.regularity import DEFAULT_MERGE_SECONDS

    # by default every run of frames is an event, and events about half a second apart or less are one
    every = score_project(project, run_dir, ["train0.avi"])
    window = every.threshold.window
    gap = round(DEFAULT_MERGE_SECONDS * fps)
    assert gap == 12 and (every.flagging["min_run"], every.flagging["merge_gap"]) == (1, gap)
    assert every.threshold == expected(1, gap, window)
    assert score_project(project, run_dir, ["train0.avi"], merge_gap=0).threshold == expected(1, 0, window)
    lasting = score_project(project, run_dir, ["train0.avi"], min_run=4, merge_gap=2)
    assert (lasting.flagging["min_run"], lasting.flagging["merge_gap"]) == (4, 2)
    assert lasting.threshold == expected(4, 2, window)  # the threshold carries the rule it was calibrated for
    assert lasting.threshold.value < every.threshold.value
    # a run that recommends an event rule (framewatch export-run --min-run --merge-gap) is flagged with it
    record = RunRecord.load(run_dir)
    record.data["scoring"] = {"min_run": 4, "merge_gap": 2}
    record.save(run_dir)
    assert score_project(project, run_dir, ["train0.avi"]).threshold == lasting.threshold
    record.data["scoring"] = {"merge_gap": 0}  # a recommendation of no merging is kept, not taken as none
    record.save(run_dir)
    assert score_project(project, run_dir, ["train0.avi"]).flagging["merge_gap"] == 0
    del record.data["held_out"], record.data["scoring"]  # a run from before runs held time out: as it was
    record.save(run_dir)
    assert score_project(project, run_dir, ["train0.avi"]).flagging["merge_gap"] == 0


def test_a_project_without_the_held_out_footage_calibrates_on_footage_the_run_never_trained_on(
        project: Project, tmp_path: Path) -> None:
    from tests.video_factory import write_video

    run_dir = save_run(project.folder)
    record_held_out(project, run_dir)
    record = RunRecord.load(run_dir)
    record.data["held_out"]["videos"][0]["content"] = "footage-not-here"
    record.save(run_dir)
    run = run_model(project.folder, run_dir)
    assert calibration_footage(project, run) == []  # its only train video is footage the run trained on
    other = project.add_video(write_video(tmp_path / "unseen.avi", 30), split="train")
    assert calibration_footage(project, run) == [(other, None)]


def test_the_error_level_learns_only_from_windows_inside_the_held_out_spans(project: Project) -> None:
    run_dir = save_run(project.folder, task="predict")
    record_held_out(project, run_dir, held=[[10, 30], [40, 55]])
    fit = fit_error_level(project, run_dir, epochs=1)
    # windows whose FRAMES input frames and predicted frame lie inside one span: (30-10-4) + (55-40-4)
    assert fit.videos == 1 and fit.windows == (30 - 10 - FRAMES) + (55 - 40 - FRAMES)
    record_held_out(project, run_dir, held=None)  # the project holds none of what the run held out
    with pytest.raises(Exception, match="holds none of the footage"):
        fit_error_level(project, run_dir, epochs=1)


def test_a_cross_fitted_error_level_scores_each_held_out_block_with_a_level_that_never_learned_it(
        project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    import core.training.error_level as error_level
    from core.inference.anomaly.cross_fitted import CALIBRATION_FILE, cross_fitted_parts, load_calibration

    trained_on = []
    train = error_level._train

    def counting(run, clips, errors, *args):
        trained_on.append(len(clips))
        return train(run, clips, errors, *args)

    monkeypatch.setattr(error_level, "_train", counting)
    run_dir = save_run(project.folder, task="predict")
    record_held_out(project, run_dir, held=[[10, 30], [40, 55]])
    fit = fit_error_level(project, run_dir, epochs=1)
    # the run's level on both blocks' windows (16 + 11), then fold 1 on block 2's, fold 2 on block 1's
    assert trained_on == [16 + 11, 11, 16]
    assert fit.folds == 2 and fit.calibration == run_dir / CALIBRATION_FILE
    assert RunRecord.load(run_dir).data["error_level"]["cross_fitted"] == {"file": CALIBRATION_FILE, "folds": 2}
    meta, arrays = load_calibration(run_dir / CALIBRATION_FILE)
    assert [(b["start"], b["end"], b["first"], b["fold"]) for b in meta["blocks"]] == [
        (10, 30, 10 + FRAMES, 0), (40, 55, 40 + FRAMES, 1)]
    assert sorted(arrays) == ["block0_mse", "block0_worst-patches", "block1_mse", "block1_worst-patches"]
    model = run_model(project.folder, run_dir).pinned()
    parts = cross_fitted_parts(model, calibration_footage(project, model))
    assert [len(p) for p in parts] == [16, 11] and all(np.all(p > 0) for p in parts)
    # scoring calibrates on them: the windows inside the blocks, not the 35 frames of the blocks
    result = score_project(project, run_dir, ["train0.avi"], percentile=100, smoothing=1)
    assert result.threshold.frames == 16 + 11
    assert result.threshold.value == pytest.approx(max(float(p.max()) for p in parts), rel=1e-6)
    # a level fitted again without cross-fitting (a refit from verdicts): the file is another level's, unused
    error_level.train_error_level(project, model, run_dir / error_level.ERROR_LEVEL_FILE, epochs=1)
    assert cross_fitted_parts(run_model(project.folder, run_dir).pinned(), calibration_footage(project, model)) is None
    assert score_project(project, run_dir, ["train0.avi"], percentile=100).threshold.frames == 20 + 15


def test_one_held_out_block_has_no_folds_and_leaves_no_cross_fitted_file(project: Project) -> None:
    from core.inference.anomaly.cross_fitted import CALIBRATION_FILE

    run_dir = save_run(project.folder, task="predict")
    (run_dir / CALIBRATION_FILE).write_bytes(b"an older level's")
    record_held_out(project, run_dir)
    fit = fit_error_level(project, run_dir, epochs=1)
    assert fit.folds == 0 and fit.calibration is None and not (run_dir / CALIBRATION_FILE).exists()
    assert "cross_fitted" not in RunRecord.load(run_dir).data["error_level"]
    assert score_project(project, run_dir, ["train0.avi"], percentile=100).threshold.frames == 20


def test_the_trust_report_measures_the_blocks_as_the_cross_fitted_levels_score_them(project: Project) -> None:
    from core.inference.anomaly.trust import assess_run

    run_dir = save_run(project.folder, task="predict")
    record_held_out(project, run_dir, held=[[10, 30], [40, 55]])
    fit_error_level(project, run_dir, epochs=1)
    report = assess_run(project, run_dir, save=False, percentile=100, smoothing=1)
    assert (report.blocks, report.held_out_frames) == (2, 16 + 11)  # the windows inside the blocks
    (run_dir / "error_level_calibration.npz").unlink()
    report = assess_run(project, run_dir, save=False, percentile=100, smoothing=1)
    assert (report.blocks, report.held_out_frames) == (2, 20 + 15)  # without it: the blocks' scored frames


def test_a_fused_run_calibrates_on_the_cross_fitted_prediction_errors_too(project: Project) -> None:
    from core.inference.anomaly.cross_fitted import cross_fitted_blocks
    from core.inference.anomaly.fusion import fuse
    from core.inference.anomaly.project_scoring import cached_video_scores, fused_calibration
    from core.inference.anomaly.scorers import fused_parts
    from core.inference.anomaly.trust import assess_run
    from core.training.motion_run import fit_run_motion

    run_dir = save_run(project.folder, task="predict")
    record_held_out(project, run_dir, held=[[10, 30], [40, 55]])
    fit_error_level(project, run_dir, epochs=1)
    fit_run_motion(project, run_dir)
    result = score_project(project, run_dir, ["train0.avi"], percentile=100, smoothing=1, scorer="fused")
    assert result.threshold.frames == 16 + 11  # each block from its first cross-fitted frame
    fused = run_model(project.folder, run_dir, "fused").pinned()
    prediction, motion = fused_parts(fused)
    footage = calibration_footage(project, fused)
    blocks = cross_fitted_blocks(prediction, footage)
    assert [offset for offset, _ in blocks] == [FRAMES, FRAMES]
    moved = cached_video_scores(project, motion, "train0.avi")
    # by hand: each signal over its 99th percentile there, the prediction's the cross-fitted errors
    motion_parts = [moved[10 + FRAMES:30], moved[40 + FRAMES:55]]
    scales = (float(np.percentile(np.concatenate([e for _, e in blocks]), 99)),
              float(np.percentile(np.concatenate(motion_parts), 99)))
    expected = [fuse([errors, part], scales, fused.fusion) for (_, errors), part in zip(blocks, motion_parts, strict=True)]
    found = fused_calibration(fused, footage, lambda i, video: cached_video_scores(
        project, (prediction, motion)[i], video.id))
    assert found[0] == pytest.approx(scales)
    assert result.threshold.value == pytest.approx(max(float(p.max()) for p in expected), rel=1e-5)
    report = assess_run(project, run_dir, save=False, percentile=100, smoothing=1, scorer="fused")
    assert (report.blocks, report.held_out_frames) == (2, 16 + 11)
    # without the cross-fitted errors: the blocks' frames as scored, both signals' (the level's own errors)
    (run_dir / "error_level_calibration.npz").unlink()
    result = score_project(project, run_dir, ["train0.avi"], percentile=100, smoothing=1, scorer="fused")
    assert result.threshold.frames == 20 + 15


def test_the_command_says_it_cross_fitted(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    from core.cli.main import main

    run_dir = save_run(project.folder, task="predict")
    record_held_out(project, run_dir, held=[[10, 30], [40, 55]])
    assert main(["fit-error-level", str(project.folder), "--run", "tiny", "--epochs", "1"]) == 0
    out = capsys.readouterr().out
    assert "cross-fitted over 2 folds of the held-out blocks" in out and "error_level_calibration.npz" in out
    assert main(["fit-error-level", str(project.folder), "--run", "tiny", "--epochs", "1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["cross_fitted"] == {"file": "error_level_calibration.npz", "folds": 2}
