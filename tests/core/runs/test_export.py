"""``framewatch export-run``: a run's model without optimizer state, and its record without local paths."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from core.cli.main import main
from tests.core.cli.one_line_errors import assert_one_line_error, assert_usage_error
from tests.core.inference.scoring_project import make_project, save_run, tiny_spec


def trained_run(tmp_path: Path) -> tuple[Path, Path]:
    """A project and a run whose best.keras carries optimizer state (one training step)."""
    from core.models import build_model
    from core.models.files import save_model

    project = make_project(tmp_path / "p")
    run_dir = save_run(project)
    model = build_model(tiny_spec())
    clips = np.random.default_rng(0).integers(0, 255, (2, *model.inputs[0].shape[1:]), dtype=np.uint8)
    model.train_on_batch(clips, clips)
    save_model(model, run_dir / "best.keras")
    record = json.loads((run_dir / "run.json").read_text())
    record["data"]["project"] = str(project)
    record["process"] = {"pid": 123, "host": "somewhere"}
    (run_dir / "run.json").write_text(json.dumps(record))
    return project, run_dir


def test_export_writes_weights_only_and_a_portable_record_that_scores_like_the_run(tmp_path, capsys) -> None:
    project, run_dir = trained_run(tmp_path)
    out = tmp_path / "shipped" / "model"
    assert main(["export-run", str(project), "--run", "tiny", "--to", str(out)]) == 0
    assert f"wrote {out / 'model.keras'}" in capsys.readouterr().out
    assert (out / "model.keras").stat().st_size < (run_dir / "best.keras").stat().st_size  # no optimizer state
    text = (out / "run.json").read_text()
    assert str(project) not in text and str(tmp_path) not in text
    record = json.loads(text)
    assert record["model_path"] == "model.keras" and record["process"] is None
    assert record["spec"] == json.loads((run_dir / "run.json").read_text())["spec"]
    assert any("exported from run 'tiny'" in note for note in record["notes"])

    scores = {}
    for run in ("tiny", str(out)):
        assert main(["score", str(project), "--run", run, "--video", "test.avi", "--json", "--frames"]) == 0
        scores[run] = json.loads(capsys.readouterr().out)
    original, exported = (scores[key]["videos"][0]["errors"] for key in ("tiny", str(out)))
    np.testing.assert_allclose(exported, original, rtol=1e-6)


def test_export_refuses_an_existing_folder_and_a_run_without_a_model(tmp_path, capsys) -> None:
    project, _ = trained_run(tmp_path)
    out = tmp_path / "out"
    assert main(["export-run", str(project), "--run", "tiny", "--to", str(out)]) == 0
    capsys.readouterr()
    assert_one_line_error(capsys, ["export-run", str(project), "--run", "tiny", "--to", str(out)], "already exists")
    assert main(["export-run", str(project), "--run", "tiny", "--to", str(out), "--overwrite"]) == 0
    save_run(project, "empty", with_model=False)
    assert_one_line_error(capsys, ["export-run", str(project), "--run", "empty", "--to", str(tmp_path / "o2")],
                          "has no model yet")
    assert_one_line_error(capsys, ["export-run", str(project), "--run", "nope", "--to", str(tmp_path / "o3")],
                          "no training run 'nope'")


def test_the_scoring_an_export_recommends_is_what_evaluate_uses_unless_told_otherwise(tmp_path, capsys) -> None:
    project, _ = trained_run(tmp_path)
    out = tmp_path / "out"
    assert main(["export-run", str(project), "--run", "tiny", "--to", str(out), "--error", "worst-patches",
                 "--smooth", "3"]) == 0
    assert json.loads((out / "run.json").read_text())["data"]["scoring"] == {"error": "worst-patches", "smooth": 3}
    capsys.readouterr()
    assert main(["evaluate", str(project), "--run", str(out), "--json"]) == 0
    recommended = json.loads(capsys.readouterr().out)
    assert (recommended["frame_error"], recommended["smoothing"]) == ("worst-patches", 3)
    assert main(["evaluate", str(project), "--run", str(out), "--error", "mse", "--smooth", "1"]) == 0
    assert "frame error mse, not smoothed" in capsys.readouterr().out
    assert_usage_error(capsys, ["export-run", str(project), "--run", "tiny", "--to", str(tmp_path / "o"),
                                "--smooth", "0"], "argument --smooth: must be a whole number from 1 to 10,000, not 0")


def test_scoring_with_a_run_folder_outside_the_project_never_writes_into_it(tmp_path, capsys) -> None:
    project, _ = trained_run(tmp_path)
    out = tmp_path / "shipped"
    assert main(["export-run", str(project), "--run", "tiny", "--to", str(out)]) == 0
    before = sorted(p.name for p in out.iterdir())
    capsys.readouterr()
    assert main(["score", str(project), "--run", str(out), "--all"]) == 0
    assert sorted(p.name for p in out.iterdir()) == before  # the shipped folder stays as it was
    written = [line.removeprefix("events written to ") for line in capsys.readouterr().out.splitlines()
               if line.startswith("events written to ")]
    assert len(written) == 1 and Path(written[0]).is_relative_to(project / "cache" / "events")
    assert Path(written[0]).is_file()
