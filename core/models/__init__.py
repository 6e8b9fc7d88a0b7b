"""Pure Keras 3 model builders, one module per family, built from spec dataclasses with named presets.

Importing this package does not import Keras or TensorFlow; :func:`build_model` does. Families:
``next_frame`` (ConvLSTM predictor), ``autoencoder`` (spatiotemporal autoencoder), ``lrcn``
(per-frame CNN -> LSTM) and ``conv3d``. Models use ``keras.layers`` / ``keras.ops`` only, so they run
on the TensorFlow, JAX and PyTorch backends.
"""

from core.models.registry import DEFAULT_PRESET, build_model, get_preset, make_spec, presets
from core.models.specs import (
    AutoencoderSpec,
    BlockPredictorSpec,
    Conv3DSpec,
    LRCNSpec,
    ModelSpec,
    NextFrameSpec,
    Preset,
    UNetPredictorSpec,
    spec_from_dict,
)
from core.tasks import TASKS

__all__ = [
    "DEFAULT_PRESET",
    "TASKS",
    "AutoencoderSpec",
    "BlockPredictorSpec",
    "Conv3DSpec",
    "LRCNSpec",
    "ModelSpec",
    "NextFrameSpec",
    "Preset",
    "UNetPredictorSpec",
    "build_model",
    "get_preset",
    "make_spec",
    "presets",
    "spec_from_dict",
]
