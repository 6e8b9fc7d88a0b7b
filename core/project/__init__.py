"""Projects: videos, label schema, subclips, anomaly intervals, normal spans, verdicts and model runs.

``Project.create(folder)`` / ``Project.open(folder)`` give a :class:`Project`; every edit is an undoable
command; saving is atomic and autosave keeps unsaved edits recoverable. Frames are 0-based and
intervals ``[start, end)`` (end exclusive) everywhere. See ``docs/project-format.md``.
"""

from core.project.commands import (
    AddEntities,
    Change,
    Command,
    Macro,
    RemoveEntities,
    ReplaceEntities,
    SetInfo,
    UndoStack,
)
from core.project.entities import (
    SPLITS,
    VERDICTS,
    AnomalyInterval,
    Fingerprint,
    LabelClass,
    ModelRun,
    NormalSpan,
    NumericTarget,
    ProjectData,
    ProjectInfo,
    Subclip,
    Verdict,
    Video,
    new_id,
)
from core.project.errors import (
    DatasetError,
    ProjectChangedError,
    ProjectError,
    ProjectExistsError,
    ProjectFormatError,
    ProjectLockedError,
    ProjectNotFoundError,
    ProjectReadOnlyError,
    ProjectValidationError,
    ProjectVersionError,
)
from core.project.fingerprint import fingerprint
from core.project.project import Project, ProjectEvent
from core.project.store import RecoveryInfo
from core.project.validation import Issue, find_moved_videos, validate
from core.project.videos import probe_video

__all__ = [
    "SPLITS",
    "VERDICTS",
    "AddEntities",
    "AnomalyInterval",
    "Change",
    "Command",
    "DatasetError",
    "Fingerprint",
    "Issue",
    "LabelClass",
    "Macro",
    "ModelRun",
    "NormalSpan",
    "NumericTarget",
    "Project",
    "ProjectData",
    "ProjectChangedError",
    "ProjectError",
    "ProjectEvent",
    "ProjectExistsError",
    "ProjectFormatError",
    "ProjectInfo",
    "ProjectLockedError",
    "ProjectNotFoundError",
    "ProjectReadOnlyError",
    "ProjectValidationError",
    "ProjectVersionError",
    "RecoveryInfo",
    "RemoveEntities",
    "ReplaceEntities",
    "SetInfo",
    "Subclip",
    "UndoStack",
    "Verdict",
    "Video",
    "fingerprint",
    "find_moved_videos",
    "new_id",
    "probe_video",
    "validate",
]
