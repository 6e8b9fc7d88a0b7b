"""``framewatch score --workers N``: a local Ray started for the command scores the videos, then the output is a
local run's; without Ray, one line says what to install."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from core.cli.main import main
from tests.core.cli.one_line_errors import assert_one_line_error, assert_usage_error
from tests.core.inference.scoring_project import make_project, save_run


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = make_project(tmp_path / "proj", frames=(18, 31), test_frames=27)
    save_run(folder, task="predict")
    return folder


@pytest.mark.timeout(300)
def test_score_with_workers_prints_what_a_local_run_prints(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ray = pytest.importorskip("ray", reason='the cluster extra: pip install -e ".[dev,cluster]"')
    assert not ray.is_initialized()
    local = project.parent / "local"
    shutil.copytree(project, local)
    # 0.004 minutes of 25 fps footage: 6-frame segments, so every video is cut into several
    argv = ["score", "--run", "tiny", "--all", "--json", "--frames"]
    assert main([argv[0], str(project), *argv[1:], "--workers", "2", "--segment-minutes", "0.004"]) == 0
    on_ray = json.loads(capsys.readouterr().out)
    assert not ray.is_initialized()  # the command's own Ray is shut down
    assert main([argv[0], str(local), *argv[1:]]) == 0
    alone = json.loads(capsys.readouterr().out)
    assert on_ray["threshold"]["value"] == pytest.approx(alone["threshold"]["value"], rel=1e-5)
    for ours, theirs in zip(on_ray["videos"], alone["videos"], strict=True):
        assert ours["scored_now"] == theirs["scored_now"] == theirs["frames"]  # scored now, by the workers
        assert np.allclose(ours["errors"], theirs["errors"], rtol=1e-5, atol=1e-7)
        assert ours["events"] == theirs["events"]
    assert Path(on_ray["events_file"]).is_file()


def test_without_ray_the_command_says_what_to_install(project: Path, capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)
    assert_one_line_error(capsys, ["score", str(project), "--run", "tiny", "--all", "--workers", "2"],
                          'pip install "framewatch[cluster]"')


def test_segment_minutes_needs_workers_or_a_cluster(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert_usage_error(capsys, ["score", str(project), "--run", "tiny", "--all", "--segment-minutes", "1"],
                       "--segment-minutes")
    assert_usage_error(capsys, ["score", str(project), "--run", "tiny", "--all", "--workers", "2",
                                "--cluster", "auto"], "--cluster")


def test_gpu_shares_need_workers_or_a_cluster_and_a_positive_number(project: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert_usage_error(capsys, ["score", str(project), "--run", "tiny", "--all", "--gpus-per-worker", "0.5"],
                       "--gpus-per-worker is for Ray workers")
    for bad in ("0", "-1", "nan"):
        assert_usage_error(capsys, ["score", str(project), "--run", "tiny", "--all", "--workers", "2",
                                    "--gpus-per-worker", bad], "--gpus-per-worker")
