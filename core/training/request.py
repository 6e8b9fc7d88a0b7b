"""What a user asks of the trainer: :class:`TrainingRequest` (a new run) and :class:`ResumeRequest`.

``framewatch train`` builds a request from its arguments and the app's training panel from its form;
both hand it to :func:`core.training.from_project.train_project` (or, for a run on a generated dataset,
:func:`core.cli.train_dataset.train_on_dataset`). A request checks itself when it is made: a value out of
range raises :class:`~core.training.errors.ConfigError` with one line naming the setting, the range it
must be in and the value given, so the same bad value reads the same in the terminal and in the app,
and nothing has started when it does.

The checks are not repeated here: a request is valid when the three records it becomes can be made,
the model spec (:func:`core.models.registry.make_spec`: task, preset, learning rate, model options),
the :class:`~core.training.options.DataOptions` (frame size, clip length, stride, validation share)
and the :class:`~core.training.options.TrainingConfig` (epochs, batch size, patience, time budget,
device, ...), each of which owns the rules of its fields. This module imports no Keras: the CLI checks
a request before TensorFlow loads, the app on the GUI thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.data.splits import DEFAULT_VAL_FRACTION
from core.models.errors import SpecError
from core.models.registry import filters_field, make_spec, presets
from core.models.specs import ModelSpec, check_learning_rate
from core.tasks import TASKS, tasks_text
from core.training.errors import ConfigError
from core.training.frame_size import check_scale
from core.training.options import DataOptions, TrainingConfig

#: Epochs of a new run when none are asked for.
DEFAULT_EPOCHS = 10
#: The tasks that may learn from a signal other than the frames (``signal``): their result is per window, not
#: a frame shown beside the real one.
SIGNAL_TASKS = ("classify", "regress")
#: Spec fields :func:`spec_option` does not set: the task and preset are chosen by name, and the input size by
#: the data options (``--size``, ``--frames``, ``--gray``), which fit it to the videos.
OWNED_FIELDS = {"task": "--task", "preset": "--preset", "frames": "--frames", "height": "--size",
                "width": "--size", "channels": "--gray / --rgb", "learning_rate": "--lr"}
_TRUE, _FALSE = ("true", "yes", "on", "1"), ("false", "no", "off", "0")


def spec_option(task: str, preset: str | None, text: str) -> tuple[str, Any]:
    """``FIELD=VALUE`` (``framewatch train --set``) read against the preset's spec: ``(field, value)`` with the
    value of the field's type (a whole number, a number, true/false, text, or a comma list of numbers).
    :class:`ConfigError` (one line) for a malformed option, a field the preset's spec lacks or one another
    option owns (:data:`OWNED_FIELDS`), or a value of the wrong type; its range is the spec's to check."""
    name, sep, raw = text.partition("=")
    name, raw = name.strip(), raw.strip()
    if not sep or not name or not raw:
        raise ConfigError(f"--set {text!r}: expected FIELD=VALUE, e.g. translator_blocks=8")
    try:
        spec = make_spec(task, preset)
    except SpecError as exc:
        raise ConfigError(str(exc)) from None
    if name in OWNED_FIELDS:
        raise ConfigError(f"--set {name}: set it with {OWNED_FIELDS[name]}")
    fields = spec.to_dict()
    fields.pop("family", None)
    if name not in fields:
        settable = ", ".join(sorted(set(fields) - set(OWNED_FIELDS)))
        raise ConfigError(f"--set {name}: the {spec.preset} preset has no option {name}; options: {settable}")
    current = fields[name]
    try:
        if isinstance(current, bool):
            if raw.lower() not in _TRUE + _FALSE:
                raise ValueError
            value: Any = raw.lower() in _TRUE
        elif isinstance(current, int):
            value = int(raw)
        elif isinstance(current, float):
            value = float(raw)
        elif isinstance(current, (tuple, list)):
            kind = float if any(isinstance(v, float) for v in current) else int
            value = tuple(kind(v) for v in raw.split(",") if v.strip())
        elif current is None:  # an optional field: a number if it reads as one, else text
            value = next((kind(raw) for kind in (int, float) if _reads_as(kind, raw)), raw)
        else:
            value = raw
    except ValueError:
        kind_text = ("true or false" if isinstance(current, bool) else
                     f"a whole number like {current}" if isinstance(current, int) else
                     f"a number like {current}" if isinstance(current, float) else
                     f"a comma list like {','.join(map(str, current))}")
        raise ConfigError(f"--set {name}={raw}: expected {kind_text}") from None
    return name, value


