"""Output files: checked before work starts, written atomically when it is done.

A run's files are written into a hidden staging folder beside the target and swapped in with
one atomic exchange (``renameat2(RENAME_EXCHANGE)`` on Linux, two renames elsewhere), so a run
killed at any moment leaves either the old folder or the new one, never a mix. Folders that hold
files tryon3d did not write (``-o .``, a desktop) are never swapped away: there each file is
renamed in and a manifest is written last. A lock file beside the target, holding the owner's
pid, keeps two runs from writing one folder; a lock whose pid is gone is taken over.
"""

from __future__ import annotations

import atexit
import ctypes
import errno
import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

#: Written last into every output folder; lists the run's files. A folder that has one is ours.
MANIFEST_NAME = ".tryon3d-manifest.json"
_LOCK_SUFFIX = ".tryon3d.lock"
_STAGING_TAG = ".tryon3d-new-"
_OLD_TAG = ".tryon3d-old-"
_held_locks: set[Path] = set()


def _describe(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "no space left on the device"
    if exc.errno == errno.EDQUOT:
        return "disk quota exceeded"
    return exc.strerror or str(exc)


def _check_name(path: str | os.PathLike) -> Path:
    text = os.fspath(path)
    if not isinstance(text, str) or not text.strip():
        raise ValueError("output folder must be a non-empty path")
    return Path(text)


def ensure_writable_dir(path: str | os.PathLike) -> Path:
    """Check (without creating anything inside it) that ``path`` can become the output folder,
    and lock it for this process.

    The folder itself is created only when the run's files are written.

    Raises:
        ValueError: empty path, not a folder, not writable, or another run holds its lock.
    """
    folder = _check_name(path)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"output path {str(folder)!r} exists and is not a folder")
    existing = folder
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if not existing.is_dir():
        raise ValueError(
            f"cannot write to output folder {str(folder)!r}: {str(existing)!r} is not a folder"
        )
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ValueError(
            f"cannot write to output folder {str(folder)!r}: {str(existing)!r} is not writable"
        )
    if folder.exists():
        _acquire_lock(folder)
    return folder


def _lock_path(folder: Path) -> Path:
    absolute = Path(os.path.abspath(folder))
    return absolute.parent / f".{absolute.name}{_LOCK_SUFFIX}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _acquire_lock(folder: Path) -> None:
    lock = _lock_path(folder)
    if lock in _held_locks:
        return
    for _attempt in range(3):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                owner = int(lock.read_text().strip() or "0")
            except (OSError, ValueError):
                owner = 0
            if owner and owner != os.getpid() and _pid_alive(owner):
                raise ValueError(
                    f"output folder {str(folder)!r} is being written by another tryon3d run (pid "
                    f"{owner}); "
                    f"wait for it to finish or choose another folder"
                ) from None
            with _suppress_oserror():
                lock.unlink()  # stale: its owner died (killed run)
            continue
        except OSError as exc:
            raise ValueError(
                f"cannot lock output folder {str(folder)!r}: {_describe(exc)}"
            ) from None
        with os.fdopen(fd, "w") as handle:
            handle.write(f"{os.getpid()}\n")
        _held_locks.add(lock)
        _remove_leftovers(folder)
        return
    raise ValueError(
        f"cannot lock output folder {str(folder)!r}: its lock file {str(lock)!r} keeps reappearing"
    )


def _release_lock(folder: Path) -> None:
    lock = _lock_path(folder)
    if lock in _held_locks:
        _held_locks.discard(lock)
        with _suppress_oserror():
            lock.unlink()


@atexit.register
def release_locks() -> None:
    """Remove every output-folder lock this process holds (at exit, and after each CLI command)."""
    for lock in list(_held_locks):
        with _suppress_oserror():
            lock.unlink()
    _held_locks.clear()


class _suppress_oserror:
    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, value, traceback) -> bool:
        return kind is not None and issubclass(kind, OSError)


