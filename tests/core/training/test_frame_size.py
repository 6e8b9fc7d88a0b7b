"""The frame size of a new run: the footage's aspect ratio at about the preset's pixel count, times a scale."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.models.registry import get_preset, make_spec
from core.project import Project
from core.training.errors import ConfigError
from core.training.frame_size import (
    choose_frame_size,
    fitted_size,
    footage_aspect,
    request_frame_size,
    training_video_sizes,
)
from core.training.request import TrainingRequest

FUTURE_FRAME = get_preset("anomaly", "future-frame")


def test_every_family_says_what_its_sides_must_divide_by() -> None:
    assert FUTURE_FRAME.size_multiple == 4  # a 3-level U-Net pools twice
    assert make_spec("predict", "unet", filters=(8, 8, 8, 8)).size_multiple == 8
    assert get_preset("anomaly", "conv-ae").size_multiple == 4  # strides 2 x 2
    assert get_preset("predict", "default").size_multiple == 2  # encoded at 1/2 resolution
    assert get_preset("predict", "conv3d").size_multiple == 1
    assert get_preset("classify").size_multiple == 1


def test_ped2_keeps_the_presets_64x96_and_4_to_3_footage_is_no_longer_squashed() -> None:
    ped2 = choose_frame_size(FUTURE_FRAME, "anomaly", None, None, None, [(360, 240)] * 16)
    assert (ped2.height, ped2.width, ped2.source) == (64, 96, "footage")
    vga = choose_frame_size(FUTURE_FRAME, "anomaly", None, None, None, [(640, 480), (320, 240)])
    assert (vga.height, vga.width) == (68, 92)  # 4:3 (1.35 after rounding to 4s), about 6,144 pixels
    assert vga.height % 4 == 0 and vga.width % 4 == 0 and abs(vga.width / vga.height - 4 / 3) < 0.03
    assert abs(vga.height * vga.width - 64 * 96) < 0.05 * 64 * 96
    wide = choose_frame_size(FUTURE_FRAME, "anomaly", None, None, None, [(1920, 1080)])
    assert (wide.height, wide.width) == (60, 104) and "16:9" in wide.text()
    portrait = choose_frame_size(FUTURE_FRAME, "anomaly", None, None, None, [(480, 640)])
    assert (portrait.height, portrait.width) == (92, 68)
    make_spec("anomaly", "future-frame", height=vga.height, width=vga.width)  # the model takes it


def test_scale_multiplies_both_sides_and_rounds_to_the_models_multiple() -> None:
    ped2 = choose_frame_size(FUTURE_FRAME, "anomaly", None, None, 1.5, [(360, 240)])
    assert (ped2.height, ped2.width, ped2.scale) == (96, 144, 1.5) and "x 1.5" in ped2.text()
    assert fitted_size(64 * 96, 4 / 3, 4, 2.0) == (136, 180)
    given = choose_frame_size(FUTURE_FRAME, "anomaly", 50, 70, 2.0, [(360, 240)])
    assert (given.height, given.width, given.source) == (100, 140, "given")
    assert choose_frame_size(FUTURE_FRAME, "anomaly", 50, 70, None, [(360, 240)]).width == 70  # as given
    assert choose_frame_size(FUTURE_FRAME, "anomaly", 48, None, None, [(360, 240)]).width == 48  # one side: square
    with pytest.raises(ConfigError, match="frame width 6144 .*choose a smaller scale"):
        choose_frame_size(FUTURE_FRAME, "anomaly", 384, 1536, 4.0, [])
    for bad in (0, -1.0, float("nan"), 100.0, "2"):
        with pytest.raises(ConfigError, match="frame scale must be a number from 0.1 to 16"):
            TrainingRequest("anomaly", scale=bad)


def test_disagreeing_videos_follow_most_of_them_and_say_so() -> None:
    aspect = footage_aspect([(640, 480), (360, 240), (320, 240), (640, 480), (0, 0)])
    assert (aspect.width, aspect.height, aspect.agreeing, aspect.videos, aspect.others) == (640, 480, 3, 4, ("360x240",))
    assert "3 of 4 are 640x480 (4:3)" in aspect.note() and "360x240" in aspect.note()
    assert footage_aspect([(360, 240)] * 3).note() == ""
    assert footage_aspect([(1920, 1080), (1920, 1088)]).others == ()  # within 1%: one ratio
    assert footage_aspect([]) is None and footage_aspect([(0, 0)]) is None


def test_reference_presets_other_tasks_and_no_footage_keep_the_presets_size() -> None:
    stae = get_preset("anomaly", "stae")
    assert (choose_frame_size(stae, "anomaly", None, None, None, [(640, 480)], reference=True).height,
            stae.height) == (227, 227)
    lrcn = get_preset("classify", "lrcn-mobilenetv2")
    size = choose_frame_size(lrcn, "classify", None, None, None, [(640, 480)])
    assert (size.height, size.width, size.source) == (224, 224, "preset")
    assert choose_frame_size(FUTURE_FRAME, "anomaly", None, None, None, []).source == "preset"


@pytest.fixture(scope="module")
def mixed_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two 4:3 train videos, one 3:2 train video, and a 16:9 test video (never trained on)."""
    from tests.video_factory import write_video

    root = tmp_path_factory.mktemp("mixed")
    project = Project.create(root / "project")
    for name, (width, height), split in (("a", (64, 48), "train"), ("b", (96, 72), "train"), ("c", (60, 40), "train"),
                                         ("d", (96, 54), "test")):
        project.add_video(write_video(root / f"{name}.avi", 12, width=width, height=height), split=split, scan=False)
    project.save()
    project.close()
    return project.folder


