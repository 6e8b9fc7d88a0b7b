"""Datasets from projects: frame cache, split by video, batches per task, tf.data and PyDataset adapters.

Every generated frame shows its own index (tests/video_factory.py), so the tests check *which* frames
each sample holds, not just shapes.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from core.data import (
    FrameCache,
    anomaly_batches,
    assign_splits,
    build_batches,
    classification_batches,
    frame_cache,
    next_frame_batches,
    regression_batches,
)
from core.errors import Cancelled
from core.preprocessing import PreprocessSpec
from core.project import DatasetError, Project
from tests.video_factory import decode_index, write_video

SPEC = PreprocessSpec(height=48, width=64, grayscale=True)


def indices(clip: np.ndarray) -> list[int]:
    """Frame indices shown by a float clip ``(frames, H, W, 1)`` in [0, 1]."""
    return [decode_index((frame[..., 0] * 255).round().astype(np.uint8)) for frame in clip]


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("media")
    for n, frames in enumerate((30, 34, 38, 42)):
        write_video(folder / f"v{n}.avi", frames, fps=10)
    return folder


@pytest.fixture
def project(tmp_path: Path, media: Path) -> Project:
    p = Project.create(tmp_path / "proj")
    for n in range(4):
        p.add_video(media / f"v{n}.avi")
    p.add_class("walk")
    p.add_class("run")
    p.add_target("speed", 0, 10)
    return p


def ids(project: Project) -> list[str]:
    return list(project.videos)


# -- frame cache ---------------------------------------------------------------------------------
def test_cache_is_built_once_then_read_without_decoding(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = frame_cache(project)
    video = project.videos[ids(project)[0]]
    events = []
    frames = cache.get(video, SPEC, progress=events.append)
    assert frames.shape == (30, 48, 64, 1) and frames.dtype == np.uint8
    assert [decode_index(f[..., 0]) for f in frames] == list(range(30))
    assert events[-1].done == events[-1].total == 30
    assert cache.path_for(video, SPEC).parent == project.folder / "cache" / "frames"
    assert video.fingerprint.key in cache.path_for(video, SPEC).name

    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded again")

    monkeypatch.setattr("core.video.open_video", no_decoding)
    again = FrameCache(project.cache_dir / "frames").get(video, SPEC)
    assert isinstance(again, np.memmap) and np.array_equal(again, frames)


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="counts open files through /proc")
@pytest.mark.parametrize(("frame_count", "declared"), [(None, 0), (None, 20), (None, 45), (40, 30)])
def test_cache_holds_the_frames_that_decode_whatever_the_counts_say(
    project: Project, frame_count: int | None, declared: int
) -> None:
    from dataclasses import replace

    # v0.avi decodes 30 frames. Added without a scan, only the header's count is known, and headers
    # can declare none (raw H.264, live MKV), too few or too many; a recorded count can be too high.
    video = replace(project.videos[ids(project)[0]], frame_count=frame_count, declared_frame_count=declared)
    cache = frame_cache(project)
    frames = cache.get(video, SPEC)
    assert frames.shape == (30, 48, 64, 1)
    assert [decode_index(f[..., 0]) for f in frames] == list(range(30))
    assert [p.name for p in cache.folder.iterdir()] == [cache.path_for(video, SPEC).name]  # no temporaries left


def test_many_cached_videos_do_not_exhaust_file_handles(tmp_path: Path) -> None:
    from core.data.frame_cache import MAX_MAPPED, CachedFrames

    before = len(list(Path("/proc/self/fd").iterdir()))
    frames = []
    for n in range(MAX_MAPPED * 3):
        np.save(tmp_path / f"{n}.npy", np.full((3, 2, 2, 1), n % 256, np.uint8))
        frames.append(CachedFrames(tmp_path / f"{n}.npy", (3, 2, 2, 1)))
    assert [int(f[1][0, 0, 0]) for f in frames] == [n % 256 for n in range(MAX_MAPPED * 3)]
    assert len(list(Path("/proc/self/fd").iterdir())) - before <= MAX_MAPPED + 2
    assert np.asarray(frames[5]).shape == (3, 2, 2, 1) and len(frames[5]) == 3


def test_cancelled_cache_build_leaves_no_file(project: Project) -> None:
    cache = frame_cache(project)
    video = project.videos[ids(project)[0]]
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        cache.build(video, SPEC, cancel=cancel)
    assert not list(cache.folder.glob("*"))


def test_a_changed_video_is_not_cached(project: Project) -> None:
    video = project.videos[ids(project)[1]]
    write_video(video.path.with_name("tmp.avi"), 5).replace(video.path)
    try:
        with pytest.raises(DatasetError, match="v1.avi is changed"):
            frame_cache(project).get(video, SPEC)
    finally:
        write_video(video.path, 34, fps=10)


def test_test_ground_truth_covers_the_videos_the_test_split_holds(project: Project) -> None:
    from core.data import split_frame_labels

    v = ids(project)
    project.set_video_split([v[0]], "test")
    project.add_subclip(v[1], 0, 10, label="walk", split="test")  # its subclips put v1 in test too
    project.add_interval(v[1], 5, 8)
    labels = split_frame_labels(project.data, "test")
    assert list(labels) == [v[0], v[1]]
    assert labels[v[1]].nonzero()[0].tolist() == [5, 6, 7] and not labels[v[0]].any()


# -- splits ----------------------------------------------------------------------------------------
def test_splits_are_by_whole_video(project: Project) -> None:
    v = ids(project)
    project.set_video_split([v[0]], "test")
    project.add_subclip(v[1], 0, 10, label="walk", split="val")
    project.add_subclip(v[1], 10, 20, label="run")  # inherits val from its sibling
    splits = assign_splits(project.data, val_fraction=0.0)
    assert splits == {v[0]: "test", v[1]: "val", v[2]: "train", v[3]: "train"}
    assert assign_splits(project.data, 0.5, seed=3) == assign_splits(project.data, 0.5, seed=3)  # deterministic
    project.add_subclip(v[1], 20, 30, label="run", split="train")
    with pytest.raises(DatasetError, match="v1.avi would feed train and val"):
        assign_splits(project.data)


def test_val_is_carved_from_train_videos_when_none_is_named(project: Project) -> None:
    project.set_video_split(ids(project), "train")
    splits = assign_splits(project.data, val_fraction=0.25)
    assert sorted(splits.values()) == ["train", "train", "train", "val"]
    assert set(assign_splits(project.data, val_fraction=0.0).values()) == {"train"}


# -- tasks -----------------------------------------------------------------------------------------
def test_next_frame_pairs_are_shifted_by_one(project: Project) -> None:
    project.set_video_split(ids(project), "train")
    batches = next_frame_batches(project, SPEC, length=6, batch_size=4, val_fraction=0, shuffle=False)
    assert batches.num_samples == 5 + 5 + 6 + 7  # non-overlapping 6-frame windows of 30, 34, 38, 42 frames
    x, y = batches[0]
    assert x.shape == y.shape == (4, 5, 48, 64, 1) and x.dtype == y.dtype == np.float32
    assert x.min() >= 0.0 and x.max() <= 1.0
    assert indices(x[1]) == [6, 7, 8, 9, 10] and indices(y[1]) == [7, 8, 9, 10, 11]
    assert len(batches) == 6 and len(batches[5][0]) == 3


def test_anomaly_clips_are_normal_only_with_stride_augmentation(project: Project) -> None:
    v = ids(project)
    project.set_video_split(v, "train")
    project.add_interval(v[0], 10, 20)
    batches = anomaly_batches(project, SPEC, length=4, frame_steps=(1, 3), val_fraction=0, batch_size=1000,
                              shuffle=False)
    x, y = batches[0]
    assert y is x and x.shape[1:] == (4, 48, 64, 1)
    samples = batches.samples
    of_v0 = [indices(x[i]) for i in range(len(x)) if samples.video_ids[samples.video_index[i]] == v[0]]
    seen = {i for clip in of_v0 for i in clip}
    assert seen == set(range(10)) | set(range(20, 30))  # no window of v0 touches its abnormal frames
    steps = {b - a for clip in map(indices, x) for a, b in zip(clip, clip[1:], strict=False)}
    assert steps == {1, 3}


def test_classification_and_regression_sample_subclips(project: Project) -> None:
    v = ids(project)
    project.add_subclip(v[0], 0, 8, label="walk", split="train")
    project.add_subclip(v[1], 10, 30, label="run", split="train")
    project.add_subclip(v[2], 0, 3, value=7.5, split="train")
    project.add_subclip(v[3], 0, 20, label="walk", split="val")
    cls = classification_batches(project, SPEC, length=4, shuffle=False, batch_size=8)
    x, y = cls[0]
    assert cls.class_names == ["walk", "run"] and x.shape == (2, 4, 48, 64, 1)
    assert y.tolist() == [0, 1] and y.dtype == np.int32
    assert classification_batches(project, SPEC, length=4, shuffle=False, one_hot=True)[0][1].tolist() == [[1, 0], [0, 1]]
    assert indices(x[0]) == [1, 3, 5, 7] and indices(x[1]) == [12, 17, 22, 27]  # spread over the subclip
    stepped = classification_batches(project, SPEC, length=4, frame_step=3, shuffle=False)
    assert indices(stepped[0][0][0]) == [0, 3, 6, 7]  # past the end: the last frame repeats
    val = classification_batches(project, SPEC, "val", length=4)
    assert val.num_samples == 1 and not val.shuffle
    reg = regression_batches(project, SPEC, length=4)
    xr, yr = reg[0]
    assert yr.shape == (1, 1) and yr[0, 0] == 7.5 and indices(xr[0]) == [0, 1, 1, 2]


def test_empty_split_is_a_clear_error(project: Project) -> None:
    with pytest.raises(DatasetError, match="no classification samples in the train split"):
        classification_batches(project, SPEC)
    with pytest.raises(DatasetError, match="unknown task"):
        build_batches(project, "segmentation", SPEC)


def test_no_windows_is_a_clear_error_not_an_index_error(project: Project, tmp_path: Path) -> None:
    from core.data import anomaly_batches, next_frame_batches

    with pytest.raises(DatasetError, match="no anomaly samples in the train split"):
        anomaly_batches(Project.create(tmp_path / "empty"), SPEC)  # an empty project
    with pytest.raises(DatasetError, match="no anomaly samples in the test split"):
        anomaly_batches(project, SPEC, "test")  # no video in test
    with pytest.raises(DatasetError, match="no next-frame samples"):
        next_frame_batches(project, SPEC, length=500)  # every video is shorter than one window


def test_epochs_reshuffle_deterministically(project: Project) -> None:
    project.set_video_split(ids(project), "train")
    batches = anomaly_batches(project, SPEC, length=5, frame_steps=(1,), stride=5, batch_size=64, val_fraction=0)
    first = [indices(c)[0] for c in batches[0][0]]
    batches.on_epoch_end()
    second = [indices(c)[0] for c in batches[0][0]]
    assert sorted(first) == sorted(second) and first != second


def test_mean_frame_subtraction_uses_training_frames(project: Project) -> None:
    project.set_video_split(ids(project), "train")
    spec = PreprocessSpec(height=48, width=64, grayscale=True, subtract_mean=True)
    batches = anomaly_batches(project, spec, length=4, frame_steps=(1,), stride=4, batch_size=256, val_fraction=0)
    raw = batches.clips(np.arange(batches.num_samples)).astype(np.float32) / 255
    assert np.allclose(batches[0][0], raw[batches.batch_ids(0)] - batches.mean_frame, atol=1e-6)
    assert batches.mean_frame.shape == (48, 64, 1)


# -- framework adapters (one test, so TensorFlow and Keras load once) ------------------------------
def test_tf_dataset_and_pydataset_give_the_numpy_batches(project: Project) -> None:
    from core.data import to_pydataset, to_tf_dataset

    v = ids(project)
    project.add_subclip(v[0], 0, 8, label="walk", split="train")
    project.add_subclip(v[1], 10, 30, label="run", split="train")
    cases = [("classification", False, True), ("classification", True, False), ("next_frame", False, True),
             ("next_frame", False, False), ("anomaly", False, True)]
    for task, one_hot, in_memory in cases:
        batches = build_batches(project, task, SPEC, length=4, batch_size=2, shuffle=False, val_fraction=0,
                                one_hot=one_hot)
        dataset = to_tf_dataset(batches, in_memory=in_memory)
        assert int(dataset.cardinality()) == len(batches)
        for (tx, ty), n in zip(dataset, range(2), strict=False):
            nx, ny = batches[n]
            assert np.allclose(tx.numpy(), nx) and np.allclose(ty.numpy(), ny) and tx.dtype.name == "float32"
            assert ty.dtype.name == ny.dtype.name
    shuffled = to_tf_dataset(anomaly_batches(project, SPEC, length=4, stride=4, frame_steps=(1,), batch_size=64,
                                             val_fraction=0))
    epochs = [[indices(clip)[0] for x, _ in shuffled for clip in x.numpy()] for _ in range(2)]
    assert sorted(epochs[0]) == sorted(epochs[1]) and epochs[0] != epochs[1]  # each epoch reshuffled
    pydataset = to_pydataset(batches)
    assert len(pydataset) == len(batches) and np.array_equal(pydataset[0][0], batches[0][0])


def test_raw_uint8_batches_match_the_float_ones(project: Project) -> None:
    from core.data import to_pydataset, to_tf_dataset

    for task in ("next_frame", "anomaly"):
        batches = build_batches(project, task, SPEC, length=4, batch_size=2, shuffle=False, val_fraction=0)
        ux, uy = batches.uint8_batch(0)
        fx, fy = batches[0]
        assert ux.dtype == uy.dtype == np.uint8
        assert np.allclose(ux / np.float32(255), fx) and np.allclose(uy / np.float32(255), fy)
        for in_memory in (True, False):
            tx, ty = next(iter(to_tf_dataset(batches, in_memory=in_memory, raw=True)))
            assert tx.dtype.name == ty.dtype.name == "uint8"
            assert np.array_equal(tx.numpy(), ux) and np.array_equal(ty.numpy(), uy)
        px, _ = to_pydataset(batches, raw=True)[0]
        assert np.array_equal(px, ux)
    centred = build_batches(project, "anomaly", PreprocessSpec(48, 64, subtract_mean=True), length=4,
                            val_fraction=0)
    with pytest.raises(ValueError, match="mean frame"):
        centred.uint8_batch(0)
    with pytest.raises(ValueError, match="mean frame"):
        to_tf_dataset(centred, raw=True)


def test_chosen_videos_alone_give_samples_and_keep_their_split(project: Project) -> None:
    v = ids(project)
    project.set_video_split(v, "train")
    # no validation share: which whole video it would take depends on the random video ids
    batches = build_batches(project, "anomaly", SPEC, "train", length=4, stride=4, val_fraction=0,
                            video_ids=[v[1], v[3]])
    assert {batches.samples.video_ids[i] for i in np.unique(batches.samples.video_index)} == {v[1], v[3]}
    with pytest.raises(DatasetError, match="no video with id 'nope'"):
        build_batches(project, "anomaly", SPEC, "train", length=4, video_ids=["nope"])
    with pytest.raises(DatasetError, match="no videos chosen"):
        build_batches(project, "anomaly", SPEC, "train", length=4, video_ids=[])
