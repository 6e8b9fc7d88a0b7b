"""How good a model is: pure numpy metrics, no TensorFlow and no Qt.

One small module per family: :mod:`~core.evaluation.roc` (ROC curve, AUC, EER),
:mod:`~core.evaluation.normalise` (per-video abnormality and regularity), :mod:`~core.evaluation.frame_level`
(AUC/EER over videos, normalised and raw), :mod:`~core.evaluation.intervals` (frame labels from
``[start, end)`` intervals), :mod:`~core.evaluation.events` (event recall, false alarms per minute),
:mod:`~core.evaluation.threshold` (frame precision/recall/F1 at a threshold), :mod:`~core.evaluation.frames`
(next-frame SSE, MSE, PSNR, SSIM per step), :mod:`~core.evaluation.classification` and
:mod:`~core.evaluation.regression`. Bad input raises :class:`~core.evaluation.errors.EvaluationError`, a
``ValueError``. Definitions and conventions: ``docs/evaluation.md``.
"""
