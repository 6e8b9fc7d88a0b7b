"""Learning from verdicts: a run's rejected events join its held-out footage for its threshold and error level,
its events are flagged again, never on frames it trained on, and a cancel leaves the run as it was."""

from __future__ import annotations

import json
import threading
from contextlib import closing
from pathlib import Path

import numpy as np
import pytest

from core.errors import Cancelled
from core.inference.anomaly.events import flag_events
from core.inference.anomaly.events_file import read_events
from core.inference.anomaly.project_scoring import calibration_footage, run_model, score_key, score_project
from core.inference.anomaly.rejected_footage import recorded_rejected, rejected_footage
from core.inference.anomaly.score_cache import CachedScores, ScoreCache
from core.inference.anomaly.trust import TrustReport
from core.inference.errors import ScoreError
from core.jobs import Stage
from core.project import Project
from core.runs import RunRecord
from core.training.verdict_refit import refit_from_verdicts
from tests.core.inference.scoring_project import FRAMES, make_project, save_run
from tests.video_factory import write_video

#: The held-out and trained spans of ``train0.avi`` (60 frames), a gap of FRAMES between them.
HELD = [[20, 40]]
TRAINED = [[0, 16], [44, 60]]
#: Frames of ``seen.avi`` the run flags and the analyst rejects (normal footage that looks strange to it).
FALSE_ALARM = (30, 45)
#: ``unseen.avi``: the same kind of strange normal footage, and a real anomaly.
UNSEEN_STRANGE, UNSEEN_ANOMALY = (10, 25), (50, 58)


def record_held_out(project: Project, run_dir: Path) -> None:
    video = project.video("train0.avi")
    record = RunRecord.load(run_dir)
    entry = {"name": video.name, "content": video.fingerprint.key}
    record.data["held_out"] = {"mode": "time", "gap": FRAMES, "videos": [{**entry, "spans": HELD}],
                               "trained": [{**entry, "spans": TRAINED}]}
    record.save(run_dir)


def cache(project: Project, run_dir: Path, name: str, errors: np.ndarray) -> None:
    """``name``'s scores in the run's score cache, as if scored already (no model runs)."""
    run = run_model(project.folder, run_dir)
    video = project.video(name)
    ScoreCache(project.folder).write(CachedScores(score_key(run, video), errors.astype(np.float32), len(errors),
                                                  None, video.id))


def strange(rng: np.random.Generator, n: int) -> np.ndarray:
    """Errors of the normal footage the run finds strange: about three times the usual."""
    return rng.uniform(2.5, 3.5, n)


@pytest.fixture
def scene(tmp_path: Path):
    """A project whose autoencoder run ``tiny`` held out frames 20-40 of ``train0.avi``, with every video's
    errors cached: the held-out frames about 1, a stretch of ``seen.avi`` and one of ``unseen.avi`` about 3
    (normal footage the run finds strange), an anomaly of ``unseen.avi`` 10."""
    folder = make_project(tmp_path / "proj", frames=(60,))
    rng = np.random.default_rng(0)
    with closing(Project.open(folder)) as project:
        for name, frames in (("seen.avi", 80), ("unseen.avi", 81)):  # two lengths: two contents
            project.add_video(write_video(tmp_path / name, frames), split="test")
        project.save()
        run_dir = save_run(folder)
        record_held_out(project, run_dir)
        cache(project, run_dir, "train0.avi", rng.normal(1.0, 0.05, 60))
        cache(project, run_dir, "test.avi", rng.normal(1.0, 0.05, 22))
        seen = rng.normal(1.0, 0.05, 80)
        seen[slice(*FALSE_ALARM)] = strange(rng, FALSE_ALARM[1] - FALSE_ALARM[0])
        cache(project, run_dir, "seen.avi", seen)
        unseen = rng.normal(1.0, 0.05, 81)
        unseen[slice(*UNSEEN_STRANGE)] = strange(rng, UNSEEN_STRANGE[1] - UNSEEN_STRANGE[0])
        unseen[slice(*UNSEEN_ANOMALY)] = 10.0
        cache(project, run_dir, "unseen.avi", unseen)
        yield project, run_dir


