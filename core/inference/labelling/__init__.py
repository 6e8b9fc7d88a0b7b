"""Window labelling: :mod:`~core.inference.labelling.windows` runs a classify or regress run over a long
video window by window and merges the windows into segments (``framewatch classify``)."""
