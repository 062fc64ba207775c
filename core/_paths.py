"""Where tryon3d keeps its caches and finds its shipped data files."""

from __future__ import annotations

import importlib.resources
import os
from importlib.resources.abc import Traversable
from pathlib import Path

__all__ = ["cache_root", "data_file"]


def cache_root() -> Path:
    """The tryon3d cache folder: ``$TRYON3D_CACHE``, default ``~/.cache/tryon3d``."""
    return Path(os.environ.get("TRYON3D_CACHE") or Path.home() / ".cache" / "tryon3d").expanduser()


def data_file(name: str) -> Traversable:
    """A file (or folder) shipped in ``tryon3d.data``, e.g. ``data_file("size_charts.json")``
    or ``data_file("viewer")``; read it with ``read_text`` / ``read_bytes``.

    Raises:
        ModuleNotFoundError: ``tryon3d.data`` is not installed (reading a missing file raises
            ``FileNotFoundError``).
    """
    return importlib.resources.files("tryon3d.data").joinpath(name)
