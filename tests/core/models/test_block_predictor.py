"""Block predictors (``simvp``, ``convlstm-patch``): several future frames per call, trained on Moving MNIST
splits, rolled out by repeated blocks, saved and loaded in safe mode. Tiny: 16x16 frames, 3 given, 2 future."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

from core.data.moving_mnist import MovingMnistBatches
from core.inference.rollout.rollout import block_shape, reference_rollout, rollout, step_plan
from core.models import build_model, make_spec
from core.models.block_predictor import DepthToSpace, SpaceToDepth
from core.models.errors import SpecError
from core.models.files import load_model_file

TINY = {"simvp": dict(encoder_filters=8, translator_filters=8, translator_blocks=1, space_to_depth=1),
        "simvp-s2d": dict(encoder_filters=8, translator_filters=8, translator_blocks=1, space_to_depth=2),
        "convlstm-patch": dict(recurrent=(8,))}
PRESETS = tuple(TINY)


def tiny(name: str, **extra):
    """The tiny spec of ``name``: a preset, or ``simvp-s2d`` (``simvp`` with its outer level a space-to-depth)."""
    preset = name.removesuffix("-s2d")
    return make_spec("predict", preset, frames=3, future=2, height=16, width=16, **TINY[name], **extra)


@pytest.fixture(scope="module", params=PRESETS)
def trained(request):
    """A uint8 model of each preset after a few steps on random frames, and its loss history."""
    keras.utils.set_random_seed(0)
    spec = tiny(request.param, input_dtype="uint8", learning_rate=3e-3)
    model = build_model(spec)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (4, 3, 16, 16, 1), dtype=np.uint8)
    y = rng.integers(0, 256, (4, 2, 16, 16, 1), dtype=np.uint8)
    history = model.fit(x, y, batch_size=2, epochs=3, verbose=0).history["loss"]
    return request.param, model, history


def test_builds_trains_and_the_loss_is_finite(trained) -> None:
    name, model, history = trained
    assert model.output_shape == (None, 2, 16, 16, 1), name
    assert all(np.isfinite(history)) and history[-1] < history[0], (name, history)
    assert block_shape(model) == (3, 2)
    assert "blocks: 2 frames per call from the last 3" in step_plan(model).reason


def test_rollout_runs_repeated_blocks_and_its_first_frame_is_the_reference_loops(trained) -> None:
    name, model, _ = trained
    frames = np.random.default_rng(1).integers(0, 256, (4, 16, 16, 1), dtype=np.uint8)
    got = rollout(model, frames, 5)
    assert got.shape == (5, 16, 16, 1) and got.dtype == np.float32
    # by hand: the model on the last 3 frames, its 2 frames quantised and appended, three times (2 + 2 + 1)
    sequence, expected = frames, []
    for _ in range(3):
        block = np.asarray(model(sequence[-3:][None], training=False), np.float32)[0]
        expected.extend(block)
        sequence = np.concatenate([sequence, np.clip(np.rint(block * 255), 0, 255).astype(np.uint8)])
    np.testing.assert_allclose(got, np.stack(expected[:5]), atol=1e-5, err_msg=name)
    # the one-frame loop: one call per frame, keeping the first; the same first frame
    reference = reference_rollout(model, frames, 3)
    np.testing.assert_allclose(reference[0], got[0], atol=1e-5, err_msg=name)
    sequence = frames
    for k in range(3):
        first = np.asarray(model(sequence[-3:][None], training=False), np.float32)[0, 0]
        np.testing.assert_allclose(reference[k], first, atol=1e-5, err_msg=name)
        sequence = np.concatenate([sequence, np.clip(np.rint(first * 255), 0, 255).astype(np.uint8)[None]])
    # fewer given frames than the model reads: the first is repeated in front
    np.testing.assert_allclose(rollout(model, frames[:1], 2),
                               rollout(model, np.repeat(frames[:1], 3, axis=0), 2), atol=1e-6)


def test_round_trips_through_keras_file_in_safe_mode(trained, tmp_path: Path) -> None:
    name, model, _ = trained
    path = tmp_path / f"{name}.keras"
    model.save(path)
    loaded = load_model_file(path)  # safe_mode=True
    x = np.random.default_rng(2).integers(0, 256, (2, 3, 16, 16, 1), dtype=np.uint8)
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(model(x)), atol=1e-5, err_msg=name)
    assert block_shape(loaded) == (3, 2)


@pytest.mark.parametrize("input_dtype", ["uint8", "float32"])
def test_the_mse_plus_l1_loss_is_the_two_means_added_and_reloads_in_safe_mode(input_dtype, tmp_path: Path) -> None:
    spec = tiny("simvp", input_dtype=input_dtype, loss="mse+l1")
    model = build_model(spec)
    rng = np.random.default_rng(3)
    x = rng.integers(0, 256, (2, 3, 16, 16, 1), dtype=np.uint8)
    y = rng.integers(0, 256, (2, 2, 16, 16, 1), dtype=np.uint8)
    if input_dtype == "float32":
        x, y = x / 255.0, y / 255.0
    error = np.asarray(model(x)) - (y / 255.0 if input_dtype == "uint8" else y)
    expected = np.mean(error**2) + np.mean(np.abs(error))
    assert model.evaluate(x, y, verbose=0, return_dict=True)["loss"] == pytest.approx(expected, rel=1e-4)
    model.save(tmp_path / "m.keras")
    loaded = load_model_file(tmp_path / "m.keras", compile=True)
    assert loaded.evaluate(x, y, verbose=0, return_dict=True)["loss"] == pytest.approx(expected, rel=1e-4)


def test_patch_layers_invert_each_other_and_convlstm_predictions_depend_only_on_given_frames() -> None:
    x = np.random.default_rng(3).random((2, 3, 16, 16, 1), dtype=np.float32)
    patches = SpaceToDepth(4)(x)
    assert tuple(patches.shape) == (2, 3, 4, 4, 16)
    np.testing.assert_array_equal(np.asarray(patches)[0, 0, 0, 0], x[0, 0, :4, :4, 0].reshape(-1))
    np.testing.assert_array_equal(np.asarray(DepthToSpace(4)(patches)), x)
    # each clip of a batch is predicted from its own frames only
    model = build_model(tiny("convlstm-patch"), compile=False)
    changed = x.copy()
    changed[1] = 1 - changed[1]
    a, b = np.asarray(model(x)), np.asarray(model(changed))
    np.testing.assert_allclose(a[0], b[0], atol=1e-6)
    assert not np.allclose(a[1], b[1])


def test_moving_mnist_batches_split_at_given_frames(data_dir: Path) -> None:
    from core.data import mnist_digits

    digits = mnist_digits(data_dir / "mnist", "train")
    shifted = MovingMnistBatches(digits, 2, batch_size=2, frames=5, size=32, shuffle=False)
    split = MovingMnistBatches(digits, 2, batch_size=2, frames=5, size=32, shuffle=False, given=3)
    clips = shifted.sequence_batch(0)
    x, y = split.uint8_batch(0)
    np.testing.assert_array_equal(x, clips[:, :3])
    np.testing.assert_array_equal(y, clips[:, 3:])
    assert split.x_shape == (3, 32, 32, 1) and split[0][1].shape == (2, 2, 32, 32, 1)
    with pytest.raises(ValueError, match="given must be"):
        MovingMnistBatches(digits, 2, frames=5, given=5)


def test_bad_block_specs_are_refused() -> None:
    with pytest.raises(SpecError, match="layout must be"):
        make_spec("predict", "simvp", layout="transformer")
    with pytest.raises(SpecError, match="patch must be 2, 4 or 8"):
        make_spec("predict", "simvp", patch=3, height=18, width=18)
    with pytest.raises(SpecError, match="divisible by patch=4"):
        make_spec("predict", "convlstm-patch", height=18, width=18)
    with pytest.raises(SpecError, match="future must be"):
        make_spec("predict", "simvp", future=0)
    with pytest.raises(SpecError, match="space_to_depth=2 needs the simvp layout with patch 4 or 8"):
        make_spec("predict", "convlstm-patch", space_to_depth=2)
    with pytest.raises(SpecError, match="space_to_depth=2 needs the simvp layout with patch 4 or 8"):
        make_spec("predict", "simvp", space_to_depth=2, patch=2)


def test_space_to_depth_runs_nothing_at_full_size() -> None:
    """The folded simvp's layers all work at half size or less; only the input and output are full frames."""
    model = build_model(tiny("simvp-s2d"), compile=False)
    assert model.output_shape == (None, 2, 16, 16, 1)
    sizes = {layer.name: layer.output.shape[-3] for layer in model.layers
             if len(layer.output.shape) >= 4 and layer.name not in ("frames", "to_frames")}
    assert sizes and max(sizes.values()) == 8, sizes
    plain = build_model(tiny("simvp"), compile=False)
    assert max(layer.output.shape[-3] for layer in plain.layers if len(layer.output.shape) >= 4) == 16


def test_a_block_preset_trains_on_a_project_and_rolls_a_video_out(tmp_path: Path) -> None:
    from core.inference.rollout.video_rollout import predict_run, rollout_video
    from core.project import Project
    from core.training.from_project import train_project
    from core.training.request import TrainingRequest
    from tests.video_factory import write_video

    project = Project.create(tmp_path / "proj")
    try:
        video = project.add_video(write_video(tmp_path / "walk.avi", 150, fps=10), split="train")
        result = train_project(project, TrainingRequest(
            "predict", "convlstm-patch", run_name="block", filters=(4,), height=16, width=16, grayscale=True,
            frames=3, epochs=1, batch_size=2, steps_per_epoch=2, error_level=False))
        assert result.status == "completed", result.record.notes
        assert result.record.spec["frames"] == 3 and result.record.spec["future"] == 10
        run = predict_run(project.folder, "block")
        rolled = rollout_video(run.load_model(), video.path, run.spec.preprocess, 0, 3, 4)
        assert rolled.predicted.shape == (4, 16, 16, 1) and rolled.truth.shape == (4, 16, 16, 1)
    finally:
        project.close()