def crossings(project: Project, run_dir: Path) -> tuple[int, bool]:
    """Frames of ``unseen.avi``'s normal footage above the run's stored threshold, and whether an event
    flagged there covers its anomaly."""
    stored = read_events(run_dir)
    run = run_model(project.folder, run_dir)
    video = project.video("unseen.avi")
    errors = ScoreCache(project.folder).read(score_key(run, video)).scores
    smoothed = stored.threshold.smooth(errors)
    normal = np.ones(len(errors), bool)
    normal[slice(*UNSEEN_ANOMALY)] = False
    events = [e for e in stored.events if e.video_id == video.id]
    hit = any(e.start < UNSEEN_ANOMALY[1] and e.end > UNSEEN_ANOMALY[0] for e in events)
    return int(np.sum(smoothed[normal] > stored.threshold.value)), hit


def reject_false_alarms(project: Project, run_dir: Path) -> int:
    """Reject every event the run flagged in ``seen.avi``; how many."""
    seen = project.video("seen.avi")
    stored = read_events(run_dir)
    events = [e for e in stored.events if e.video_id == seen.id]
    for event in events:
        project.set_verdict(seen.id, event.start, event.end, "rejected", run_id="tiny")
    return len(events)


def test_rejecting_false_alarms_lowers_the_crossings_on_unseen_normal_footage_and_keeps_the_hit(scene) -> None:
    project, run_dir = scene
    score_project(project, run_dir)  # all cached: calibrated on the held-out frames alone
    before, hit_before = crossings(project, run_dir)
    assert before >= 10 and hit_before  # the strange normal footage crosses the threshold, the anomaly too
    assert reject_false_alarms(project, run_dir) >= 1
    refit = refit_from_verdicts(project, run_dir)
    after, hit_after = crossings(project, run_dir)
    assert after < before / 3 and hit_after
    assert refit.threshold_after.value > refit.threshold_before.value
    assert refit.events_after < refit.events_before
    assert refit.error_level is None and refit.scored_frames == 0  # an autoencoder: its scores stay
    # the refit learned from the rejected frames of seen.avi, and nothing of unseen.avi
    seen, unseen = project.video("seen.avi"), project.video("unseen.avi")
    run = run_model(project.folder, run_dir)
    footage = {video.id: spans for video, spans in calibration_footage(project, run)}
    assert unseen.id not in footage and footage[seen.id] and refit.frames >= FALSE_ALARM[1] - FALSE_ALARM[0] - 2
    entry = RunRecord.load(run_dir).data["verdict_refits"][-1]
    assert entry["rejected_events"] == refit.events and entry["threshold_after"] == refit.threshold_after.value
    assert entry["videos"] == [{"name": "seen.avi", "content": seen.fingerprint.key,
                                "spans": [list(span) for span in footage[seen.id]]}]
    # framewatch score calibrates on the same footage from now on: the same threshold
    assert score_project(project, run_dir).threshold.value == pytest.approx(refit.threshold_after.value)


def test_rejected_frames_the_run_trained_on_are_never_learned_from(scene) -> None:
    project, run_dir = scene
    score_project(project, run_dir)
    train0 = project.video("train0.avi")
    project.set_verdict(train0.id, 10, 30, "rejected", run_id="tiny")  # trained 0-16, a gap to 20, held 20-40
    run = run_model(project.folder, run_dir)
    found = rejected_footage(project, run)
    assert found.events == 1 and found.spans == {train0.id: [(20, 30)]} and found.left_out == 10
    with_reach = rejected_footage(project, run, reach=FRAMES)  # the input frames before it: still none trained
    assert with_reach.spans == {train0.id: [(20, 30)]}
    project.remove_verdicts([v.id for v in project.verdicts.values()])
    project.set_verdict(train0.id, 2, 12, "rejected", run_id="tiny")
    project.set_verdict(train0.id, 46, 58, "rejected", run_id="tiny")
    with pytest.raises(ScoreError, match="lie in footage it trained on"):
        refit_from_verdicts(project, run_dir)
    assert "verdict_refits" not in RunRecord.load(run_dir).data


def test_a_run_without_rejected_events_or_a_model_folder_is_refused_in_one_line(scene) -> None:
    project, run_dir = scene
    score_project(project, run_dir)
    seen = project.video("seen.avi")
    project.set_verdict(seen.id, 30, 45, "rejected", run_id="another run")
    project.set_verdict(seen.id, 50, 55, "confirmed", run_id="tiny")
    with pytest.raises(ScoreError, match="no events of run 'tiny' are rejected"):
        refit_from_verdicts(project, run_dir)
    for name in ("last.keras", "state.json"):  # what export-run leaves: a model without checkpoints
        (run_dir / name).unlink()
    project.set_verdict(seen.id, 30, 45, "rejected", run_id="tiny")
    with pytest.raises(ScoreError, match="read-only model folder"):
        refit_from_verdicts(project, run_dir)


