"""The ``framewatch`` command line: the headless twin of every GUI action."""
