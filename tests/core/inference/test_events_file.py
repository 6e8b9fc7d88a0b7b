"""events.json in a run folder: events and threshold come back, verdicts join from the project, damage is named."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from core.inference.anomaly.events import attach_verdicts, flag_events
from core.inference.anomaly.events_file import EVENTS_FILE, RunEvents, read_events, write_events
from core.inference.anomaly.regularity import Threshold
from core.inference.errors import InferenceFileError
from core.project.entities import Verdict

SCORES = np.array([0, 0, 3, 2, 0, 5, 0, 0, 2, 4, 4, 2, 0], dtype=np.float32)


def run_events() -> RunEvents:
    threshold = Threshold.calibrate(np.linspace(0, 1.2, 100), percentile=99.5, window=1)
    events = flag_events(threshold.smooth(SCORES), threshold.value, min_run=1, merge_gap=1, video_id="v1")
    return RunEvents(events, threshold, {"threshold": threshold.value, "min_run": 1, "merge_gap": 1})


def test_events_round_trip_with_threshold_and_flagging(tmp_path: Path) -> None:
    record = run_events()
    assert [(e.start, e.end) for e in record.events] == [(2, 6), (8, 12)]
    path = write_events(tmp_path, record)
    assert path == tmp_path / EVENTS_FILE
    assert json.loads(path.read_text())["version"] == 1
    assert read_events(tmp_path) == record


def test_verdicts_are_not_stored_but_joined_on_reading(tmp_path: Path) -> None:
    verdict = Verdict("x", "v1", 2, 6, "confirmed", run_id="r1")
    record = run_events()
    write_events(tmp_path, RunEvents(attach_verdicts(record.events, [verdict], "r1"), record.threshold))
    assert "confirmed" not in (tmp_path / EVENTS_FILE).read_text()
    again = attach_verdicts(read_events(tmp_path).events, [verdict], "r1")
    assert again[0].verdict == verdict and again[1].verdict is None


def test_a_run_without_events_has_none(tmp_path: Path) -> None:
    assert read_events(tmp_path) is None


@pytest.mark.parametrize(("text", "problem"), [
    ("{not json", "not valid JSON (line 1, column 2"),
    ('{"format": "framewatch.events", "version": 2, "events": []}', "newer Framewatch (events version 2"),
    ('{"format": "other"}', "not a Framewatch events file"),
    ('{"format": "framewatch.events", "version": 1, "events": [{"video_id": "v"}]}', "event 1 of 1: event: no start"),
    ('{"format": "framewatch.events", "version": 1, "events": [], "threshold": {"value": null}}', "'value' is None"),
])
def test_damaged_events_file_gives_one_line_naming_it(tmp_path: Path, text: str, problem: str) -> None:
    (tmp_path / EVENTS_FILE).write_text(text)
    with pytest.raises(InferenceFileError) as info:
        read_events(tmp_path)
    message = str(info.value)
    assert message.startswith(str(tmp_path / EVENTS_FILE)) and problem in message and "\n" not in message


@pytest.mark.parametrize(("text", "problem"), [
    ("{not json", "not valid JSON"),
    ('{"format": "framewatch.events", "version": 2, "events": []}', "newer Framewatch (events version 2"),
])
def test_a_damaged_or_newer_events_file_is_never_replaced(tmp_path: Path, text: str, problem: str) -> None:
    (tmp_path / EVENTS_FILE).write_text(text)
    with pytest.raises(InferenceFileError) as info:
        write_events(tmp_path, run_events())
    message = str(info.value)
    assert message.startswith(str(tmp_path / EVENTS_FILE)) and problem in message and "move it aside" in message
    assert (tmp_path / EVENTS_FILE).read_text() == text and sorted(p.name for p in tmp_path.iterdir()) == [EVENTS_FILE]