@pytest.fixture(scope="module")
def predictor(tmp_path_factory: pytest.TempPathFactory):
    """A tiny project whose next-frame run ``tiny`` (untrained) has an error level fitted on held-out frames
    20-40 of ``train0.avi``, scored whole, with one rejected event in ``test.avi`` (after its anomaly, 8-14)."""
    from core.training.error_level import fit_error_level

    folder = make_project(tmp_path_factory.mktemp("refit") / "proj", frames=(60,))
    run_dir = save_run(folder, task="predict")
    with closing(Project.open(folder)) as project:
        record_held_out(project, run_dir)
        fit_error_level(project, "tiny", epochs=1)
        score_project(project, run_dir)
        test = project.video("test.avi")
        project.set_verdict(test.id, 16, 22, "rejected", run_id="tiny")
        project.save()
    return folder


def _files(run_dir: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(run_dir.iterdir()) if path.is_file()}


@pytest.mark.parametrize("stage", [Stage.ERROR_LEVEL, Stage.SCORING])
def test_cancelling_a_refit_leaves_the_run_as_it_was(predictor: Path, stage: Stage) -> None:
    """Cancelled while the error level is fitted, or while the videos are scored again with it."""
    run_dir = predictor / "runs" / "tiny"
    before = _files(run_dir)
    cancel = threading.Event()

    def progress(event) -> None:
        if event.stage == stage:
            cancel.set()

    with closing(Project.open(predictor, read_only=True)) as project, pytest.raises(Cancelled):
        refit_from_verdicts(project, "tiny", epochs=1, progress=progress, cancel=cancel)
    assert _files(run_dir) == before


def test_a_predictor_refits_its_error_level_on_held_out_and_rejected_windows_and_flags_anew(predictor: Path) -> None:
    run_dir = predictor / "runs" / "tiny"
    level_before = (run_dir / "error_level.keras").read_bytes()
    heard = []
    with closing(Project.open(predictor, read_only=True)) as project:
        old_run = run_model(project.folder, run_dir)
        refit = refit_from_verdicts(project, "tiny", epochs=1, progress=heard.append)
        new_run = run_model(project.folder, run_dir)
        test = project.video("test.avi")
        assert recorded_rejected(project, new_run) == {test.id: [(16, 22)]}
        # the windows: held-out 20-40 predicts frames 24-39 (16); the rejected event 16-22 those predicting its
        # frames whose input frames (from frame 12) are not abnormal (the anomaly interval 8-14): 18-21 (4)
        assert refit.error_level["windows"] == 16 + 4 and refit.error_level["videos"] == 2
        assert (run_dir / "error_level.keras").read_bytes() != level_before
        assert new_run.spec.error_level != old_run.spec.error_level  # scores are keyed anew ...
        assert refit.scored_frames == 60 + 22  # ... and every scored video was scored again
        assert any("refitted error level" in event.message for event in heard)
        stored = read_events(run_dir)
        assert stored.threshold.value == refit.threshold_after.value and len(stored.events) == refit.events_after
        expected = sum(len(flag_events(stored.threshold.smooth(ScoreCache(project.folder).read(
            score_key(new_run, video)).scores), stored.threshold.value)) for video in project.videos.values())
        assert refit.events_after == expected
    record = json.loads((run_dir / "run.json").read_text())
    assert record["data"]["error_level"]["windows"] == 20
    assert [entry["rejected_events"] for entry in record["data"]["verdict_refits"]] == [1]
    assert not list(run_dir.glob("*partial*"))


def test_framewatch_refit_prints_the_threshold_and_events_before_and_after(scene, capsys) -> None:
    from core.cli.main import main

    project, run_dir = scene
    score_project(project, run_dir)
    rejected = reject_false_alarms(project, run_dir)
    assert rejected >= 1
    project.save()
    before = read_events(run_dir)
    assert main(["refit", str(project.folder), "--run", "tiny"]) == 0
    out = capsys.readouterr().out
    after = read_events(run_dir)
    assert f"threshold    {before.threshold.describe()} -> {after.threshold.describe()}" in out
    assert f"events       {len(before.events)} -> {len(after.events)} in 4 scored videos" in out
    assert main(["refit", str(project.folder), "--run", "tiny", "--json"]) == 0  # again: the same footage
    entry = json.loads(capsys.readouterr().out)
    assert entry["run"] == "tiny" and entry["threshold_before"] == entry["threshold_after"] == after.threshold.value
    assert [e["rejected_events"] for e in RunRecord.load(run_dir).data["verdict_refits"]] == [rejected] * 2