def _reads_as(kind: type, raw: str) -> bool:
    try:
        kind(raw)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class TrainingRequest:
    """A new training run. ``None`` means "the preset's" (``preset``: the task's default; ``steps_per_epoch``:
    the whole training set; ``run_name``: date-time-task-preset).

    Model: ``learning_rate``, ``filters`` (per layer), ``backbone`` / ``weights`` (LRCN), ``outputs`` (regress),
    ``frame_differences`` (LRCN: the per-frame CNN sees the differences between consecutive frames).
    Data (:class:`DataOptions`): ``height`` / ``width`` in pixels (``None``: for a frame model, the training
    videos' aspect ratio at about the preset's pixel count, :mod:`core.training.frame_size`), ``scale`` (both
    sides times it, e.g. 1.5; ``None``: 1), ``grayscale``, ``frames`` per input clip,
    ``stride`` and ``frame_steps`` in frames, ``val_fraction``, ``target`` (regress), ``videos`` (ids; all),
    ``signal`` (``frames``, or ``speed``: each frame's optical-flow speed map; classify and regress runs; ``None``:
    the preset's, :attr:`~core.models.specs.Preset.signal`).
    Fitting (:class:`TrainingConfig`): ``epochs``, ``batch_size`` (clips per step), ``steps_per_epoch``,
    ``patience`` / ``lr_patience`` (epochs; 0: off), ``lr_factor``, ``max_minutes`` (minutes of training
    per invocation), ``max_steps`` (steps of training per invocation), ``seed``, ``deterministic``; ``error_level``: an anomaly run of a next-frame preset
    fits its error level after training; ``motion``: such a run also fits motion statistics on the footage it
    trained on (``framewatch fit-motion``), for the ``motion`` and ``fused`` scorers. Device: ``device`` (auto, cpu, gpu, gpu:N), ``cpu_threads``,
    ``reserve_cores``, ``mixed_precision``. ``spec_options``: any other field of the preset's spec, as
    ``(field, value)`` pairs (``framewatch train --set FIELD=VALUE``, read by :func:`spec_option`), applied last.
    """

    task: str
    preset: str | None = None
    run_name: str | None = None
    learning_rate: float | None = None
    filters: tuple[int, ...] | None = None
    backbone: str | None = None
    weights: str | None = None
    outputs: int | None = None
    frame_differences: bool | None = None
    height: int | None = None
    width: int | None = None
    scale: float | None = None
    grayscale: bool | None = None
    frames: int | None = None
    stride: int | None = None
    frame_steps: tuple[int, ...] | None = None
    val_fraction: float = DEFAULT_VAL_FRACTION
    target: str | None = None
    videos: tuple[str, ...] | None = None
    signal: str | None = None
    epochs: int = DEFAULT_EPOCHS
    batch_size: int = 8
    steps_per_epoch: int | None = None
    patience: int = 5
    lr_patience: int = 2
    lr_factor: float = 0.5
    max_minutes: float | None = None
    max_steps: int | None = None
    seed: int = 0
    deterministic: bool = False
    error_level: bool = True
    motion: bool = True
    device: str = "auto"
    cpu_threads: int | None = None
    reserve_cores: int = 0
    mixed_precision: bool = False
    spec_options: tuple[tuple[str, Any], ...] = ()

    def __post_init__(self) -> None:
        """Raise :class:`ConfigError` (one line) for the first setting out of range."""
        if self.task not in TASKS:
            raise ConfigError(f"task must be one of {tasks_text()}, not {self.task!r}")
        if self.filters is not None and (not self.filters or any(
                isinstance(f, bool) or not isinstance(f, int) or f < 1 for f in self.filters)):
            raise ConfigError(f"filters must be whole numbers >= 1, not {','.join(map(str, self.filters)) or 'none'}")
        check_scale(self.scale)
        self.spec()
        signal = self.input_signal()
        if signal != "frames" and self.task not in SIGNAL_TASKS:
            raise ConfigError(f"an input of {signal} maps is for {' and '.join(SIGNAL_TASKS)} runs; a {self.task} "
                              "run learns from the frames (its scores, rollouts and views are of frames)")
        self.data_options()
        self.config()

    @property
    def preset_name(self) -> str:
        """The preset asked for, or the task's default."""
        return self.spec().preset

    def model_options(self) -> dict[str, Any]:
        """The spec fields this request sets (those left to the preset are absent)."""
        options: dict[str, Any] = {"learning_rate": self.learning_rate, "backbone": self.backbone,
                                   "weights": self.weights}
        if self.filters is not None:
            options[filters_field(self.task, self.preset)] = tuple(self.filters)
        if self.task == "regress":
            options["outputs"] = self.outputs
        if self.frame_differences:
            options["frame_differences"] = True
        options.update(dict(self.spec_options))
        return {key: value for key, value in options.items() if value is not None}

    def input_signal(self) -> str:
        """What the model sees of each frame: ``signal`` if given, else the preset's (``frames`` for most)."""
        return self.signal or presets(self.task)[self.preset_name].signal

    def spec(self) -> ModelSpec:
        """The preset's spec with this request's model options (before the data fit its input size)."""
        try:
            return make_spec(self.task, self.preset, **self.model_options())
        except SpecError as exc:
            raise ConfigError(str(exc)) from None

    def data_options(self) -> DataOptions:
        return DataOptions(height=self.height, width=self.width, grayscale=self.grayscale, frames=self.frames,
                           stride=self.stride, frame_steps=self.frame_steps, val_fraction=self.val_fraction,
                           target=self.target, videos=self.videos, signal=self.input_signal())

    def config(self) -> TrainingConfig:
        return TrainingConfig(epochs=self.epochs, batch_size=self.batch_size, seed=self.seed,
                              deterministic=self.deterministic, patience=self.patience, lr_patience=self.lr_patience,
                              lr_factor=self.lr_factor, steps_per_epoch=self.steps_per_epoch,
                              max_minutes=self.max_minutes, max_steps=self.max_steps,
                              mixed_precision=self.mixed_precision,
                              reserve_cores=self.reserve_cores, cpu_threads=self.cpu_threads, device=self.device)


