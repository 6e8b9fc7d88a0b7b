"""Block predictors: the last ``frames`` given frames -> the next ``future`` frames in one call.

Two layouts (:class:`~core.models.specs.BlockPredictorSpec`):

- ``simvp``: SimVP (Gao et al. 2022) with SimVP v2's gated spatial attention. A Conv2D encoder per frame
  (GroupNorm, SiLU; strided down to 1/``patch`` resolution), a translator over the given frames stacked
  as channels at that resolution (:class:`FramesToChannels`), which writes the features of every future
  frame at once (:class:`ChannelsToFrames`), and a Conv2DTranspose decoder per future frame with a skip
  from the encoder's full-resolution level of the last given frame. Most of the work runs at 16x16.
- ``convlstm``: ConvLSTM with PredRNN's patch trick. Frames go to ``patch`` x ``patch`` blocks stacked as
  channels (:class:`SpaceToDepth`), :class:`PatchConvLSTM` reads the given frames and then its own
  predictions for ``future - 1`` more steps (so it is trained as it is rolled out), and the patches go
  back to frames (:class:`DepthToSpace`).

Outputs are float32 sigmoid frames in [0, 1]; the loss is MSE on them (the Moving MNIST metric). Every
custom layer is written with ``keras.ops`` and registered, so the models save and load with
``safe_mode=True`` on every Keras backend.
"""

from __future__ import annotations

import keras
from keras import layers, ops

from core.models.layers import PACKAGE, PerFrame
from core.models.specs import BlockPredictorSpec


@keras.saving.register_keras_serializable(package=PACKAGE)
class FramesToChannels(keras.layers.Layer):
    """``(batch, frames, H, W, C)`` -> ``(batch, H, W, frames * C)``: frames stacked as channels, oldest first."""

    def call(self, inputs):
        _, t, h, w, c = inputs.shape
        x = ops.transpose(inputs, (0, 2, 3, 1, 4))
        return ops.reshape(x, (-1, h, w, t * c))

    def compute_output_shape(self, input_shape):
        b, t, h, w, c = input_shape
        return (b, h, w, t * c)


