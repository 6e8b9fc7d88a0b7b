"""The training engine: run Keras ``fit`` as a long job with events, checkpoints, resume and cancel.

Importing this package is cheap; :mod:`core.training.trainer` imports Keras. Entry points:
:func:`core.training.trainer.train` and :func:`core.training.trainer.resume`.
"""

from core.training.errors import ConfigError, ModelFileError, NonFiniteLossError, TrainingError

__all__ = ["ConfigError", "ModelFileError", "NonFiniteLossError", "TrainingError"]
