"""Training events: what a running job tells the GUI and the CLI.

Every event is a :class:`~core.jobs.Progress` (so any progress sink, such as the CLI's progress bar,
can render it): ``done`` counts training batches finished over the whole run, ``total`` is
``epochs x batches per epoch`` (``None`` when the dataset's length is unknown) and ``message`` is a
one-line status; ``stage`` is :attr:`~core.jobs.Stage.TRAINING`. The subclasses add what a live chart needs. ``epoch`` and ``batch`` are 0-based;
``epochs`` is the run's final epoch count; times are seconds; ``learning_rate`` is the rate the
epoch trains (or trained, for ``EpochEnded``) with, before any plateau reduction at its end; ``samples_per_s`` counts clips per second over the last batch (or epoch).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.jobs import Progress, Stage


@dataclass(frozen=True)
class TrainingEvent(Progress):
    stage: Stage | None = Stage.TRAINING
    epoch: int = 0
    epochs: int = 0
    batch: int = 0
    batches: int | None = None
    elapsed_s: float = 0.0


@dataclass(frozen=True)
class RunStarted(TrainingEvent):
    """Sent once, after the model is built (or loaded for a resume) and before the first batch."""

    run_dir: str = ""
    initial_epoch: int = 0
    device: str = ""
    parameters: int = 0


@dataclass(frozen=True)
class RunNote(TrainingEvent):
    """A change the trainer made so the run fits (e.g. a smaller batch for the memory available); ``message`` says it."""


@dataclass(frozen=True)
class EpochStarted(TrainingEvent):
    learning_rate: float = 0.0


@dataclass(frozen=True)
class BatchStarted(TrainingEvent):
    pass


@dataclass(frozen=True)
class BatchEnded(TrainingEvent):
    """``loss`` and ``metrics`` are running means over the epoch so far (as Keras reports them)."""

    loss: float = float("nan")
    metrics: dict[str, float] = field(default_factory=dict)
    learning_rate: float = 0.0
    samples_per_s: float = 0.0
    eta_s: float | None = None


@dataclass(frozen=True)
class EpochEnded(TrainingEvent):
    """``metrics`` holds every Keras log of the epoch (``loss``, ``val_loss``, ``mse``, ...).

    ``checkpoint`` is the path written this epoch; ``is_best`` says whether it became the best model.
    """

    loss: float = float("nan")
    val_loss: float | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    learning_rate: float = 0.0
    samples_per_s: float = 0.0
    eta_s: float | None = None
    checkpoint: str = ""
    is_best: bool = False


@dataclass(frozen=True)
class RunEnded(TrainingEvent):
    """Sent once at the end: ``status`` is ``completed``, ``stopped_early``, ``cancelled`` or ``failed``."""

    status: str = "completed"
    epochs_completed: int = 0
    best_epoch: int | None = None
    best_value: float | None = None
    monitor: str = "val_loss"
    model_path: str = ""
    error: str = ""
