"""Run folders: where a project's runs live, how a run is named and found, and listing them.

A project's runs are the folders ``<project>/runs/<name>/`` holding a ``run.json``
(:class:`~core.runs.record.RunRecord`); a run can also live anywhere else and be named by its folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from core.runs.errors import RunError, RunFileError
from core.runs.process import ProcessId, is_alive
from core.runs.record import RECORD_FILE, RESUMABLE, RunRecord, run_file
from core.runs.resume_rule import resume_refusal

RUNS_FOLDER = "runs"


def runs_dir(project_folder: str | Path) -> Path:
    """``<project>/runs``: where a project's training runs are created."""
    return Path(project_folder) / RUNS_FOLDER


def default_run_name(task: str, preset: str) -> str:
    """``YYYYmmdd-HHMMSS-<task>-<preset>`` (UTC), unique per second."""
    return f"{datetime.now(UTC).strftime('%Y%m%d-%H%M%S')}-{task}-{preset}"


def find_run_dir(project_folder: str | Path, run: str | Path) -> Path:
    """A run folder from a path, or a run name under ``<project>/runs/``; :class:`RunError` if neither,
    :class:`RunFileError` for a run folder or ``run.json`` that is a symbolic link."""
    candidates = [Path(run), runs_dir(project_folder) / str(run)]
    for candidate in candidates:
        if (candidate / RECORD_FILE).is_file():
            run_file(candidate, RECORD_FILE)  # a linked run folder or record is refused, never followed
            return candidate
    raise RunError(f"no training run {str(run)!r} (looked for {RECORD_FILE} in "
                   f"{', '.join(str(c) for c in candidates)})")


def delete_run(run_dir: str | Path) -> None:
    """Remove a run folder and everything in it (checkpoints, record, cached features).

    Refused with :class:`RunError` for a folder without a ``run.json`` (nothing else is ever removed) and
    for a run that is still training (its process is alive); a damaged ``run.json`` does not stop it.
    """
    import shutil

    run_dir = Path(run_dir)
    if not (run_dir / RECORD_FILE).is_file():
        raise RunError(f"{run_dir}: not a training run folder (no {RECORD_FILE}); nothing was deleted")
    try:
        record: RunRecord | None = RunRecord.load(run_dir)
    except RunFileError:  # a damaged record: still a run folder, and deleting it is the way out
        record = None
    if record is not None and record.effective_status() == "running":
        raise RunError(f"{run_dir}: the run is still training; stop it before deleting it")
    try:
        shutil.rmtree(run_dir)
    except OSError as exc:
        raise RunError(f"{run_dir}: cannot be deleted ({exc.strerror or exc})") from exc


@dataclass(frozen=True)
class RunListing:
    """One run of a listing: its folder, its record (``None`` when unreadable) and what to show."""

    run_dir: Path
    record: RunRecord | None
    status: str
    problem: str = ""

    @property
    def name(self) -> str:
        return self.run_dir.name

    @property
    def resumable(self) -> bool:
        """Cancelled, interrupted or failed, with a checkpoint to continue from (:func:`resume_refusal`)."""
        return self.status in RESUMABLE and self.record is not None and not resume_refusal(self.run_dir, self.record)

    @property
    def read_only(self) -> bool:
        """A model folder (exported or shipped): never trained further (:func:`~core.runs.resume_rule.is_model_folder`)."""
        from core.runs.resume_rule import is_model_folder

        return self.record is not None and is_model_folder(self.run_dir, self.record)

    def status_text(self) -> str:
        """``interrupted (resumable with --resume NAME)``, ``completed (read-only model folder)`` and the like:
        what the CLI prints."""
        if self.resumable:
            return f"{self.status} (resumable with --resume {self.name})"
        if self.read_only:
            return f"{self.status} (read-only model folder)"
        return self.status


def list_runs(project_folder: str | Path) -> list[RunListing]:
    """The runs under ``<project>/runs/``, oldest first; a run whose process is gone shows ``interrupted``.

    A damaged ``run.json`` does not hide the others: it is listed with status ``damaged`` and the problem.
    Hidden folders are not runs: they are what an export killed midway left (:func:`~core.atomic_write.atomic_folder`).
    """
    folder = runs_dir(project_folder)
    if not folder.is_dir():
        return []
    listings = []
    for run_dir in sorted(p for p in folder.iterdir() if not p.name.startswith(".") and (p / RECORD_FILE).is_file()):
        try:
            run_file(run_dir, RECORD_FILE)
            record = RunRecord.load(run_dir)
        except RunFileError as exc:
            listings.append(RunListing(run_dir, None, "damaged", str(exc)))
            continue
        listings.append(RunListing(run_dir, record, record.effective_status()))
    return listings


def mark_interrupted_runs(runs: dict) -> list[str]:
    """Bring project run entries that say ``running`` up to date with their run folder.

    A run whose process is gone becomes ``interrupted`` (resumable); a run that ended while the project
    was closed (``framewatch train`` lets go of the project while it trains) takes the status its
    ``run.json`` records. ``runs`` maps ids to the project's run entries (frozen dataclasses with
    ``status`` and ``config["run_dir"]``); entries are replaced in place, so a project shows the right
    status as soon as it is loaded. Returns the ids changed.
    """
    import dataclasses

    changed = []
    for run_id, entry in list(runs.items()):
        config = entry.config or {}
        run_dir = config.get("run_dir") if entry.status == "running" else None
        if not run_dir:
            continue
        if (Path(run_dir) / RECORD_FILE).is_file():
            try:
                status = RunRecord.load(Path(run_dir)).effective_status()
            except RunError:
                continue
        else:  # the process died while preparing data, before the run folder was written
            process = ProcessId.from_dict(config.get("process"))
            status = "interrupted" if process is not None and is_alive(process) is False else "running"
        if status != "running":
            runs[run_id] = dataclasses.replace(entry, status=status)
            changed.append(run_id)
    return changed
