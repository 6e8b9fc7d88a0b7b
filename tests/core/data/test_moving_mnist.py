"""Moving MNIST: the IDX reader and its errors, the seeded generator, the split, streamed batches, training."""

from __future__ import annotations

import gzip
import math
from pathlib import Path

import numpy as np
import pytest

from core.data import MovingMnistBatches, mnist_digits, moving_mnist, read_idx, to_pydataset
from core.data.moving_mnist import DIGIT_SIZE, IMAGES_MAGIC, SPLITS, _trajectory
from core.project.errors import DatasetError


@pytest.fixture(scope="module")
def mnist(data_dir: Path) -> Path:
    return data_dir / "mnist"


@pytest.fixture(scope="module")
def train_digits(mnist: Path) -> np.ndarray:
    return mnist_digits(mnist, "train")


def idx_bytes(array: np.ndarray, magic: int | None = None) -> bytes:
    """An IDX file of a uint8 array (magic 0x0803 for 3 dimensions)."""
    magic = magic if magic is not None else 0x0800 + array.ndim
    header = magic.to_bytes(4, "big") + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    return header + np.ascontiguousarray(array, np.uint8).tobytes()


# -- reading -------------------------------------------------------------------------------------------
def test_reads_the_mnist_test_images_gzip_and_plain_alike(mnist: Path, tmp_path: Path) -> None:
    images = read_idx(mnist / "t10k-images-idx3-ubyte.gz", IMAGES_MAGIC)
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8 and images.max() == 255
    plain = tmp_path / "digits-idx3-ubyte"
    plain.write_bytes(idx_bytes(images[:5]))
    assert np.array_equal(read_idx(plain, IMAGES_MAGIC), images[:5])
    assert np.array_equal(mnist_digits(mnist), images)  # a folder finds its images file


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("missing.gz", None, "no such file"),
        ("labels.gz", gzip.compress(idx_bytes(np.zeros(10, np.uint8))), "magic number 2049 where 2051"),
        ("plain.gz", idx_bytes(np.zeros((2, 28, 28), np.uint8)), "not a gzip file"),
        ("cut.gz", gzip.compress(idx_bytes(np.arange(2 * 28 * 28).reshape(2, 28, 28)))[:-30], "truncated gzip"),
        ("short-idx3-ubyte", idx_bytes(np.zeros((3, 28, 28), np.uint8))[:-100], "truncated: shape 3x28x28"),
        ("text-idx3-ubyte", b"hello world", "not an IDX file"),
        ("empty-idx3-ubyte", b"", "not an IDX file"),
    ],
    ids=lambda value: value if isinstance(value, str) and len(value) < 40 else "",  # stable ids across processes
)
def test_bad_files_raise_one_line_errors_naming_the_file(tmp_path: Path, name: str, content, problem: str) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(DatasetError, match=problem) as caught:
        mnist_digits(path)
    assert str(caught.value).startswith(f"{path}: ") and "\n" not in str(caught.value)


