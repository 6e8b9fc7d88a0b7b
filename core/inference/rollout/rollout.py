"""Next-frame rollout: from ``n`` real frames, predict ``m`` future frames autoregressively.

Frames are ``(frames, height, width, channels)`` in the model's input dtype: ``uint8`` (models with a
:class:`~core.models.frame_input.FrameScaling` first layer) or float32 in [0, 1]. Predictions are
float32 in [0, 1]; each one is fed back as the next input, quantised to ``uint8`` first for ``uint8``
models (exactly as a frame read from a video would arrive).

:func:`reference_rollout` is the reference systems' loop: at every step it runs the model over the whole
sequence so far and keeps the last predicted frame, so ``m`` steps cost ``n + (n + 1) + ... + (n + m - 1)``
frame-steps (quadratic in ``m``).

:func:`rollout` gives the same frames in ``n + m - 1`` frame-steps. It walks the trained model's own
layer graph one frame at a time (the same layer objects, so the same weights) and carries what each
layer needs from the past:

- a ``ConvLSTM2D`` carries its recurrent state ``(h, c)`` and runs its cell once per frame;
- a ``Conv3D`` with a temporal kernel keeps the last frames of its input that the kernel reaches back to
  (zeros before the first, as the padding gives). A causal one (a ``ZeroPadding3D`` on the past side,
  as the ``conv3d`` preset builds it) needs nothing after the current frame. A ``same``-padded one (the
  ``keras-example`` head, whose 3x3x3 kernel also looks one frame ahead) sees, at the last frame of the
  sequence, the zero padding after it, which adds nothing. So each step is one 2D convolution of the
  current and kept frames stacked as channels, with the kernel's taps over those frames (the layer's
  bias and activation after it): one output frame, no zero frames, no temporal window copied into a 3D
  tensor. A ``ZeroPadding3D`` whose spatial padding is what ``same`` gives is folded into that
  convolution;
- per-frame layers (``TimeDistributed``, ``PerFrame``, inference-mode ``BatchNormalization``, activations, the
  ``uint8`` scaling, ``ResidualLogits``) run on the single frame.

Equality with the reference loop holds only if every layer that mixes time (a recurrent layer, a
temporal kernel) sees inputs that never change once computed. A non-causal layer's output at frame
``t`` changes when frame ``t + 1`` arrives; if another time-mixing layer comes after it, the reference
loop recomputes that later layer over the changed values at every step and no carried state can
reproduce it. Such models, and models with layers the stepper does not know (pooling over time,
bidirectional or reversed recurrences, ``return_state``), roll out through :func:`reference_rollout`
instead; :func:`step_plan` says which way a model goes and why. Every ``predict`` preset takes the
carried-state path.

Block predictors (:mod:`core.models.block_predictor`: ``simvp``, ``convlstm-patch``) take a fixed number
``n`` of frames and predict the next ``K`` in one call (:func:`block_shape`). They roll out by repeated
blocks: the model runs on the last ``n`` frames, its ``K`` frames are appended (fed back as inputs, quantised
for ``uint8`` models), and again until ``m`` frames are predicted: ``ceil(m / K)`` calls, each on the
frames the model was trained to read (with fewer than ``n`` given, the first given frame is repeated in
front). For them :func:`reference_rollout` is the one-frame loop every next-frame model has: one call per
future frame, on the last ``n`` frames, keeping the first predicted frame; its frames equal the block
rollout's only for the first step (after it, the block rollout uses the model's own later frames, which is
what it was trained for, and the one-frame loop re-reads its own predictions).

The steps after a sequence's first run as one compiled call each on the TensorFlow backend (a
``tf.function`` over ``(frame, carried values) -> (output, carried values)``, kept with the model, so a
second rollout of the same model skips the tracing); elsewhere they stay eager. The steps themselves use
``keras.ops`` and the layers' own calls only, so they run on every Keras backend.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.inference.errors import InferenceError
from core.jobs import ProgressCallback, check_cancelled, report

#: Per-frame layers: they map each frame on its own (in inference mode) and so step on one frame.
_PER_FRAME = frozenset({
    "TimeDistributed", "PerFrame", "Activation", "Dropout", "Rescaling", "ReLU", "LeakyReLU", "Identity",
    "FrameScaling", "ResidualLogits", "LogitResidual", "Add", "Subtract", "Multiply", "Average", "Maximum",
    "Minimum",
})


class RolloutError(InferenceError):
    """A rollout that cannot run: frames of the wrong shape, a model that is not a next-frame model."""


@dataclass(frozen=True)
class StepPlan:
    """How :func:`rollout` runs a model: ``carried`` (one frame per step) or the reference loop, and why."""

    carried: bool
    reason: str


# ------------------------------------------------------------------------------------------------
# the variable-length twin the reference loop runs


def _functional_type() -> type:
    from keras.src.models.functional import Functional

    return Functional


def _time_free(model: Any) -> Any:
    """``model`` taking any number of frames: the same layers (same weights) called on ``(None, H, W, C)``.

    Training builds models for a fixed clip length; the reference loop runs them on 1..n+m-1 frames.
    """
    import keras

    shape = tuple(model.inputs[0].shape)
    if shape[1] is None:
        return model
    functional = _functional_type()
    inputs = keras.Input(shape=(None, *shape[2:]), dtype=model.inputs[0].dtype, name=model.inputs[0].name)
    outputs = model._run_through_graph(
        inputs, operation_fn=lambda op: _time_free(op) if isinstance(op, functional) else op)
    return keras.Model(inputs, outputs, name=model.name)


# ------------------------------------------------------------------------------------------------
# models that see a fixed window of past frames


def _layers(model: Any) -> list[Any]:
    """Every layer of ``model``, nested models' layers included (not the nested models themselves)."""
    found = []
    for layer in model.layers:
        found.extend(_layers(layer) if hasattr(layer, "layers") and hasattr(layer, "inputs") else [layer])
    return found


