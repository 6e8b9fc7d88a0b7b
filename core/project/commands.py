"""Edits as command objects with exact undo, and the undo stack that holds them.

Every change to a project goes through :meth:`core.project.project.Project.execute` with a
:class:`Command`. A command's :meth:`Command.do` changes the :class:`ProjectData` and remembers what it
needs to put it back; :meth:`Command.undo` puts it back exactly (entity order included). Commands are
never merged: one user action is one command (an import of a thousand clips is one :class:`Macro`), so one
undo takes back one action.

A handful of generic commands cover every edit, because entities are immutable and live in
``{id: entity}`` dicts: :class:`AddEntities`, :class:`RemoveEntities`, :class:`ReplaceEntities`,
:class:`SetInfo`, and :class:`Macro` to group them.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from core.project.entities import ProjectData, ProjectInfo


@dataclass(frozen=True)
class Change:
    """What a command touched: collection names (``"subclips"``, ``"info"``, ...) and entity ids."""

    collections: frozenset[str] = frozenset()
    ids: frozenset[str] = frozenset()

    def __or__(self, other: Change) -> Change:
        return Change(self.collections | other.collections, self.ids | other.ids)


class Command(abc.ABC):
    """One undoable edit. ``text`` names it for menus ("Undo Add 3 subclips")."""

    text: str = ""

    @abc.abstractmethod
    def do(self, data: ProjectData) -> Change:
        """Apply the edit (also used for redo); returns what changed."""

    @abc.abstractmethod
    def undo(self, data: ProjectData) -> Change:
        """Take the edit back exactly."""


class AddEntities(Command):
    """Add new entities (their ids must not exist yet) at the end of a collection."""

    def __init__(self, collection: str, entities: Iterable[Any], text: str = "") -> None:
        self.collection = collection
        self.entities = list(entities)
        self.text = text or f"Add {len(self.entities)} {collection}"

    def do(self, data: ProjectData) -> Change:
        coll = data.collection(self.collection)
        ids = [e.id for e in self.entities]
        if len(set(ids)) != len(ids) or any(i in coll for i in ids):
            raise KeyError(f"{self.collection}: an id to add already exists")
        for entity in self.entities:
            coll[entity.id] = entity
        return Change(frozenset({self.collection}), frozenset(ids))

    def undo(self, data: ProjectData) -> Change:
        coll = data.collection(self.collection)
        for entity in self.entities:
            del coll[entity.id]
        return Change(frozenset({self.collection}), frozenset(e.id for e in self.entities))


class RemoveEntities(Command):
    """Remove entities by id; undo puts them back where they were."""

    def __init__(self, collection: str, ids: Iterable[str], text: str = "") -> None:
        self.collection = collection
        self.ids = list(dict.fromkeys(ids))
        self.text = text or f"Remove {len(self.ids)} {collection}"
        self._removed: list[tuple[int, Any]] = []

    def do(self, data: ProjectData) -> Change:
        coll = data.collection(self.collection)
        wanted = set(self.ids)
        missing = wanted.difference(coll)
        if missing:
            raise KeyError(f"{self.collection}: no entity {sorted(missing)[0]!r}")
        self._removed = [(n, e) for n, (k, e) in enumerate(coll.items()) if k in wanted]
        for ident in self.ids:
            del coll[ident]
        return Change(frozenset({self.collection}), frozenset(self.ids))

    def undo(self, data: ProjectData) -> Change:
        coll = data.collection(self.collection)
        tail_start = len(coll)
        if all(n >= tail_start for n, _ in self._removed):  # removed from the end: append back
            for _, entity in self._removed:
                coll[entity.id] = entity
        else:
            items = list(coll.values())
            for n, entity in self._removed:  # ascending positions: each insert lands where it was
                items.insert(n, entity)
            coll.clear()
            coll.update((e.id, e) for e in items)
        return Change(frozenset({self.collection}), frozenset(self.ids))


class ReplaceEntities(Command):
    """Replace existing entities by edited copies with the same ids (position kept)."""

    def __init__(self, collection: str, entities: Iterable[Any], text: str = "") -> None:
        self.collection = collection
        self.entities = list(entities)
        self.text = text or f"Edit {len(self.entities)} {collection}"
        self._old: list[Any] = []

    def do(self, data: ProjectData) -> Change:
        coll = data.collection(self.collection)
        missing = [e.id for e in self.entities if e.id not in coll]
        if missing:
            raise KeyError(f"{self.collection}: no entity {missing[0]!r}")
        self._old = [coll[e.id] for e in self.entities]
        for entity in self.entities:
            coll[entity.id] = entity
        return Change(frozenset({self.collection}), frozenset(e.id for e in self.entities))

    def undo(self, data: ProjectData) -> Change:
        coll = data.collection(self.collection)
        for entity in reversed(self._old):
            coll[entity.id] = entity
        return Change(frozenset({self.collection}), frozenset(e.id for e in self._old))


class RenameEntity(Command):
    """Give an entity keyed by name (a class, a target) a new key, keeping its place in the collection."""

    def __init__(self, collection: str, old_id: str, entity: Any, text: str = "") -> None:
        self.collection = collection
        self.old_id = old_id
        self.entity = entity
        self.text = text or f"Rename {old_id} to {entity.id}"
        self._old: Any = None

    @staticmethod
    def _swap(coll: dict[str, Any], old_id: str, entity: Any) -> None:
        items = [(entity.id, entity) if key == old_id else (key, value) for key, value in coll.items()]
        coll.clear()
        coll.update(items)

    def do(self, data: ProjectData) -> Change:
        coll = data.collection(self.collection)
        if self.old_id not in coll:
            raise KeyError(f"{self.collection}: no entity {self.old_id!r}")
        if self.entity.id != self.old_id and self.entity.id in coll:
            raise KeyError(f"{self.collection}: {self.entity.id!r} already exists")
        self._old = coll[self.old_id]
        self._swap(coll, self.old_id, self.entity)
        return Change(frozenset({self.collection}), frozenset({self.old_id, self.entity.id}))

    def undo(self, data: ProjectData) -> Change:
        self._swap(data.collection(self.collection), self.entity.id, self._old)
        return Change(frozenset({self.collection}), frozenset({self.old_id, self.entity.id}))


class SetInfo(Command):
    """Replace the project's name / description."""

    def __init__(self, info: ProjectInfo, text: str = "Edit project info") -> None:
        self.info = info
        self.text = text
        self._old: ProjectInfo | None = None

    def do(self, data: ProjectData) -> Change:
        self._old = data.info
        data.info = self.info
        return Change(frozenset({"info"}))

    def undo(self, data: ProjectData) -> Change:
        assert self._old is not None
        data.info = self._old
        return Change(frozenset({"info"}))


