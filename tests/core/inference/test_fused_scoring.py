"""Scorer choice on a next-frame run: prediction, motion (statistics fitted on its trained footage) or fused."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

import numpy as np
import pytest

from core.cli.main import main
from core.inference.anomaly.project_evaluation import evaluate_project
from core.inference.anomaly.project_scoring import (
    cached_video_scores,
    calibration_errors,
    calibration_footage,
    run_model,
    score_keys,
    score_project,
)
from core.inference.errors import ScoreError
from core.inference.model_fingerprint import model_fingerprint
from core.motion.flow import video_frames
from core.project import Project
from core.runs import RunRecord
from core.runs.export import export_run
from core.training.errors import TrainingError
from core.training.motion_run import MOTION_FILE, fit_run_motion
from tests.core.cli.one_line_errors import assert_one_line_error
from tests.core.inference.scoring_project import make_project, save_run


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny project with two next-frame runs: ``tiny`` with motion statistics, ``plain`` without."""
    folder = make_project(tmp_path_factory.mktemp("fused") / "proj")
    save_run(folder, task="predict")
    save_run(folder, "plain", task="predict")
    with closing(Project.open(folder, read_only=True)) as project:
        fit = fit_run_motion(project, "tiny")
    assert fit.path == folder / "runs" / "tiny" / MOTION_FILE and fit.path.is_file()
    assert (fit.frames, fit.videos) == (18 + 20, 2)  # the run trained on both train-split videos, whole
    return folder


def test_fitting_records_the_statistics_in_the_run(folder: Path) -> None:
    record = RunRecord.load(folder / "runs" / "tiny")
    motion = record.data["motion"]
    assert motion["file"] == MOTION_FILE and motion["spec"]["family"] == "motion"
    assert motion["normal_frames"] == 38 and motion["frames"] == 17 + 19  # one flow per pair of frames
    assert record.motion_path(folder / "runs" / "tiny") == folder / "runs" / "tiny" / MOTION_FILE
    assert RunRecord.load(folder / "runs" / "plain").motion_path(folder / "runs" / "plain") is None


def test_fused_scores_are_each_signal_over_its_held_out_percentile_added_up(folder: Path) -> None:
    with closing(Project.open(folder, read_only=True)) as project:
        fused = score_project(project, "tiny", scorer="fused")
        prediction = score_project(project, "tiny", scorer="prediction")
        motion = score_project(project, "tiny", scorer="motion")
        run = run_model(folder, "tiny", "fused")
        footage = calibration_footage(project, run)
        assert footage  # the run held nothing out (val_fraction 0): its train-split videos, the old rule
        scales = []
        for signal in (prediction, motion):
            series = {video.video_id: video.errors for video in signal.videos}
            values = np.concatenate([part for video, spans in footage
                                     for part in calibration_errors(series[video.id], spans)])
            scales.append(np.percentile(values.astype(np.float64), 99.0))
        for f, p, m in zip(fused.videos, prediction.videos, motion.videos, strict=True):
            frames = min(p.frames, m.frames)
            expected = p.errors[:frames] / scales[0] + m.errors[:frames] / scales[1]
            assert f.frames == frames and np.allclose(f.errors, expected, rtol=1e-5)
            assert np.array_equal(cached_video_scores(project, run, f.video_id), f.errors)
        # the three are different signals, each calibrated on its own held-out frames
        assert not np.allclose(prediction.videos[0].errors, motion.videos[0].errors)
        assert fused.threshold.value != prediction.threshold.value
        assert fused.run.scorer == "fused" and motion.run.scorer == "motion"
        evaluation = evaluate_project(project, "tiny", scorer="fused")
        assert evaluation.to_dict()["scorer"] == "fused"


def test_the_scorer_changes_the_cache_key(folder: Path) -> None:
    with closing(Project.open(folder, read_only=True)) as project:
        video = project.video("test.avi")
        prediction, = score_keys(run_model(folder, "tiny", "prediction"), video)
        motion, = score_keys(run_model(folder, "tiny", "motion"), video)
        fused = score_keys(run_model(folder, "tiny", "fused"), video)
        default, = score_keys(run_model(folder, "tiny"), video)
    assert default == prediction  # the run's default scorer: prediction (its record names none)
    assert prediction.model == model_fingerprint(folder / "runs" / "tiny" / "best.keras")
    assert motion.model == model_fingerprint(folder / "runs" / "tiny" / MOTION_FILE)
    assert motion.params["scorer"] == "motion" and "scorer" not in prediction.params
    assert fused == [prediction, motion] and prediction.stem != motion.stem