def frame_window(model: Any) -> int | None:
    """How many past frames ``model``'s last output can see, if it is a fixed window; else ``None``.

    True of models that read their clip only through :class:`~core.models.layers.StackFrames` (the last
    ``window`` frames as channels) and :class:`~core.models.layers.LastFrame`, with nothing but per-frame
    layers before those: the last output is then a function of the last ``window`` frames alone, so the
    reference loop's step equals one run on those frames.
    """
    window = None
    for layer in _layers(model):
        name = type(layer).__name__
        if name == "InputLayer":
            continue
        shapes = [tuple(t.shape) for t in layer._inbound_nodes[0].input_tensors] if layer._inbound_nodes else []
        if not any(len(shape) == 5 for shape in shapes):
            continue  # no time axis: works on the frame the window was made into
        if name == "StackFrames":
            window = max(window or 0, layer.window)
        elif name != "LastFrame" and name not in _PER_FRAME:
            return None
    return window


# ------------------------------------------------------------------------------------------------
# block predictors: a fixed number of frames in, several future frames out per call

#: Layers that make a model a block predictor (:mod:`core.models.block_predictor`).
_BLOCK_LAYERS = frozenset({"FramesToChannels", "PatchConvLSTM"})


def block_shape(model: Any) -> tuple[int, int] | None:
    """``(n, K)`` of a block predictor (``n`` frames in, the next ``K`` out per call); ``None`` otherwise."""
    if not any(type(layer).__name__ in _BLOCK_LAYERS for layer in _layers(model)):
        return None
    n, k = model.inputs[0].shape[1], model.outputs[0].shape[1]
    if n is None or k is None:
        return None
    return int(n), int(k)


def _window(sequence: np.ndarray, n: int) -> np.ndarray:
    """The last ``n`` frames of ``sequence``; with fewer, the first frame repeated in front."""
    if len(sequence) >= n:
        return sequence[-n:]
    return np.concatenate([np.repeat(sequence[:1], n - len(sequence), axis=0), sequence])


