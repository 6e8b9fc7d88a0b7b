"""Importers: one module per source layout. Each adds everything it reads as one undoable action.

* :func:`import_ucsd` — UCSD anomaly datasets (training/testing folders + a ``gt_frame`` ``.m`` file);
* :func:`import_class_folders` — ``train/<class>/*.mp4``, ``test/<class>/*.mp4`` labelled clips;
* :func:`import_csv_labels` — a CSV of ``video,start,end,label`` rows.
"""

from core.project.importers.class_folders import import_class_folders
from core.project.importers.csv_labels import import_csv_labels
from core.project.importers.ucsd import ImportResult, import_ucsd, parse_ucsd_ground_truth

__all__ = ["ImportResult", "import_class_folders", "import_csv_labels", "import_ucsd", "parse_ucsd_ground_truth"]