class Macro(Command):
    """Several commands as one undoable action; if one fails, those already done are undone."""

    def __init__(self, commands: Sequence[Command], text: str) -> None:
        self.commands = [c for c in commands if c is not None]
        self.text = text

    def do(self, data: ProjectData) -> Change:
        change = Change()
        done: list[Command] = []
        try:
            for command in self.commands:
                change = change | command.do(data)
                done.append(command)
        except BaseException:
            for command in reversed(done):
                command.undo(data)
            raise
        return change

    def undo(self, data: ProjectData) -> Change:
        change = Change()
        for command in reversed(self.commands):
            change = change | command.undo(data)
        return change


@dataclass
class UndoStack:
    """Done commands below ``index``, undone (redoable) ones above it, like ``QUndoStack``.

    ``clean_index`` is the index at the last save: the project is dirty whenever ``index`` differs.
    At most ``limit`` commands are kept; the oldest are forgotten (then a save point may become
    unreachable, which keeps the project dirty until the next save).
    """

    limit: int = 500
    commands: list[Command] = field(default_factory=list)
    index: int = 0
    clean_index: int | None = 0

    @property
    def can_undo(self) -> bool:
        return self.index > 0

    @property
    def can_redo(self) -> bool:
        return self.index < len(self.commands)

    @property
    def undo_text(self) -> str:
        """Text of the command :meth:`Project.undo` would take back (``""`` if none)."""
        return self.commands[self.index - 1].text if self.can_undo else ""

    @property
    def redo_text(self) -> str:
        return self.commands[self.index].text if self.can_redo else ""

    @property
    def is_clean(self) -> bool:
        return self.index == self.clean_index

    def set_clean(self) -> None:
        self.clean_index = self.index

    def push(self, command: Command) -> None:
        """Record a command that has just been done; drops the redo branch."""
        if self.clean_index is not None and self.clean_index > self.index:
            self.clean_index = None  # the saved state was on the dropped redo branch
        del self.commands[self.index :]
        self.commands.append(command)
        self.index += 1
        overflow = len(self.commands) - self.limit
        if overflow > 0:
            del self.commands[:overflow]
            self.index -= overflow
            if self.clean_index is not None:
                self.clean_index -= overflow
                if self.clean_index < 0:
                    self.clean_index = None

    def clear(self) -> None:
        self.commands.clear()
        self.index = 0
        self.clean_index = 0
