"""Framewatch's desktop app (PySide6): a folder per feature, each a controller over one shared state.

Layout
    ``shell/``      the main window (assembles docks, menus, toolbar and status bar; View menu), the app
                    entry (``python main.py``, ``python -m desktop_app``), the theme, Help and About.
    ``jobs/``       :class:`~desktop_app.jobs.Worker` (a core job on a pool thread), ``run_job`` (with a
                    cancellable progress dialog, closed before any error box opens), ``show_error``.
    ``library/``    projects (open, save, recent, recovery, demo, scratch), the Videos dock, adding,
                    relinking and removing videos, imports, undo/redo, exporting subclips.
    ``player/``     the player, frame cache, frame view, timeline, Go to.
    ``labelling/``  the Labels dock, label schema, In/Out, subclips, intervals, class keys, values.
    ``review/``     scoring, the Error chart and Events docks, the Events lane, the Review menu.
    ``training/``   the Training dock (training panel, runs table) and the Model menu's training actions.
    ``prediction/`` the Predicted frames dock (rollouts from the playhead, window segments, the Segments lane).
    ``state.py``    :class:`~desktop_app.state.AppState`, the one way features talk (its docstring is its API).
    ``common/``     what every feature uses: the action registry, the project-edit helper, project-event
                    relay, resource paths.

Rules
    A feature is a ``QObject`` controller built with ``(state, window)``: it creates its widgets and
    registers its actions (``common.actions.build_actions``); the shell places the widgets and lists
    the actions in menus. Features never import each other's modules, only another feature's package
    (its ``__init__`` is its public API), and never the shell; import-linter contracts in
    ``pyproject.toml`` enforce it. No job runs on the GUI thread: decoding, probing, importing and
    exporting go through ``desktop_app.jobs``; the job logic itself lives in ``core``.
"""
