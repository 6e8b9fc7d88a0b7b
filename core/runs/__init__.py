"""Run folders and run records: what training writes, and what scoring, evaluation, the CLI and the GUI read.

Importing this package does not import Keras. :mod:`core.runs.record` is ``run.json`` / ``state.json``
(every field checked when read, :mod:`core.runs.record_check`); :mod:`core.runs.model` is the one rule
for a run's model file (:class:`RunModel`); :mod:`core.runs.resume_rule` says which runs resume and which
folders are read-only model folders; :mod:`core.runs.folders` finds, names and lists runs;
:mod:`core.runs.process` tells whether a ``running`` run's process is still alive (if not, the run shows
as ``interrupted``, resumable).
"""

from core.runs.errors import RunError, RunFileError
from core.runs.folders import (
    RunListing,
    default_run_name,
    delete_run,
    find_run_dir,
    list_runs,
    mark_interrupted_runs,
    runs_dir,
)
from core.runs.model import RunModel, model_file
from core.runs.record import RECORD_FILE, RESUMABLE, STATE_FILE, STATUSES, RunRecord, read_state, write_state
from core.runs.resume_rule import has_checkpoint, is_model_folder, resume_refusal

__all__ = [
    "RECORD_FILE",
    "RESUMABLE",
    "STATE_FILE",
    "STATUSES",
    "RunError",
    "RunFileError",
    "RunListing",
    "RunModel",
    "RunRecord",
    "default_run_name",
    "delete_run",
    "find_run_dir",
    "has_checkpoint",
    "is_model_folder",
    "list_runs",
    "mark_interrupted_runs",
    "model_file",
    "read_state",
    "resume_refusal",
    "runs_dir",
    "write_state",
]
