"""Run folders and run records: what training writes, and what scoring, evaluation, the CLI and the GUI read.

Importing this package does not import Keras. :mod:`core.runs.record` is ``run.json`` / ``state.json``;
:mod:`core.runs.folders` finds, names and lists runs; :mod:`core.runs.process` tells whether a
``running`` run's process is still alive (if not, the run shows as ``interrupted``, resumable).
"""

from core.runs.errors import RunError, RunFileError
from core.runs.folders import (
    RunListing,
    checkpoint_file,
    default_run_name,
    delete_run,
    find_run_dir,
    list_runs,
    mark_interrupted_runs,
    runs_dir,
)
from core.runs.record import RECORD_FILE, RESUMABLE, STATE_FILE, STATUSES, RunRecord, read_state, write_state

__all__ = [
    "RECORD_FILE",
    "RESUMABLE",
    "STATE_FILE",
    "STATUSES",
    "RunError",
    "RunFileError",
    "RunListing",
    "RunRecord",
    "checkpoint_file",
    "default_run_name",
    "delete_run",
    "find_run_dir",
    "list_runs",
    "mark_interrupted_runs",
    "read_state",
    "runs_dir",
    "write_state",
]
