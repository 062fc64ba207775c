"""Cache folders for Warp kernels, set before warp or newton is first imported."""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    """The tryon3d cache folder: ``$TRYON3D_CACHE``, default ``~/.cache/tryon3d``."""
    return Path(os.environ.get("TRYON3D_CACHE") or Path.home() / ".cache" / "tryon3d").expanduser()


def configure_warp_cache() -> None:
    """Point Warp's kernel cache at ``<cache>/warp`` unless ``WARP_CACHE_PATH`` is already set,
    and keep Warp's start-up banner and module-load lines off stdout (they would corrupt the
    benchmarks' ``--json`` output); warnings still show."""
    os.environ.setdefault("WARP_CACHE_PATH", str(cache_root() / "warp"))
    import warp

    warp.config.log_level = warp.LOG_WARNING


configure_warp_cache()
