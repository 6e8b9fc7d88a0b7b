"""Archive scoring on Ray: many videos, split into segments, scored by workers that each load the model once.

* :mod:`core.distributed.segments` cuts a video's frames into segments and keeps each segment's scores in the
  project's cache, written atomically and keyed by (video content, model file + scoring parameters, frame
  range); when every segment of a video is there it merges them into the project's score cache, the very
  entry single-process scoring writes.
* :mod:`core.distributed.worker` is what runs in a Ray worker: the model, loaded once, scoring one segment
  at a time with :func:`~core.inference.anomaly.scoring.score_video` from the segment's first frame.
* :mod:`core.distributed.archive` is the driver: it starts a local Ray (``workers``) or joins a cluster
  (``address``), hands out the segments still to score, reports one progress over the archive, merges, and
  stops the workers on cancel, Ctrl+C or error.

Ray is an optional extra (``pip install "framewatch[cluster]"``, :mod:`core.distributed.ray_import`); nothing
here imports it at module level, so the rest of Framewatch runs without it.
"""
