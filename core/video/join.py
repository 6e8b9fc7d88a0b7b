"""Join videos end to end into one lossless video file: many short recordings of one camera as one long one.

``join_videos(sources, output, fps)`` decodes every frame of each source (video files or image folders) in
order and writes them to ``output`` with OpenCV's FFV1 encoder in an AVI container: lossless, so the joined
file decodes to exactly the frames the sources decode to (UCSD Ped2's JPEG frames stay bit-identical), and
every source must have the first one's frame size. The file is written under a temporary name and renamed
when complete (a failed or cancelled join leaves nothing behind).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

from core.atomic_write import atomic_output
from core.errors import VideoError
from core.jobs import ProgressCallback, check_cancelled, report
from core.video.open import open_video

#: The lossless codec and container of a joined video.
JOIN_FOURCC, JOIN_SUFFIX = "FFV1", ".avi"


def join_videos(sources: Sequence[str | Path], output: str | Path, fps: float, *,
                progress: ProgressCallback | None = None, cancel: threading.Event | None = None) -> int:
    """Write every frame of ``sources``, in order, to ``output`` (``.avi``, FFV1) at ``fps``; the frame count.

    :class:`VideoError` naming the file for an output that is not ``.avi``, no sources, a source whose frame
    size differs from the first's, or an encoder that cannot be opened.
    """
    import cv2

    output = Path(output)
    if output.suffix.lower() != JOIN_SUFFIX:
        raise VideoError(f"{output}: a joined video is written as lossless FFV1 in an {JOIN_SUFFIX} file")
    if not sources:
        raise VideoError(f"{output}: no videos to join")
    written = 0
    size = None
    with atomic_output(output) as tmp:
        writer = None
        try:
            for n, source_path in enumerate(sources):
                with open_video(source_path, fps=fps) as source:
                    for frame in source.iter_frames(color="bgr", cancel=cancel):
                        if writer is None:
                            size = (frame.shape[1], frame.shape[0])
                            writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*JOIN_FOURCC), fps, size)
                            if not writer.isOpened():
                                raise VideoError(f"{output}: OpenCV cannot open an {JOIN_FOURCC} writer here")
                        if (frame.shape[1], frame.shape[0]) != size:
                            raise VideoError(f"{source_path}: frames of {frame.shape[1]}x{frame.shape[0]}, but the "
                                             f"videos joined before it are {size[0]}x{size[1]}")
                        writer.write(frame)
                        written += 1
                check_cancelled(cancel)
                report(progress, n + 1, len(sources), f"joined {Path(source_path).name}")
        finally:
            if writer is not None:
                writer.release()
    return written
