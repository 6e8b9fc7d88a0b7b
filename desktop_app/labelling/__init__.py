"""The labelling feature: :class:`LabellingController` (In/Out, subclips, anomaly intervals, class keys,
values, the label schema; the Labels dock), :class:`LabelPanel` and :class:`SchemaEditor`."""

from desktop_app.labelling.controller import LabellingController
from desktop_app.labelling.label_panel import LabelPanel
from desktop_app.labelling.schema_editor import SchemaEditor

__all__ = ["LabelPanel", "LabellingController", "SchemaEditor"]
