"""OpenVINO graph rewrites applied to an export before it is saved (:func:`core.models.runtimes.export_model`).

Keras's ``UpSampling2D`` (nearest) is ``ops.repeat`` along rows and columns, which OpenVINO's converter turns
into a chain of data movement: ``Unsqueeze -> Tile -> Transpose -> Reshape -> Unsqueeze -> Tile -> Reshape``
around the layout transposes. OpenVINO's CPU plugin runs ``Tile`` with its reference kernel, and in bf16 the
chain plus the reorders it forces took about a third of the shipped model's time (per-layer profile, batches of
8 clips). :func:`nearest_upsampling_to_interpolate` replaces each such chain by one ``Interpolate`` (nearest,
integer scales), which the plugin runs with its optimised kernel and keeps in the layout of the convolutions
around it. Nearest upsampling by integer factors copies values, so the rewritten model computes the same
numbers; the export checks that on a sample before keeping it (:func:`same_outputs`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: Operations that move or copy values without computing: what a repeat is converted into.
_MOVES = frozenset({"Unsqueeze", "Tile", "Transpose", "Reshape"})


def _data_source(op: Any) -> Any | None:
    """The one non-constant input of ``op`` (an output of another node), or ``None``."""
    sources = [inp.get_source_output() for inp in op.inputs()
               if inp.get_source_output().get_node().get_type_name() != "Constant"]
    return sources[0] if len(sources) == 1 else None


def _static_dims(shape: Any, dims: tuple[int, ...]) -> list[int] | None:
    if shape.rank.is_dynamic or shape.rank.get_length() != 4 or not all(shape[i].is_static for i in dims):
        return None
    return [shape[i].get_length() for i in dims]


def nearest_upsamplings(model: Any) -> list[tuple[Any, Any, tuple[int, int]]]:
    """``(start, end, (fh, fw))`` for each chain of data-movement ops holding a ``Tile`` that turns a 4-D
    channels-first tensor ``start`` into ``end`` with the same channels and rows x ``fh``, columns x ``fw``
    (whole factors). Only chains whose inner results feed nothing else are taken."""
    found = []
    for op in model.get_ordered_ops():
        if op.get_type_name() not in _MOVES:
            continue
        end = op.output(0)
        consumers = [target.get_node().get_type_name() for target in end.get_target_inputs()]
        if not consumers or all(kind in _MOVES for kind in consumers):
            continue  # not the end of a chain
        node, chain, start = op, [], None
        while node.get_type_name() in _MOVES:
            chain.append(node)
            source = _data_source(node)
            if source is None:
                break
            if source.get_node().get_type_name() not in _MOVES or len(source.get_target_inputs()) != 1:
                start = source
                break
            node = source.get_node()
        if start is None or not any(link.get_type_name() == "Tile" for link in chain):
            continue
        before, after = _static_dims(start.get_partial_shape(), (1, 2, 3)), _static_dims(end.get_partial_shape(), (1, 2, 3))
        if before is None or after is None or before[0] != after[0]:
            continue
        if after[1] % before[1] or after[2] % before[2] or after == before:
            continue
        found.append((start, end, (after[1] // before[1], after[2] // before[2])))
    return found


def nearest_upsampling_to_interpolate(model: Any) -> int:
    """Replace, in ``model`` (an ``openvino.Model``), each chain :func:`nearest_upsamplings` finds by one
    nearest ``Interpolate``; the number replaced. Check the result with :func:`same_outputs`."""
    import openvino.opset11 as opset

    chains = nearest_upsamplings(model)
    for start, end, (fh, fw) in chains:
        upsampled = opset.interpolate(start, np.array([fh, fw], np.float32), mode="nearest",
                                      shape_calculation_mode="scales", axes=np.array([2, 3], np.int64),
                                      coordinate_transformation_mode="asymmetric", nearest_mode="floor")
        for target in list(end.get_target_inputs()):
            target.replace_source_output(upsampled.output(0))
    if chains:
        model.validate_nodes_and_infer_types()
    return len(chains)


def same_outputs(original: Any, rewritten: Any, sample: np.ndarray) -> bool:
    """Whether the two ``openvino.Model`` give the same outputs for ``sample``, computed in f32 on the CPU
    (to 1e-6 of the largest value: the same values copied, summed in the same order)."""
    import openvino as ov

    core = ov.Core()
    config = {"INFERENCE_PRECISION_HINT": "f32"}
    first = core.compile_model(original, "CPU", config)(sample)
    second = core.compile_model(rewritten, "CPU", config)(sample)
    for a, b in zip(first.values(), second.values(), strict=True):
        a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
        if a.shape != b.shape or np.max(np.abs(a - b), initial=0.0) > 1e-6 * max(1.0, np.max(np.abs(a), initial=0.0)):
            return False
    return True
