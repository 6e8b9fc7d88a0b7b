"""The video writers: results drawn onto frames and written as video or GIF.

:mod:`~core.render.annotated_video` (a scored video with its error curve and events),
:mod:`~core.render.side_by_side` (ground truth beside prediction, GIF or MP4),
:mod:`~core.render.window_video` (a classified video with each window's label), drawn with
:mod:`~core.render.score_overlay` (curve panels, cursor, alert border) and :mod:`~core.render.label_strip`
(a text strip above a frame). They read results from :mod:`core.inference`; nothing there imports them.
"""
