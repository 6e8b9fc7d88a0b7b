"""Presets per task and the dispatch from a spec to its family's builder.

``presets(task)`` lists the named presets of a task (``predict``, ``anomaly``, ``classify``,
``regress``); ``make_spec(task, name, **options)`` gives a spec with the data's input size and any
hyperparameter overrides; ``build_model(spec)`` builds the compiled Keras model (importing Keras and
the family module only then).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from core.models.errors import SpecError
from core.models.specs import (
    AutoencoderSpec,
    BlockPredictorSpec,
    Conv3DSpec,
    LRCNSpec,
    ModelSpec,
    MotionSpec,
    NextFrameSpec,
    Preset,
    UNetPredictorSpec,
)
from core.tasks import TASKS

if TYPE_CHECKING:  # pragma: no cover
    import keras

#: The preset each task trains when none is named. Anomaly detection's default is a next-frame predictor
#: (its spec's task is ``predict``: frames are scored by how badly they were predicted), because on
#: UCSD Ped2 prediction beats reconstruction by far (docs/models.md).
#: Next-frame prediction's default is ``simvp``, not the preset named ``default`` (a ConvLSTM kept under its
#: name so that runs and scripts naming it keep their meaning): at an equal 20-minute CPU budget on Moving
#: MNIST ``simvp`` predicted far better (docs/models.md, "Moving MNIST quality").
DEFAULT_PRESET = {**dict.fromkeys(TASKS, "default"), "anomaly": "future-frame", "predict": "simvp"}

#: The future-frame predictor: the last 4 gray frames stacked into one 2D U-Net, the next frame out.
FUTURE_FRAME = UNetPredictorSpec(preset="future-frame", frames=4, height=64, width=96, temporal="stack",
                                 filters=(32, 64, 128), loss="mse")
_FUTURE_FRAME_TEXT = ("future-frame predictor for anomaly scoring (Liu et al. 2018 style): the last 4 gray "
                      "frames of 64x96 stacked as channels -> 2D U-Net (32, 64, 128) -> the change from the "
                      "last frame; MSE; scored by prediction error")

_BUILDERS = {
    "next_frame": "core.models.next_frame",
    "autoencoder": "core.models.autoencoder",
    "lrcn": "core.models.lrcn",
    "conv3d": "core.models.conv3d",
    "unet_predictor": "core.models.unet_predictor",
    "block_predictor": "core.models.block_predictor",
}


def _head_presets(task: str) -> list[Preset]:
    return [
        Preset("default", LRCNSpec(task=task, preset="default"),
               "LRCN: from-scratch conv-BN-pool CNN per frame -> LSTM(64) -> head"),
        Preset("lrcn-mobilenetv2",
               LRCNSpec(task=task, preset="lrcn-mobilenetv2", backbone="mobilenet_v2", weights="imagenet",
                        height=224, width=224, channels=3, freeze_backbone=True, cache_features=True,
                        lstm_units=(128,), dense_units=64),
               "LRCN on a frozen MobileNetV2 (ImageNet), features cached, only the LSTM head trains"),
        Preset("lrcn-inceptionv3",
               LRCNSpec(task=task, preset="lrcn-inceptionv3", backbone="inception_v3", weights="imagenet",
                        height=299, width=299, channels=3, freeze_backbone=True, cache_features=True,
                        lstm_units=(256,), dense_units=128),
               "the classic: frozen InceptionV3 (ImageNet) features -> LSTM -> head", reference=True),
        Preset("conv3d", Conv3DSpec(task=task, preset="conv3d"), "Conv3D blocks -> global pooling -> head"),
        Preset("conv3d-lstm", Conv3DSpec(task=task, preset="conv3d-lstm", stacked=True),
               "per-frame CNN -> Conv3D -> LSTM -> head"),
        # Small on purpose: a classifier of speed maps should learn how fast, not what shape; on UCSD Ped2 this
        # beat frame difference and the largest speed in view where the default LRCN did not (docs/models.md)
        Preset("speed",
               LRCNSpec(task=task, preset="speed", frames=8, height=24, width=36, cnn_filters=(8,),
                        lstm_units=(16,), pooling="max"),
               "LRCN of optical-flow speed maps (trains on them unless --input frames): one conv block of 8 -> "
               "global max pooling -> LSTM(16) -> head; 8 maps of 24x36", signal="speed"),
    ]


def _all_presets() -> dict[str, list[Preset]]:
    return {
        "predict": [
            Preset("keras-example", NextFrameSpec(preset="keras-example", frames=19),
                   "the Keras ConvLSTM example: 3 ConvLSTM2D(64) + BatchNorm -> Conv3D(3x3x3) sigmoid, BCE, Adam",
                   reference=True),
            Preset("default",
                   NextFrameSpec(preset="default", frames=19, filters=(32, 32), kernels=(3, 3), downsample=2,
                                 encoder_filters=32, head="causal", predict_delta=True),
                   "encode to 1/2 resolution -> 2 ConvLSTM2D(32) -> decode; predicts the change from the "
                   "current frame; causal head"),
            Preset("conv3d", Conv3DSpec(task="predict", preset="conv3d", filters=(32, 32, 32)),
                   "causal Conv3D stack at full resolution -> sigmoid Conv3D"),
            Preset("unet",
                   UNetPredictorSpec(preset="unet", frames=4, height=64, width=96),
                   "future-frame U-Net for anomaly scoring: per-frame encoder (16, 32, 64) -> ConvLSTM2D(96) at "
                   "1/4 resolution -> decoder with skips; predicts the change from the current frame"),
            Preset("unet-conv3d",
                   UNetPredictorSpec(preset="unet-conv3d", frames=4, height=64, width=96, temporal="conv3d"),
                   "the unet preset with a causal Conv3D over the last 4 frames instead of the ConvLSTM2D"),
            Preset("future-frame", FUTURE_FRAME, _FUTURE_FRAME_TEXT),
            # widths and rate from step-counted trials on a 2-core CPU (docs/models.md, "Tuning simvp"): at an
            # equal CPU budget the half-width encoder and translator, with twice the steps, predicted better
            Preset("simvp", BlockPredictorSpec(preset="simvp", encoder_filters=16, translator_filters=64,
                                               translator_blocks=6, space_to_depth=2, learning_rate=3e-3),
                   "SimVP: frames as 2x2 blocks (space-to-depth), a per-frame conv encoder (8, 16; GroupNorm, "
                   "SiLU) to 1/4 size -> 6 gated-attention blocks of 64 over the 10 given frames stacked as "
                   "channels -> decoder with a skip, back to full frames; all 10 future frames in one call; MSE, "
                   "Adam 3e-3 annealed over the budget"),
            Preset("convlstm-patch", BlockPredictorSpec(preset="convlstm-patch", layout="convlstm"),
                   "ConvLSTM on 4x4 patches (space-to-depth to 16x16x16): 2 ConvLSTM(64) read the 10 given "
                   "frames, then their own predictions for the 10 future ones (trained as rolled out); MSE"),
        ],
        "anomaly": [
            Preset("stae", AutoencoderSpec(preset="stae", height=227, width=227, learning_rate=1e-4,
                                           adam_epsilon=1e-6, conv_activation=None),
                   "spatiotemporal autoencoder (Chong & Tay 2017): Conv 128 11x11/4, 64 5x5/2 -> ConvLSTM "
                   "64, 32, 64 -> mirrored decoder, layer norm, MSE, Adam 1e-4, 10-frame clips",
                   reference=True),
            Preset("conv-ae",
                   AutoencoderSpec(preset="conv-ae", height=128, width=128, encoder=((32, 5, 2), (32, 3, 2)),
                                   recurrent=(32, 16, 32), final_kernel=3, learning_rate=1e-3),
                   "the same layout with 32/16 filters, 5x5/2 and 3x3/2 encoder, 3x3 output: about 5x fewer FLOPs than stae"),
            Preset("future-frame", FUTURE_FRAME, _FUTURE_FRAME_TEXT + " (a predict-task model)"),
            Preset("motion", MotionSpec(preset="motion"),
                   "motion scorer, no network: dense optical flow (OpenCV DIS) at half size; per 12-pixel cell the "
                   "normal speed (mean, spread) and directions, fitted on the normal footage in one pass "
                   "(seconds); scored by how unlikely each frame's motion is, with a heat map of where"),
        ],
        "classify": _head_presets("classify"),
        "regress": _head_presets("regress"),
    }


def presets(task: str) -> dict[str, Preset]:
    """Named presets of ``task``, in menu order."""
    if task not in TASKS:
        raise SpecError(f"task must be one of {', '.join(TASKS)}, not {task!r}")
    return {p.name: p for p in _all_presets()[task]}


def get_preset(task: str, name: str | None = None) -> ModelSpec:
    """The spec of preset ``name`` (the task's default when ``None``)."""
    table = presets(task)
    name = name or DEFAULT_PRESET[task]
    if name not in table:
        raise SpecError(f"no preset {name!r} for task {task!r}; presets: {', '.join(table)}")
    return table[name].spec


#: The spec field that "filters per layer" sets in each family (the CLI's --filters, the GUI's Filters box).
_FILTERS_FIELD = {"lrcn": "cnn_filters", "autoencoder": "recurrent", "block_predictor": "recurrent"}


def filters_field(task: str, preset: str | None = None) -> str:
    """The spec field that holds the filters per layer of ``preset``: ``cnn_filters`` (LRCN's CNN),
    ``recurrent`` (the autoencoder's ConvLSTM layers) or ``filters`` (ConvLSTM and Conv3D layers)."""
    return _FILTERS_FIELD.get(get_preset(task, preset).family, "filters")


def make_spec(task: str, preset: str | None = None, **options: Any) -> ModelSpec:
    """Preset ``preset`` of ``task`` with ``options`` (input size, outputs, hyperparameters) applied.

    Options whose value is ``None`` are ignored, so CLI arguments can be passed straight through.
    """
    spec = get_preset(task, preset)
    changes = {k: v for k, v in options.items() if v is not None}
    return spec.replace(**changes) if changes else spec


def build_model(spec: ModelSpec, compile: bool = True) -> keras.Model:
    """Build (and by default compile) the Keras model of ``spec``; :class:`SpecError` for the motion scorer,
    which has no network (it is fitted, :mod:`core.training.motion_run`)."""
    if spec.family not in _BUILDERS:
        raise SpecError(f"the {spec.preset!r} preset ({spec.family}) has no network to build: it is fitted on "
                        "normal footage by framewatch train, not built")
    module = importlib.import_module(_BUILDERS[spec.family])
    model = module.build(spec)
    if spec.input_dtype == "uint8":
        from core.models.frame_input import raw_frames_model

        model = raw_frames_model(model, spec.input_shape)
    if compile:
        from core.models.compile import compile_model

        compile_model(model, spec)
    return model
