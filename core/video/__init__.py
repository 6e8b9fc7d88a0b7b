"""Video I/O: video files and image-sequence folders as streams of frames.

``open_video(path)`` returns a :class:`VideoSource`; frames are ``uint8`` arrays, ``(H, W, 3)`` RGB
(or BGR) or ``(H, W)`` gray. See ``core.preprocessing`` for resizing, scaling and clip windows and
``core.video.cutting`` for writing subclips and frame folders.
"""

from core.video.image_sequence import DEFAULT_SEQUENCE_FPS, IMAGE_EXTENSIONS, list_images
from core.video.metadata import VideoMetadata
from core.video.open import open_video
from core.video.source import VideoSource

__all__ = ["DEFAULT_SEQUENCE_FPS", "IMAGE_EXTENSIONS", "VideoMetadata", "VideoSource", "list_images", "open_video"]
