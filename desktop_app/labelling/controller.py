"""The labelling feature: In/Out points, subclips, anomaly intervals, normal footage, class keys, numeric
values, selection, moving and deleting, edits made in the tables, and the label schema.

:class:`LabellingController` owns the Labels dock's panel (:attr:`label_panel`), the Label and
schema actions, the class-key actions (:attr:`class_menu`) and the timeline lanes "Labels" (subclips,
and the normal spans as bands of kind "normal") and "Anomalies" (the "Events" lane is the review feature's). Every change is a project command (undoable); a
refused change (a span past the end, a label not in the schema) becomes a dialog.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QComboBox, QLineEdit, QMenu, QWidget

from core.project import ProjectEvent, ProjectValidationError
from core.project.validation import normal_span_conflicts
from desktop_app.common.actions import build_actions, native
from desktop_app.common.edits import apply_edit
from desktop_app.jobs import show_error
from desktop_app.labelling.label_panel import LabelPanel
from desktop_app.labelling.schema_editor import SchemaEditor, reserved_keys
from desktop_app.labelling.value_dialog import ValueDialog
from desktop_app.player import ANOMALY_COLOR
from desktop_app.state import AppState, LaneBand

ACTION_KEYS = ("set_in", "set_out", "clear_in_out", "create_subclip", "mark_anomaly", "mark_normal", "enter_value",
               "select_previous_band", "select_next_band", "select_previous_interval", "select_next_interval",
               "nudge_back", "nudge_forward", "delete_selected",
               "edit_schema")
#: Keys that label with a class once the schema has classes; with none they say where to add them.
CLASS_KEYS = tuple("123456789")
NO_CLASSES_HINT = "No classes yet: add them with their keys in Edit > Label Schema (Ctrl+L)"
#: The colour of normal footage on the timeline (green: the footage a model learns is normal).
NORMAL_COLOR = "#2f9e62"


class LabellingController(QObject):
    """Cutting and labelling; see the module docstring."""

    def __init__(self, state: AppState, window: QWidget) -> None:
        super().__init__(window)
        self.state = state
        self.window = window
        self.in_point: int | None = None
        self.out_end: int | None = None  # exclusive: the Out point is frame out_end - 1
        self.actions = build_actions(window, {k: getattr(self, k) for k in ACTION_KEYS})
        self.label_panel = LabelPanel(self.actions, window)
        self.class_menu = QMenu("&Classes", window)
        self._class_actions: list[QAction] = []
        panel = self.label_panel
        panel.class_chosen.connect(self.choose_class)
        panel.subclips.selected.connect(lambda key: self._select(("subclip", key) if key else None))
        panel.intervals.selected.connect(lambda key: self._select(("anomaly", key) if key else None))
        panel.subclips.activated.connect(lambda key: self._jump_to("subclip", key))
        panel.intervals.activated.connect(lambda key: self._jump_to("anomaly", key))
        panel.subclips.edited.connect(self._on_subclip_cell)
        panel.intervals.edited.connect(self._on_interval_cell)
        state.project_changed.connect(self._on_project)
        state.project_edited.connect(self._on_project_event)
        state.video_changed.connect(self._on_video)
        state.selection_changed.connect(self._show_selection)
        state.band_edit_requested.connect(self.move_entity)
        self._update_actions()

    @property
    def project(self):
        return self.state.project

    @property
    def video_id(self) -> str | None:
        return self.state.video_id

    @property
    def selection(self) -> tuple[str, str] | None:
        return self.state.selection

    def _edit(self, fn, *args, **kwargs):
        return apply_edit(self.window, fn, *args, **kwargs)

    # == refresh ===================================================================================
    def _on_project(self, _project) -> None:
        self.in_point = self.out_end = None
        self._refresh_schema()
        self._refresh_labels()
        self._update_actions()

    def _on_video(self, _video_id: str) -> None:
        self.in_point = self.out_end = None
        self._refresh_labels()
        self._update_actions()

    def _on_project_event(self, event: ProjectEvent) -> None:
        if self.project is None:
            return
        cols = event.collections
        if "classes" in cols or "targets" in cols:
            self._refresh_schema()
        if cols & {"subclips", "intervals", "normal_spans", "classes", "verdicts", "videos"}:
            if self.selection is not None:
                kind, key = self.selection
                if self._entity(kind, key) is None:
                    self.state.set_selection(None)
            self._refresh_labels()
        self._update_actions()

    def _refresh_schema(self) -> None:
        classes = dict(self.project.classes) if self.project is not None else {}
        self.label_panel.set_classes(classes)
        for action in self._class_actions:
            self.window.removeAction(action)
            action.deleteLater()
        self._class_actions.clear()
        self.class_menu.clear()
        reserved = reserved_keys()
        clashes = []
        for cls in classes.values():
            action = QAction(f"Label as {cls.name}", self.window)
            taken = reserved.get(cls.shortcut.upper()) if cls.shortcut else None
            if taken is not None:  # a project edited elsewhere: the app's own key wins, and the analyst is told
                clashes.append(f"'{cls.name}' ({cls.shortcut} is {taken})")
            elif cls.shortcut:
                action.setShortcut(QKeySequence(cls.shortcut))
                action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            action.triggered.connect(lambda _c=False, name=cls.name: self.choose_class(name))
            self.window.addAction(action)
            self.class_menu.addAction(action)
            self._class_actions.append(action)
        if clashes:
            self.state.show_status(f"Class key{'s' if len(clashes) > 1 else ''} not bound: {', '.join(clashes)}; "
                                   "give the class another key in Edit > Label Schema", 15000)
        if self.project is not None and not classes:  # a number key must not do nothing without a word
            for key in CLASS_KEYS:
                action = QAction(f"Class key {key}", self.window)
                action.setShortcut(QKeySequence(key))
                action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
                action.triggered.connect(lambda _c=False: self.state.show_status(NO_CLASSES_HINT, 6000))
                self.window.addAction(action)
                self._class_actions.append(action)

    def _refresh_labels(self) -> None:
        project, vid = self.project, self.video_id
        if project is None or vid is None:
            self.label_panel.subclips.set_subclips([], {})
            self.label_panel.intervals.set_intervals([])
        else:
            self.label_panel.subclips.set_subclips(project.subclips_of(vid), dict(project.classes))
            self.label_panel.intervals.set_intervals(project.intervals_of(vid))
        self._refresh_lanes()
        self._refresh_span()
        if self.selection is not None:
            self._show_selection(self.selection)

    def _refresh_lanes(self) -> None:
        project, vid = self.project, self.video_id
        labels: list[LaneBand] = []
        anomalies: list[LaneBand] = []
        if project is not None and vid is not None:
            for s in project.subclips_of(vid):
                cls = project.classes.get(s.label) if s.label else None
                text = s.label or (f"{s.value:g}" if s.value is not None else "")
                labels.append(LaneBand(s.start, s.end, cls.color if cls else "#8b949e", text, s.id))
            labels += [LaneBand(n.start, n.end, NORMAL_COLOR, "normal", n.id, kind="normal")
                       for n in project.normal_spans_of(vid)]
            anomalies = [LaneBand(iv.start, iv.end, ANOMALY_COLOR, "anomaly", iv.id)
                         for iv in project.intervals_of(vid)]
        self.state.set_lane("Labels", labels)
        self.state.set_lane("Anomalies", anomalies)

    def _refresh_span(self) -> None:
        self.state.set_span(self.in_point, self.out_end)
        self.label_panel.set_span(self.in_point, self.out_end)
        self._update_actions()

    def _update_actions(self) -> None:
        a = self.actions
        has_project = self.project is not None
        has_video = has_project and self.video_id is not None
        writable = has_project and not self.project.read_only
        a["edit_schema"].setEnabled(writable)  # a read-only project (open for writing elsewhere) cannot change
        for key in ("set_in", "set_out", "clear_in_out"):
            a[key].setEnabled(has_video)
        for key in ("create_subclip", "mark_anomaly", "mark_normal", "enter_value"):
            a[key].setEnabled(has_video and writable)
        a["delete_selected"].setEnabled(self.selection is not None and writable)

    # == schema ====================================================================================
    def edit_schema(self) -> None:
        if self.project is None:
            return
        editor = SchemaEditor(self.project, self.window)
        self.state.project_edited.connect(editor.refresh)
        editor.exec()
        self.state.project_edited.disconnect(editor.refresh)

    def class_shortcut_rows(self) -> list[tuple[str, str, str]]:
        """Rows of Help > Keyboard shortcuts for the class keys of the open project."""
        if self.project is None:
            return [("Label", "Label In..Out with a class (keys from the label schema)", "1-9")]
        return [("Label", f"Label In..Out (or the selected subclip) as '{c.name}'", native(c.shortcut))
                for c in self.project.classes.values() if c.shortcut]

    # == labelling =================================================================================
    def set_in(self) -> None:
        if not self.state.has_video:
            return
        self.state.request_pause()
        self.in_point = self.state.position
        if self.out_end is not None and self.out_end <= self.in_point:
            self.out_end = None
        self._refresh_span()

    def set_out(self) -> None:
        if not self.state.has_video:
            return
        self.state.request_pause()
        self.out_end = self.state.position + 1
        if self.in_point is not None and self.in_point >= self.out_end:
            self.in_point = None
        self._refresh_span()

    def clear_in_out(self) -> None:
        self.in_point = self.out_end = None
        self._refresh_span()

    def span(self) -> tuple[int, int] | None:
        """``[start, end)`` from the In and Out points (a missing one: the frame shown)."""
        if self.in_point is None and self.out_end is None:
            return None
        start = self.in_point if self.in_point is not None else self.state.position
        end = self.out_end if self.out_end is not None else self.state.position + 1
        return (start, end) if end > start else None

    def _need_span(self) -> tuple[int, int] | None:
        span = self.span()
        if span is None or self.video_id is None:
            self.state.show_status("Set the In point (I) and the Out point (O) first", 5000)
        return span if self.video_id is not None else None

    def _finish_typing(self) -> bool:
        """If a text field or spin box has the focus, Enter means "done typing": commit it, give the
        keys back to the player and return True (the shortcut does nothing else)."""
        focus = QApplication.focusWidget()
        if isinstance(focus, QLineEdit | QAbstractSpinBox | QComboBox):
            focus.clearFocus()  # spin boxes and table editors commit on focus out
            self.state.request_player_focus()
            return True
        return False

    def create_subclip(self, label: str | None = None, value: float | None = None, target: str | None = None) -> None:
        if label is None and value is None and self._finish_typing():
            return
        if self.project is None:
            return
        span = self._need_span()
        if span is None:
            return
        label = label if label is not None or value is not None else self.label_panel.current_class
        clip = self._edit(self.project.add_subclip, self.video_id, *span, label=label, value=value, target=target)
        if clip is not None:
            self.clear_in_out()
            self._select(("subclip", clip.id))
            if label is None and value is None:
                self.state.show_status("Subclip made without a class: the label schema (Ctrl+L) has none", 6000)

    def mark_anomaly(self) -> None:
        if self.project is None:
            return
        span = self._need_span()
        if span is None:
            return
        interval = self._edit(self.project.add_interval, self.video_id, *span)
        if interval is not None:
            self.clear_in_out()
            self._select(("anomaly", interval.id))

    def mark_normal(self) -> None:
        """Mark In..Out as normal footage: anomaly training learns from it, the rest of the video is scored."""
        if self.project is None:
            return
        span = self._need_span()
        if span is None:
            return
        normal = self._edit(self.project.add_normal_span, self.video_id, *span)
        if normal is None:
            return
        self.clear_in_out()
        self._select(("normal", normal.id))
        conflicts = normal_span_conflicts(self.project.data, normal)
        if conflicts:
            self.state.show_status(f"Normal footage marked; it overlaps {'; '.join(conflicts)}: training leaves "
                                   "those frames out", 8000)
        else:
            self.state.show_status(f"Frames {normal.start}-{normal.end - 1} marked as normal footage: anomaly "
                                   "training learns from them, the rest of this video is scored", 6000)

    def choose_class(self, name: str) -> None:
        """A class key: label In..Out with it, or relabel the selected subclip, or make it current."""
        self.label_panel.set_current_class(name)
        if self.project is None:
            return
        if self.span() is not None:
            self.create_subclip(label=name)
        elif self.selection is not None and self.selection[0] == "subclip":
            self._edit(self.project.update_subclip, self.selection[1], label=name)
        else:
            self.state.show_status(f"Current class: {name}", 3000)

    def enter_value(self) -> None:
        """Ask for a numeric value for the selected subclip or a new subclip of In..Out; with neither
        (or with an anomaly interval selected) say so at once instead of asking for a value to drop."""
        if self.project is None or self.video_id is None:
            return
        on_subclip = self.selection is not None and self.selection[0] == "subclip"
        if self.span() is None and not on_subclip:
            what = ("An anomaly interval has no value: select a subclip" if self.selection is not None
                    else "Select a subclip")
            self.state.show_status(f"{what}, or set In (I) and Out (O), before entering a value (V)", 6000)
            return
        targets = [(t.name, t.minimum, t.maximum, t.unit) for t in self.project.targets.values()]
        if not targets:
            show_error(self.window, ProjectValidationError("add a numeric target in the label schema (Ctrl+L) first"), "Value")
            return
        current = None
        if self.selection and self.selection[0] == "subclip":
            current = self.project.subclips[self.selection[1]].value
        dialog = ValueDialog(targets, self.window, current)
        if dialog.exec() and dialog.value() is not None:
            self.apply_value(*dialog.value())

    def apply_value(self, target: str, value: float) -> None:
        """Give the selected subclip (or a new one from In..Out) the value ``value`` of ``target``."""
        if self.project is None:
            return
        if self.span() is None and self.selection and self.selection[0] == "subclip":
            self._edit(self.project.update_subclip, self.selection[1], value=value, target=target)
        else:
            self.create_subclip(label=None, value=value, target=target)

    def delete_selected(self) -> None:
        if self.project is None or self.selection is None:
            return
        kind, key = self.selection
        self.state.set_selection(None)
        if kind == "subclip":
            self._edit(self.project.remove_subclips, [key])
        elif kind == "normal":
            self._edit(self.project.remove_normal_spans, [key])
        else:
            self._edit(self.project.remove_intervals, [key])

    def move_entity(self, kind: str, key: str, start: int, end: int) -> None:
        """Give a subclip, anomaly interval or normal span a new ``[start, end)`` (one undoable edit)."""
        if self.project is None:
            return
        if kind == "subclip":
            self._edit(self.project.update_subclip, key, start=start, end=end)
        elif kind == "anomaly" and key in self.project.intervals:
            self._edit(self.project.update_interval, key, start=start, end=end)
        elif kind == "normal" and key in self.project.normal_spans:
            self._edit(self.project.update_normal_span, key, start=start, end=end)

    def _entity(self, kind: str, key: str):
        """The subclip, anomaly interval or normal span a selection ``(kind, key)`` names, or ``None``."""
        if self.project is None:
            return None
        coll = {"subclip": self.project.subclips, "normal": self.project.normal_spans}.get(kind, self.project.intervals)
        return coll.get(key)

    def _nudge(self, delta: int) -> None:
        if self.project is None or self.selection is None:
            return
        kind, key = self.selection
        entity = self._entity(kind, key)
        if entity is not None:
            self.move_entity(kind, key, entity.start + delta, entity.end + delta)

    def nudge_back(self) -> None:
        self._nudge(-1)

    def nudge_forward(self) -> None:
        self._nudge(1)

    def _bands_in_order(self, kind: str) -> list[tuple[str, str, int]]:
        """The video's subclips (``kind`` "subclip") or anomaly intervals ("anomaly") by start."""
        if self.project is None or self.video_id is None:
            return []
        if kind == "subclip":
            items = [(kind, s.id, s.start) for s in self.project.subclips_of(self.video_id)]
        else:
            items = [(kind, i.id, i.start) for i in self.project.intervals_of(self.video_id)]
        return sorted(items, key=lambda t: t[2])

    def _selected_band_index(self, bands: list[tuple[str, str, int]]) -> int | None:
        """Index of the selected band if the playhead is on its first frame (else navigation starts
        from the playhead)."""
        for i, (kind, key, start) in enumerate(bands):
            if self.selection == (kind, key) and start == self.state.position:
                return i
        return None

    def _select_next(self, kind: str) -> None:
        bands = self._bands_in_order(kind)
        i = self._selected_band_index(bands)
        # with no selected band, one that starts on the frame shown (e.g. frame 0) counts as next
        later = bands[i + 1:] if i is not None else [b for b in bands if b[2] >= self.state.position]
        if later:
            self._jump_to(later[0][0], later[0][1])

    def _select_previous(self, kind: str) -> None:
        bands = self._bands_in_order(kind)
        i = self._selected_band_index(bands)
        earlier = bands[:i] if i is not None else [b for b in bands if b[2] < self.state.position]
        if earlier:
            self._jump_to(earlier[-1][0], earlier[-1][1])

    def select_next_band(self) -> None:
        self._select_next("subclip")

    def select_previous_band(self) -> None:
        self._select_previous("subclip")

    def select_next_interval(self) -> None:
        self._select_next("anomaly")

    def select_previous_interval(self) -> None:
        self._select_previous("anomaly")

    def _jump_to(self, kind: str, key: str) -> None:
        if self.project is None:
            return
        entity = (self.project.subclips if kind == "subclip" else self.project.intervals).get(key)
        if entity is not None:
            self._select((kind, key))
            self.state.request_seek(entity.start)

    def _select(self, selection: tuple[str, str] | None) -> None:
        self.state.set_selection(selection)

    def _show_selection(self, selection: tuple[str, str] | None) -> None:
        kind, key = selection if selection else ("", "")
        self.label_panel.subclips.select_id(key if kind == "subclip" else None)
        self.label_panel.intervals.select_id(key if kind == "anomaly" else None)
        if kind in ("subclip", "anomaly"):
            self.label_panel.tabs.setCurrentIndex(0 if kind == "subclip" else 1)
        self._update_actions()

    def _on_subclip_cell(self, key: str, column: str, text: str) -> None:
        if self.project is None or key not in self.project.subclips:
            return
        clip = self.project.subclips[key]
        text = text.strip()
        try:
            if column == "First":
                changes = {"start": int(text)}
            elif column == "Last":
                changes = {"end": int(text) + 1}
            elif column == "Label":
                changes = {"label": text or None}
            elif column == "Value":
                changes = {"value": float(text.replace(",", ".")) if text else None}
                if not text:
                    changes["target"] = None
                elif clip.target is None and len(self.project.targets) == 1:
                    changes["target"] = next(iter(self.project.targets))
            elif column == "Split":
                changes = {"split": text or None}
            elif column == "Note":
                changes = {"note": text}
            else:
                return
        except ValueError:
            show_error(self.window, ProjectValidationError(f"{column.lower()} must be a number, not {text!r}"), "Edit")
            self._refresh_labels()
            return
        if self._edit(self.project.update_subclip, key, **changes) is None:
            self._refresh_labels()

    def _on_interval_cell(self, key: str, column: str, text: str) -> None:
        if self.project is None or key not in self.project.intervals:
            return
        iv = self.project.intervals[key]
        try:
            if column == "First":
                self.move_entity("anomaly", key, int(text), iv.end)
            elif column == "Last":
                self.move_entity("anomaly", key, iv.start, int(text) + 1)
        except ValueError:
            show_error(self.window, ProjectValidationError(f"{column.lower()} must be a frame number, not {text!r}"), "Edit")
        self._refresh_labels()

