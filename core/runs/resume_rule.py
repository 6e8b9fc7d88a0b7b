"""Which runs can be resumed, and which run folders are read-only model folders.

Resuming continues training from the trainer's checkpoint: ``last.keras`` (the model with its optimizer
state, written after every finished epoch) and ``state.json`` (that epoch, the plateau counters, the
learning rate). A run folder without both has nothing to continue from, and is never trained into:

* a **model folder**, read-only: a model file (the record's ``model_path``) but no training checkpoint.
  That is what ``framewatch export-run`` writes (``model.keras`` and ``run.json``, weights only), what the
  app ships (``resources/models/ped2-future-frame``) and the demo project's copy of it. Resuming it would
  build a new model over the one it holds, so it is refused, and so is fitting an error level into it
  (fit it on the run it was exported from, and export that again). No flag in ``run.json`` marks it: the
  files in the folder do, so a folder exported by any version, or shipped, is read-only as it is.
* a **motion run** (the ``motion`` preset): statistics fitted in one pass, no epochs, nothing to continue.
* a run that never finished an epoch (cancelled, killed or failed in its first): no model and no
  checkpoint. Resuming it would start a new model from epoch 1; a new run does that, so it is refused too.

Only the run's own process may still be writing a ``running`` run; the trainer refuses that case with the
process named.
"""

from __future__ import annotations

from pathlib import Path

from core.runs.record import LAST_CHECKPOINT, STATE_FILE, RunRecord


def has_checkpoint(run_dir: str | Path) -> bool:
    """The run folder holds the trainer's checkpoint (``last.keras`` and ``state.json``, neither a link)."""
    run_dir = Path(run_dir)
    return all((run_dir / name).is_file() and not (run_dir / name).is_symlink()
               for name in (LAST_CHECKPOINT, STATE_FILE))


def is_model_folder(run_dir: str | Path, record: RunRecord) -> bool:
    """A read-only model folder (module doc): the record names a model, the folder holds no checkpoint."""
    return bool(record.model_path) and not has_checkpoint(run_dir)


def resume_refusal(run_dir: str | Path, record: RunRecord) -> str:
    """Why the run in ``run_dir`` cannot be resumed, in one line naming it; ``""`` when it can (as far as its
    files go: the trainer also refuses a run still training, or one that finished its epochs)."""
    run_dir = Path(run_dir)
    if record.spec.get("family") == "motion":
        return (f"{run_dir}: run {run_dir.name!r} is a motion run, fitted in one pass over its normal footage: it "
                "has nothing to resume; train a new run")
    if has_checkpoint(run_dir):
        return ""
    if is_model_folder(run_dir, record):
        return (f"{run_dir}: run {run_dir.name!r} is a read-only model folder (a model without training "
                f"checkpoints, as export-run writes and the app ships): it cannot be resumed; train a new run")
    return (f"{run_dir}: run {run_dir.name!r} has no checkpoint to resume from (no epoch finished); train a new "
            "run")