def test_the_training_videos_decide_not_the_test_videos(mixed_project: Path) -> None:
    project = Project.open(mixed_project)
    data = project.data
    project.close()
    assert sorted(training_video_sizes(data)) == [(60, 40), (64, 48), (96, 72)]
    ids = {v.name: v.id for v in data.videos.values()}
    assert training_video_sizes(data, [ids["c.avi"], ids["d.avi"]]) == [(60, 40)]
    request = TrainingRequest("anomaly")
    size = request_frame_size(data, request, request.spec())
    assert (size.height, size.width, size.source) == (68, 92, "footage")
    assert "2 of 3 are" in size.aspect.note()
    only_c = TrainingRequest("anomaly", videos=(ids["c.avi"],), scale=0.5)
    size = request_frame_size(data, only_c, only_c.spec())
    assert (size.height, size.width) == (32, 48)
    record = size.to_dict()
    assert record["source"] == "footage" and record["footage"]["width"] == 60 and json.dumps(record)


def test_a_run_trains_at_the_footages_aspect_ratio_and_records_it(mixed_project: Path, capsys) -> None:
    from core.cli.main import main
    from core.runs import RunRecord

    code = main(["train", str(mixed_project), "--task", "anomaly", "--scale", "0.5", "--filters", "2,2,2",
                 "--frames", "4", "--stride", "4", "--frame-steps", "1", "--batch-size", "2", "--steps-per-epoch",
                 "1", "--epochs", "1", "--val-fraction", "0", "--no-error-level", "--name", "aspect"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "frame size 32x44: the aspect ratio of the training videos, 64x48 (4:3)" in err
    assert "2 of 3 are 64x48 (4:3)" in err
    record = RunRecord.load(mixed_project / "runs" / "aspect")
    assert (record.spec["height"], record.spec["width"]) == (32, 44)
    assert record.data["frame_size"]["scale"] == 0.5 and record.data["frame_size"]["source"] == "footage"
    assert record.data["preprocess"]["height"] == 32 and record.data["preprocess"]["width"] == 44


def test_the_motion_scorer_keeps_its_own_working_size(mixed_project: Path) -> None:
    project = Project.open(mixed_project)
    request = TrainingRequest("anomaly", preset="motion")
    size = request_frame_size(project.data, request, request.spec())
    project.close()
    assert size.source == "motion" and "motion scorer" in size.text()