def test_framewatch_refit_without_rejected_events_is_one_line(scene, capsys) -> None:
    from core.cli.main import main

    project, run_dir = scene
    assert main(["refit", str(project.folder), "--run", "tiny"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no events of run 'tiny' are rejected" in err


@pytest.fixture(scope="module")
def motion_project(tmp_path_factory) -> Path:
    """Blobs: a motion run fitted on five videos of a blob in the lane (one held out); ``seen`` and
    ``unseen`` show a blob walking at a normal pace where none walked in them (rows 32-42), and
    ``unseen`` then one racing along the lane (its anomaly, frames 21-32)."""
    from core.training.from_project import train_project
    from core.training.request import TrainingRequest
    from tests.core.motion.blobs import EMPTY_TOP, blob_frames, normal_videos
    from tests.core.training.test_motion_run import _folder

    root = tmp_path_factory.mktemp("motion-refit")
    project = Project.create(root / "project", name="blobs")
    try:
        for number, frames in enumerate(normal_videos(count=5, frames=30)):
            project.add_video(_folder(root / f"normal{number}", frames), split="train")
        project.add_video(_folder(root / "seen", blob_frames(40, 1.0, top=EMPTY_TOP, start=30.0)), split="test")
        unseen = blob_frames(21, 1.0, top=EMPTY_TOP, start=37.0) + blob_frames(12, 8.0)
        video = project.add_video(_folder(root / "unseen", unseen), split="test")
        project.add_interval(video.id, 21, 33)
        train_project(project, TrainingRequest("anomaly", "motion", run_name="motion", height=48, width=96))
        project.save()
    finally:
        project.close()
    return root / "project"


def test_a_motion_run_learns_the_motion_of_its_rejected_events_and_stops_flagging_it_on_unseen_footage(
        motion_project: Path) -> None:
    run_dir = motion_project / "runs" / "motion"
    with closing(Project.open(motion_project)) as project:
        score_project(project, "motion")
        seen, unseen = project.video("seen"), project.video("unseen")

        def unseen_crossings() -> tuple[int, bool]:
            stored = read_events(run_dir)
            errors = ScoreCache(project.folder).read(score_key(run_model(project.folder, run_dir), unseen)).scores
            smoothed = stored.threshold.smooth(errors)
            hit = any(e.video_id == unseen.id and e.start < 33 and e.end > 21 for e in stored.events)
            return int(np.sum(smoothed[1:20] > stored.threshold.value)), hit

        before, hit = unseen_crossings()
        assert before >= 10 and hit  # a blob where none walked is flagged, and so is the racer
        base = (run_dir / "motion.npz").read_bytes()
        stored = read_events(run_dir)
        run_id = next(run.id for run in project.runs.values() if run.name == "motion")
        for event in [e for e in stored.events if e.video_id == seen.id]:
            project.set_verdict(seen.id, event.start, event.end, "rejected", run_id=run_id)
        refit = refit_from_verdicts(project, "motion")
        after, hit = unseen_crossings()
        assert after < before / 3 and hit
        assert refit.motion["base_frames"] == 4 * 29 and refit.motion["frames_added"] > 20
        assert refit.scored_frames > 0  # the statistics changed: the scored videos were scored again
        trust = RunRecord.load(run_dir).data["trust"]  # and the trust report was measured again
        assert refit.trust == TrustReport.from_entry(trust).summary() and "at 95%" in refit.trust
        # the statistics training fitted are kept, and a second refit adds the rejected frames to them once
        assert (run_dir / "motion.before-verdicts.npz").read_bytes() == base
        first = (run_dir / "motion.npz").read_bytes()
        again = refit_from_verdicts(project, "motion")
        assert again.motion == refit.motion and (run_dir / "motion.npz").read_bytes() == first
        assert RunRecord.load(run_dir).data["motion"]["frames"] == 4 * 29 + refit.motion["frames_added"]