def test_a_folder_without_images_and_images_of_another_size_are_refused(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no MNIST images file"):
        mnist_digits(tmp_path)
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(idx_bytes(np.zeros((2, 32, 32), np.uint8)))
    with pytest.raises(DatasetError, match="images are 32x32, not the 28x28"):
        mnist_digits(tmp_path)


def test_training_and_validation_digits_are_disjoint_slices_of_the_file(mnist: Path, train_digits) -> None:
    everything = mnist_digits(mnist)
    validation = mnist_digits(mnist, "validation")
    assert len(train_digits) == 9000 and len(validation) == 1000
    assert np.array_equal(train_digits, everything[:9000]) and np.array_equal(validation, everything[9000:])
    assert SPLITS["train"].stop == SPLITS["validation"].start


# -- generating ----------------------------------------------------------------------------------------
def test_sequences_are_seeded_the_same_in_one_call_or_in_chunks(train_digits) -> None:
    whole = moving_mnist(6, seed=3, images=train_digits)
    assert whole.shape == (6, 20, 64, 64, 1) and whole.dtype == np.uint8
    assert np.array_equal(whole, moving_mnist(6, seed=3, images=train_digits))  # same seed, same bytes
    chunks = [moving_mnist(2, seed=3, images=train_digits, first=f) for f in (0, 2, 4)]
    assert np.array_equal(whole, np.concatenate(chunks))
    assert not np.array_equal(whole, moving_mnist(6, seed=4, images=train_digits))
    assert not np.array_equal(whole, moving_mnist(6, seed=3, images=train_digits, stream=1))
    floats = moving_mnist(2, seed=3, images=train_digits, dtype=np.float32)
    assert floats.dtype == np.float32 and np.allclose(floats, whole[:2] / 255.0)
    # two digits of ink in every frame (some overlap at times), none lost at the borders
    ink = (whole > 0).sum(axis=(2, 3, 4))
    assert ink.min() > 0 and ink.max() <= 2 * (train_digits > 0).sum(axis=(1, 2)).max()


def test_digits_move_at_constant_speed_and_bounce_off_the_walls() -> None:
    rng = np.random.default_rng(0)
    corners = np.concatenate([_trajectory(rng, 20, 2, 36) for _ in range(50)], axis=1)  # (20, 100, 2)
    assert corners.min() == 0 and corners.max() == 36  # walls reached, never crossed
    steps = np.diff(corners, axis=0)
    assert np.abs(steps).max() <= 4  # 0.1 of the 36-pixel range per frame, rounded down to whole pixels
    reversals = (steps[1:] * steps[:-1] < 0).any(axis=2)
    assert reversals.any()
    at_wall = ((corners[1:-1] == 0) | (corners[1:-1] == 36)).any(axis=2)
    assert (reversals <= at_wall).all()  # a direction only changes at a wall


def test_overlapping_digits_combine_with_the_maximum() -> None:
    faint, bright = np.full((28, 28), 100, np.uint8), np.full((28, 28), 200, np.uint8)
    clips = moving_mnist(40, size=40, images=np.stack([faint, bright]), seed=1)[..., 0]
    frames = clips.reshape(-1, 40, 40)
    assert set(np.unique(frames)) <= {0, 100, 200}  # neither summed nor clipped
    bright_area, faint_area = (frames == 200).sum(axis=(1, 2)), (frames == 100).sum(axis=(1, 2))
    both = (bright_area > 0) & (faint_area > 0)
    overlapped = both & (faint_area < DIGIT_SIZE**2)
    assert overlapped.any()  # a 40x40 canvas makes the squares overlap
    assert (bright_area[both] == DIGIT_SIZE**2).all()  # the brighter digit is never hidden, whichever is drawn last


def test_bad_arguments_are_refused(train_digits) -> None:
    with pytest.raises(ValueError, match="images is required"):
        moving_mnist(1)
    with pytest.raises(ValueError, match="size must be a whole number >= 28"):
        moving_mnist(1, size=16, images=train_digits)
    with pytest.raises(ValueError, match="images must be"):
        moving_mnist(1, images=np.zeros((3, 32, 32), np.uint8))


# -- batches and training ------------------------------------------------------------------------------
def test_batches_are_shifted_uint8_pairs_rendered_on_demand(train_digits) -> None:
    batches = MovingMnistBatches(train_digits, 1_000_000, batch_size=4, seed=2, shuffle=False)
    assert len(batches) == 250_000  # a million sequences: nothing is made before it is asked for
    x, y = batches.uint8_batch(1)
    assert x.shape == y.shape == (4, 19, 64, 64, 1) and x.dtype == y.dtype == np.uint8
    assert np.array_equal(x[:, 1:], y[:, :-1])
    assert np.array_equal(np.concatenate([x, y[:, -1:]], axis=1), moving_mnist(4, images=train_digits, seed=2,
                                                                               first=4))
    xf, yf = batches[1]
    assert xf.dtype == np.float32 and np.allclose(xf, x / 255.0) and np.allclose(yf, y / 255.0)
    small = MovingMnistBatches(train_digits, 3, batch_size=2, frame_size=(16, 16))
    assert small.uint8_batch(1)[0].shape == (1, 19, 16, 16, 1)
    with pytest.raises(IndexError):
        small.uint8_batch(2)


def test_each_epoch_shows_every_sequence_once_in_a_new_order(train_digits) -> None:
    batches = MovingMnistBatches(train_digits, 6, batch_size=6, frames=3, seed=5)
    first = batches.sequence_batch(0)
    batches.on_epoch_end()
    second = batches.sequence_batch(0)
    assert not np.array_equal(first, second)
    key = [s.tobytes() for s in first]
    assert sorted(key) == sorted(s.tobytes() for s in second)


def test_a_tiny_next_frame_model_learns_from_generated_sequences(train_digits, tmp_path: Path) -> None:
    from core.models import make_spec
    from core.training.data import TrainingData
    from core.training.trainer import TrainingConfig, train

    spec = make_spec("predict", "default", filters=(4, 4)).replace(height=16, width=16, input_dtype="uint8")
    batches = MovingMnistBatches(train_digits, 8, batch_size=4, frame_size=(16, 16), seed=0)
    data = TrainingData(to_pydataset(batches, raw=True), batch_size=4, description={"source": "moving-mnist"})
    config = TrainingConfig(epochs=4, batch_size=4, steps_per_epoch=2, patience=0, lr_patience=0)
    result = train(spec, data, tmp_path / "run", config=config)
    losses = [h["loss"] for h in result.record.history]
    assert result.status == "completed" and len(losses) == 4
    assert all(math.isfinite(v) for v in losses) and losses[-1] < losses[0]
