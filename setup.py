"""Packages of the install; everything else is in ``pyproject.toml``.

The repository keeps its package data in the top-level ``resources/`` folder; it installs as the package
``framewatch_resources`` (``pyproject.toml`` lists its files), which ``pyproject.toml`` alone cannot map
beside automatically found packages. The guides in ``docs/`` (Help > User Guide opens one) install as
``framewatch_resources/guide``.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["core", "core.*", "desktop_app", "desktop_app.*"]), "framewatch_resources",
              "framewatch_resources.guide"],
    package_dir={"framewatch_resources": "resources", "framewatch_resources.guide": "docs"},
)
