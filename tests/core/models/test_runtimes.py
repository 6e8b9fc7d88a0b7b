"""A run's model exported for ONNX Runtime / OpenVINO (``framewatch export-run --format``) scores as Keras does,
a stale export is never used, and a missing package is a one-line error naming what to install."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from core.cli.main import main
from tests.core.cli.one_line_errors import assert_one_line_error
from tests.core.inference.scoring_project import make_project, save_run

FORMATS = ("onnx", "openvino")


def _installed(fmt: str) -> bool:
    from core.models.runtimes import RuntimeMissing, require

    try:
        require(fmt, export=True)
    except RuntimeMissing:
        return False
    return True


def _future_frame_run(tmp_path: Path) -> tuple[Path, Path]:
    """A project and a next-frame run of the shipped model's kind (uint8 input, StackFrames, LogitResidual)
    with an error-level model, tiny (16x16, a few filters), weights drawn at random."""
    from core.models import build_model, make_spec
    from core.models.error_level import build_error_level_model
    from core.models.files import save_model

    project = make_project(tmp_path / "p")
    run_dir = save_run(project, task="predict")
    spec = make_spec("predict", "future-frame", frames=4, height=16, width=16, channels=1, filters=(4, 8),
                     temporal_filters=4, input_dtype="uint8")
    model = build_model(spec, compile=False)
    rng = np.random.default_rng(0)
    model.set_weights([rng.normal(0, 0.3, w.shape).astype(np.float32) for w in model.get_weights()])
    save_model(model, run_dir / "best.keras")
    save_model(build_error_level_model(4, 16, 16, mean_error=1e-2), run_dir / "error_level.keras")
    record = json.loads((run_dir / "run.json").read_text())
    record.update(preset=spec.preset, spec=spec.to_dict())
    record["data"]["error_level"] = {"file": "error_level.keras"}
    (run_dir / "run.json").write_text(json.dumps(record))
    return project, run_dir


def _scores(project: Path, run: Path, runtime: str) -> tuple[np.ndarray, object]:
    """The test video's per-frame errors with ``run``'s models on ``runtime``, and the model that made them."""
    import dataclasses

    from core.inference.anomaly.project_scoring import run_model
    from core.inference.anomaly.scoring import score_video

    scoring = dataclasses.replace(run_model(project, run), runtime=runtime)
    model, level = scoring.load_models()
    video = project.parent / "p-videos" / "test.avi"
    errors = [s.error for s in score_video(model, video, scoring.spec, batch_size=4, error_level=level)]
    return np.array(errors), model


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_exported_model_scores_like_keras_and_keeps_its_uint8_input(tmp_path, capsys, fmt) -> None:
    if not _installed(fmt):
        pytest.skip(f"{fmt} is not installed")
    from core.models.runtimes import RuntimeModel

    project, run_dir = _future_frame_run(tmp_path)
    out = tmp_path / "exported"
    assert main(["export-run", str(project), "--run", "tiny", "--to", str(out), "--format", fmt]) == 0
    assert str(out / ("model.onnx" if fmt == "onnx" else "model.xml")) in capsys.readouterr().out
    entries = json.loads((out / "run.json").read_text())["data"]["runtime"][fmt]
    assert set(entries) == {"model.keras", "error_level.keras"}

    keras_errors, keras_model = _scores(project, out, "keras")
    errors, model = _scores(project, out, fmt)
    assert isinstance(model, RuntimeModel) and not isinstance(keras_model, RuntimeModel)
    assert model._dtype == np.uint8
    # float32 convolutions summed in another order: each output pixel differs by a few ulp (~1e-7), and a
    # frame's error (a mean of squared differences, divided by the error level) by a relative ~1e-6;
    # 1e-4 leaves room for that and still fails on any real difference (a bf16 run differs by ~1e-2)
    assert keras_errors.shape == errors.shape == (22,)
    np.testing.assert_allclose(errors, keras_errors, rtol=1e-4, atol=1e-7)


def test_the_openvino_export_upsamples_with_interpolate_and_scores_as_before(tmp_path) -> None:
    """Keras's nearest upsampling (a repeat: Tile and reshapes) is exported as one Interpolate, which computes
    the same values: the rewritten graph's outputs equal the converter's own in f32."""
    if not _installed("openvino"):
        pytest.skip("openvino is not installed")
    import openvino as ov

    from core.models.files import load_model_file
    from core.models.openvino_graph import (
        nearest_upsampling_to_interpolate,
        nearest_upsamplings,
        same_outputs,
    )
    from core.runs.export import export_run

    project, run_dir = _future_frame_run(tmp_path)
    out = export_run(run_dir, tmp_path / "exported", formats=["openvino"])
    kinds = {op.get_type_name() for op in ov.Core().read_model(str(out / "model.xml")).get_ops()}
    assert "Interpolate" in kinds and "Tile" not in kinds

    model = load_model_file(out / "model.keras")
    converted = ov.convert_model(model, input=[([-1, 4, 16, 16, 1], ov.Type.u8)])
    assert [factors for _, _, factors in nearest_upsamplings(converted)] == [(2, 2)]
    rewritten = converted.clone()
    assert nearest_upsampling_to_interpolate(rewritten) == 1
    clips = np.random.default_rng(1).integers(0, 256, (3, 4, 16, 16, 1), dtype=np.uint8)
    assert same_outputs(converted, rewritten, clips)
    assert np.array_equal(np.asarray(ov.compile_model(rewritten, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})(clips)[0]),
                          np.asarray(ov.compile_model(converted, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})(clips)[0]))
    import openvino.opset11 as opset

    broken = converted.clone()  # a graph that computes something else is told apart (rows shifted by one)
    for start, end, _ in nearest_upsamplings(broken):
        shifted = opset.interpolate(start, np.array([2, 2], np.float32), mode="nearest", shape_calculation_mode="scales",
                                    axes=np.array([2, 3], np.int64), coordinate_transformation_mode="asymmetric",
                                    nearest_mode="ceil")
        for target in list(end.get_target_inputs()):
            target.replace_source_output(shifted.output(0))
    broken.validate_nodes_and_infer_types()
    assert not same_outputs(converted, broken, clips)


def test_a_stale_export_is_never_used(tmp_path) -> None:
    fmt = next((f for f in FORMATS if _installed(f)), None)
    if fmt is None:
        pytest.skip("no runtime installed")
    from core.inference.errors import ScoreError
    from core.models.files import load_model_file, save_model
    from core.models.runtimes import RuntimeModel
    from core.runs.export import export_run

    project, run_dir = _future_frame_run(tmp_path)
    out = export_run(run_dir, tmp_path / "exported", formats=[fmt])
    _, model = _scores(project, out, fmt)
    assert isinstance(model, RuntimeModel)

    changed = load_model_file(out / "model.keras")  # the Keras file replaced since the export
    changed.set_weights([w * 0.5 for w in changed.get_weights()])
    save_model(changed, out / "model.keras")
    with pytest.raises(ScoreError, match=f"no {fmt} export made from this file"):
        _scores(project, out, fmt)
    keras_errors, model = _scores(project, out, "")  # the default falls back to Keras
    assert not isinstance(model, RuntimeModel)
    np.testing.assert_allclose(keras_errors, _scores(project, out, "keras")[0])

    fresh = export_run(run_dir, tmp_path / "again", formats=[fmt])
    exported = fresh / ("model.onnx" if fmt == "onnx" else "model.bin")
    exported.write_bytes(exported.read_bytes()[:-8] + b"\0" * 8)  # the exported file changed
    with pytest.raises(ScoreError, match="none, or the file changed since"):
        _scores(project, fresh, fmt)


def test_a_missing_runtime_package_is_one_line_naming_what_to_install(tmp_path, capsys, monkeypatch) -> None:
    project, run_dir = _future_frame_run(tmp_path)
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import onnxruntime now raises ImportError
    monkeypatch.setitem(sys.modules, "openvino", None)
    assert_one_line_error(capsys, ["export-run", str(project), "--run", "tiny", "--to", str(tmp_path / "o"),
                                   "--format", "openvino"], 'needs openvino: pip install "framewatch[runtime]"')
    assert not (tmp_path / "o").exists()
    assert_one_line_error(capsys, ["score", str(project), "--run", "tiny", "--video", "test.avi",
                                   "--runtime", "onnx"], "needs onnxruntime")


def _native_bf16() -> bool:
    if not _installed("openvino"):
        return False
    from core.models.runtimes import native_bf16

    return native_bf16()


def test_the_bf16_runtime_scores_the_openvino_export_close_to_keras_under_its_own_cache_key(tmp_path) -> None:
    if not _native_bf16():
        pytest.skip("openvino missing or this CPU does not compute bf16 natively")
    import dataclasses

    from core.inference.anomaly.project_scoring import run_model, score_key
    from core.models.runtimes import RuntimeModel
    from core.project import Project
    from core.runs.export import export_run

    project, run_dir = _future_frame_run(tmp_path)
    out = export_run(run_dir, tmp_path / "exported", formats=["openvino"])
    keras_errors, _ = _scores(project, out, "keras")
    f32_errors, _ = _scores(project, out, "openvino")
    errors, model = _scores(project, out, "openvino-bf16")
    assert isinstance(model, RuntimeModel) and model.precision == "bf16" and model.format == "openvino"
    # bf16 keeps 8 bits of mantissa: each frame's error moves by up to a few % relative, where f32 moves ~1e-6
    np.testing.assert_allclose(errors, keras_errors, rtol=5e-2)
    assert np.max(np.abs(errors - keras_errors) / keras_errors) > np.max(np.abs(f32_errors - keras_errors) / keras_errors)

    opened = Project.open(project, read_only=True)
    try:
        video = opened.video("test.avi")
        base = run_model(project, out)
        keys = {runtime: score_key(dataclasses.replace(base, runtime=runtime), video)
                for runtime in ("keras", "openvino", "openvino-bf16")}
    finally:
        opened.close()
    assert keys["keras"] == keys["openvino"]  # f32 runtimes agree to float rounding and share cached scores
    assert keys["openvino-bf16"] != keys["keras"]  # bf16 scores never pass for f32 ones


def test_the_bf16_runtime_is_refused_on_a_cpu_without_native_bf16(tmp_path, capsys, monkeypatch) -> None:
    if not _installed("openvino"):
        pytest.skip("openvino is not installed")
    import core.models.runtimes as runtimes
    from core.runs.export import export_run

    project, run_dir = _future_frame_run(tmp_path)
    export_run(run_dir, project / "runs" / "exported", formats=["openvino"])
    monkeypatch.setattr(runtimes, "native_bf16", lambda: False)
    assert_one_line_error(capsys, ["score", str(project), "--run", "exported", "--video", "test.avi",
                                   "--runtime", "openvino-bf16"], "needs a CPU that computes bf16 natively")


def test_by_default_a_run_with_an_openvino_export_scores_in_bf16_where_the_cpu_has_it_else_with_keras(
        tmp_path, monkeypatch) -> None:
    if not _installed("openvino"):
        pytest.skip("openvino is not installed")
    import core.models.runtimes as runtimes
    from core.models.runtimes import RuntimeModel
    from core.runs.export import export_run

    project, run_dir = _future_frame_run(tmp_path)
    out = export_run(run_dir, tmp_path / "exported", formats=["openvino"])
    native = _native_bf16()
    monkeypatch.setattr(runtimes, "native_bf16", lambda: False)
    _, model = _scores(project, out, "")
    assert not isinstance(model, RuntimeModel)  # f32 OpenVINO is no faster than Keras: the default falls back
    if native:
        monkeypatch.undo()
        _, model = _scores(project, out, "")
        assert isinstance(model, RuntimeModel) and model.precision == "bf16"


def test_openvino_runs_the_first_batch_size_compiled_for_that_size_and_others_with_a_free_batch(tmp_path) -> None:
    """The first batch size an OpenVINO model is given gets a compilation of that fixed shape (scoring sends one
    size but for each video's last batch); other sizes go to the free-batch compilation; all give Keras's
    outputs."""
    if not _installed("openvino"):
        pytest.skip("openvino is not installed")
    from core.models.files import load_model_file
    from core.models.runtimes import load_runtime_model
    from core.runs.export import export_run

    project, run_dir = _future_frame_run(tmp_path)
    out = export_run(run_dir, tmp_path / "exported", formats=["openvino"])
    keras_model = load_model_file(out / "model.keras")
    model = load_runtime_model(out / "model.xml", "openvino")
    clips = np.random.default_rng(2).integers(0, 256, (7, 4, 16, 16, 1), dtype=np.uint8)
    for batch in (clips[:4], clips[4:], clips[:4], clips[1:2]):
        np.testing.assert_allclose(model.predict_on_batch(batch), keras_model.predict_on_batch(batch),
                                   rtol=1e-4, atol=1e-5)
    assert model._static_batch == 4
    fixed = [p.get_partial_shape() for p in model._static.inputs]
    assert len(fixed) == 1 and fixed[0].is_static and fixed[0][0].get_length() == 4
    assert model._compiled.inputs[0].get_partial_shape()[0].is_dynamic
