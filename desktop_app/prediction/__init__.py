"""Predicted frames and window segments: what a next-frame, classify or regress run sees in a video.

:class:`PredictionView` shows ground truth, prediction and an absolute-error heat map for the next frames
of a next-frame run; :class:`SegmentsView` classifies a video window by window with a classify or regress
run and shows the segments as coloured bands (:func:`segment_bands`), with an annotated-video export.
Both run their jobs in workers and share a :class:`~core.models.model_cache.ModelCache` when given one. :class:`PredictionController`
puts them in the main window (the "Predicted frames" dock, the Model menu's Classify and Export actions).
"""

from desktop_app.prediction.controller import SEGMENTS_LANE, PredictionController
from desktop_app.prediction.prediction_view import PredictionView, error_heatmap
from desktop_app.prediction.segment_bands import class_color, segment_bands, value_color
from desktop_app.prediction.segments_view import SegmentStrip, SegmentsView

__all__ = [
    "SEGMENTS_LANE",
    "PredictionController",
    "PredictionView",
    "SegmentStrip",
    "SegmentsView",
    "class_color",
    "error_heatmap",
    "segment_bands",
    "value_color",
]
