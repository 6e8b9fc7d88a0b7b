"""One registry of the app's actions: their text, shortcut and menu group.

Each feature's controller registers the actions it handles with :func:`build_actions`; the shell
merges them (:func:`merge_actions`, which checks that every action has exactly one owner) and lays
them out in menus and the toolbar.

Menus, toolbar buttons and Help > Keyboard shortcuts are all generated from :data:`ACTIONS`, so the
shortcut list can never disagree with what the keys do. Class keys come from the project's label
schema and are added to the shortcut list at run time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QWidget


@dataclass(frozen=True)
class ActionSpec:
    """``key`` names the handler; ``shortcuts`` are QKeySequence strings (first one shown in menus)."""

    key: str
    text: str
    group: str
    shortcuts: tuple[str, ...] = ()
    tip: str = ""
    checkable: bool = False


ACTIONS: tuple[ActionSpec, ...] = (
    # File
    ActionSpec("new_project", "&New Project...", "File", ("Ctrl+N",), "Create a project in a new folder"),
    ActionSpec("open_project", "&Open Project...", "File", ("Ctrl+O",), "Open a project folder"),
    ActionSpec("open_demo", "Open &Demo Project", "File", (), "Open the built-in UCSD Ped2 demo"),
    ActionSpec("save_project", "&Save", "File", ("Ctrl+S",), "Save the project"),
    ActionSpec("save_project_as", "Save &As...", "File", ("Ctrl+Shift+S",), "Save the project to a new folder"),
    ActionSpec("add_videos", "&Add Videos...", "File", ("Ctrl+Shift+O",), "Add video files to the project"),
    ActionSpec("add_frame_folder", "Add &Frame Folder...", "File", (), "Add a folder of images as a video"),
    ActionSpec("import_ucsd", "Import &UCSD Dataset...", "File", (), "Import a UCSD-style anomaly dataset"),
    ActionSpec("import_class_folders", "Import &Class Folders...", "File", (),
               "Import <split>/<class>/<video> labelled clips"),
    ActionSpec("export_subclips", "&Export Subclips...", "File", ("Ctrl+E",), "Write subclips to video files"),
    ActionSpec("export_labels_csv", "Export Labels as &CSV...", "File", (),
               "Write subclips, classes, anomaly intervals and verdicts as CSV files into a folder"),
    ActionSpec("export_labels_json", "Export Labels as &JSON...", "File", (),
               "Write the labels, the label schema and the video table to one JSON file"),
    ActionSpec("close_window", "&Quit", "File", ("Ctrl+Q",), "Close Framewatch"),
    # Edit
    ActionSpec("undo", "&Undo", "Edit", ("Ctrl+Z",), "Undo the last edit"),
    ActionSpec("redo", "&Redo", "Edit", ("Ctrl+Shift+Z", "Ctrl+Y"), "Redo the last undone edit"),
    ActionSpec("delete_selected", "&Delete Selected", "Edit", ("Delete", "Backspace"),
               "Delete the selected subclip, anomaly interval or normal span"),
    ActionSpec("edit_schema", "Label &Schema...", "Edit", ("Ctrl+L",), "Edit classes, colours, keys and targets"),
    # Playback
    ActionSpec("play_pause", "&Play / Pause", "Playback", ("Space",), "Play or pause"),
    ActionSpec("step_back", "Back 1 Frame", "Playback", ("Left",)),
    ActionSpec("step_forward", "Forward 1 Frame", "Playback", ("Right",)),
    ActionSpec("step_back_10", "Back 10 Frames", "Playback", ("Shift+Left",)),
    ActionSpec("step_forward_10", "Forward 10 Frames", "Playback", ("Shift+Right",)),
    ActionSpec("go_first", "First Frame", "Playback", ("Home",)),
    ActionSpec("go_last", "Last Frame", "Playback", ("End",)),
    ActionSpec("go_to", "&Go to Frame or Time...", "Playback", ("Ctrl+G",), "Jump to a frame number or a time"),
    ActionSpec("slower", "Slower", "Playback", ("[",), "Lower the playback speed"),
    ActionSpec("faster", "Faster", "Playback", ("]",), "Raise the playback speed"),
    ActionSpec("normal_speed", "Normal Speed", "Playback", ("\\",), "Play at 1x"),
    ActionSpec("zoom_in", "Zoom Timeline &In", "Playback", ("+", "="),
               "Zoom the timeline in around the mouse (or the playhead); also Ctrl+wheel"),
    ActionSpec("zoom_out", "Zoom Timeline O&ut", "Playback", ("-",), "Zoom the timeline out"),
    ActionSpec("zoom_fit", "Whole Video on Timeline", "Playback", ("Ctrl+0",), "Zoom the timeline out to the whole video"),
    ActionSpec("previous_video", "Previous Video", "Playback", ("Ctrl+Up",)),
    ActionSpec("next_video", "Next Video", "Playback", ("Ctrl+Down",)),
    # Label
    ActionSpec("set_in", "Set &In Point", "Label", ("I",), "The subclip starts at this frame"),
    ActionSpec("set_out", "Set &Out Point", "Label", ("O",), "The subclip ends with this frame (included)"),
    ActionSpec("clear_in_out", "Clear In/Out", "Label", ("Escape",)),
    ActionSpec("create_subclip", "&Create Subclip", "Label", ("Return", "Enter"),
               "Make a subclip of In..Out with the current class"),
    ActionSpec("mark_anomaly", "Mark &Anomaly Interval", "Label", ("A",), "Mark In..Out as abnormal"),
    ActionSpec("mark_normal", "Mark In–Out as &Normal Footage", "Label", ("Shift+N",),
               "Anomaly training learns from In..Out as normal footage; the rest of this video is scored"),
    ActionSpec("enter_value", "Enter Numeric &Value...", "Label", ("V",),
               "Type a numeric target value for the selected subclip or In..Out"),
    ActionSpec("select_previous_band", "Select Previous Subclip", "Label", ("Ctrl+Left",),
               "Select the subclip before this frame and jump to it"),
    ActionSpec("select_next_band", "Select Next Subclip", "Label", ("Ctrl+Right",),
               "Select the subclip after this frame and jump to it"),
    ActionSpec("select_previous_interval", "Select Previous Anomaly Interval", "Label", ("Ctrl+Shift+Left",),
               "Select the anomaly interval before this frame and jump to it"),
    ActionSpec("select_next_interval", "Select Next Anomaly Interval", "Label", ("Ctrl+Shift+Right",),
               "Select the anomaly interval after this frame and jump to it"),
    ActionSpec("nudge_back", "Move Selected 1 Frame Back", "Label", ("Alt+Left",)),
    ActionSpec("nudge_forward", "Move Selected 1 Frame Forward", "Label", ("Alt+Right",)),
    # Review (the event actions' keys are also the event panel's own: desktop_app.review.REVIEW_KEYS reads them here)
    ActionSpec("score_video", "&Score Video", "Review", ("Ctrl+R",),
               "Score the current video with the model run; the error chart grows as frames are scored"),
    ActionSpec("score_all", "Score &All Videos", "Review", (), "Score every video of the project with the model run"),
    ActionSpec("score_all_on_ray", "Score Videos on Ra&y Workers...", "Review", (),
               "Score all videos, or those selected, on Ray workers (a local Ray, or a cluster): resumable"),
    ActionSpec("cancel_scoring", "&Cancel Scoring", "Review", (), "Stop scoring (what was scored stays cached)"),
    ActionSpec("choose_run", "Choose Model &Run...", "Review", (),
               "Choose the run (or the shipped model) that scores and flags events"),
    ActionSpec("next_event", "&Next Event", "Review", ("N",), "Go to the next flagged event"),
    ActionSpec("previous_event", "&Previous Event", "Review", ("P",), "Go to the previous flagged event"),
    ActionSpec("event_frame_forward", "Event: Forward 1 Frame", "Review", (".",), "Step inside the event"),
    ActionSpec("event_frame_back", "Event: Back 1 Frame", "Review", (",",), "Step inside the event"),
    ActionSpec("confirm_event", "&Confirm Event", "Review", ("C",), "Record the verdict 'confirmed' (with the note)"),
    ActionSpec("reject_event", "&Reject Event", "Review", ("R",),
               "Record the verdict 'rejected': the frames count as normal footage for training"),
    ActionSpec("unsure_event", "Mark Event &Unsure", "Review", ("U",), "Record the verdict 'unsure'"),
    ActionSpec("confirm_as_interval", "Confirm as Anomaly &Interval", "Review", ("Shift+C",),
               "Confirm the event and make it a ground-truth anomaly interval (one undo)"),
    ActionSpec("learn_from_rejected", "&Learn from Rejected Events", "Review", (),
               "Refit the model run's error level and threshold on the events rejected for it and flag again "
               "(minutes, not a retrain)"),
    ActionSpec("toggle_heatmap", "Error &Heat Map", "Review", ("H",),
               "Draw the model's error heat map over the frames of the current event"),
    ActionSpec("export_scores", "E&xport Scores and Events...", "Review", (),
               "Write the video's per-frame scores and its events, as flagged now, as CSV and JSON"),
    ActionSpec("export_anomaly_video", "Export Annotated &Anomaly Video...", "Review", (),
               "Write a copy of the video with its regularity curve under each frame and the events marked"),
    # Model (training, predicted frames, window segments)
    ActionSpec("train_model", "&Train a Model...", "Model", ("Ctrl+T",),
               "Show the training panel: options, live curves, cancel, resume and the project's runs"),
    ActionSpec("cancel_training", "&Cancel Training", "Model", (),
               "Stop the training run after this batch (it stays resumable)"),
    ActionSpec("show_predictions", "&Predicted Frames", "Model", ("Ctrl+Shift+P",),
               "Show truth, prediction and |error| of a next-frame run from the playhead"),
    ActionSpec("classify_video", "C&lassify Video", "Model", ("Ctrl+Shift+K",),
               "Label the video window by window with a classify or regress run; segments go to the timeline"),
    ActionSpec("export_annotated_video", "&Export Annotated Video...", "Model", (),
               "Write a copy of the classified video with each window's label or value drawn on its frames"),
    # View
    ActionSpec("reset_layout", "&Reset Layout", "View", (), "Show every panel again in its first place"),
    # Help
    ActionSpec("user_guide", "&User Guide", "Help", (), "Open the user guide (docs/user-guide.md)"),
    ActionSpec("show_shortcuts", "&Keyboard Shortcuts", "Help", ("F1", "Ctrl+/"), "List every shortcut"),
    ActionSpec("about", "&About Framewatch", "Help", ()),
)

GROUPS = ("File", "Edit", "Playback", "Label", "Review", "Model", "View", "Help")


def spec(key: str) -> ActionSpec:
    for s in ACTIONS:
        if s.key == key:
            return s
    raise KeyError(key)


def build_actions(parent: QWidget, handlers: dict[str, Callable[[], object]]) -> dict[str, QAction]:
    """A QAction for each spec named in ``handlers``, triggering ``handlers[key]``.

    A feature's controller calls this with its own handlers; the actions are added to ``parent`` (the
    main window) so that their shortcuts work wherever the focus is in it.
    """
    unknown = [k for k in handlers if k not in {s.key for s in ACTIONS}]
    if unknown:
        raise KeyError(f"no action spec for handlers {unknown}")
    actions: dict[str, QAction] = {}
    for s in ACTIONS:
        if s.key not in handlers:
            continue
        action = QAction(s.text, parent)
        action.setObjectName(f"action_{s.key}")
        if s.shortcuts:
            action.setShortcuts([QKeySequence(k) for k in s.shortcuts])
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        tip = s.tip or s.text.replace("&", "").rstrip(".")
        if s.shortcuts:
            tip += f" ({native(s.shortcuts[0])})"
        action.setToolTip(tip)
        action.setStatusTip(tip)
        handler = handlers[s.key]
        action.triggered.connect(lambda _checked=False, h=handler: h())
        parent.addAction(action)
        actions[s.key] = action
    return actions


def merge_actions(*groups: dict[str, QAction]) -> dict[str, QAction]:
    """The actions of every feature in one mapping; every spec must be owned by exactly one feature."""
    merged: dict[str, QAction] = {}
    for group in groups:
        twice = sorted(merged.keys() & group.keys())
        if twice:
            raise KeyError(f"actions {twice} are registered by two features")
        merged.update(group)
    missing = [s.key for s in ACTIONS if s.key not in merged]
    if missing:
        raise KeyError(f"no feature registers actions {missing}")
    return merged


def native(shortcut: str) -> str:
    """A shortcut as the platform shows it ("Ctrl+Z" / "⌘Z")."""
    return QKeySequence(shortcut).toString(QKeySequence.SequenceFormat.NativeText)


def shortcut_rows(extra: list[tuple[str, str, str]] = ()) -> list[tuple[str, str, str]]:
    """``(group, action, keys)`` rows for every action with a shortcut, plus ``extra`` rows."""
    rows = [(s.group, s.text.replace("&", "").rstrip("."), ", ".join(native(k) for k in s.shortcuts))
            for s in ACTIONS if s.shortcuts]
    rows.extend(extra)
    order = {g: i for i, g in enumerate(GROUPS)}
    return sorted(rows, key=lambda r: order.get(r[0], len(GROUPS)))
