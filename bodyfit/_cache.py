"""Where bodyfit's third-party caches live: one folder, ``$TRYON3D_CACHE`` (default
~/.cache/tryon3d)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from tryon3d.core import cache_root


def configure_caches() -> Path:
    """Point anny and Warp at ``$TRYON3D_CACHE/{anny,warp}`` unless the user chose otherwise.

    Must run before anny (which imports Warp) is imported. Returns the cache root.

    Raises:
        ValueError: the cache folder is not a folder or cannot be written (says which and how
            to choose another).
    """
    root = cache_root()
    check_cache_dir(root)
    os.environ.setdefault("ANNY_CACHE_DIR", str(root / "anny"))
    os.environ.setdefault("WARP_CACHE_PATH", str(root / "warp"))
    import warp

    warp.config.log_level = warp.LOG_WARNING  # the start-up banner would pollute stdout (--json)
    return root


def check_cache_dir(root: Path) -> None:
    """Create ``root`` if needed and check that files can be written in it (ValueError if not)."""
    hint = "set TRYON3D_CACHE to a writable folder"
    existing = root
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent
    if not existing.is_dir():
        raise ValueError(
            f"cache folder {str(root)!r} cannot be created: {str(existing)!r} is not a folder; "
            f"{hint}"
        )
    try:
        root.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=root, prefix=".probe-"):
            pass
    except OSError as exc:
        raise ValueError(
            f"cache folder {str(root)!r} is not writable ({exc.strerror or exc}); {hint}"
        ) from None


def anny_cache_dir() -> Path:
    """Where anny keeps its built model data (anny reads ``ANNY_CACHE_DIR`` once, at import)."""
    import anny.paths

    return Path(anny.paths.get_anny_cache_path())


def drop_damaged_cache_files(folder: Path) -> list[Path]:
    """Delete the ``.safetensors`` files under ``folder`` whose header or length is damaged
    (a run killed while writing, a full disk); returns them. anny rebuilds what is missing."""
    from safetensors import safe_open

    damaged = []
    for path in sorted(Path(folder).rglob("*.safetensors")):
        try:
            with safe_open(str(path), framework="numpy") as handle:
                handle.keys()
        except Exception:  # SafetensorError, OSError: either way the file cannot be used
            damaged.append(path)
            path.unlink(missing_ok=True)
    return damaged
