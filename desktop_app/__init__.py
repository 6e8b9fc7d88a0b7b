"""The PySide6 front end: windows, widgets, and Qt workers that run core jobs off the GUI thread."""
