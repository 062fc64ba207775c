"""Cache folders for Warp kernels, set before warp or newton is first imported."""

from __future__ import annotations

import os

from tryon3d.core import cache_root


def configure_warp_cache() -> None:
    """Point Warp's kernel cache at ``<cache>/warp`` unless ``WARP_CACHE_PATH`` is already set,
    and keep Warp's start-up banner and module-load lines off stdout (they would corrupt the
    benchmarks' ``--json`` output); warnings still show."""
    os.environ.setdefault("WARP_CACHE_PATH", str(cache_root() / "warp"))
    import warp

    warp.config.log_level = warp.LOG_WARNING


configure_warp_cache()