def test_the_events_file_says_which_scorer_flagged_and_keeps_no_other_scorers_events(folder: Path) -> None:
    from core.inference.anomaly.events_file import read_events

    run_dir = folder / "runs" / "tiny"
    with closing(Project.open(folder, read_only=True)) as project:
        test, train = project.video("test.avi"), next(v for v in project.videos.values() if v.name != "test.avi")
        score_project(project, "tiny", videos=[train.id], scorer="motion", threshold=0.0)
        assert read_events(run_dir).flagging["scorer"] == "motion"
        assert {event.video_id for event in read_events(run_dir).events} == {train.id}
        score_project(project, "tiny", videos=[test.id], scorer="prediction", threshold=0.0)
    stored = read_events(run_dir)
    assert stored.flagging["scorer"] == "prediction"
    # the motion scorer's events of the other video were flagged on another series: not kept beside these
    assert {event.video_id for event in stored.events} == {test.id}


def test_a_run_without_motion_statistics_refuses_motion_and_fused_naming_fit_motion(folder: Path, capsys) -> None:
    for scorer in ("fused", "motion"):
        with pytest.raises(ScoreError, match="has no motion statistics: fit them with framewatch fit-motion"):
            run_model(folder, "plain", scorer)
    assert_one_line_error(capsys, ["score", str(folder), "--run", "plain", "--all", "--scorer", "fused"],
                          f"fit them with framewatch fit-motion {folder} --run plain")
    assert_one_line_error(capsys, ["evaluate", str(folder), "--run", "plain", "--scorer", "fused"],
                          "framewatch fit-motion")


def test_a_motion_run_scores_with_motion_only(folder: Path) -> None:
    record = RunRecord.load(folder / "runs" / "tiny")
    assert run_model(folder, "tiny", "motion").record.spec["family"] == "motion"
    with pytest.raises(ScoreError, match="scorer must be one of"):
        run_model(folder, "tiny", "loud")
    assert record.spec["family"] != "motion"


def test_fit_motion_on_the_command_line_and_its_refusals(folder: Path, tmp_path: Path, capsys) -> None:
    save_run(folder, "later", task="predict")  # a run of its own: the others keep what the other tests expect
    assert main(["fit-motion", str(folder), "--run", "later"]) == 0
    assert "motion statistics of 38 trained frames in 2 video(s)" in capsys.readouterr().out
    assert (folder / "runs" / "later" / MOTION_FILE).is_file()
    assert run_model(folder, "later").scorer == "prediction"
    assert main(["fit-motion", str(folder), "--run", "later", "--default-scorer", "fused"]) == 0
    assert "now scores with --scorer fused" in capsys.readouterr().out
    assert RunRecord.load(folder / "runs" / "later").data["scorer"] == "fused"
    assert run_model(folder, "later").scorer == "fused"  # the run's default when none is named
    exported = export_run(folder / "runs" / "tiny", tmp_path / "exported")
    assert (exported / MOTION_FILE).is_file()  # export-run carries the statistics: the export scores fused
    with closing(Project.open(folder, read_only=True)) as project:
        scored = score_project(project, exported, ["test.avi"], scorer="fused")
        with pytest.raises(TrainingError, match="read-only model folder"):
            fit_run_motion(project, exported)
        ours = score_project(project, "tiny", ["test.avi"], scorer="fused")
    assert np.allclose(scored.videos[0].errors, ours.videos[0].errors, rtol=1e-5)


def test_fit_motion_with_other_flow_settings_records_them_and_each_run_scores_as_it_was_fitted(folder: Path) -> None:
    from core.motion.model import load_motion_model

    save_run(folder, "coarse", task="predict")
    assert main(["fit-motion", str(folder), "--run", "coarse", "--flow-scale", "0.25", "--cell", "4",
                 "--flow-preset", "fast"]) == 0
    for name, preset, cell in (("coarse", "fast", 4), ("tiny", "medium", 12)):  # tiny: fitted with the defaults
        run_dir = folder / "runs" / name
        spec = RunRecord.load(run_dir).data["motion"]["spec"]
        model = load_motion_model(run_dir / MOTION_FILE)
        assert (spec["flow_preset"], spec["cell"]) == (preset, cell)
        assert (model.grid.preset, model.grid.cell) == (preset, cell)
        assert (model.grid.height, model.grid.width) == (spec["height"], spec["width"])
        with closing(Project.open(folder, read_only=True)) as project:
            video = project.video("test.avi")
            scored = score_project(project, name, [video.id], scorer="motion").videos[0].errors
            expected = [score for score, _ in model.score_frames(video_frames(video.path))]
        assert np.allclose(scored, expected, rtol=1e-6, atol=0.0)  # the flow of its own record, not the defaults
    coarse = load_motion_model(folder / "runs" / "coarse" / MOTION_FILE).grid
    tiny = load_motion_model(folder / "runs" / "tiny" / MOTION_FILE).grid
    assert coarse.height * 2 <= tiny.height  # a quarter of the source's size against half of it
    with pytest.raises(SystemExit):
        main(["fit-motion", str(folder), "--run", "coarse", "--flow-scale", "0"])
