"""The Ped2 anomaly model shipped in resources/models: portable, safe to load, and as good as docs/models.md says."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.cli.main import main
from tests.conftest import REPO

SHIPPED = REPO / "resources" / "models" / "ped2-future-frame"
#: What ``framewatch evaluate`` printed for the shipped model on Ped2 when it was made (docs/models.md).
AUC_NORMALISED, AUC_RAW, ANOMALIES_HIT = 0.9724, 0.9269, 12
#: The threshold calibrated on Ped2's train-split videos (split by content: the same on every import) and
#: the false alarms it gives on the test videos (docs/models.md).
THRESHOLD, FALSE_ALARMS = 1.2055, 5


def _strings(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, str):
        yield value


def test_the_shipped_model_is_a_portable_run_folder_that_loads_in_safe_mode() -> None:
    from core.models.files import load_model_file

    record = json.loads((SHIPPED / "run.json").read_text())
    assert record["preset"] == "future-frame" and record["task"] == "predict"
    assert record["model_path"] == "model.keras" and record["process"] is None
    assert record["data"]["scoring"] == {"error": "worst-patches", "smooth": 3}
    local = [text for text in _strings(record) if text.startswith(("/", "~")) or ":\\" in text]
    assert all(text.startswith("/physical_device:") for text in local), local  # TensorFlow's device names only
    assert (SHIPPED / "model.keras").stat().st_size < 4_000_000
    model = load_model_file(SHIPPED / "model.keras")  # safe_mode=True
    assert model.input_shape == (None, 4, 64, 96, 1) and model.output_shape == (None, 1, 64, 96, 1)
    assert record["data"]["error_level"]["file"] == "error_level.keras"
    level = load_model_file(SHIPPED / "error_level.keras")  # safe_mode=True
    assert level.input_shape == (None, 4, 64, 96, 1) and level.output_shape == (None, 64, 96, 1)


def test_evaluate_with_the_shipped_model_on_ped2_prints_the_recorded_auc(ped2: Path, tmp_path: Path, capsys) -> None:
    if not ped2.is_dir():
        pytest.skip(f"no UCSD Ped2 at {ped2}")
    project = tmp_path / "ped2"
    assert main(["project", "import-ucsd", str(ped2), str(project)]) == 0
    capsys.readouterr()
    assert main(["evaluate", str(project), "--run", str(SHIPPED), "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert (figures["frame_error"], figures["smoothing"], figures["error_level"]) == ("worst-patches", 3, True)
    # the figures docs/models.md records for this model (same weights, same frames: equal up to float noise)
    assert figures["auc_normalised"] == pytest.approx(AUC_NORMALISED, abs=0.002)
    assert figures["auc_raw"] == pytest.approx(AUC_RAW, abs=0.002)
    assert figures["anomalies_hit"] == ANOMALIES_HIT
    assert figures["threshold"]["value"] == pytest.approx(THRESHOLD, abs=0.0005)
    assert figures["false_alarms"] == FALSE_ALARMS
    # scoring wrote nothing there
    assert sorted(p.name for p in SHIPPED.iterdir()) == ["error_level.keras", "model.keras", "run.json"]
