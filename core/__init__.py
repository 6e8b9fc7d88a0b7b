"""Framewatch core: everything that is not a screen.

Video I/O, projects and labels, datasets, models, training, inference, evaluation and the
command-line interface. This package never imports Qt (a test and an import-linter contract hold it).
"""

__version__ = "0.1.0"

import os as _os

# FFmpeg (inside OpenCV) prints container errors such as "moov atom not found" straight to stderr;
# Framewatch reports them as VideoError messages instead. Must be set before OpenCV opens a video.
_os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
