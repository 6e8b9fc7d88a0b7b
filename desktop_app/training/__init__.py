"""Training from the app: the training panel (options, live curves, progress, cancel, resume, runs).

The public API a controller wires into the main window: :class:`TrainingPanel` (``set_project``,
``start``, ``cancel``, ``resume_selected``, ``score_selected``, ``delete_selected``; signals
``job_started``, ``run_started``, ``run_ended``, ``event_received``, ``score_requested``, ``runs_changed``),
and :class:`TrainingController`, which puts it in the main window (the Model menu and the Training dock).
"""

from desktop_app.training.controller import TrainingController
from desktop_app.training.job import ResumeRequest, TrainingRequest
from desktop_app.training.panel import TrainingPanel

__all__ = ["ResumeRequest", "TrainingController", "TrainingPanel", "TrainingRequest"]
