"""``framewatch project import-moving-mnist``: Moving MNIST sequences as a project of short lossless videos."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from core.cli.main import main
from core.data.moving_mnist import mnist_digits, moving_mnist
from core.project import Project
from core.project.errors import ProjectValidationError
from core.project.importers.moving_mnist import import_moving_mnist, split_counts
from core.video.open import open_video


@pytest.fixture(scope="module")
def mnist(data_dir: Path) -> Path:
    return data_dir / "mnist"


def _frames(path: Path) -> np.ndarray:
    with open_video(path) as video:
        assert video.fps == pytest.approx(10.0)
        return np.stack(list(video.iter_frames(color="gray")))


def test_the_project_lists_the_videos_with_their_splits_and_frames(mnist: Path, tmp_path: Path, capsys) -> None:
    folder = tmp_path / "mm"
    assert main(["project", "import-moving-mnist", str(folder), "--sequences", "12", "--mnist", str(mnist),
                 "--seed", "5", "--frames", "8"]) == 0
    assert "wrote 12 Moving MNIST videos of 8 frames (10 train, 1 val, 1 test; seed 5)" in capsys.readouterr().out
    project = Project.open(folder, read_only=True)
    videos = sorted(project.videos.values(), key=lambda v: v.name)
    assert [v.name for v in videos] == ["test/0000", *[f"train/{k:04d}" for k in range(10)], "val/0000"]
    assert [v.split for v in videos] == ["test", *["train"] * 10, "val"]
    assert all((v.frame_count, v.width, v.height, v.fps) == (8, 64, 64, 10.0) for v in videos)
    # lossless: each video decodes to exactly its split's sequence (digits and random stream)
    train = mnist_digits(mnist, "train")
    held_out = mnist_digits(mnist, "validation")
    by_name = {v.name: v for v in videos}
    for name, digits, stream, k in (("train/0003", train, 0, 3), ("val/0000", held_out, 1, 0),
                                    ("test/0000", held_out, 2, 0)):
        expected = moving_mnist(1, 8, 64, 2, 5, digits, first=k, stream=stream)[0, :, :, :, 0]
        assert np.array_equal(_frames(by_name[name].path), expected), name
    assert main(["project", "info", str(folder), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["videos"] == 12


def test_split_counts() -> None:
    assert split_counts(3) == {"train": 1, "val": 1, "test": 1}
    assert split_counts(200) == {"train": 160, "val": 20, "test": 20}
    with pytest.raises(ProjectValidationError, match="at least 3"):
        split_counts(2)


def test_a_test_video_is_the_sequence_predict_dataset_shows(mnist: Path, tmp_path: Path, capsys) -> None:
    """A next-frame run in the project's runs/ predicts a test video as `predict --dataset --sequence k` does:
    the project the app opens shows the same frames and predictions."""
    from core.inference.rollout.video_rollout import predict_run
    from core.runs import list_runs
    from tests.core.cli.test_predict_commands import make_run

    folder = tmp_path / "mm"
    assert main(["project", "import-moving-mnist", str(folder), "--sequences", "3", "--mnist", str(mnist)]) == 0
    run = make_run(folder, "next")
    assert [listing.name for listing in list_runs(folder)] == ["next"]
    assert predict_run(folder, "next").record.task == "predict"  # what the app's Predicted frames dock opens
    test_video = next(v for v in Project.open(folder, read_only=True).videos.values() if v.split == "test")
    capsys.readouterr()
    common = ["--run", str(run), "--given", "10", "--future", "10", "--json"]
    assert main(["predict", str(folder), "--video", str(test_video.path), "--start", "0", *common]) == 0
    in_project = json.loads(capsys.readouterr().out)["steps"]
    assert main(["predict", "--dataset", "moving-mnist", "--mnist", str(mnist), "--sequence", "0", *common]) == 0
    from_dataset = json.loads(capsys.readouterr().out)["steps"]
    assert len(in_project) == 10
    assert [s["mse"] for s in in_project] == pytest.approx([s["mse"] for s in from_dataset], abs=1e-6)


def test_bad_input_is_a_one_line_error_and_writes_nothing(mnist: Path, tmp_path: Path, capsys) -> None:
    missing = tmp_path / "nowhere" / "t10k-images-idx3-ubyte.gz"
    folder = tmp_path / "mm"
    assert main(["project", "import-moving-mnist", str(folder), "--sequences", "3", "--mnist", str(missing)]) == 2
    err = capsys.readouterr().err
    assert str(missing) in err and err.count("\n") == 1
    assert not folder.exists()  # the new project is removed again
    with pytest.raises(SystemExit) as caught:
        main(["project", "import-moving-mnist", str(folder), "--sequences", "2", "--mnist", str(mnist)])
    assert caught.value.code == 2 and "argument --sequences: must be a whole number from 3" in capsys.readouterr().err
    # a second import into the same project would overwrite its videos: refused, naming the first file
    assert main(["project", "import-moving-mnist", str(folder), "--sequences", "3", "--mnist", str(mnist)]) == 0
    capsys.readouterr()
    assert main(["project", "import-moving-mnist", str(folder), "--sequences", "3", "--mnist", str(mnist)]) == 2
    err = capsys.readouterr().err
    assert "train_0000.avi: already exists" in err and err.count("\n") == 1
    assert len(Project.open(folder, read_only=True).videos) == 3
    with pytest.raises(ProjectValidationError, match="at least 2"):
        import_moving_mnist(Project.open(folder, read_only=True), mnist, 3, frames=1)
