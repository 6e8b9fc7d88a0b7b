"""Ped2 window classification task: labels from ground-truth intervals, border windows, whole-video halves."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from core.data.ped2_windows import abnormal_frames, label_windows, read_ped2, split_test_videos, windows_of
from core.project.errors import DatasetError


def test_a_window_is_positive_only_when_all_its_frames_are_abnormal_and_border_windows_are_dropped() -> None:
    flags = abnormal_frames(12, [(5, 12)])  # frames 5..11 abnormal
    starts, labels, dropped = label_windows(flags, length=4, stride=1)
    # windows 0..1 see no abnormal frame; 2..4 straddle the border at frame 5; 5..8 are all abnormal
    assert starts.tolist() == [0, 1, 5, 6, 7, 8]
    assert labels.tolist() == [0, 0, 1, 1, 1, 1]
    assert dropped == 3


def test_most_frames_make_a_window_positive_when_asked_and_a_window_must_fit_the_video() -> None:
    flags = abnormal_frames(10, [(3, 100)])  # clipped to the video
    starts, labels, dropped = label_windows(flags, length=4, stride=2, positive_fraction=0.75)
    # starts 0, 2, 4, 6 (8 would overrun): 1/4, 3/4, 4/4, 4/4 abnormal
    assert starts.tolist() == [2, 4, 6] and labels.tolist() == [1, 1, 1] and dropped == 1
    assert label_windows(np.zeros(3, bool), length=4, stride=1)[0].size == 0
    with pytest.raises(ValueError, match="positive_fraction"):
        label_windows(flags, 4, 1, positive_fraction=0)


def test_halves_hold_whole_videos_out_and_the_second_fold_swaps_them() -> None:
    ids = [f"testing/{k:02d}" for k in range(12, 0, -1)]
    trained, held = split_test_videos(ids, 0)
    assert held == [f"testing/{k:02d}" for k in (2, 4, 6, 8, 10, 12)]
    assert not set(trained) & set(held) and sorted(trained + held) == sorted(ids)
    assert split_test_videos(ids, 1) == (held, trained)
    abnormal = {i: abnormal_frames(20, [(10, 20)]) for i in ids}
    train, test = windows_of(trained, abnormal, 4, 2), windows_of(held, abnormal, 4, 2)
    assert not set(train.video) & set(test.video)
    assert set(test.video) == set(held)
    with pytest.raises(DatasetError, match="at least 2"):
        split_test_videos(ids[:1])


def _tiny_ped2(root: Path, gt: str = "[2:4]\n[1:3]") -> Path:
    for part, videos in (("training", 1), ("testing", 2)):
        for v in range(1, videos + 1):
            folder = root / part / f"{v:02d}"
            folder.mkdir(parents=True)
            for k in range(5):
                cv2.imwrite(str(folder / f"{k:03d}.jpg"), np.full((24, 36, 3), 40 * k, np.uint8))
    lines = [f"TestVideoFile{{end+1}}.gt_frame = {line};" for line in gt.splitlines()]
    (root / "testing" / "UCSDped2.m").write_text("TestVideoFile = {};\n" + "\n".join(lines) + "\n")
    return root


def test_reads_frames_small_and_gray_with_the_ground_truth_of_each_test_video(tmp_path: Path) -> None:
    ped2 = read_ped2(_tiny_ped2(tmp_path), size=(8, 12))
    assert ped2.training == ["training/01"] and ped2.testing == ["testing/01", "testing/02"]
    assert ped2.frames["testing/01"].shape == (5, 8, 12) and ped2.frames["testing/01"].dtype == np.uint8
    assert ped2.abnormal["testing/01"].tolist() == [False, True, True, True, False]  # [2:4], 1-based inclusive
    assert ped2.abnormal["testing/02"].tolist() == [True, True, True, False, False]
    assert not ped2.abnormal["training/01"].any()
    windows = windows_of(ped2.testing, ped2.abnormal, 2, 1)
    assert windows.clips(ped2.frames).shape == (len(windows), 2, 8, 12, 1)


def test_a_ground_truth_that_does_not_match_the_test_videos_is_named(tmp_path: Path) -> None:
    root = _tiny_ped2(tmp_path, gt="[2:4]")
    with pytest.raises(DatasetError, match="1 gt_frame lines for 2 test videos") as error:
        read_ped2(root)
    assert "UCSDped2.m" in str(error.value)