def _remove_leftovers(folder: Path) -> None:
    """Staging and old folders of runs that were killed (we hold the lock, so none is live)."""
    absolute = Path(os.path.abspath(folder))
    for tag in (_STAGING_TAG, _OLD_TAG):
        for place in (absolute.parent, absolute):
            for leftover in place.glob(f".{absolute.name}{tag}*"):
                shutil.rmtree(leftover, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    result = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(a))


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _is_ours(folder: Path) -> bool:
    """An output folder we may replace whole: absent, empty, or written by an earlier run."""
    if not folder.exists():
        return True
    if Path(os.path.abspath(folder)) == Path.cwd() or folder.is_symlink():
        return False
    entries = {entry.name for entry in folder.iterdir()}
    if not entries:
        return True
    try:  # every entry must be one an earlier run listed: a file the user added keeps the folder
        listed = json.loads((folder / MANIFEST_NAME).read_text())["files"]
        tops = {Path(name).parts[0] for name in listed if isinstance(name, str) and name}
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return False
    return entries <= tops | {MANIFEST_NAME}


def write_files_atomically(
    folder: str | os.PathLike, files: Mapping[str, bytes | str]
) -> list[Path]:
    """Write every file or none, and never leave a folder that mixes two runs.

    Args:
        folder: output folder (created if missing).
        files: file name (relative, no ``..``) to content; ``str`` is written as UTF-8.

    Returns:
        The written paths, in the order given.

    Raises:
        ValueError: bad file names, a locked folder, or the disk refused (says which folder,
            why and how much was to be written).
    """
    out = ensure_writable_dir(folder)
    absolute = Path(os.path.abspath(out))
    relatives = []
    for name in files:
        relative = Path(name)
        if relative.is_absolute() or ".." in relative.parts or not relative.parts:
            raise ValueError(f"output file name {name!r} must stay inside the output folder")
        relatives.append(relative)
    payload = {
        rel: (c.encode("utf-8") if isinstance(c, str) else bytes(c))
        for rel, c in zip(relatives, files.values(), strict=True)
    }
    needed = sum(len(data) for data in payload.values())
    try:
        absolute.parent.mkdir(parents=True, exist_ok=True)
        _acquire_lock(absolute)
        whole = _is_ours(absolute)
        staging = Path(
            tempfile.mkdtemp(
                prefix=f".{absolute.name}{_STAGING_TAG}", dir=absolute.parent if whole else absolute
            )
        )
        staging.chmod(0o777 & ~_umask())  # mkdtemp's 0700 would become the output folder's mode
    except OSError as exc:
        _release_lock(absolute)
        raise ValueError(f"cannot write to output folder {str(out)!r}: {_describe(exc)}") from None
    try:
        for relative, data in payload.items():
            target = staging / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        manifest = {
            "format": "tryon3d.manifest/1",
            "pid": os.getpid(),
            "files": sorted(map(str, relatives)),
        }
        (staging / MANIFEST_NAME).write_text(json.dumps(manifest, indent=1) + "\n")
        if whole:
            _swap_in(staging, absolute)
        else:
            (absolute / MANIFEST_NAME).unlink(missing_ok=True)  # incomplete until the end
            for relative in relatives:
                final = absolute / relative
                final.parent.mkdir(parents=True, exist_ok=True)
                os.replace(staging / relative, final)
            os.replace(staging / MANIFEST_NAME, absolute / MANIFEST_NAME)
        return [out / relative for relative in relatives]
    except OSError as exc:
        raise ValueError(
            f"cannot write to output folder {str(out)!r}: {_describe(exc)} "
            f"({needed / 1e6:.1f} MB to write)"
        ) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        _release_lock(absolute)


def _swap_in(staging: Path, target: Path) -> None:
    if not target.exists():
        os.rename(staging, target)
        return
    if _exchange(staging, target):
        return  # staging now holds the old run; the caller removes it
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}{_OLD_TAG}", dir=target.parent))
    os.rename(target, old / "run")
    os.rename(staging, target)
    shutil.rmtree(old, ignore_errors=True)
