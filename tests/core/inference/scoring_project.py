"""A tiny project with a run to score: generated videos, a 16x16 model saved as the run's model file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.video_factory import write_video

#: Clip length of the tiny models.
FRAMES = 4


def tiny_spec(task: str = "anomaly", input_dtype: str = "uint8") -> Any:
    """A 16x16 gray model of ``task`` with a few filters: builds and runs in well under a second."""
    from core.models import make_spec

    if task == "anomaly":
        return make_spec("anomaly", "conv-ae", frames=FRAMES, height=16, width=16, channels=1,
                         encoder=((4, 3, 2),), recurrent=(4,), final_kernel=3, input_dtype=input_dtype)
    return make_spec("predict", "default", frames=FRAMES, height=16, width=16, channels=1, filters=(4,),
                     kernels=(3,), encoder_filters=4, input_dtype=input_dtype)


def tiny_model(task: str = "anomaly", input_dtype: str = "uint8") -> Any:
    from core.models import build_model

    return build_model(tiny_spec(task, input_dtype), compile=False)


def save_run(project_folder: Path, name: str = "tiny", task: str = "anomaly", with_model: bool = True) -> Path:
    """``<project>/runs/<name>/`` with a ``run.json`` and (unless ``with_model=False``) an untrained model file,
    as training leaves one: ``best.keras``, and the checkpoint ``last.keras`` + ``state.json`` (so the folder
    is a run, not a read-only model folder, :mod:`core.runs.resume_rule`)."""
    from core.atomic_write import copy_file
    from core.models.files import save_model
    from core.runs import RunRecord, write_state

    spec = tiny_spec(task)
    run_dir = project_folder / "runs" / name
    run_dir.mkdir(parents=True)
    record = RunRecord(run_id=name, task=task, preset=spec.preset, spec=spec.to_dict(), config={"seed": 0},
                       data={"options": {"val_fraction": 0.0}, "preprocess": {"height": 16, "width": 16,
                                                                             "grayscale": True}},
                       status="completed" if with_model else "created")
    if with_model:
        model = tiny_model(task)
        save_model(model, run_dir / "best.keras")
        copy_file(run_dir / "best.keras", run_dir / "last.keras")
        write_state(run_dir, {"epoch": 0})
        record.model_path = str(run_dir / "best.keras")  # as earlier versions wrote it: a path, not a name
    record.save(run_dir)
    return run_dir


def make_project(folder: Path, frames: tuple[int, ...] = (18, 20), test_frames: int = 22) -> Path:
    """A project of generated videos: ``frames`` train-split videos and one test-split video ``test.avi``
    with an anomaly interval (frames 8-14). Returns the project folder (saved and closed)."""
    from core.project import Project

    videos = folder.parent / f"{folder.name}-videos"
    videos.mkdir(parents=True)
    project = Project.create(folder, name="tiny")
    try:
        for number, count in enumerate(frames):
            project.add_video(write_video(videos / f"train{number}.avi", count), split="train")
        test = project.add_video(write_video(videos / "test.avi", test_frames), split="test")
        project.add_interval(test.id, 8, 14)
        project.save()
    finally:
        project.close()
    return folder
