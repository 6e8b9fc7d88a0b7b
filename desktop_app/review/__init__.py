"""Scores and anomaly review: the regularity chart, the scoring job that feeds it, the event review panel,
and :class:`ReviewController`, which puts them in the main window (the Review menu and its docks).

Standalone widgets with a plain API of methods and Qt signals, for a controller to wire into the window:
connect ``RegularityChart.seek_requested`` and ``EventReview.seek_requested`` to the player, the player's
frame to ``RegularityChart.set_position``, ``RegularityChart.events_changed`` to ``EventReview.set_events``
(with the chart's ``video_id``), and ``EventReview.overlay_changed`` to whatever draws on the frame.
"""

from desktop_app.review.controller import ReviewController
from desktop_app.review.event_review import REVIEW_KEYS, EventReview
from desktop_app.review.regularity_chart import RegularityChart
from desktop_app.review.scoring_job import ScoringJob

__all__ = ["REVIEW_KEYS", "EventReview", "RegularityChart", "ReviewController", "ScoringJob"]