def _block_rollout(model, sequence, m, shape, per_call, progress, cancel) -> np.ndarray:
    """Run ``model`` on the last ``n`` frames, keep ``per_call`` of its frames (all ``K``: the block
    rollout; 1: the one-frame loop), feed them back, until ``m`` frames are predicted."""
    n, _ = shape
    dtype = _input_dtype(model)
    predicted: list[np.ndarray] = []
    while len(predicted) < m:
        check_cancelled(cancel, "rollout")
        block = np.asarray(model(_window(sequence, n)[None], training=False), dtype=np.float32)[0]
        block = block[: min(per_call, m - len(predicted))]
        predicted.extend(block)
        sequence = np.concatenate([sequence[-n:], as_model_input(block, dtype)])
        report(progress, len(predicted), m, "rolling out")
    return _stacked(predicted, sequence)


# ------------------------------------------------------------------------------------------------
# the carried-state stepper


def _temporal_pads(layer: Any, node: Any, nodes: set[int]) -> tuple[int, int, Any] | None:
    """``(before, after, padding layer or None)`` a Conv3D's temporal window reaches around its frame.

    ``nodes``: the ids of the model's own nodes. A layer is also called by other graphs built on it (the
    reference loop's variable-length twin), whose nodes do not count here.
    """
    kt = int(layer.kernel_size[0])
    if (tuple(layer.strides)[0] != 1 or tuple(layer.dilation_rate)[0] != 1 or layer.data_format != "channels_last"
            or getattr(layer, "groups", 1) != 1):
        return None
    if layer.padding == "same":
        return (kt - 1) // 2, kt - 1 - (kt - 1) // 2, None  # Keras "same": the extra pad goes after
    source = node.input_tensors[0]._keras_history.operation
    if type(source).__name__ != "ZeroPadding3D" or sum(id(n) in nodes for n in source._outbound_nodes) != 1:
        return None if kt > 1 else (0, 0, None)
    (before, after), _, _ = source.padding
    if before + after != kt - 1:
        return None
    return before, after, source


