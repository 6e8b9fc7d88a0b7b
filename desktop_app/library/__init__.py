"""The library feature: :class:`LibraryController` (projects and their footage, the Videos dock),
:class:`VideoList`, and the built-in demo's folders (:func:`ensure_demo_project`, :func:`user_demo_dir`,
:func:`user_scratch_dir`)."""

from desktop_app.library.controller import LibraryController
from desktop_app.library.demo import ensure_demo_project, user_demo_dir, user_scratch_dir
from desktop_app.library.video_list import VideoList

__all__ = ["LibraryController", "VideoList", "ensure_demo_project", "user_demo_dir", "user_scratch_dir"]
