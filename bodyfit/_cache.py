"""Where bodyfit's third-party caches live: one folder, ``$TRYON3D_CACHE`` (default ~/.cache/tryon3d)."""

from __future__ import annotations

import os
from pathlib import Path

from tryon3d.core import cache_root


def configure_caches() -> Path:
    """Point anny and Warp at ``$TRYON3D_CACHE/{anny,warp}`` unless the user chose otherwise.

    Must run before anny (which imports Warp) is imported. Returns the cache root.
    """
    root = cache_root()
    os.environ.setdefault("ANNY_CACHE_DIR", str(root / "anny"))
    os.environ.setdefault("WARP_CACHE_PATH", str(root / "warp"))
    import warp

    warp.config.log_level = warp.LOG_WARNING  # the start-up banner would pollute stdout (--json)
    return root