def _pads_same(padding: Any, layer: Any) -> bool:
    """Whether a ``valid`` Conv3D after ``padding`` (a ZeroPadding3D) sees each frame as ``same`` would pad it."""
    if layer.padding != "valid" or any(s != 1 for s in tuple(layer.strides)[1:]):
        return False
    for (low, high), k, d in zip(tuple(padding.padding)[1:], tuple(layer.kernel_size)[1:],
                                 tuple(layer.dilation_rate)[1:], strict=True):
        reach = d * (k - 1)
        if (low, high) != (reach // 2, reach - reach // 2):
            return False
    return True


class _Analysis:
    """Which layers step how, found once per model; ``reason`` is set when the model cannot step."""

    def __init__(self, model: Any, input_causal: bool = True) -> None:
        self.reason = ""
        self.windows: dict[int, tuple[int, int]] = {}  # id(Conv3D) -> (before, after)
        self.spatial_pads: dict[int, Any] = {}  # id(ZeroPadding3D) whose temporal padding its Conv3D takes
        self.same_pads: set[int] = set()  # those of them whose spatial padding is "same" for their Conv3D
        self.conv_padding: dict[int, str] = {}  # id(Conv3D) -> the spatial padding its per-frame step uses
        self.children: dict[int, _Analysis] = {}  # id(nested model) -> its analysis
        self.causal_output = self._walk(model, input_causal)

    def _refuse(self, reason: str) -> bool:
        self.reason = self.reason or reason
        return False

    def _walk(self, model: Any, input_causal: bool) -> bool:
        """Mark every layer of ``model``; return whether its output is causal (False after a look-ahead)."""
        functional = _functional_type()
        if not isinstance(model, functional):
            return self._refuse(f"{type(model).__name__} models are not functional graphs")
        causal = {id(t): input_causal for t in model.inputs}
        nodes = {id(node) for depth in model._nodes_by_depth.values() for node in depth}
        for depth in sorted(model._nodes_by_depth, reverse=True):
            for node in model._nodes_by_depth[depth]:
                if node.is_input or not node.operation:
                    continue
                layer = node.operation
                name = type(layer).__name__
                seen = all(causal.get(id(t), True) for t in node.input_tensors)
                out = seen
                if isinstance(layer, functional):
                    child = _Analysis(layer, seen)
                    out = child.causal_output
                    if child.reason:
                        return self._refuse(child.reason)
                    self.children[id(layer)] = child
                elif name == "ConvLSTM2D":
                    if layer.go_backwards or layer.return_state or not layer.return_sequences or layer.stateful:
                        return self._refuse(f"layer {layer.name!r}: only forward ConvLSTM2D returning sequences steps")
                    if not seen:
                        return self._refuse(f"layer {layer.name!r} runs over the output of a layer that looks "
                                            "ahead in time, which changes as frames arrive")
                elif name == "Conv3D":
                    pads = _temporal_pads(layer, node, nodes)
                    if pads is None:
                        return self._refuse(f"layer {layer.name!r}: a Conv3D with temporal strides, dilation or "
                                            "padding the stepper does not know")
                    before, after, padding = pads
                    if before > 0 and not seen:
                        return self._refuse(f"layer {layer.name!r} reaches back over the output of a layer that "
                                            "looks ahead in time, which changes as frames arrive")
                    self.windows[id(layer)] = (before, after)
                    self.conv_padding[id(layer)] = layer.padding
                    if padding is not None:
                        self.spatial_pads[id(padding)] = padding
                        if _pads_same(padding, layer):
                            self.same_pads.add(id(padding))
                            self.conv_padding[id(layer)] = "same"
                    out = seen and after == 0
                elif name == "ZeroPadding3D":
                    pass  # temporal padding is checked below: it must belong to exactly one Conv3D
                elif name == "BatchNormalization":
                    if layer.axis not in (-1, len(node.input_tensors[0].shape) - 1):
                        return self._refuse(f"layer {layer.name!r} normalises over an axis other than channels")
                elif name == "Concatenate":
                    if layer.axis not in (-1, len(node.outputs[0].shape) - 1):
                        return self._refuse(f"layer {layer.name!r} concatenates over an axis other than channels")
                elif name not in _PER_FRAME:
                    return self._refuse(f"layer {layer.name!r} ({name}) is not known to work frame by frame")
                for t in node.outputs:
                    causal[id(t)] = out
        for layer in model.layers:
            if type(layer).__name__ == "ZeroPadding3D" and id(layer) not in self.spatial_pads:
                (before, after), _, _ = layer.padding
                if before or after:
                    return self._refuse(f"layer {layer.name!r} pads time other than for one causal Conv3D")
        return all(causal.get(id(t), True) for t in model.outputs)


class _Stepper:
    """Runs ``model`` one frame at a time, carrying recurrent states and temporal windows."""

    def __init__(self, model: Any, analysis: _Analysis) -> None:
        self.model = model
        self.analysis = analysis
        self.states: dict[int, list[Any]] = {}  # id(ConvLSTM2D) -> [h, c]
        self.history: dict[int, list[Any]] = {}  # id(Conv3D) -> its last inputs, each (batch, 1, H, W, C)
        self.children: dict[int, _Stepper] = {}
        self.operations: dict[int, Callable[..., Any]] = {}  # id(layer) -> how it steps

    def _operation(self, op: Any) -> Callable[..., Any]:
        from keras import ops

        key = id(op)
        name = type(op).__name__
        if key in self.analysis.children:
            child = self.children.setdefault(key, _Stepper(op, self.analysis.children[key]))
            return child.step
        if name == "ConvLSTM2D":
            def convlstm(x: Any, **_: Any) -> Any:
                frame = x[:, 0]
                if key not in self.states:
                    self.states[key] = op.cell.get_initial_state(batch_size=ops.shape(frame)[0])
                h, self.states[key] = op.cell.call(frame, self.states[key], training=False)
                return ops.expand_dims(h, 1)
            return convlstm
        if key in self.analysis.same_pads:
            return lambda x, **_: x  # its Conv3D's step pads the frame itself ("same")
        if key in self.analysis.spatial_pads:
            (_, _), (h0, h1), (w0, w1) = op.padding
            return lambda x, **_: ops.pad(x, ((0, 0), (0, 0), (h0, h1), (w0, w1), (0, 0)))
        if key in self.analysis.windows:
            before, _ = self.analysis.windows[key]
            kernel = _frame_kernel(op, before)
            padding = self.analysis.conv_padding[key]

            def conv3d(x: Any, **_: Any) -> Any:
                frame = x[:, 0]
                if before:
                    past = self.history.setdefault(key, [ops.zeros_like(frame)] * before)
                    self.history[key] = [*past[1:], frame]
                    frame = ops.concatenate([*past, frame], axis=-1)
                y = ops.conv(frame, kernel, strides=tuple(op.strides)[1:], padding=padding,
                             dilation_rate=tuple(op.dilation_rate)[1:])
                if op.use_bias:
                    y = ops.add(y, op.bias)
                if op.activation is not None:
                    y = op.activation(y)
                return ops.expand_dims(y, 1)
            return conv3d
        return lambda *args, **kwargs: op(*args, **{**kwargs, "training": False}) if _takes_training(op) \
            else op(*args, **kwargs)

    def step(self, frame: Any, **_: Any) -> Any:
        """``(batch, 1, H, W, C)`` -> the model's output for that frame, given every frame stepped before."""
        return self.model._run_through_graph(frame, operation_fn=self._cached_operation)

    def reset(self) -> None:
        """Forget every frame stepped so far (the next step starts a new sequence)."""
        self.states.clear()
        self.history.clear()
        for child in self.children.values():
            child.reset()

    def state(self) -> list[Any]:
        """Everything carried, nested models' included, as one flat list in a fixed order."""
        flat: list[Any] = []
        for key in sorted(self.states):
            flat.extend(self.states[key])
        for key in sorted(self.history):
            flat.extend(self.history[key])
        for key in sorted(self.children):
            flat.extend(self.children[key].state())
        return flat

    def set_state(self, flat: list[Any]) -> list[Any]:
        """Take what :meth:`state` gave (same layout) from the front of ``flat``; return the rest."""
        for carried in (self.states, self.history):
            for key in sorted(carried):
                n = len(carried[key])
                carried[key], flat = list(flat[:n]), flat[n:]
        for key in sorted(self.children):
            flat = self.children[key].set_state(flat)
        return flat

    def _cached_operation(self, op: Any) -> Callable[..., Any]:
        """:meth:`_operation`, made once per layer rather than once per layer and frame."""
        try:
            return self.operations[id(op)]
        except KeyError:
            return self.operations.setdefault(id(op), self._operation(op))


def _frame_kernel(layer: Any, before: int) -> Any:
    """A Conv3D's kernel as a 2D kernel over its current and ``before`` past frames stacked as channels.

    ``(time, kh, kw, in, out)`` -> ``(kh, kw, (before + 1) * in, out)``, oldest frame first. The taps
    after the current frame are left out: at the last frame of a sequence they meet the zero padding,
    so one 2D convolution of the stacked frames gives exactly the Conv3D's output at that frame.
    """
    from keras import ops

    taps = ops.transpose(ops.convert_to_tensor(layer.kernel)[:before + 1], (1, 2, 0, 3, 4))
    shape = ops.shape(taps)
    return ops.reshape(taps, (shape[0], shape[1], shape[2] * shape[3], shape[4]))


class _CompiledStepper:
    """A :class:`_Stepper` whose steps after the first run as one compiled call each.

    The first frame of a sequence steps eagerly, which creates every carried value (their shapes are
    known only then); each later step is a pure function ``(frame, carried) -> (output, carried)``
    compiled once per model and kept with it, so the second and later rollouts of a model skip the
    tracing. On TensorFlow that is a ``tf.function`` (graph mode instead of some 35 small eager ops per
    frame); on other backends the steps stay eager, same frames.
    """

    def __init__(self, model: Any, analysis: _Analysis) -> None:
        self.stepper = _Stepper(model, analysis)
        self.lock = threading.Lock()
        self.compiled: Callable[..., Any] | None | bool = None  # False: steps stay eager
        self.started = False

    def _compile(self) -> Callable[..., Any] | None:
        import keras

        if keras.backend.backend() != "tensorflow":
            return None
        import tensorflow as tf  # only on the TensorFlow backend, outside any model

        def pure(frame: Any, carried: list[Any]) -> tuple[Any, list[Any]]:
            self.stepper.set_state(list(carried))
            output = self.stepper.step(frame)
            return output, self.stepper.state()

        return tf.function(pure, reduce_retracing=True)

    def reset(self) -> None:
        self.stepper.reset()
        self.started = False

    def step(self, frame: Any) -> Any:
        if self.started and self.compiled is None:
            self.compiled = self._compile() or False
        if not self.started or not self.compiled:
            self.started = True
            return self.stepper.step(frame)
        output, carried = self.compiled(frame, self.stepper.state())
        self.stepper.set_state(list(carried))
        return output


_STEPPERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _stepper_for(model: Any, analysis: _Analysis) -> _CompiledStepper:
    """The model's kept compiled stepper, or a new one (not kept) while another rollout holds it."""
    try:
        kept = _STEPPERS.get(model)
        if kept is None:
            kept = _STEPPERS.setdefault(model, _CompiledStepper(model, analysis))
    except TypeError:  # not weakly referenceable: nothing kept
        return _CompiledStepper(model, analysis)
    return kept


def _takes_training(op: Any) -> bool:
    return bool(getattr(op, "_call_has_training_arg", False))


_PLANS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _analysis(model: Any) -> _Analysis:
    """The stepping analysis of ``model``, made once per model object."""
    try:
        return _PLANS[model]
    except KeyError:
        found = _Analysis(model)
        _PLANS[model] = found
        return found
    except TypeError:  # not weakly referenceable: no cache
        return _Analysis(model)


def step_plan(model: Any) -> StepPlan:
    """Whether :func:`rollout` carries state for ``model`` or falls back to the reference loop, and why."""
    shape = block_shape(model)
    if shape is not None:
        return StepPlan(True, f"blocks: {shape[1]} frames per call from the last {shape[0]}")
    window = frame_window(model)
    if window is not None:
        return StepPlan(True, f"a window of {window} frames: one run on the last {window} frames per step")
    found = _analysis(model)
    if found.reason:
        return StepPlan(False, f"reference loop: {found.reason}")
    return StepPlan(True, "carried state: one frame per step")


# ------------------------------------------------------------------------------------------------
# the two rollouts


def _check(model: Any, frames: Any, m: int) -> np.ndarray:
    frames = np.asarray(frames)
    shape = tuple(model.inputs[0].shape)
    if len(shape) != 5:
        raise RolloutError(f"model {model.name!r} does not take frame sequences (input shape {shape})")
    if tuple(model.outputs[0].shape[2:]) != shape[2:] or len(model.outputs) != 1:
        raise RolloutError(f"model {model.name!r} is not a next-frame model: its output "
                           f"{tuple(model.outputs[0].shape)} is not frames of its input's size")
    if frames.ndim != 4 or frames.shape[1:] != shape[2:] or len(frames) < 1:
        raise RolloutError(f"frames must be (frames >= 1, {', '.join(str(s) for s in shape[2:])}), "
                           f"not {frames.shape}")
    if m < 0:
        raise RolloutError(f"the number of future frames must be >= 0, not {m}")
    return frames.astype(_input_dtype(model), copy=False)


def _input_dtype(model: Any) -> str:
    return "uint8" if "uint8" in str(model.inputs[0].dtype) else "float32"


def as_model_input(predicted: np.ndarray, dtype: str) -> np.ndarray:
    """A predicted frame (float in [0, 1]) as the next input: ``uint8`` models get it rounded to 0..255."""
    if dtype == "uint8":
        return np.clip(np.rint(predicted * 255.0), 0, 255).astype(np.uint8)
    return predicted.astype(np.float32, copy=False)


def reference_rollout(
    model: Any,
    frames: Any,
    m: int,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> np.ndarray:
    """The reference loop: ``m`` times, run ``model`` on every frame so far and append its last prediction.

    ``frames``: ``(n, H, W, C)`` given frames in the model's input dtype. Returns ``(m, H, W, C)`` float32
    in [0, 1]. Cost: quadratic in ``m`` (step ``k`` runs ``n + k`` frames). A block predictor runs once per
    future frame on its last ``n`` frames and keeps the first of the ``K`` it predicts (module doc).
    """
    sequence = _check(model, frames, m)
    shape = block_shape(model)
    if shape is not None:
        return _block_rollout(model, sequence, m, shape, 1, progress, cancel)
    return _loop(model, sequence, m, None, progress, cancel)


def _loop(model, sequence, m, window, progress, cancel) -> np.ndarray:
    """Run ``model`` ``m`` times on the frames so far (the last ``window`` of them, if given), each time
    appending its last prediction."""
    run = _time_free(model)
    dtype = _input_dtype(model)
    predicted = []
    for k in range(m):
        check_cancelled(cancel, "rollout")
        seen = sequence if window is None else sequence[-window:]
        last = np.asarray(run(seen[None], training=False), dtype=np.float32)[0, -1]
        predicted.append(last)
        sequence = np.concatenate([sequence if window is None else seen, as_model_input(last, dtype)[None]])
        report(progress, k + 1, m, "rolling out")
    return _stacked(predicted, sequence)


def _stacked(predicted: list[np.ndarray], frames: np.ndarray) -> np.ndarray:
    if predicted:
        return np.stack(predicted).astype(np.float32)
    return np.zeros((0, *frames.shape[1:]), np.float32)


def rollout(
    model: Any,
    frames: Any,
    m: int,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> np.ndarray:
    """:func:`reference_rollout`'s frames (within float tolerance) in ``n + m - 1`` frame-steps.

    Carries each recurrent layer's state and each temporal kernel's window from frame to frame (see the
    module doc); a model that cannot step that way (:func:`step_plan`) goes through the reference loop. A
    block predictor rolls out by repeated blocks of its ``K`` frames (module doc: from the second frame on,
    not the reference loop's frames). ``frames``: ``(n, H, W, C)`` in the model's input dtype. Returns ``(m, H, W, C)`` float32 in [0, 1].
    """
    sequence = _check(model, frames, m)
    if m == 0:
        return _stacked([], sequence)
    shape = block_shape(model)
    if shape is not None:
        return _block_rollout(model, sequence, m, shape, shape[1], progress, cancel)
    window = frame_window(model)
    if window is not None:
        return _loop(model, sequence, m, window, progress, cancel)  # the reference loop on the last frames
    found = _analysis(model)
    if found.reason:
        return reference_rollout(model, sequence, m, progress, cancel)
    kept = _stepper_for(model, found)
    if not kept.lock.acquire(blocking=False):  # another thread is rolling this model out
        kept = _CompiledStepper(model, found)
        kept.lock.acquire()
    try:
        kept.reset()
        return _carried_rollout(kept, sequence, m, _input_dtype(model), progress, cancel)
    finally:
        kept.lock.release()


def _carried_rollout(stepper, sequence, m, dtype, progress, cancel) -> np.ndarray:
    from keras import ops

    total = len(sequence) + m - 1
    output = None
    for i, frame in enumerate(sequence):
        check_cancelled(cancel, "rollout")
        output = stepper.step(ops.convert_to_tensor(frame[None, None]))
        report(progress, i + 1, total, "reading the given frames")
    predicted = [np.asarray(ops.convert_to_numpy(output), dtype=np.float32)[0, 0]]
    for k in range(1, m):
        check_cancelled(cancel, "rollout")
        output = stepper.step(ops.convert_to_tensor(as_model_input(predicted[-1], dtype)[None, None]))
        predicted.append(np.asarray(ops.convert_to_numpy(output), dtype=np.float32)[0, 0])
        report(progress, len(sequence) + k, total, "rolling out")
    return _stacked(predicted, sequence)
