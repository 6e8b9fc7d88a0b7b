"""Model specs: small frozen dataclasses that say which network to build, one class per family.

Specs never import Keras, so the CLI and the GUI can list presets and validate options quickly.
Shapes: a model's input is ``(frames, height, width, channels)`` per clip (Keras adds the batch axis);
frames are float32 in [0, 1], or raw uint8 frames when ``input_dtype == "uint8"``.

Every spec has a ``task`` (``predict``, ``anomaly``, ``classify``, ``regress``), the ``preset`` it
came from, the input size, the learning rate and ``outputs`` (classes for ``classify``, values for
``regress``; ignored otherwise). ``to_dict`` / :func:`spec_from_dict` round-trip a spec through JSON
(run records store it that way).
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass, field
from typing import Any, ClassVar

from core.models.errors import SpecError
from core.tasks import TASKS

#: The largest clip length, frame size, channel and output count a spec takes: beyond them lies a typo or a
#: damaged run record (``frames: 1e308``), never a model that can be built.
SIZE_LIMITS = {"frames": 10_000, "height": 16_384, "width": 16_384, "channels": 4, "outputs": 100_000}


def check_learning_rate(value: float) -> None:
    """The one rule for a learning rate (a spec's, a training request's, a resume's): a finite number > 0;
    :class:`SpecError` otherwise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not (math.isfinite(value) and value > 0):
        raise SpecError(f"learning rate must be a positive number, not {value}")


@dataclass(frozen=True)
class ModelSpec:
    """Fields shared by every family."""

    family: ClassVar[str] = ""
    task: str = "predict"
    preset: str = "custom"
    frames: int = 10
    height: int = 64
    width: int = 64
    channels: int = 1
    outputs: int = 1
    learning_rate: float = 1e-3
    #: ``"float32"``: clips in [0, 1]; ``"uint8"``: raw frames, scaled by the model's first layer (and,
    #: for frame tasks, ``uint8`` target frames scaled by the loss). See :mod:`core.models.frame_input`.
    input_dtype: str = "float32"

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise SpecError(f"task must be one of {', '.join(TASKS)}, not {self.task!r}")
        if self.input_dtype not in ("float32", "uint8"):
            raise SpecError(f"input_dtype must be 'float32' or 'uint8', not {self.input_dtype!r}")
        for name, high in SIZE_LIMITS.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not 1 <= value <= high:
                raise SpecError(f"{name} must be a whole number from 1 to {high}, not {value!r}")
        check_learning_rate(self.learning_rate)

    @property
    def input_shape(self) -> tuple[int, int, int, int]:
        """``(frames, height, width, channels)`` of one input clip."""
        return (self.frames, self.height, self.width, self.channels)

    @property
    def size_multiple(self) -> int:
        """What the frame height and width must be divisible by (the model's downsampling; 1: any size)."""
        return 1

    def replace(self, **changes: Any) -> ModelSpec:
        """A copy with ``changes``; unknown names raise ``ValueError`` listing the known ones."""
        known = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise SpecError(f"{type(self).__name__} has no option {', '.join(unknown)}; options: {', '.join(sorted(known))}")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["family"] = self.family
        return data


@dataclass(frozen=True)
class NextFrameSpec(ModelSpec):
    """ConvLSTM next-frame predictor: input frames ``t`` -> predicted frames ``t + 1`` (same shape).

    ``filters`` / ``kernels`` give one ConvLSTM2D layer each. ``downsample`` > 1 first encodes every
    frame with a strided Conv2D of ``encoder_filters`` (so the recurrent layers run at
    1/``downsample`` resolution) and decodes with a Conv2DTranspose. ``head`` is ``"conv3d"`` (the
    reference's 3x3x3 Conv3D, which lets output ``t`` see step ``t + 1``) or ``"causal"`` (a per-frame
    Conv2D: output ``t`` sees only inputs up to ``t``). ``predict_delta`` predicts the change from the
    current frame, as logits added to the current frame's (see :class:`core.models.layers.ResidualLogits`).
    """

    family: ClassVar[str] = "next_frame"
    filters: tuple[int, ...] = (64, 64, 64)
    kernels: tuple[int, ...] = (5, 3, 1)
    activation: str = "relu"
    batch_norm: bool = True
    downsample: int = 1
    encoder_filters: int = 32
    head: str = "conv3d"
    head_kernel: int = 3
    predict_delta: bool = False
    loss: str = "binary_crossentropy"

    def __post_init__(self) -> None:
        super().__post_init__()
        if len(self.filters) != len(self.kernels) or not self.filters:
            raise SpecError("filters and kernels need one entry per ConvLSTM2D layer")
        if self.head not in ("conv3d", "causal"):
            raise SpecError(f"head must be 'conv3d' or 'causal', not {self.head!r}")
        if self.downsample < 1 or self.height % self.downsample or self.width % self.downsample:
            raise SpecError(f"frame size {self.height}x{self.width} must be divisible by downsample={self.downsample}")

    @property
    def size_multiple(self) -> int:
        return max(1, self.downsample)


@dataclass(frozen=True)
class AutoencoderSpec(ModelSpec):
    """Spatiotemporal autoencoder for anomaly detection by reconstruction (input == target).

    ``encoder`` lists ``(filters, kernel, stride)`` per-frame Conv2D layers, mirrored by
    Conv2DTranspose layers in the decoder; ``recurrent`` the ConvLSTM2D filters in the bottleneck;
    ``final_kernel`` the last Conv2D (sigmoid, one output per input channel). Padding is ``valid``
    where that reconstructs the input size exactly (227x227 with the published layers) and ``same``
    otherwise (then the size must be divisible by the product of the strides).
    """

    family: ClassVar[str] = "autoencoder"
    task: str = "anomaly"
    encoder: tuple[tuple[int, int, int], ...] = ((128, 11, 4), (64, 5, 2))
    recurrent: tuple[int, ...] = (64, 32, 64)
    recurrent_kernel: int = 3
    layer_norm: bool = True
    #: activation of the encoder and decoder convolutions: ``None`` (linear, layer norm does the work,
    #: as in the layer-normalised Keras reference) or a Keras activation name such as ``"tanh"``
    conv_activation: str | None = "tanh"
    final_kernel: int = 11
    loss: str = "mse"
    #: Adam's epsilon (the published model trains with 1e-6; Keras's default is 1e-7)
    adam_epsilon: float = 1e-7

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.encoder or not self.recurrent:
            raise SpecError("an autoencoder needs at least one encoder layer and one ConvLSTM2D layer")
        object.__setattr__(self, "encoder", tuple(tuple(int(v) for v in layer) for layer in self.encoder))

    @property
    def size_multiple(self) -> int:
        """The product of the encoder's strides (sizes that round-trip through "valid" padding, 227 with the
        published layers, are the exception; :func:`core.models.autoencoder.padding_for`)."""
        return math.prod(stride for _, _, stride in self.encoder)


#: How a :class:`UNetPredictorSpec` mixes time.
TEMPORAL_LAYOUTS = ("convlstm", "conv3d", "stack")


@dataclass(frozen=True)
class UNetPredictorSpec(ModelSpec):
    """Future-frame U-Net: input frames ``t`` -> predicted frames ``t + 1`` (same shape), causal.

    Every frame goes through the same 2D encoder (``filters[i]`` per level, ``convs_per_level`` 3x3
    convolutions each, 2x2 max pooling between levels), so the encoder sees one frame at a time. Time is
    mixed only at the bottleneck (1 / 2**(levels - 1) resolution) by ``temporal``: ``"convlstm"`` (a
    ConvLSTM2D of ``temporal_filters``, carrying every past frame) or ``"conv3d"`` (a Conv3D over the
    current and ``temporal_window - 1`` previous frames, padded at the start so output ``t`` sees only
    inputs up to ``t``). The decoder upsamples with skip connections from the current frame's encoder
    features and predicts the change from the current frame as logits
    (:class:`core.models.layers.LogitResidual`: zero change is exactly the current frame).

    ``temporal="stack"`` is the other layout, the future-frame predictor of Liu et al. (2018): the last
    ``temporal_window`` input frames are stacked as channels (:class:`core.models.layers.StackFrames`)
    into one 2D U-Net, so motion is seen at full resolution from the first convolution, and the model
    predicts **one** frame, the one after its last input: its output is ``(1, height, width, channels)``
    and it is trained against the last target frame only (:mod:`core.models.frame_input` aligns the
    targets). It runs the U-Net once per predicted frame, where the other layouts run it once per input
    frame.
    """

    family: ClassVar[str] = "unet_predictor"
    filters: tuple[int, ...] = (16, 32, 64)
    convs_per_level: int = 2
    temporal: str = "convlstm"
    temporal_filters: int = 96
    temporal_kernel: int = 3
    temporal_window: int = 4
    loss: str = "binary_crossentropy"

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.filters:
            raise SpecError("filters needs one entry per U-Net level")
        if self.temporal not in TEMPORAL_LAYOUTS:
            raise SpecError(f"temporal must be one of {', '.join(map(repr, TEMPORAL_LAYOUTS))}, not {self.temporal!r}")
        if self.convs_per_level < 1 or self.temporal_window < 1 or self.temporal_filters < 1:
            raise SpecError("convs_per_level, temporal_window and temporal_filters must be >= 1")
        factor = 2 ** (len(self.filters) - 1)
        if self.height % factor or self.width % factor:
            raise SpecError(f"frame size {self.height}x{self.width} must be divisible by {factor} "
                            f"({len(self.filters)} U-Net levels)")

    @property
    def size_multiple(self) -> int:
        """2 ** (levels - 1): every level but the first halves the frame."""
        return 2 ** (len(self.filters) - 1)


#: How a :class:`BlockPredictorSpec` turns the given frames into the future ones.
BLOCK_LAYOUTS = ("simvp", "convlstm")


@dataclass(frozen=True)
class BlockPredictorSpec(ModelSpec):
    """Block predictor: the last ``frames`` given frames -> the next ``future`` frames, all in one call.

    Input ``(frames, height, width, channels)``, output ``(future, height, width, channels)``: output ``k``
    is the frame ``k + 1`` steps after the last input. Trained on clips of ``frames + future`` frames
    (the first ``frames`` in, the rest as targets); rolled out by repeated blocks
    (:func:`core.inference.rollout.rollout`).

    ``layout="simvp"`` (SimVP, Gao et al. 2022, with the gated spatial attention of SimVP v2): a strided
    Conv2D encoder per frame down to 1/``patch`` resolution (``encoder_filters``, GroupNorm, SiLU), a
    translator over the given frames stacked as channels (``translator_blocks`` gated-attention blocks
    of ``translator_filters``) that writes ``future`` frames of features at once, and a Conv2DTranspose
    decoder with a skip from the encoder's full-resolution level of the last given frame; sigmoid output.
    ``space_to_depth=2`` replaces the outermost strided level both ways by 2x2 blocks stacked as channels
    (PredRNN's patch trick): the frames enter as ``(H/2, W/2, 4C)``, the first encoder convolution keeps that
    size (it is the skip), and the decoder's last level writes the ``4C`` channels that go back to full-size
    frames, so no layer runs at full resolution.

    ``layout="convlstm"`` (the ConvLSTM family with PredRNN's patch trick): every frame is cut into
    ``patch`` x ``patch`` blocks stacked as channels (space-to-depth), a stack of ConvLSTM cells of
    ``recurrent`` filters (kernel ``recurrent_kernel``) reads the given frames and then, for the future
    ones, its own previous prediction (trained on its own predictions, as it is rolled out), and each
    step's patches go back to a frame (depth-to-space).
    """

    family: ClassVar[str] = "block_predictor"
    layout: str = "simvp"
    future: int = 10
    patch: int = 4
    encoder_filters: int = 64
    translator_filters: int = 128
    translator_blocks: int = 4
    space_to_depth: int = 1
    recurrent: tuple[int, ...] = (64, 64)
    recurrent_kernel: int = 3
    loss: str = "mse"
    #: ``"budget-cosine"``: with a time budget (``--max-minutes``) the learning rate warms up and then
    #: follows a cosine to 2% of it at the end of the budget (:class:`core.training.callbacks.TimeBudget`);
    #: ``"constant"``: Adam at ``learning_rate`` (reduced on a plateau, as every preset)
    lr_schedule: str = "budget-cosine"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.lr_schedule not in ("budget-cosine", "constant"):
            raise SpecError(f"lr_schedule must be 'budget-cosine' or 'constant', not {self.lr_schedule!r}")
        if self.layout not in BLOCK_LAYOUTS:
            raise SpecError(f"layout must be one of {', '.join(map(repr, BLOCK_LAYOUTS))}, not {self.layout!r}")
        for name in ("future", "patch", "encoder_filters", "translator_filters", "translator_blocks",
                     "recurrent_kernel"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not 1 <= value <= 4096:
                raise SpecError(f"{name} must be a whole number from 1 to 4096, not {value!r}")
        if self.layout == "simvp" and self.patch not in (2, 4, 8):
            raise SpecError(f"the simvp layout downsamples by strides of 2: patch must be 2, 4 or 8, not {self.patch}")
        if self.space_to_depth not in (1, 2) or isinstance(self.space_to_depth, bool):
            raise SpecError(f"space_to_depth must be 1 (off) or 2, not {self.space_to_depth!r}")
        if self.space_to_depth == 2 and (self.layout != "simvp" or self.patch < 4):
            raise SpecError("space_to_depth=2 needs the simvp layout with patch 4 or 8 (a level it replaces "
                            "and one left for the skip)")
        if not self.recurrent or any(f < 1 for f in self.recurrent):
            raise SpecError("recurrent needs one filter count >= 1 per ConvLSTM layer")
        if self.height % self.patch or self.width % self.patch:
            raise SpecError(f"frame size {self.height}x{self.width} must be divisible by patch={self.patch}")

    @property
    def size_multiple(self) -> int:
        return self.patch


BACKBONES = ("scratch", "inception_v3", "mobilenet_v2", "efficientnet_b0", "xception")


@dataclass(frozen=True)
class LRCNSpec(ModelSpec):
    """LRCN: a per-frame CNN (TimeDistributed) -> LSTM -> softmax (``classify``) or linear (``regress``) head.

    ``backbone`` is ``"scratch"`` (conv-BN-pool blocks of ``cnn_filters``) or a Keras application
    (see ``BACKBONES``) with ``weights`` ``None``, ``"imagenet"`` or the path of a local weights
    file. ``freeze_backbone`` keeps the per-frame CNN (backbone or scratch) fixed; with ``cache_features`` as well the trainer
    computes per-frame features once (cached on disk) and trains only the LSTM head on them.
    ``frame_differences``: the per-frame CNN sees the ``frames - 1`` absolute differences between consecutive
    frames (computed inside the model, :class:`~core.models.layers.FrameDifferences`), not the frames: what
    moved and how far rather than what the scene looks like. ``pooling``: how the scratch CNN's last feature
    maps become a frame's features: ``"avg"`` (global average) or ``"max"`` (global max: the strongest
    response anywhere, e.g. one fast-moving object in a crowd).
    """

    family: ClassVar[str] = "lrcn"
    task: str = "classify"
    backbone: str = "scratch"
    weights: str | None = None
    cnn_filters: tuple[int, ...] = (16, 32, 64)
    lstm_units: tuple[int, ...] = (64,)
    dense_units: int = 0
    dropout: float = 0.2
    freeze_backbone: bool = False
    cache_features: bool = False
    frame_differences: bool = False
    pooling: str = "avg"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.pooling not in ("avg", "max"):
            raise SpecError(f"pooling must be 'avg' or 'max', not {self.pooling!r}")
        if self.pooling != "avg" and self.backbone != "scratch":
            raise SpecError("pooling applies to the scratch CNN (a backbone pools as it was trained)")
        if self.frame_differences and self.frames < 2:
            raise SpecError("frame_differences needs clips of at least 2 frames")
        if self.frame_differences and self.cache_features:
            raise SpecError("frame_differences cannot use cached per-frame features (they are of frames)")
        if self.backbone not in BACKBONES:
            raise SpecError(f"backbone must be one of {', '.join(BACKBONES)}, not {self.backbone!r}")
        if self.cache_features and not self.freeze_backbone:
            raise SpecError("cache_features needs freeze_backbone (features of a trained backbone change)")
        if not self.lstm_units:
            raise SpecError("lstm_units needs at least one LSTM layer")


@dataclass(frozen=True)
class Conv3DSpec(ModelSpec):
    """Conv3D family.

    For ``classify`` / ``regress``: Conv3D blocks of ``filters`` (kernel ``kernel``, spatial 2x2
    pooling, plus 2x temporal pooling from block ``temporal_pool_from``), global pooling, head.
    With ``stacked``: a per-frame CNN of ``filters`` (TimeDistributed Conv2D blocks) -> one Conv3D ->
    LSTM(``lstm_units``) -> head. For ``predict``: causal Conv3D layers at full resolution (output
    ``t`` sees only inputs up to ``t``) -> a sigmoid Conv3D giving the next frame.
    """

    family: ClassVar[str] = "conv3d"
    task: str = "classify"
    filters: tuple[int, ...] = (16, 32, 64)
    kernel: int = 3
    temporal_pool_from: int = 1
    stacked: bool = False
    lstm_units: int = 64
    dropout: float = 0.2
    loss: str = ""

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.filters:
            raise SpecError("filters needs at least one layer")


@dataclass(frozen=True)
class MotionSpec(ModelSpec):
    """The motion scorer (:mod:`core.motion.model`): no network; per-cell statistics of dense optical flow,
    fitted on normal footage in one pass and scored by how unlikely each frame's motion is.

    ``height`` x ``width`` is the working size the flow is computed at (training sets it to ``scale`` of the
    first normal video's size); ``frames`` is 2 (the flow needs the frame before). ``cell`` (pixels at the
    working size), ``moving_speed`` (pixels per frame), ``flow_preset`` (OpenCV DIS: ultrafast, fast, medium)
    shape the flow features (:class:`core.motion.flow.FlowGrid`); ``directions``, ``min_moving``,
    ``neighbour_weight``, ``bin_weight``, ``prior_weight``, ``speed_floor``, ``direction_weight`` and ``top``
    the statistics and the frame score (:class:`core.motion.model.MotionSettings`).
    """

    family: ClassVar[str] = "motion"
    task: str = "anomaly"
    frames: int = 2
    height: int = 120
    width: int = 180
    scale: float = 0.5
    cell: int = 12
    moving_speed: float = 0.2
    flow_preset: str = "medium"
    directions: int = 8
    min_moving: float = 0.5
    neighbour_weight: float = 0.25
    bin_weight: float = 0.25
    prior_weight: float = 1.0
    speed_floor: float = 0.05
    direction_weight: float = 1.0
    top: int = 3

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.channels != 1:
            raise SpecError("the motion scorer reads gray frames: channels must be 1")
        try:
            self.grid()
            self.settings()
        except ValueError as exc:
            raise SpecError(f"motion preset: {exc}") from None
        if not 0 < self.scale <= 1:
            raise SpecError(f"motion preset: scale must be in (0, 1], not {self.scale!r}")

    def grid(self):
        """The :class:`~core.motion.flow.FlowGrid` of this spec's working size."""
        from core.motion.flow import FlowGrid

        return FlowGrid(self.height, self.width, self.cell, float(self.moving_speed), self.flow_preset)

    def settings(self):
        """The :class:`~core.motion.model.MotionSettings` of this spec."""
        from core.motion.model import MotionSettings

        return MotionSettings(directions=self.directions, min_moving=self.min_moving,
                              neighbour_weight=self.neighbour_weight, bin_weight=self.bin_weight,
                              prior_weight=self.prior_weight, speed_floor=self.speed_floor,
                              direction_weight=self.direction_weight, top=self.top)


FAMILIES: dict[str, type[ModelSpec]] = {
    cls.family: cls
    for cls in (NextFrameSpec, AutoencoderSpec, LRCNSpec, Conv3DSpec, UNetPredictorSpec, BlockPredictorSpec,
                MotionSpec)
}


def _tupled(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_tupled(v) for v in value)
    return value


def spec_from_dict(data: dict[str, Any]) -> ModelSpec:
    """Inverse of :meth:`ModelSpec.to_dict` (lists from JSON become tuples)."""
    data = dict(data)
    family = data.pop("family", None)
    if family not in FAMILIES:
        raise SpecError(f"unknown model family {family!r}; known: {', '.join(FAMILIES)}")
    cls = FAMILIES[family]
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: _tupled(v) for k, v in data.items() if k in names})


@dataclass(frozen=True)
class Preset:
    """A named starting point: ``spec`` plus a one-line description for menus and ``--help``. ``signal``: what
    the model is made to see of each frame unless told otherwise (:data:`core.preprocessing.spec.SIGNALS`:
    ``frames``, or ``speed`` for a classifier of optical-flow speed maps)."""

    name: str
    spec: ModelSpec
    description: str
    reference: bool = False
    tags: tuple[str, ...] = field(default_factory=tuple)
    signal: str = "frames"
