"""Output files: checked before work starts, written atomically when it is done."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path


def ensure_writable_dir(path: str | os.PathLike) -> Path:
    """Create ``path`` if needed and check that files can be written there.

    Raises:
        ValueError: the folder cannot be created or written, with the reason.
    """
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"output path {str(folder)!r} exists and is not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=folder, prefix=".tryon3d-probe-", delete=True)
        probe.close()
    except OSError as exc:
        raise ValueError(f"cannot write to output folder {str(folder)!r}: {exc.strerror or exc}") from None
    return folder


def write_files_atomically(folder: str | os.PathLike, files: Mapping[str, bytes | str]) -> list[Path]:
    """Write every file or none: all go to a hidden staging folder, then each is renamed in.

    Args:
        folder: output folder (created if missing).
        files: file name (relative, no ``..``) to content; ``str`` is written as UTF-8.

    Returns:
        The written paths, in the order given.
    """
    out = ensure_writable_dir(folder)
    staging = Path(tempfile.mkdtemp(prefix=".tryon3d-staging-", dir=out))
    try:
        staged = []
        for name, content in files.items():
            relative = Path(name)
            if relative.is_absolute() or ".." in relative.parts:
                raise ValueError(f"output file name {name!r} must stay inside the output folder")
            target = staging / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            data = content.encode("utf-8") if isinstance(content, str) else content
            target.write_bytes(data)
            staged.append(relative)
        written = []
        for relative in staged:
            final = out / relative
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / relative, final)
            written.append(final)
        return written
    finally:
        shutil.rmtree(staging, ignore_errors=True)
