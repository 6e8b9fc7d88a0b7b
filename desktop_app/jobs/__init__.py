"""Jobs: running core jobs off the GUI thread, their progress dialog, and the error dialog.

Public API: :class:`Worker` and :func:`run_in_thread` (a core job on a pool thread, its events as
signals), :func:`run_job` (the same with a cancellable progress dialog; errors end in a dialog),
:class:`JobBar` (a view's progress bar and Cancel button for its jobs), :func:`show_error` (the one
error dialog) and :func:`install_excepthook`.
"""

from desktop_app.jobs.error_dialog import install_excepthook, show_error
from desktop_app.jobs.garbage import install_gui_garbage_collector
from desktop_app.jobs.job_bar import JobBar
from desktop_app.jobs.progress import JobProgress, run_job
from desktop_app.jobs.workers import Worker, active_workers, run_in_thread

__all__ = ["JobBar", "JobProgress", "Worker", "active_workers", "install_excepthook", "install_gui_garbage_collector", "run_in_thread", "run_job",
           "show_error"]
