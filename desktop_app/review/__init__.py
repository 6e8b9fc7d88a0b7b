"""Scores and anomaly review: the error chart (the "Error chart" dock), the scoring job that feeds it, the
event review panel, and :class:`ReviewController`, which puts them in the main window (the Review menu
and its docks).

The review state of the video shown is a Qt-free
:class:`~core.inference.anomaly.flagging_session.FlaggingSession`; the widgets draw it (``ErrorChart(session=)``,
``FlaggingBar.follow``, ``EventReview.follow``), with a plain API of methods and Qt signals for a
controller to wire into the window: connect ``ErrorChart.seek_requested`` and
``EventReview.seek_requested`` to the player, the player's frame to ``ErrorChart.set_position``, and
``EventReview.overlay_changed`` to whatever draws on the frame.
"""

from desktop_app.review.controller import ReviewController
from desktop_app.review.error_chart import ErrorChart
from desktop_app.review.event_review import REVIEW_KEYS, EventReview
from desktop_app.review.scoring_job import ScoringJob

__all__ = ["REVIEW_KEYS", "EventReview", "ErrorChart", "ReviewController", "ScoringJob"]
