"""The main window's labelling: In/Out points, subclips, anomaly intervals, class keys, numeric values,
selection, moving and deleting, and edits made in the tables.

A mixin of :class:`desktop_app.main_window.MainWindow`. Every change is a project command (undoable);
a refused change (a span past the end, a label not in the schema) becomes a dialog.
"""

from __future__ import annotations

from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QComboBox, QLineEdit

from core.errors import FramewatchError
from core.project import ProjectValidationError
from desktop_app.jobs.error_dialog import show_error
from desktop_app.labelling.value_dialog import ValueDialog


class LabellingMixin:
    """Cutting and labelling; see the module docstring."""

    # == labelling =================================================================================
    def set_in(self) -> None:
        if not self.player.has_video:
            return
        self.player.pause()
        self.in_point = self.player.position
        if self.out_end is not None and self.out_end <= self.in_point:
            self.out_end = None
        self._refresh_span()

    def set_out(self) -> None:
        if not self.player.has_video:
            return
        self.player.pause()
        self.out_end = self.player.position + 1
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
        start = self.in_point if self.in_point is not None else self.player.position
        end = self.out_end if self.out_end is not None else self.player.position + 1
        return (start, end) if end > start else None

    def _need_span(self) -> tuple[int, int] | None:
        span = self.span()
        if span is None or self.video_id is None:
            self.statusBar().showMessage("Set the In point (I) and the Out point (O) first", 5000)
        return span if self.video_id is not None else None

    def _edit(self, fn, *args, **kwargs):
        """Run a project edit; a refused edit becomes a dialog and returns None."""
        try:
            return fn(*args, **kwargs)
        except FramewatchError as exc:
            show_error(self, exc, "Edit")
        except (KeyError, ValueError) as exc:
            show_error(self, ProjectValidationError(str(exc)), "Edit")
        return None

    def _finish_typing(self) -> bool:
        """If a text field or spin box has the focus, Enter means "done typing": commit it, give the
        keys back to the player and return True (the shortcut does nothing else)."""
        focus = QApplication.focusWidget()
        if isinstance(focus, QLineEdit | QAbstractSpinBox | QComboBox):
            focus.clearFocus()  # spin boxes and table editors commit on focus out
            self.player.view.setFocus()
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
                self.statusBar().showMessage("Subclip made without a class: the label schema (Ctrl+L) has none", 6000)

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
            self.statusBar().showMessage(f"Current class: {name}", 3000)

    def enter_value(self) -> None:
        if self.project is None or self.video_id is None:
            return
        targets = [(t.name, t.minimum, t.maximum, t.unit) for t in self.project.targets.values()]
        if not targets:
            show_error(self, ProjectValidationError("add a numeric target in the label schema (Ctrl+L) first"), "Value")
            return
        current = None
        if self.selection and self.selection[0] == "subclip":
            current = self.project.subclips[self.selection[1]].value
        dialog = ValueDialog(targets, self, current)
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
        self.selection = None
        if kind == "subclip":
            self._edit(self.project.remove_subclips, [key])
        else:
            self._edit(self.project.remove_intervals, [key])

    def move_entity(self, kind: str, key: str, start: int, end: int) -> None:
        """Give a subclip or anomaly interval a new ``[start, end)`` (one undoable edit)."""
        if self.project is None:
            return
        if kind == "subclip":
            self._edit(self.project.update_subclip, key, start=start, end=end)
        elif kind == "anomaly" and key in self.project.intervals:
            self._edit(self.project.update_interval, key, start=start, end=end)

    def _nudge(self, delta: int) -> None:
        if self.project is None or self.selection is None:
            return
        kind, key = self.selection
        entity = (self.project.subclips if kind == "subclip" else self.project.intervals).get(key)
        if entity is not None:
            self.move_entity(kind, key, entity.start + delta, entity.end + delta)

    def nudge_back(self) -> None:
        self._nudge(-1)

    def nudge_forward(self) -> None:
        self._nudge(1)

    def _bands_in_order(self) -> list[tuple[str, str, int]]:
        if self.project is None or self.video_id is None:
            return []
        items = [("subclip", s.id, s.start) for s in self.project.subclips_of(self.video_id)]
        items += [("anomaly", i.id, i.start) for i in self.project.intervals_of(self.video_id)]
        return sorted(items, key=lambda t: (t[2], t[0]))

    def _selected_band_index(self, bands: list[tuple[str, str, int]]) -> int | None:
        """Index of the selected band if the playhead is on its first frame (else navigation starts
        from the playhead)."""
        for i, (kind, key, start) in enumerate(bands):
            if self.selection == (kind, key) and start == self.player.position:
                return i
        return None

    def select_next_band(self) -> None:
        bands = self._bands_in_order()
        i = self._selected_band_index(bands)
        # with no selected band, one that starts on the frame shown (e.g. frame 0) counts as next
        later = bands[i + 1:] if i is not None else [b for b in bands if b[2] >= self.player.position]
        if later:
            self._jump_to(later[0][0], later[0][1])

    def select_previous_band(self) -> None:
        bands = self._bands_in_order()
        i = self._selected_band_index(bands)
        earlier = bands[:i] if i is not None else [b for b in bands if b[2] < self.player.position]
        if earlier:
            self._jump_to(earlier[-1][0], earlier[-1][1])

    def _jump_to(self, kind: str, key: str) -> None:
        if self.project is None:
            return
        entity = (self.project.subclips if kind == "subclip" else self.project.intervals).get(key)
        if entity is not None:
            self._select((kind, key))
            self.player.step(entity.start - self.player.position)

    def _select(self, selection: tuple[str, str] | None) -> None:
        self.selection = selection
        kind, key = selection if selection else ("", "")
        self.player.timeline.select(kind, key)
        self.label_panel.subclips.select_id(key if kind == "subclip" else None)
        self.label_panel.intervals.select_id(key if kind == "anomaly" else None)
        if kind:
            self.label_panel.tabs.setCurrentIndex(0 if kind == "subclip" else 1)
        self._update_actions()

    def _on_band_selected(self, kind: str, key: str) -> None:
        if kind == "event":
            return
        self._select((kind, key) if key else None)

    def _on_band_edited(self, kind: str, key: str, start: int, end: int) -> None:
        self.move_entity(kind, key, start, end)

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
            show_error(self, ProjectValidationError(f"{column.lower()} must be a number, not {text!r}"), "Edit")
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
            show_error(self, ProjectValidationError(f"{column.lower()} must be a frame number, not {text!r}"), "Edit")
        self._refresh_labels()