@dataclass(frozen=True)
class ResumeRequest:
    """Continue the run ``run`` (a run folder, or its name under the project's or ``--runs-dir``'s runs).

    ``epochs`` raises the run's total (``None``: its own); ``learning_rate`` replaces its current rate;
    ``max_minutes`` its time budget for this invocation; ``steps_per_epoch`` replaces its own from the next
    epoch on (``None``: keep it); ``error_level``: a run that had an error level
    fits it again. The device settings are those of :class:`TrainingRequest`. Checked by the same rules.
    """

    run: str | Path
    epochs: int | None = None
    learning_rate: float | None = None
    max_minutes: float | None = None
    steps_per_epoch: int | None = None
    error_level: bool = True
    device: str = "auto"
    cpu_threads: int | None = None
    reserve_cores: int = 0
    mixed_precision: bool = False

    def __post_init__(self) -> None:
        """Raise :class:`ConfigError` (one line) for the first setting out of range."""
        if self.learning_rate is not None:
            try:
                check_learning_rate(self.learning_rate)
            except SpecError as exc:
                raise ConfigError(str(exc)) from None
        given = {"epochs": self.epochs, "max_minutes": self.max_minutes, "steps_per_epoch": self.steps_per_epoch}
        TrainingConfig(**{k: v for k, v in given.items() if v is not None}, device=self.device,
                       cpu_threads=self.cpu_threads, reserve_cores=self.reserve_cores)
