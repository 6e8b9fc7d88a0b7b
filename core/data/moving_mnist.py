"""Moving MNIST: MNIST digits bouncing in a square frame, the next-frame prediction benchmark.

The generator follows Srivastava et al. (2015, "Unsupervised learning of video representations using
LSTMs"): each of ``digits`` 28x28 digits starts at a random position of a ``size`` x ``size`` canvas
(default 64x64) and moves in a random direction at a constant speed (:data:`STEP` of the free range
per frame, 3.6 pixels on a 64x64 canvas); on reaching a border it is reflected. Overlapping digits are
combined with the pixel-wise maximum. Sequences have ``frames`` frames (default 20: 10 given, 10 to
predict).

Sequences are seeded one by one: sequence ``i`` of seed ``s`` and stream ``k`` is drawn from
``numpy.random.default_rng([s, k, i])`` (its digit images, start positions and directions), so it is
the same bytes however the sequences are chunked into batches, and nothing needs holding in memory:
:class:`MovingMnistBatches` renders each batch when it is asked for.

The source digits are split so that training and validation sequences never share a digit image
(:data:`SPLITS`): the first 9,000 images of the file are for training, the last 1,000 for validation
(the MNIST test file ``t10k-images-idx3-ubyte.gz`` has 10,000). Validation sequences use stream 1,
training sequences stream 0, so their trajectories differ as well.
"""

from __future__ import annotations

import gzip
import math
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from core.project.errors import DatasetError

#: Images file looked for when a folder is given (gzip or plain).
IMAGES_FILE = "t10k-images-idx3-ubyte"
#: IDX magic number of an image file: unsigned bytes, 3 dimensions (count, rows, columns).
IMAGES_MAGIC = 2051
#: Side of an MNIST digit, in pixels.
DIGIT_SIZE = 28
#: Speed of a digit, as a fraction of the range its top-left corner can move in (per frame).
STEP = 0.1
#: Which source images each split draws from: training and validation never share a digit image.
SPLITS: dict[str, slice] = {"train": slice(0, 9000), "validation": slice(9000, None)}
#: Random stream of each split (the second entry of every sequence's seed).
STREAMS: dict[str, int] = {"train": 0, "validation": 1}

