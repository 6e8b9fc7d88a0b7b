"""``framewatch export-run``: a run's model without optimizer state, and its record without local paths."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

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
                 "--smooth", "3", "--min-run", "4", "--merge-gap", "2"]) == 0
    assert json.loads((out / "run.json").read_text())["data"]["scoring"] == {
        "error": "worst-patches", "smooth": 3, "min_run": 4, "merge_gap": 2}
    capsys.readouterr()
    assert main(["evaluate", str(project), "--run", str(out), "--json"]) == 0
    recommended = json.loads(capsys.readouterr().out)
    assert (recommended["frame_error"], recommended["smoothing"]) == ("worst-patches", 3)
    assert (recommended["threshold"]["min_run"], recommended["threshold"]["merge_gap"]) == (4, 2)  # its event rule
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


def _with_error_level(run_dir: Path) -> None:
    """Give the run an error-level file (any small model: export copies its weights) named in run.json."""
    from core.models.files import save_model
    from tests.core.inference.scoring_project import tiny_model

    save_model(tiny_model(), run_dir / "error_level.keras")
    record = json.loads((run_dir / "run.json").read_text())
    record["data"]["error_level"] = {"file": "error_level.keras"}
    (run_dir / "run.json").write_text(json.dumps(record))


def _contents(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir()}


@pytest.mark.parametrize("fails_at", ["the record", "the error level"])
def test_an_overwrite_that_fails_midway_leaves_the_previous_export_whole(tmp_path, monkeypatch, fails_at) -> None:
    from core.runs import RunError, RunRecord
    from core.runs.export import export_run

    project, run_dir = trained_run(tmp_path)
    _with_error_level(run_dir)
    other = save_run(project, "other")  # another model: other weights, no error level
    out = tmp_path / "exported"
    export_run(run_dir, out)
    before = _contents(out)
    if fails_at == "the record":
        def broken_save(self, folder):
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(RunRecord, "save", broken_save)
        source = other
    else:  # the second file of the export: the model is written by then
        import keras

        saved = []
        real_save = keras.Model.save

        def save_once(self, path, *args, **kwargs):
            if saved:
                raise OSError(28, "No space left on device")
            saved.append(path)
            return real_save(self, path, *args, **kwargs)

        monkeypatch.setattr(keras.Model, "save", save_once)
        source = run_dir
    with pytest.raises(RunError, match="exported: cannot write the exported run"):
        export_run(source, out, overwrite=True)
    monkeypatch.undo()
    assert _contents(out) == before  # the previous export, every byte of it
    assert sorted(p.name for p in out.parent.iterdir() if p.name.startswith(".exported")) == []
    export_run(other, out, overwrite=True)  # then a whole new export: no error level of the old run beside it
    assert sorted(_contents(out)) == ["model.keras", "run.json"]
    assert json.loads((out / "run.json").read_text())["run_id"] == "other"


def test_an_export_never_replaces_a_folder_holding_other_files(tmp_path, capsys) -> None:
    project, run_dir = trained_run(tmp_path)
    other = save_run(project, "other")
    before = _contents(other)
    assert_one_line_error(capsys, ["export-run", str(project), "--run", "tiny", "--to", str(other), "--overwrite"],
                          "holds files an export does not write (best.keras")
    assert _contents(other) == before


def test_what_a_killed_export_left_is_not_listed_as_a_run_and_is_cleaned_by_the_next(tmp_path) -> None:
    from core.atomic_write import temp_path
    from core.runs import list_runs
    from core.runs.export import export_run
    from tests.core.test_atomic_write import dead_pid

    project, run_dir = trained_run(tmp_path)
    out = project / "runs" / "shipped"
    export_run(run_dir, out)
    killed = out.with_name(temp_path(out).name.replace(f".{__import__('os').getpid()}-", f".{dead_pid()}-"))
    killed.mkdir()
    (killed / "run.json").write_bytes((out / "run.json").read_bytes())  # a whole record, the model half written
    assert sorted(listing.name for listing in list_runs(project)) == ["shipped", "tiny"]
    export_run(run_dir, out, overwrite=True)
    assert not killed.exists()
