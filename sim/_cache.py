"""Cache folders for Warp kernels, set before warp or newton is first imported."""

from __future__ import annotations

import functools
import logging
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from tryon3d.core import cache_root

T = TypeVar("T")
_log = logging.getLogger("tryon3d")


def configure_warp_cache() -> None:
    """Point Warp's kernel cache at ``<cache>/warp`` unless ``WARP_CACHE_PATH`` is already set,
    and keep Warp's start-up banner and module-load lines off stdout (they would corrupt the
    benchmarks' ``--json`` output); warnings still show."""
    os.environ.setdefault("WARP_CACHE_PATH", str(cache_root() / "warp"))
    import warp

    warp.config.log_level = warp.LOG_WARNING


_FAILED_LOAD = re.compile(
    r"Failed to load (?:CPU|CUDA) module '([^']+)' \(.*module_hash=([0-9a-f]+)"
)


def repair_kernel_cache_once(function: Callable[..., T]) -> Callable[..., T]:
    """Run ``function``; if Warp cannot load a cached kernel module (a truncated or corrupted
    ``.o``/``.cubin`` in the cache), delete that module's cache folder, log it, and run once more
    (Warp then compiles the module afresh). A second failure propagates."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except Exception as exc:  # Warp raises a bare Exception for this
            match = _FAILED_LOAD.search(str(exc))
            if match is None:
                raise
            import warp

            name, module_hash = match.groups()
            root = Path(warp.config.kernel_cache_dir or "")
            damaged = [p for p in root.glob(f"wp_{name}_{module_hash}*") if p.is_dir()]
            if not damaged:
                raise
            for folder in damaged:
                shutil.rmtree(folder, ignore_errors=True)
            _log.warning("Warp kernel cache of %s was damaged; rebuilt it", name)
            return function(*args, **kwargs)

    return wrapper


configure_warp_cache()
