"""The review feature in the window: scoring, the error chart, the event review panel, the Events lane.

:class:`ReviewController` owns the Review actions, the "Error chart" dock (:attr:`chart_panel`: the model
run, a progress bar with Cancel, and the :class:`ErrorChart`, which plots the error) and the "Events"
dock (:attr:`review`, an :class:`EventReview`), and it alone fills the timeline's "Events" lane.

The shown video's review state is one :class:`~core.inference.anomaly.flagging_session.FlaggingSession`
(:attr:`ReviewController.session`: errors, threshold, min run, merge gap, events, AUC, the flagging stored
with the run): the chart, the flagging bar, the events panel and the Events lane draw it and edit it; the
controller fills it (cached scores, a scoring job) and runs Keep.

* **The model run** is ``state.model_run`` (a run name of the project, or a run folder such as the
  shipped ``resources/models/ped2-future-frame``); Score asks for one when none is chosen
  (``state.choose_item``: the project's runs that score frames, then the shipped model). Opening a
  project chooses the run last chosen for it (``state.remembered_model_run``) while it exists, else the
  run of the same name as before, else the project's only run that scores.
* **The scorer box** beside the run's name chooses what scores it (:data:`~core.inference.anomaly.scorers.SCORERS`,
  :func:`~core.inference.anomaly.scorers.with_scorer`): only what the run can score with is enabled, its default
  chosen first (kept while the same run is chosen again). :attr:`ReviewController.run` is the run scored by it, so
  scoring, the cached scores shown, Keep and the heat maps all use it; the run's ``events.json`` is shown only if
  that scorer flagged it (its ``flagging["scorer"]``), else the chart and the events would disagree.
* **Score Video** raises the Error chart dock (over the Training tab it shares) and runs a
  :class:`ScoringJob` in a worker: the chart grows while frames are scored, and
  Cancel (or choosing another video) stops it with the scores so far cached; the next Score resumes.
  **Score All Videos** scores every video with a progress dialog and lists the events of the whole project.
  **Score Videos on Ray Workers...** does the same (all videos, or those selected in the Videos list) on Ray workers (:mod:`desktop_app.review.ray_scoring`:
  workers of a local Ray or a cluster address (a Ray Jobs one submits a job), remembered per user; Cancel stops the
  workers (or the job) and the local Ray,
  the finished segments stay for the next run); disabled, with the install command as its tooltip, without Ray.
* **Cached scores** of the selected video are shown at once (``core`` score cache, the run's stored
  threshold), without loading the model.
* The chart's cursor follows ``state.position_changed``; a click on it calls ``state.request_seek``;
  a threshold drag re-flags the video's events, which the panel and the Events lane follow at once.
* The :class:`FlaggingBar` above the chart shows the threshold (typed or dragged), min run and merge gap.
  **Keep** re-flags every video the run has scored with them (a job: cached scores only) and stores
  them in the run's ``events.json``; the next Score flags with them too. **Revert** goes back to the
  stored ones. Opening a run adopts the flagging stored with it.
* The Events lane holds the recorded verdicts of the video (grey rejected, red confirmed, amber
  unsure) and the flagged events not judged yet (amber, "flagged").
* The event keys (:data:`~desktop_app.review.REVIEW_KEYS`) are window actions, so they work from the
  player too; verdicts are project commands (Edit > Undo takes them back).
* The error heat map of the current event is drawn on the player's frame through ``state.frame_overlay``.
* **Export Scores and Events...** writes the video's ``<video>.scores.csv``, ``.events.csv`` and
  ``.scores.json`` into a folder, and **Export Annotated Anomaly Video...** an MP4 with the error
  curve under each frame (:mod:`core.inference.anomaly.exports`, :mod:`core.render.annotated_video`), both as
  the chart flags now (the threshold, min run and merge gap on screen) and in a job.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from core.distributed.ray_import import ray_available
from core.errors import FramewatchError
from core.inference.anomaly.events import Event
from core.inference.anomaly.events_file import RunEvents, read_events
from core.inference.anomaly.flagging_session import Flagging, FlaggingSession, SessionChange
from core.inference.anomaly.project_scoring import (
    ProjectScores,
    ScoringRun,
    VideoScores,
    cached_video_scores,
    events_dir,
    reflag_project,
    run_model,
    score_project,
)
from core.inference.anomaly.scorers import SCORERS, default_scorer, missing_motion, with_scorer
from core.inference.anomaly.scoring import SCORING_TASKS
from core.inference.errors import ScoreError
from core.runs import RunRecord, find_run_dir, list_runs
from desktop_app.common.actions import build_actions
from desktop_app.common.docks import bring_dock_to_front
from desktop_app.common.resource_files import shipped_model_dir
from desktop_app.jobs import JobBar, run_job, show_error
from desktop_app.player import ANOMALY_COLOR, EVENT_COLOR
from desktop_app.review.error_chart import ErrorChart
from desktop_app.review.event_review import EventReview
from desktop_app.review.flagging_bar import FlaggingBar
from desktop_app.review.ray_scoring import (
    MISSING_TIP,
    RayChoice,
    RayScoringDialog,
    remember,
    remembered,
    score_all_on_ray,
)
from desktop_app.review.scoring_job import ScoringJob
from desktop_app.state import AppState, LaneBand

VERDICT_COLORS = {"confirmed": ANOMALY_COLOR, "rejected": "#6b7280", "unsure": EVENT_COLOR}


class ReviewController(QObject):
    """Scoring and anomaly review in the main window; see the module docstring."""

    def __init__(self, state: AppState, window: QWidget) -> None:
        super().__init__(window)
        self.state = state
        self.window = window
        self.run: ScoringRun | None = None  # the model run scored by the chosen scorer
        self._base_run: ScoringRun | None = None  # the model run as it opens (its default scorer)
        self.job: ScoringJob | None = None
        self.session = FlaggingSession()  # the shown video's review state, drawn by the views below
        #: Keywords for :func:`~core.inference.anomaly.project_scoring.score_project` (``batch_size``, ``percentile``...).
        self.scoring_options: dict[str, Any] = {}
        #: More keywords for :func:`~core.distributed.archive.score_archive` (``segment_seconds``...).
        self.archive_options: dict[str, Any] = {}
        self.ray_worker: Any = None  # the Score All on Ray job while it runs
        self.last_archive: Any = None  # what the last Score All on Ray did on the workers (ArchiveScoring)
        #: The ids of the videos selected in the Videos list (the main window connects it).
        self.selected_videos: Any = list
        self._pending_seek: tuple[str, int] | None = None
        self._stored: RunEvents | None = None  # the run's events.json as last read or written

        self.chart = ErrorChart(window, session=self.session)
        self.review = EventReview(window, project_edited=state.project_edited)
        self.review.follow(self.session)
        for shortcut in self.review.shortcuts.values():  # the window's Review actions take these keys
            shortcut.setEnabled(False)
        self.run_label = QLabel()
        self.job_bar = JobBar()
        self.job_bar.cancelled.connect(self.cancel_scoring)
        self.chart_panel = QWidget(window)
        layout = QVBoxLayout(self.chart_panel)
        layout.setContentsMargins(4, 2, 4, 2)
        top = QVBoxLayout()
        run_row = QHBoxLayout()
        run_row.addWidget(self.run_label, 1)
        run_row.addWidget(QLabel("Scorer:"))
        self.scorer_box = QComboBox()
        self.scorer_box.addItems(list(SCORERS))
        self.scorer_box.setToolTip("What scores the run's frames: its prediction error, its motion statistics, "
                                   "or the two fused")
        self.scorer_box.setEnabled(False)
        self.scorer_box.currentTextChanged.connect(self._on_scorer_chosen)
        run_row.addWidget(self.scorer_box)
        top.addLayout(run_row)
        self.flagging_bar = FlaggingBar()
        self.flagging_bar.follow(self.session)
        top.addWidget(self.flagging_bar)
        top.addWidget(self.job_bar)
        layout.addLayout(top)
        layout.addWidget(self.chart, 1)

        handlers: dict[str, Any] = {
            "export_scores": self.export_scores,
            "export_anomaly_video": self.export_anomaly_video,
            "score_video": self.score_video,
            "score_all": self.score_all,
            "score_all_on_ray": self.score_all_on_ray,
            "cancel_scoring": self.cancel_scoring,
            "choose_run": self.choose_run,
        }
        handlers.update(self.review.event_handlers())
        self.actions = build_actions(window, handlers)
        self._ray_tip = self.actions["score_all_on_ray"].toolTip()

        self.chart.seek_requested.connect(state.request_seek)
        self.session.subscribe(self._on_session)
        self.flagging_bar.keep_requested.connect(self.keep_flagging)
        self.review.seek_requested.connect(self._seek_event)
        self.review.overlay_changed.connect(self._on_overlay)
        self.review.current_changed.connect(lambda _event: self._update_actions())
        self.review.heatmap.toggled.connect(lambda _on: self._show_overlay(self.state.position))
        state.project_changed.connect(self._on_project)
        state.project_edited.connect(self._on_project_edited)
        state.video_changed.connect(self._on_video)
        state.model_run_changed.connect(self._on_model_run)
        state.position_changed.connect(self._on_position)
        state.frame_count_changed.connect(self._on_frame_count)
        self._update_run_label()
        self._update_actions()

    @property
    def project(self):
        return self.state.project

    @property
    def scoring(self) -> bool:
        return (self.job is not None and self.job.is_running) or (
            self.ray_worker is not None and self.ray_worker.is_running)

    # == the model run =============================================================================
    def run_choices(self, shipped: bool = True) -> list[tuple[str, str]]:
        """``(label, run)`` for every run that can score: the project's runs with a model that gives
        frames back, then (``shipped``) the shipped model."""
        choices: list[tuple[str, str]] = []
        if self.project is not None:
            for listing in list_runs(self.project.folder):
                try:
                    run_model(self.project.folder, listing.run_dir)
                except FramewatchError:
                    continue  # a classifier, a run never trained, a damaged record
                choices.append((f"{listing.name} ({listing.record.task}, {listing.status})", listing.name))
        folder = shipped_model_dir()
        if shipped and (folder / "run.json").is_file():
            choices.append((f"{folder.name} (shipped model for UCSD Ped2-like gray footage)", str(folder)))
        return choices

    def choose_run(self) -> bool:
        """Ask which run scores; ``True`` when one was chosen."""
        if self.project is None:
            return False
        choices = self.run_choices()
        if not choices:
            self.state.show_status("No run can score: train an anomaly or next-frame model first")
            return False
        labels = [label for label, _ in choices]
        current = next((n for n, (_, run) in enumerate(choices) if run == self.state.model_run), 0)
        label = self.state.choose_item("Model run", "Score and flag events with:", labels, current)
        if label is None:
            return False
        self.state.set_model_run(dict(choices)[label])
        return self.run is not None

    def _on_model_run(self, name: str) -> None:
        kept = self.scorer if self._base_run is not None and self._base_run.run_dir.name == Path(name).name else None
        kept = kept or self.state.remembered_scorer(name)  # the scorer chosen for this run before, even last session
        self.run = self._base_run = None
        if name and self.project is not None:
            try:
                self._base_run = run_model(self.project.folder, name)
            except FramewatchError as exc:
                if self._scores_frames(name):
                    show_error(self.window, exc, "Model run")
                else:  # a classify or regress run, chosen for the Predicted frames dock: no scores, no dialog
                    self.state.show_status(f"Review: {exc}", 8000)
        self._fill_scorers(kept)
        self._use_scorer(self.scorer)

    @property
    def scorer(self) -> str | None:
        """The scorer chosen for the model run (``None`` without one)."""
        return self.scorer_box.currentText() if self._base_run is not None else None

    def scorer_choices(self) -> dict[str, str]:
        """``{scorer: why it cannot score}`` for the model run, ``""`` for each one it can score with (see
        :func:`~core.inference.anomaly.scorers.with_scorer`: a motion run scores with ``motion`` only, a
        next-frame run without motion statistics with ``prediction`` only)."""
        if self._base_run is None:
            return {}
        choices = {}
        for scorer in SCORERS:
            try:
                with_scorer(self._base_run, scorer)
                choices[scorer] = ""
            except ScoreError as exc:
                choices[scorer] = str(exc)
        return choices

    def _fill_scorers(self, kept: str | None) -> None:
        """The scorer box for the model run: only what it can score with enabled (each refused entry's tooltip
        says why), the run's default chosen (``kept`` instead, the same run chosen again, while it can)."""
        choices = self.scorer_choices()
        model = self.scorer_box.model()
        assert isinstance(model, QStandardItemModel)
        for row, scorer in enumerate(SCORERS):
            why = choices.get(scorer, "")
            model.item(row).setEnabled(self._base_run is not None and not why)
            self.scorer_box.setItemData(row, why or None, Qt.ItemDataRole.ToolTipRole)
        wanted = kept if kept and choices.get(kept) == "" else (
            default_scorer(self._base_run.record) if self._base_run is not None else SCORERS[0])
        if choices and choices.get(wanted) != "":
            wanted = next(scorer for scorer, why in choices.items() if not why)
        self.scorer_box.blockSignals(True)
        self.scorer_box.setCurrentText(wanted)
        self.scorer_box.blockSignals(False)
        refused = [why for why in choices.values() if why]
        if self._base_run is not None and self._base_run.scorer != "motion" and refused:
            tip = f"Only the prediction error scores this run: {missing_motion(self._base_run)}"
        else:
            tip = "What scores the run's frames: its prediction error, its motion statistics, or the two fused"
        self.scorer_box.setToolTip(tip)

    def _on_scorer_chosen(self, scorer: str) -> None:
        if self._base_run is not None and scorer:
            self._use_scorer(scorer)
            self.state.remember_scorer(self._base_run.run_dir.name, scorer)
            self.state.show_status(f"{self._base_run.run_dir.name} scores with the {scorer} scorer")

    def _use_scorer(self, scorer: str | None) -> None:
        """Score and review with the model run scored by ``scorer``: its cached scores and the events stored
        for that scorer are shown (events.json records the scorer that flagged them)."""
        self.cancel_scoring()
        self.run = None
        if self._base_run is not None and scorer is not None:
            try:
                self.run = with_scorer(self._base_run, scorer)
            except ScoreError as exc:
                show_error(self.window, exc, "Scorer")
        relative = self.run is not None and self.run.scorer != "fused" and bool(self.run.spec.error_level)
        self.chart.set_error_unit(relative)
        self.session.set_flagging(None)  # the new run's stored flagging, if any, comes with its scores
        self.review.set_project(self.project, self.run)
        self._load_stored_events()
        self._show_cached(self.state.video_id)
        self._update_run_label()
        self._update_actions()

    def _run_exists(self, name: str) -> bool:
        """Whether ``name`` (a run name of the project, or a run folder) is still a run folder."""
        try:
            find_run_dir(self.project.folder, name)
        except FramewatchError:
            return False
        return True

    def _scores_frames(self, name: str) -> bool:
        """Whether run ``name`` is of a task that scores frames (a run that cannot be read counts as one)."""
        try:
            return RunRecord.load(find_run_dir(self.project.folder, name)).task in SCORING_TASKS
        except FramewatchError:
            return True

    def _update_run_label(self) -> None:
        text = f"Model run: {self.run.run_dir.name}" if self.run is not None else (
            "No model run: Review > Score Video asks for one")
        self.run_label.setText(text)

    # == scoring ===================================================================================
    def score_video(self) -> None:
        """Score the current video with the run (asking for one first if none is chosen)."""
        if self.project is None or self.state.video_id is None:
            self.state.show_status("Open a video to score")
            return
        if not self._ready_to_score():
            return
        bring_dock_to_front(self.chart_panel)  # the chart grows as frames are scored: over the Training tab
        job = ScoringJob(self.project, self.run, self.state.video_id, self.session, parent=self.window,
                         **self.scoring_options)
        job.finished.connect(self._on_scored)
        job.done.connect(self._update_actions)
        self.job = job
        job.start()
        if job.worker is not None and not job.worker.is_done:
            self.state.track(job.worker)
            self.job_bar.track(job.worker)
        self.state.show_status(f"Scoring {self.state.video.name} with {self.run.run_dir.name} "
                               f"({self.run.scorer} scorer)...")
        self._update_actions()

    def score_all(self) -> None:
        """Score every video of the project (progress dialog) and list the whole project's events."""
        if self.project is None or not self.project.videos or not self._ready_to_score():
            return
        bring_dock_to_front(self.chart_panel)
        worker = run_job(self.window, "Scoring all videos", score_project, self.project, self.run,
                         on_finished=self._on_scored_all, **self.scoring_options)
        self.state.track(worker)

    def _ready_to_score(self) -> bool:
        """No scoring runs and a run is chosen (asked for if none is)."""
        if self.scoring:
            self.state.show_status("Scoring is already running: Review > Cancel Scoring stops it")
            return False
        return self.run is not None or self.choose_run()

    def score_all_on_ray(self) -> None:
        """Score every video (or those selected in the Videos list) on Ray workers (asked for, remembered), then
        flag and list the project's events as Score All does."""
        if self.project is None or not self.project.videos:
            return
        if not ray_available():
            self.state.show_status(MISSING_TIP, 10000)
            return
        if not self._ready_to_score():
            return
        selected = [video_id for video_id in self.selected_videos() if video_id in self.project.videos]
        asked = self.ask_ray_choice(len(selected))
        if asked is None:
            return
        choice, only_selected = asked
        videos = selected if only_selected else None
        remember(self.state.settings, choice)
        bring_dock_to_front(self.chart_panel)
        where = f"the Ray cluster at {choice.address}" if choice.address else f"{choice.workers} Ray workers"
        self.last_archive = None
        worker = run_job(self.window, f"Scoring all videos on {where}", score_all_on_ray, self.project, self.run,
                         choice, archive=dict(self.archive_options), on_archive=self._heard_archive, videos=videos,
                         on_finished=self._on_scored_on_ray, **self.scoring_options)
        self.ray_worker = worker
        worker.finished.connect(lambda _result: self._ray_ended(worker))
        worker.error.connect(lambda _exc: self._ray_ended(worker))
        self.state.track(worker)
        self.state.show_status(f"Scoring all videos with {self.run.run_dir.name} on {where}...")
        self._update_actions()

    def ask_ray_choice(self, selected: int = 0) -> tuple[RayChoice, bool] | None:
        """The workers (or cluster) chosen in the dialog, starting from the last choice, and whether only the
        ``selected`` videos are scored; ``None``: cancelled."""
        dialog = RayScoringDialog(remembered(self.state.settings), self.window, len(self.project.videos), selected)
        try:
            if dialog.exec() != RayScoringDialog.DialogCode.Accepted:
                return None
            return dialog.choice(), dialog.only_selected
        finally:
            dialog.deleteLater()

    def _on_scored_on_ray(self, result: ProjectScores) -> None:
        """As after Score All; the Events panel lists the whole project's stored events (those of the videos not
        scored now included)."""
        self._on_scored_all(result)
        if self._stored is not None and len(result.videos) < len(self.project.videos):
            self.review.set_events(self._stored.events)

    def _heard_archive(self, done: Any) -> None:
        self.last_archive = done  # on the job's thread: read once the job ends

    def _ray_ended(self, worker: Any) -> None:
        if self.ray_worker is worker:
            self.ray_worker = None
        self._update_actions()

    def cancel_scoring(self) -> None:
        if self.job is not None:
            self.job.cancel()
        if self.ray_worker is not None:
            self.ray_worker.cancel()

    def _on_scored(self, scores: VideoScores) -> None:
        stored = self._stored_events()  # what scoring stored, the other videos' events included
        if stored is not None:
            self._set_stored(stored)
        self.state.show_status(f"{scores.name}: {scores.frames} frames scored by the {self.run.scorer} scorer, "
                               f"{len(scores.events)} event{'s' if len(scores.events) != 1 else ''} flagged")

    def _on_scored_all(self, result: ProjectScores) -> None:
        self._set_stored(self._stored_events())
        events = [event for video in result.videos for event in video.events]
        self.review.set_events(events)
        self.review.set_whole_project(True)
        self._show_cached(self.state.video_id)
        self.state.show_status(f"{len(result.videos)} videos scored by the {result.run.scorer} scorer, "
                               f"{len(events)} events flagged")

    def _show_cached(self, video_id: str | None) -> None:
        """Show the video's cached scores, flagged as stored with the run; an empty chart if none."""
        self.session.clear(video_id or "")
        if video_id is None or self.project is None or video_id not in self.project.videos:
            return
        self.session.set_ground_truth(self.project.intervals_of(video_id))
        if self.run is None:
            return
        errors = cached_video_scores(self.project, self.run, video_id)
        if errors is None:
            return
        stored = Flagging.stored(self._stored)
        if stored is not None:
            self.session.set_flagging(stored)
        self.session.set_errors(errors)

    def _stored_events(self):
        """The run's ``events.json`` if the chosen scorer flagged it (one without a scorer is from before
        scorers: the prediction error's, a motion run's motion), else ``None``."""
        try:
            stored = read_events(events_dir(self.project, self.run))
        except FramewatchError as exc:
            self.state.show_status(str(exc), 8000)
            return None
        if stored is None:
            return None
        legacy = "motion" if self._base_run is not None and self._base_run.scorer == "motion" else "prediction"
        flagged_by = stored.flagging.get("scorer", legacy)
        if flagged_by != self.run.scorer:
            self.state.show_status(f"The run's events were flagged by the {flagged_by} scorer: Score Video flags "
                                   f"with the {self.run.scorer} scorer", 8000)
            return None
        return stored

    def _load_stored_events(self) -> None:
        self._set_stored(None)
        self.scoring_options = {k: v for k, v in self.scoring_options.items()
                                if k not in ("threshold", "min_run", "merge_gap")}
        if self.project is None or self.run is None:
            return
        stored = self._stored_events()
        if stored is not None:
            self._adopt(stored)
            self.review.set_events(stored.events)

    def _adopt(self, stored: RunEvents) -> None:
        """Take the flagging stored with the run as the one the next Score uses (a threshold set by hand
        included; a calibrated one is calibrated again, to the same value while the footage is the same)."""
        self._set_stored(stored)
        min_run, merge_gap = _stored_flagging(stored)
        self.scoring_options.update(min_run=min_run, merge_gap=merge_gap)
        if stored.threshold is not None and stored.threshold.kind == "manual":
            self.scoring_options["threshold"] = stored.threshold
        else:
            self.scoring_options.pop("threshold", None)

    # == the flagging bar ==========================================================================
    def _set_stored(self, stored: RunEvents | None) -> None:
        """The run's ``events.json`` as last read or written; the session learns the flagging it stores."""
        self._stored = stored
        self.session.set_stored(Flagging.stored(stored))

    def keep_flagging(self) -> None:
        """Flag every video the run has scored with the session's threshold, min run and merge gap, and
        store them with the run (a job over the cached scores: no model, no decoding)."""
        flagging = self.session.flagging
        if self.project is None or self.run is None or flagging is None:
            return
        if self.scoring:
            self.state.show_status("Scoring is running: keep the flagging once it ends (or cancel it)")
            return
        worker = run_job(self.window, "Flagging scored videos", reflag_project, self.project, self.run,
                         flagging.threshold, flagging.min_run, flagging.merge_gap, on_finished=self._on_kept)
        self.state.track(worker)

    def _on_kept(self, result: ProjectScores) -> None:
        self._adopt(RunEvents([e for video in result.videos for e in video.events], result.threshold,
                              result.flagging))
        events = [event for video in result.videos for event in video.events]
        self.review.set_events(events)
        self._refresh_lane()
        self.state.show_status(f"Threshold {result.threshold.describe()}, min run {result.flagging['min_run']}, "
                               f"merge gap {result.flagging['merge_gap']} kept: {len(events)} event"
                               f"{'s' if len(events) != 1 else ''} in {len(result.videos)} scored video"
                               f"{'s' if len(result.videos) != 1 else ''}", 10000)

    # == exports ==================================================================================
    def _scored_now(self):
        """A call that builds the shown video's export as the chart flags it now (a ``ScoredVideo``: it hashes
        the model file, so the export job makes it, off the GUI thread), or ``None`` with a status saying why."""
        from functools import partial

        from core.inference.anomaly.exports import scored_video

        video_id = self.state.video_id
        if self.project is None or self.run is None or video_id is None:
            self.state.show_status("Open a video and score it first (Review > Score Video)")
            return None
        errors = cached_video_scores(self.project, self.run, video_id)
        flagging = self.session.flagging
        if errors is None or flagging is None or self.scoring or self.session.video_id != video_id:
            self.state.show_status("Score the whole video first (Review > Score Video): exports need every frame")
            return None
        return partial(scored_video, self.project, self.run, video_id, errors, flagging.threshold,
                       self.session.events, flagging.min_run, flagging.merge_gap)

    def export_scores(self) -> None:
        """Write the video's per-frame scores and events (CSV and JSON) into a folder chosen by the analyst."""
        from PySide6.QtWidgets import QMessageBox

        from core.inference.anomaly.exports import export_paths, file_stem

        scored = self._scored_now()
        if scored is None:
            return
        video = self.state.video
        folder = self.state.choose_folder("Export scores and events to")
        if folder is None:
            return
        existing = [path.name for path in export_paths(folder, file_stem(video.name, video.kind)).values()
                    if path.exists()]
        if existing:
            yes, no = QMessageBox.StandardButton.Yes, QMessageBox.StandardButton.No
            if self.state.ask("Replace files?", f"{', '.join(existing)} already in {folder}. Replace?",
                              yes | no, no) != yes:
                return
        worker = run_job(self.window, "Exporting scores and events", _export_scores, folder, scored,
                         on_finished=lambda paths: self.state.show_status(
                             f"Wrote {', '.join(path.name for path in paths.values())} to {folder}", 10000))
        self.state.track(worker)

    def export_anomaly_video(self) -> None:
        """Write the annotated anomaly video of the shown video (a job with progress and Cancel)."""
        scored = self._scored_now()
        if scored is None:
            return
        path = self.state.choose_save_file("Export annotated anomaly video", "MP4 video (*.mp4)")
        if path is None:
            return
        if path.suffix == "":
            path = path.with_suffix(".mp4")
        # the file dialog asked before an existing file is replaced
        worker = run_job(self.window, "Writing the annotated video", _write_anomaly_video, path, scored,
                         on_finished=lambda written: self.state.show_status(f"Wrote {written}", 10000))
        self.state.track(worker)

    # == following the window ======================================================================
    def _on_project(self, project) -> None:
        self.cancel_scoring()
        self._pending_seek = None
        self.state.set_frame_overlay(None)
        self.run = self._base_run = None
        self._fill_scorers(None)
        self.review.set_project(project, None)
        self.session.set_flagging(None)
        self.session.clear()
        self._set_stored(None)
        self._update_run_label()
        self._refresh_lane()
        self._update_actions()
        if project is None:
            return
        runs = [run for _label, run in self.run_choices(shipped=False)]
        remembered = self.state.remembered_model_run()  # chosen when the project was last open
        if remembered is not None and self._run_exists(remembered):
            self.state.set_model_run(remembered)
        elif self.state.model_run in runs:  # the same run name in the new project
            self.state.set_model_run(self.state.model_run)
        elif len(runs) == 1:  # the project's only run that scores (the demo's shipped model)
            self.state.set_model_run(runs[0])
        elif self.state.model_run:
            self.state.set_model_run(None)

    def _on_project_edited(self, change) -> None:
        if {"verdicts", "intervals"} & set(change.collections):
            if "intervals" in change.collections and self.state.video_id is not None:
                self.session.set_ground_truth(self.project.intervals_of(self.state.video_id))
            self._refresh_lane()
        self._update_actions()

    def _on_video(self, video_id: str) -> None:
        if self.scoring and self.job.video != video_id:
            self.cancel_scoring()  # the chart follows the video shown; the scores so far stay cached
        self.state.set_frame_overlay(None)
        self.review.show_video(video_id or None)
        self._show_cached(video_id or None)
        self._refresh_lane()
        self._update_actions()

    def _on_session(self, change: SessionChange) -> None:
        if change.events:
            self._refresh_lane()

    def _refresh_lane(self) -> None:
        bands: list[LaneBand] = []
        vid, project = self.state.video_id, self.project
        if project is not None and vid is not None:
            judged = set()
            for verdict in project.verdicts_of(vid):
                judged.add((verdict.start, verdict.end))
                bands.append(LaneBand(verdict.start, verdict.end, VERDICT_COLORS.get(verdict.verdict, EVENT_COLOR),
                                      verdict.verdict, verdict.id))
            for n, event in enumerate(self._flagged(vid)):
                if (event.start, event.end) not in judged:
                    bands.append(LaneBand(event.start, event.end, EVENT_COLOR, "flagged", f"flag{n}"))
        self.state.set_lane("Events", bands)

    def _flagged(self, video_id: str) -> list[Event]:
        """The events flagged in ``video_id``: the session's for the video it holds scores of, else those
        stored with the run."""
        if self.session.video_id == video_id and self.session.frames:
            return self.session.events
        stored = self._stored.events if self._stored is not None else []
        return [event for event in stored if event.video_id == video_id]

    def _on_position(self, frame: int) -> None:
        self.chart.set_position(frame)
        self._show_overlay(frame)

    def _seek_event(self, video_id: str, frame: int) -> None:
        if video_id == self.state.video_id and self.state.has_video:
            self.state.request_seek(frame)
            return
        self._pending_seek = (video_id, frame)
        self.state.set_video(video_id)  # the seek follows once the video is open

    def _on_frame_count(self, count: int) -> None:
        if count > 0 and self._pending_seek is not None and self._pending_seek[0] == self.state.video_id:
            frame = self._pending_seek[1]
            self._pending_seek = None
            self.state.request_seek(frame)

    def _on_overlay(self, _frame: int, _rgba: Any) -> None:
        # the panel's maps changed (computed, or the heat map toggled): redraw the frame the player shows,
        # which may be another frame of the event than the panel's (the analyst moved the playhead)
        self._show_overlay(self.state.position)

    def _show_overlay(self, frame: int) -> None:
        on = self.review.heatmap.isChecked()
        event = self.review.current_event
        shown = on and event is not None and event.video_id == self.state.video_id
        self.state.set_frame_overlay(self.review.overlay(frame) if shown else None)

    def _update_actions(self) -> None:
        a = self.actions
        has_project = self.project is not None
        a["score_video"].setEnabled(has_project and self.state.video_id is not None and not self.scoring)
        a["score_all"].setEnabled(has_project and bool(self.project.videos) and not self.scoring)
        has_ray = ray_available()
        a["score_all_on_ray"].setEnabled(has_ray and has_project and bool(self.project.videos) and not self.scoring)
        tip = self._ray_tip if has_ray else MISSING_TIP  # a disabled action's tooltip says what to install
        a["score_all_on_ray"].setToolTip(tip)
        a["score_all_on_ray"].setStatusTip(tip)
        a["cancel_scoring"].setEnabled(self.scoring)
        a["choose_run"].setEnabled(has_project)
        self.scorer_box.setEnabled(self._base_run is not None and not self.scoring
                                   and sum(not why for why in self.scorer_choices().values()) > 1)
        has_event = self.review.current_event is not None
        writable = has_project and not self.project.read_only
        for key in ("confirm_event", "reject_event", "unsure_event", "confirm_as_interval"):
            a[key].setEnabled(has_event and writable)
        for key in ("export_scores", "export_anomaly_video"):
            a[key].setEnabled(has_project and self.run is not None and self.state.video_id is not None
                              and not self.scoring)


def _stored_flagging(stored: RunEvents) -> tuple[int, int]:
    """``(min_run, merge_gap)`` stored with a run's events."""
    return int(stored.flagging.get("min_run", 1)), int(stored.flagging.get("merge_gap", 0))


def _export_scores(folder, scored, progress=None, cancel=None):
    """The export job: the three files of one video (overwriting what the analyst agreed to replace)."""
    from core.inference.anomaly.exports import write_score_exports

    return write_score_exports(folder, scored(), overwrite=True)


def _write_anomaly_video(path, scored, progress=None, cancel=None):
    """The annotated-video job (the file dialog has asked before an existing file is replaced)."""
    from core.render.annotated_video import DEFAULT_CURVE, write_annotated_video

    return write_annotated_video(path, scored(), DEFAULT_CURVE, True, progress=progress, cancel=cancel)