#: IDX type codes -> NumPy dtypes (big-endian, as the format stores them).
_IDX_TYPES = {0x08: np.dtype("u1"), 0x09: np.dtype("i1"), 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
              0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
_GZIP_MAGIC = b"\x1f\x8b"


def read_idx(path: str | Path, magic: int | None = None) -> np.ndarray:
    """The array in an IDX file (the MNIST format), gzip-compressed or plain.

    ``magic``: the magic number the file must have (e.g. :data:`IMAGES_MAGIC`). Raises
    :class:`~core.project.errors.DatasetError` naming the file for a missing or unreadable file, a
    ``.gz`` name on a file that is not gzip, a damaged or truncated gzip stream, a wrong magic
    number, or fewer bytes than the header announces.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DatasetError("no such file", path) from None
    except IsADirectoryError:
        raise DatasetError("is a folder, not an IDX file", path) from None
    except OSError as error:
        raise DatasetError(f"cannot be read ({error.strerror or error})", path) from None
    if raw[:2] == _GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except EOFError:
            raise DatasetError("truncated gzip file (it ends before the compressed data does)", path) from None
        except (gzip.BadGzipFile, zlib.error, OSError) as error:
            raise DatasetError(f"damaged gzip file ({error})", path) from None
    elif path.suffix == ".gz":
        raise DatasetError("not a gzip file (its name ends in .gz but its first bytes are not gzip's)", path)
    if len(raw) < 4:
        raise DatasetError(f"not an IDX file: {len(raw)} bytes, shorter than the 4-byte header", path)
    found = int.from_bytes(raw[:4], "big")
    if raw[0] or raw[1] or raw[2] not in _IDX_TYPES or not raw[3]:
        raise DatasetError(f"not an IDX file (magic number {found:#010x})", path)
    if magic is not None and found != magic:
        raise DatasetError(f"magic number {found} where {magic} was expected (a different kind of IDX file)", path)
    dtype, ndim = _IDX_TYPES[raw[2]], raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DatasetError(f"truncated: the header of {ndim} dimensions needs {header} bytes, the file has "
                           f"{len(raw)}", path)
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    needed = header + math.prod(shape) * dtype.itemsize
    if len(raw) < needed:
        raise DatasetError(f"truncated: shape {'x'.join(map(str, shape))} needs {needed} bytes, the data has "
                           f"{len(raw)}", path)
    return np.frombuffer(raw, dtype, math.prod(shape), header).reshape(shape).astype(dtype.newbyteorder("="))


def images_path(path: str | Path) -> Path:
    """The MNIST images file: ``path`` itself, or :data:`IMAGES_FILE` (``.gz`` or plain) in folder ``path``."""
    path = Path(path)
    if not path.is_dir():
        return path
    for name in (IMAGES_FILE + ".gz", IMAGES_FILE):
        if (path / name).is_file():
            return path / name
    raise DatasetError(f"no MNIST images file ({IMAGES_FILE}.gz or {IMAGES_FILE}) in this folder", path)


def mnist_digits(path: str | Path, split: str | None = None) -> np.ndarray:
    """MNIST digit images ``(n, 28, 28)`` uint8 from an IDX images file (or a folder holding one).

    ``split``: ``"train"`` or ``"validation"`` for that split's images (:data:`SPLITS`), ``None`` for all.
    """
    file = images_path(path)
    images = read_idx(file, IMAGES_MAGIC)
    if images.shape[1:] != (DIGIT_SIZE, DIGIT_SIZE):
        raise DatasetError(f"images are {images.shape[1]}x{images.shape[2]}, not the {DIGIT_SIZE}x{DIGIT_SIZE} "
                           "of MNIST digits", file)
    if split is None:
        return images
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}, not {split!r}")
    chosen = images[SPLITS[split]]
    if not len(chosen):
        raise DatasetError(f"only {len(images)} images: none left for the {split} split "
                           f"(images {SPLITS[split].start}..)", file)
    return chosen


def _trajectory(rng: np.random.Generator, frames: int, digits: int, free: int, step: float = STEP) -> np.ndarray:
    """Top-left corners ``(frames, digits, 2)`` (row, column) in pixels, each in ``[0, free]``.

    ``step``: the speed, as a fraction of the free range ``free`` per frame (``step * free`` pixels).
    """
    position = rng.random((digits, 2))
    theta = rng.random(digits) * 2 * np.pi
    velocity = np.stack([np.sin(theta), np.cos(theta)], axis=1) * step
    corners = np.empty((frames, digits, 2))
    for t in range(frames):  # move, reflect at the walls, record (as the reference generator does)
        position += velocity
        low, high = position <= 0, position >= 1
        position[low], position[high] = 0.0, 1.0
        velocity[low | high] *= -1
        corners[t] = position
    return (corners * free).astype(np.int64)


def moving_mnist(
    n_sequences: int,
    frames: int = 20,
    size: int = 64,
    digits: int = 2,
    seed: int = 0,
    images: np.ndarray | None = None,
    dtype: np.dtype | type = np.uint8,
    *,
    first: int = 0,
    stream: int = 0,
) -> np.ndarray:
    """Sequences ``first .. first + n_sequences - 1`` of a seed: ``(n, frames, size, size, 1)``.

    ``images``: the digits to draw from, ``(m, 28, 28)`` uint8 (:func:`mnist_digits`). ``dtype``:
    ``uint8`` (0..255, as decoded video frames) or a float type (in [0, 1]). Sequence ``i`` is drawn
    from ``default_rng([seed, stream, i])``: the same seed gives the same bytes, in one call or in
    chunks (``first``).
    """
    if images is None:
        raise ValueError("images is required: the digits to draw from, e.g. mnist_digits(folder, 'train')")
    images = np.asarray(images)
    if images.ndim != 3 or images.shape[1:] != (DIGIT_SIZE, DIGIT_SIZE) or not len(images):
        raise ValueError(f"images must be (n >= 1, {DIGIT_SIZE}, {DIGIT_SIZE}), not {images.shape}")
    if images.dtype != np.uint8:
        raise ValueError(f"images must be uint8 MNIST digits, not {images.dtype}")
    for name, value, low in (("n_sequences", n_sequences, 0), ("frames", frames, 1), ("digits", digits, 1),
                             ("size", size, DIGIT_SIZE), ("first", first, 0), ("seed", seed, 0),
                             ("stream", stream, 0)):
        if int(value) != value or value < low:
            raise ValueError(f"{name} must be a whole number >= {low}, not {value}")
    out = np.zeros((n_sequences, frames, size, size, 1), np.uint8)
    free = size - DIGIT_SIZE
    for row in range(n_sequences):
        rng = np.random.default_rng([seed, stream, first + row])
        chosen = images[rng.integers(0, len(images), digits)]
        _draw(out[row], chosen, _trajectory(rng, frames, digits, free))
    if np.dtype(dtype) == np.uint8:
        return out
    if not np.issubdtype(np.dtype(dtype), np.floating):
        raise ValueError(f"dtype must be uint8 or a float type, not {np.dtype(dtype)}")
    return np.multiply(out, 1.0 / 255.0, dtype=dtype)


def _draw(sequence: np.ndarray, chosen: np.ndarray, corners: np.ndarray) -> None:
    """Draw digits ``chosen`` at ``corners`` ``(frames, digits, 2)`` into ``sequence`` ``(frames, size, size, 1)``
    (pixel-wise maximum where they overlap)."""
    for t in range(len(sequence)):
        canvas = sequence[t, :, :, 0]
        for digit, (top, left) in zip(chosen, corners[t], strict=True):
            patch = canvas[top : top + DIGIT_SIZE, left : left + DIGIT_SIZE]
            np.maximum(patch, digit, out=patch)


#: Random stream offset of the speed sequences (:func:`moving_mnist_speeds`): never the next-frame streams.
SPEED_STREAM = 100


def moving_mnist_speeds(
    n_sequences: int,
    images: np.ndarray,
    *,
    speed_range: tuple[float, float],
    frames: int = 10,
    size: int = 64,
    digits: int = 2,
    seed: int = 0,
    stream: int = 0,
    first: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Moving MNIST sequences whose digits move at a speed drawn per sequence, and that speed.

    Returns ``(clips, speeds)``: ``clips`` ``(n, frames, size, size, 1)`` uint8 and ``speeds`` ``(n,)``
    float32, the speed every digit of the sequence moves at, in **pixels per frame** of the ``size`` x
    ``size`` canvas, drawn uniformly from ``speed_range`` (pixels per frame, ``low <= high``). It is the
    generator's own quantity, not an estimate: each digit's top-left corner moves by this many pixels a
    frame (before rounding down to whole pixels, and except on the frame it bounces off a wall). Sequence
    ``i`` is drawn from ``default_rng([seed, SPEED_STREAM + stream, i])``, the same in any chunking
    (``first``), and never equal to a next-frame sequence of :func:`moving_mnist`.
    """
    low, high = (float(v) for v in speed_range)
    free = size - DIGIT_SIZE
    if not 0 <= low <= high or high > free:
        raise ValueError(f"speed_range must be 0 <= low <= high <= {free} pixels per frame (the free range of a "
                         f"{size}x{size} canvas), not {speed_range}")
    moving_mnist(0, frames, size, digits, seed, images, first=first, stream=stream)  # checks the arguments
    clips = np.zeros((n_sequences, frames, size, size, 1), np.uint8)
    speeds = np.empty(n_sequences, np.float32)
    for row in range(n_sequences):
        rng = np.random.default_rng([seed, SPEED_STREAM + stream, first + row])
        chosen = images[rng.integers(0, len(images), digits)]
        speed = rng.uniform(low, high)
        _draw(clips[row], chosen, _trajectory(rng, frames, digits, free, speed / free))
        speeds[row] = speed
    return clips, speeds


class MovingMnistBatches:
    """``len()`` batches of ``sequences`` Moving MNIST sequences, rendered batch by batch (memory stays flat).

    Batches are what the next-frame trainer takes (the convention of
    :class:`~core.data.batches.ClipBatches`, so :func:`~core.data.batches.to_pydataset` wraps this too):
    ``x`` = frames ``0 .. frames-2``, ``y`` = frames ``1 .. frames-1``, each ``(batch, frames - 1, H, W, 1)``;
    with ``given`` (for block predictors, which predict several frames in one call), ``x`` = frames
    ``0 .. given-1`` and ``y`` = frames ``given .. frames-1``;
    float32 in [0, 1] from ``batches[i]``, ``uint8`` from :meth:`uint8_batch` (for models that scale
    frames themselves). ``frame_size`` (``(height, width)``) resizes the ``size`` x ``size`` canvas
    (area interpolation, as video frames are resized) for models of another input size. The sequence
    order is shuffled per epoch, deterministically from ``seed`` and the epoch number.
    """

    task = "next_frame"

    def __init__(
        self,
        images: np.ndarray,
        sequences: int,
        *,
        batch_size: int = 8,
        frames: int = 20,
        size: int = 64,
        digits: int = 2,
        seed: int = 0,
        stream: int = 0,
        frame_size: tuple[int, int] | None = None,
        shuffle: bool = True,
        given: int | None = None,
    ) -> None:
        if sequences < 1 or batch_size < 1 or frames < 2:
            raise ValueError(f"sequences and batch_size must be >= 1 and frames >= 2, not {sequences}, "
                             f"{batch_size}, {frames}")
        if given is not None and not 1 <= given < frames:
            raise ValueError(f"given must be 1 .. frames - 1 ({frames - 1}), not {given}")
        self.given = given
        self.images = images
        self.sequences, self.batch_size, self.frames = sequences, batch_size, frames
        self.size, self.digits, self.seed, self.stream = size, digits, seed, stream
        self.frame_size = tuple(frame_size) if frame_size else (size, size)
        self.shuffle = shuffle
        self.epoch = 0
        self._order = self._make_order()
        moving_mnist(0, frames, size, digits, seed, images)  # checks the arguments now, not at the first batch

    @property
    def x_shape(self) -> tuple[int, ...]:
        """Shape of one ``x`` sample: ``(frames - 1, height, width, 1)`` (``given`` frames with ``given``)."""
        return (self.frames - 1 if self.given is None else self.given, *self.frame_size, 1)

    def _split(self, clips: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.given is None:
            return clips[:, :-1], clips[:, 1:]
        return clips[:, :self.given], clips[:, self.given:]

    @property
    def num_samples(self) -> int:
        return self.sequences

    def __len__(self) -> int:
        return math.ceil(self.sequences / self.batch_size)

    def _make_order(self) -> np.ndarray:
        order = np.arange(self.sequences)
        if self.shuffle:
            np.random.default_rng((self.seed, self.stream, self.epoch)).shuffle(order)
        return order

    def on_epoch_end(self) -> None:
        """Next epoch: a new order of the same sequences."""
        self.epoch += 1
        self._order = self._make_order()

    def sequence_batch(self, index: int) -> np.ndarray:
        """Whole ``uint8`` sequences ``(B, frames, H, W, 1)`` of batch ``index`` in this epoch's order."""
        if not 0 <= index < len(self):
            raise IndexError(f"batch {index} out of range (0..{len(self) - 1})")
        ids = self._order[index * self.batch_size : (index + 1) * self.batch_size]
        clips = np.stack([moving_mnist(1, self.frames, self.size, self.digits, self.seed, self.images,
                                       first=int(i), stream=self.stream)[0] for i in ids])
        if self.frame_size != (self.size, self.size):
            from core.preprocessing import PreprocessSpec
            from core.preprocessing.frames import resize_frame

            spec = PreprocessSpec(height=self.frame_size[0], width=self.frame_size[1], grayscale=True)
            clips = np.stack([[resize_frame(frame[:, :, 0], spec) for frame in clip] for clip in clips])
        return clips

    def uint8_batch(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """Batch ``index`` as ``uint8`` pairs ``(x, y)`` (shifted, or split at ``given``)."""
        return self._split(self.sequence_batch(index))

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        return self._split(np.multiply(self.sequence_batch(index), np.float32(1.0 / 255.0), dtype=np.float32))

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """One epoch of float32 batches, then :meth:`on_epoch_end`."""
        for i in range(len(self)):
            yield self[i]
        self.on_epoch_end()
