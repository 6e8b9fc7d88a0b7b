"""Count a model's FLOPs per clip analytically from layer shapes (works on every Keras backend).

A FLOP here is one multiply or one add: a multiply-accumulate counts 2. Counted: Conv1D/2D/3D (and
their transposes, depthwise and separable variants), ConvLSTM2D (input and recurrent convolutions of the
four gates), Dense, LSTM and GRU, through TimeDistributed wrappers and nested models (application
backbones). Element-wise work (activations, normalisation, pooling, gate products) is left out; it is
a few percent of the convolutions in these models. Training costs about 3x the forward pass
(forward, gradient w.r.t. activations, gradient w.r.t. weights).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import keras


@dataclass
class FlopCount:
    """Forward FLOPs per clip (batch of one), in total and per layer name."""

    forward: int = 0
    per_layer: dict[str, int] = field(default_factory=dict)

    @property
    def training(self) -> int:
        """Forward + backward, estimated as 3x forward."""
        return 3 * self.forward


def _shape(tensor) -> tuple[int, ...]:
    return tuple(int(d) for d in tensor.shape[1:])  # drop the batch axis


def _kernel_elems(layer) -> int:
    return math.prod(layer.kernel_size)


def _layer_flops(layer, in_shape: tuple[int, ...], out_shape: tuple[int, ...], repeat: int = 1) -> int:
    """Forward FLOPs of ``layer`` for one sample whose per-call input/output shapes (no batch) are given."""
    L = keras.layers
    if isinstance(layer, L.TimeDistributed):
        return _layer_flops(layer.layer, in_shape[1:], out_shape[1:], repeat * in_shape[0])
    if isinstance(layer, keras.Model):
        return repeat * count_flops(layer).forward
    if isinstance(layer, L.ConvLSTM2D):
        frames = in_shape[0]
        cin, cout = in_shape[-1], layer.filters
        spatial = math.prod(out_shape[-3:-1])
        k = _kernel_elems(layer)
        macs = spatial * k * 4 * cout * (cin + cout)
        return repeat * 2 * frames * macs
    if type(layer).__name__ == "PatchConvLSTM":  # core.models.block_predictor: given + future - 1 steps
        steps = layer.given + layer.future - 1
        spatial = math.prod(in_shape[1:3])
        k = layer.kernel * layer.kernel
        width, macs = in_shape[-1], 0
        for f in layer.filters:
            macs += spatial * k * 4 * f * (width + f)
            width = f
        macs += spatial * width * layer.channels  # the 1x1 readout
        return repeat * 2 * steps * macs
    if isinstance(layer, (L.LSTM, L.GRU)):
        gates = 4 if isinstance(layer, L.LSTM) else 3
        frames, features = in_shape[0], in_shape[-1]
        return repeat * 2 * frames * gates * layer.units * (features + layer.units)
    if isinstance(layer, (L.SeparableConv2D, L.SeparableConv1D)):
        cin = in_shape[-1]
        spatial = math.prod(out_shape[:-1])
        depth = spatial * _kernel_elems(layer) * cin * layer.depth_multiplier
        point = spatial * cin * layer.depth_multiplier * out_shape[-1]
        return repeat * 2 * (depth + point)
    if isinstance(layer, (L.DepthwiseConv2D, L.DepthwiseConv1D)):
        return repeat * 2 * math.prod(out_shape) * _kernel_elems(layer)
    if isinstance(layer, (L.Conv2DTranspose, L.Conv3DTranspose, L.Conv1DTranspose)):
        cin = in_shape[-1]
        return repeat * 2 * math.prod(in_shape[:-1]) * _kernel_elems(layer) * cin * layer.filters
    if isinstance(layer, (L.Conv1D, L.Conv2D, L.Conv3D)):
        cin = in_shape[-1] // max(1, getattr(layer, "groups", 1))
        return repeat * 2 * math.prod(out_shape) * _kernel_elems(layer) * cin
    if isinstance(layer, L.Dense):
        return repeat * 2 * math.prod(in_shape) * layer.units
    return 0


def count_flops(model: keras.Model) -> FlopCount:
    """Forward FLOPs per clip of a built functional ``model`` (nested models counted inside)."""
    count = FlopCount()
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        for node_index in range(len(layer._inbound_nodes)):
            node = layer._inbound_nodes[node_index]
            ins = node.input_tensors
            outs = node.output_tensors
            if not ins or not outs:
                continue
            flops = _layer_flops(layer, _shape(ins[0]), _shape(outs[0]))
            if flops:
                count.per_layer[layer.name] = count.per_layer.get(layer.name, 0) + flops
                count.forward += flops
    return count
