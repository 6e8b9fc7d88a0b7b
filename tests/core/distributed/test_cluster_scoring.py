"""``framewatch score --cluster ADDRESS`` on a two-node Ray cluster simulated on this machine."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from core.cli.main import main
from tests.core.inference.scoring_project import make_project, save_run

ray = pytest.importorskip("ray", reason='the cluster extra: pip install -e ".[dev,cluster]"')


@pytest.mark.timeout(300)
def test_a_two_node_cluster_scores_what_one_process_scores(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from ray.cluster_utils import Cluster

    folder = make_project(tmp_path / "proj", frames=(18, 31), test_frames=27)
    save_run(folder, task="predict")
    local = tmp_path / "local"
    shutil.copytree(folder, local)
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    try:
        cluster.add_node(num_cpus=1)
        # 0.004 minutes of 25 fps footage: 6-frame segments; one worker per CPU of the cluster, one per node
        assert main(["score", str(folder), "--run", "tiny", "--all", "--json", "--frames", "--cluster",
                     cluster.address, "--segment-minutes", "0.004"]) == 0
        on_cluster = json.loads(capsys.readouterr().out)
        assert not ray.is_initialized()  # the command left the cluster, which keeps running
    finally:
        cluster.shutdown()
    assert main(["score", str(local), "--run", "tiny", "--all", "--json", "--frames"]) == 0
    alone = json.loads(capsys.readouterr().out)
    for ours, theirs in zip(on_cluster["videos"], alone["videos"], strict=True):
        assert ours["scored_now"] == theirs["frames"]
        assert np.allclose(ours["errors"], theirs["errors"], rtol=1e-5, atol=1e-7)
        assert ours["events"] == theirs["events"]
