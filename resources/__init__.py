"""Package data of Framewatch: the stylesheet and the built-in demo, installed as ``framewatch_resources``."""
