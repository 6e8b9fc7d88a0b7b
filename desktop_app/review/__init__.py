"""Scores and anomaly review: the regularity chart, the scoring job that feeds it, the event review panel.

Standalone widgets with a plain API of methods and Qt signals, for a controller to wire into the window.
"""

from desktop_app.review.regularity_chart import RegularityChart
from desktop_app.review.scoring_job import ScoringJob

__all__ = ["RegularityChart", "ScoringJob"]