@keras.saving.register_keras_serializable(package=PACKAGE)
class ChannelsToFrames(keras.layers.Layer):
    """``(batch, H, W, frames * C)`` -> ``(batch, frames, H, W, C)``: the inverse of :class:`FramesToChannels`."""

    def __init__(self, frames: int = 1, **kwargs):
        super().__init__(**kwargs)
        self.frames = int(frames)

    def call(self, inputs):
        _, h, w, tc = inputs.shape
        x = ops.reshape(inputs, (-1, h, w, self.frames, tc // self.frames))
        return ops.transpose(x, (0, 3, 1, 2, 4))

    def compute_output_shape(self, input_shape):
        b, h, w, tc = input_shape
        return (b, self.frames, h, w, tc // self.frames)

    def get_config(self):
        return {**super().get_config(), "frames": self.frames}


@keras.saving.register_keras_serializable(package=PACKAGE)
class RepeatLastFrame(keras.layers.Layer):
    """``(batch, frames, H, W, C)`` -> ``(batch, times, H, W, C)``: the last frame, ``times`` times."""

    def __init__(self, times: int = 1, **kwargs):
        super().__init__(**kwargs)
        self.times = int(times)

    def call(self, inputs):
        return ops.repeat(inputs[:, -1:], self.times, axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.times, *input_shape[2:])

    def get_config(self):
        return {**super().get_config(), "times": self.times}


@keras.saving.register_keras_serializable(package=PACKAGE)
class SpaceToDepth(keras.layers.Layer):
    """``(batch, frames, H, W, C)`` -> ``(batch, frames, H / b, W / b, b * b * C)``: ``b`` x ``b`` blocks as channels."""

    def __init__(self, block: int = 4, **kwargs):
        super().__init__(**kwargs)
        self.block = int(block)

    def call(self, inputs):
        b = self.block
        _, t, h, w, c = inputs.shape
        x = ops.reshape(inputs, (-1, t, h // b, b, w // b, b, c))
        x = ops.transpose(x, (0, 1, 2, 4, 3, 5, 6))
        return ops.reshape(x, (-1, t, h // b, w // b, b * b * c))

    def compute_output_shape(self, input_shape):
        n, t, h, w, c = input_shape
        b = self.block
        return (n, t, h // b, w // b, b * b * c)

    def get_config(self):
        return {**super().get_config(), "block": self.block}


@keras.saving.register_keras_serializable(package=PACKAGE)
class DepthToSpace(keras.layers.Layer):
    """The inverse of :class:`SpaceToDepth`."""

    def __init__(self, block: int = 4, **kwargs):
        super().__init__(**kwargs)
        self.block = int(block)

    def call(self, inputs):
        b = self.block
        _, t, h, w, c = inputs.shape
        x = ops.reshape(inputs, (-1, t, h, w, b, b, c // (b * b)))
        x = ops.transpose(x, (0, 1, 2, 4, 3, 5, 6))
        return ops.reshape(x, (-1, t, h * b, w * b, c // (b * b)))

    def compute_output_shape(self, input_shape):
        n, t, h, w, c = input_shape
        b = self.block
        return (n, t, h * b, w * b, c // (b * b))

    def get_config(self):
        return {**super().get_config(), "block": self.block}


@keras.saving.register_keras_serializable(package=PACKAGE)
class PatchConvLSTM(keras.layers.Layer):
    """A ConvLSTM stack that reads ``given`` frames, then feeds back its own predictions for ``future`` frames.

    Input ``(batch, given, H, W, C)`` (patches, in [0, 1]); output ``(batch, future, H, W, C)``: the
    prediction after the last given frame and the ``future - 1`` after it, each made from the stack's
    state with the previous prediction as the next input. Each cell is one Conv2D over the cell input and
    its hidden state giving the four gates (input, forget, cell, output; forget bias 1); a 1x1 Conv2D with
    a sigmoid reads the top hidden state into the next frame's patches.
    """

    def __init__(self, filters=(64, 64), kernel: int = 3, given: int = 10, future: int = 10, channels: int = 16,
                 **kwargs):
        super().__init__(**kwargs)
        self.filters = tuple(int(f) for f in filters)
        self.kernel = int(kernel)
        self.given, self.future, self.channels = int(given), int(future), int(channels)
        self.gates = [layers.Conv2D(4 * f, self.kernel, padding="same", name=f"gates_{i + 1}",
                                    bias_initializer=_ForgetBias(f))
                      for i, f in enumerate(self.filters)]
        self.readout = layers.Conv2D(self.channels, 1, activation="sigmoid", name="readout")

    def build(self, input_shape):
        _, _, h, w, c = input_shape
        width = c
        for conv, f in zip(self.gates, self.filters, strict=True):
            conv.build((None, h, w, width + f))
            width = f
        self.readout.build((None, h, w, width))
        self.built = True

    def _cell(self, x, states):
        new = []
        for conv, f, (h, c) in zip(self.gates, self.filters, states, strict=True):
            z = conv(ops.concatenate([x, h], axis=-1))
            i, g_f, g, o = (z[..., k * f:(k + 1) * f] for k in range(4))
            c = ops.sigmoid(g_f) * c + ops.sigmoid(i) * ops.tanh(g)
            h = ops.sigmoid(o) * ops.tanh(c)
            new.append((h, c))
            x = h
        return self.readout(x), new

    def call(self, inputs):
        _, _, height, width, _ = inputs.shape
        batch = ops.shape(inputs)[0]
        states = [(ops.zeros((batch, height, width, f), inputs.dtype),) * 2 for f in self.filters]
        prediction = None
        for t in range(self.given):
            prediction, states = self._cell(inputs[:, t], states)
        outputs = [prediction]
        for _ in range(self.future - 1):
            prediction, states = self._cell(prediction, states)
            outputs.append(prediction)
        return ops.stack(outputs, axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.future, *input_shape[2:4], self.channels)

    def get_config(self):
        return {**super().get_config(), "filters": list(self.filters), "kernel": self.kernel, "given": self.given,
                "future": self.future, "channels": self.channels}


@keras.saving.register_keras_serializable(package=PACKAGE)
class _ForgetBias(keras.initializers.Initializer):
    """Zero biases but 1 on the forget gate (the second quarter of ``4 * units``)."""

    def __init__(self, units: int = 1):
        self.units = int(units)

    def __call__(self, shape, dtype=None):
        u = self.units
        return ops.concatenate([ops.zeros((u,), dtype), ops.ones((u,), dtype), ops.zeros((shape[0] - 2 * u,), dtype)])

    def get_config(self):
        return {"units": self.units}


def _norm_act(x, name: str, groups: int = 8):
    """GroupNorm (``groups`` or fewer, dividing the channels) then SiLU, per frame when ``x`` has a time axis."""
    channels = x.shape[-1]
    groups = max(g for g in range(1, min(groups, channels) + 1) if channels % g == 0)
    norm = layers.GroupNormalization(groups, name=f"{name}_norm")
    x = PerFrame(norm, name=f"{name}_norm_t")(x) if len(x.shape) == 5 else norm(x)
    return layers.Activation("silu", name=f"{name}_act")(x)


def _per_frame(layer, x, name: str):
    return PerFrame(layer, name=name)(x)


def _gated_attention_block(x, filters: int, name: str):
    """SimVP v2's gSTA block: gated spatial attention (depthwise 5x5, dilated depthwise 7x7, 1x1 -> gate and
    value) and a depthwise-conv MLP, each residual after a GroupNorm."""
    y = layers.GroupNormalization(min(8, filters), name=f"{name}_norm1")(x)
    y = layers.Conv2D(filters, 1, activation="silu", name=f"{name}_proj1")(y)
    a = layers.DepthwiseConv2D(5, padding="same", name=f"{name}_dw5")(y)
    a = layers.DepthwiseConv2D(7, padding="same", dilation_rate=3, name=f"{name}_dw7d3")(a)
    gate = layers.Conv2D(filters, 1, activation="sigmoid", name=f"{name}_gate")(a)
    value = layers.Conv2D(filters, 1, name=f"{name}_value")(a)
    y = layers.Multiply(name=f"{name}_gated")([gate, value])
    y = layers.Conv2D(filters, 1, name=f"{name}_proj2")(y)
    x = layers.Add(name=f"{name}_res1")([x, y])
    y = layers.GroupNormalization(min(8, filters), name=f"{name}_norm2")(x)
    y = layers.Conv2D(2 * filters, 1, name=f"{name}_mlp1")(y)
    y = layers.DepthwiseConv2D(3, padding="same", activation="gelu", name=f"{name}_mlp_dw")(y)
    y = layers.Conv2D(filters, 1, name=f"{name}_mlp2")(y)
    return layers.Add(name=f"{name}_res2")([x, y])


def _build_simvp(spec: BlockPredictorSpec, inputs):
    # Only the last encoder level and the first decoder level are normalised: GroupNorm over every
    # full-resolution frame costs more than the whole translator on a CPU, for little gain.
    levels = spec.patch.bit_length() - 1  # stride-2 convolutions down to 1/patch
    widths = [max(8, spec.encoder_filters >> (levels - 1 - i)) for i in range(levels)]  # 32, 64 for patch 4
    folded = spec.space_to_depth > 1  # the outermost level is a 2x2 space-to-depth, both ways: nothing at full size
    x, skip = (SpaceToDepth(2, name="to_blocks")(inputs) if folded else inputs), None
    for i, width in enumerate(widths):
        stride = 1 if folded and i == 0 else 2
        x = _per_frame(layers.Conv2D(width, 3, strides=stride, padding="same"), x, f"enc_{i + 1}")
        x = _norm_act(x, f"enc_{i + 1}") if i == levels - 1 else layers.Activation("silu", name=f"enc_{i + 1}_act")(x)
        skip = x if skip is None else skip
    x = FramesToChannels(name="stack_frames")(x)
    x = layers.Conv2D(spec.translator_filters, 1, name="translator_in")(x)
    for b in range(spec.translator_blocks):
        x = _gated_attention_block(x, spec.translator_filters, f"translator_{b + 1}")
    x = layers.Conv2D(spec.future * widths[-1], 1, name="translator_out")(x)
    x = ChannelsToFrames(spec.future, name="future_frames")(x)
    for i in reversed(range(1 if folded else 0, levels)):  # 2x2 transposed convolutions: one input pixel each
        width = widths[i - 1] if i else max(8, widths[0] // 2)
        x = _per_frame(layers.Conv2DTranspose(width, 2, strides=2), x, f"dec_{levels - i}")
        x = _norm_act(x, f"dec_{levels - i}") if i == levels - 1 else \
            layers.Activation("silu", name=f"dec_{levels - i}_act")(x)
        if i == 1:  # the skip: the first encoder level of the last given frame, beside every future frame
            last = RepeatLastFrame(spec.future, name="last_frame_skip")(skip)
            x = layers.Concatenate(axis=-1, name="skip")([x, last])
            x = _per_frame(layers.Conv2D(widths[0], 1), x, "skip_mix")
            x = layers.Activation("silu", name="skip_mix_act")(x)
    out_channels = spec.channels * (4 if folded else 1)
    x = _per_frame(layers.Conv2D(out_channels, 3, padding="same", activation="sigmoid", dtype="float32"), x,
                   "frames_out")
    return DepthToSpace(2, name="to_frames")(x) if folded else x


def _build_convlstm(spec: BlockPredictorSpec, inputs):
    channels = spec.patch * spec.patch * spec.channels
    x = SpaceToDepth(spec.patch, name="to_patches")(inputs)
    x = PatchConvLSTM(spec.recurrent, spec.recurrent_kernel, spec.frames, spec.future, channels,
                      dtype="float32", name="patch_convlstm")(x)
    return DepthToSpace(spec.patch, name="to_frames")(x)


def build(spec: BlockPredictorSpec) -> keras.Model:
    inputs = keras.Input(shape=spec.input_shape, name="frames")
    out = _build_simvp(spec, inputs) if spec.layout == "simvp" else _build_convlstm(spec, inputs)
    return keras.Model(inputs, out, name=f"block_{spec.preset}".replace("-", "_"))
