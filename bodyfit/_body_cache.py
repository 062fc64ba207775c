"""A safe on-disk cache of rebuilt bodies: a body seen before loads without torch or anny.

``body_from_record`` rebuilds an anny body by running the model (torch, anny, ~2-3 CPU s, most
of it imports). The result depends only on the record, the code and data that shape a body and
the installed model packages, so it is kept under ``$TRYON3D_CACHE/bodies/<key>.npz``:

- key: sha256 of the record's canonical JSON, the model name, tryon3d's version, the versions of
  anny, torch, roma, numpy and scipy (read from package metadata, nothing imported) and a digest
  of every ``bodyfit`` and ``core`` source file and every shipped ``tryon3d.data`` JSON file
  (computed once per process, ~1 ms). Any edit to the tape, the density table or the model
  wrapper therefore misses.
- value: one ``.npz`` of the Body's arrays plus its dicts and strings as JSON bytes (``meta``),
  read with ``allow_pickle=False``; written to a temporary file and renamed, so readers see a
  whole entry or none. An entry that cannot be read or does not match its key is deleted and
  rebuilt; nothing in it is ever unpickled or evaluated.
- SMPL-X bodies are not cached: their model files are the user's licensed files (hashing them
  per process would cost more than it saves, and a cached copy would outlive them).

``TRYON3D_NO_BODY_CACHE=1`` turns the cache off. At most ``MAX_ENTRIES`` bodies are kept (about
2.2 MB each); the least recently used go first.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.metadata
import importlib.resources
import json
import logging
import os
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from tryon3d.bodyfit._body import Body
from tryon3d.core import cache_root

_log = logging.getLogger(__name__)

#: Set to 1 (or true/yes/on) to turn the body cache off.
NO_CACHE_ENV = "TRYON3D_NO_BODY_CACHE"
#: Bodies kept at most; the least recently used are deleted beyond this.
MAX_ENTRIES = 100
_FORMAT = "tryon3d.body-cache/1"
# The installed packages whose code runs when a body is rebuilt (versions are part of the key).
_KEY_PACKAGES = ("anny", "torch", "roma", "numpy", "scipy")
_ARRAY_FIELDS = (
    "vertices",
    "faces",
    "uv",
    "uv_faces",
    "rest_vertices",
    "joints",
    "rest_joints",
    "joint_parents",
    "vertex_regions",
    "pose",
)


def body_cache_enabled() -> bool:
    """False when ``TRYON3D_NO_BODY_CACHE`` is set to a true value (1, true, yes, on)."""
    return os.environ.get(NO_CACHE_ENV, "").strip().lower() not in ("1", "true", "yes", "on")


def body_cache_dir() -> Path:
    """The folder of cached bodies: ``$TRYON3D_CACHE/bodies``."""
    return cache_root() / "bodies"


@functools.cache
def code_digest() -> str:
    """sha256 (hex) of what shapes a rebuilt body besides its record: tryon3d's version, the
    model packages' versions, the ``bodyfit`` and ``core`` sources and the shipped data files.
    Computed once per process."""
    from tryon3d import __version__, core

    digest = hashlib.sha256(f"tryon3d {__version__}\n".encode())
    for name in _KEY_PACKAGES:
        try:
            version = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            version = "absent"
        digest.update(f"{name} {version}\n".encode())
    folders = (Path(__file__).parent, Path(core.__file__).parent)
    for folder in folders:
        for path in sorted(folder.glob("*.py")):
            digest.update(f"{folder.name}/{path.name}\n".encode())
            digest.update(path.read_bytes())
    data = importlib.resources.files("tryon3d.data")
    for entry in sorted(data.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            digest.update(f"data/{entry.name}\n".encode())
            digest.update(entry.read_bytes())
    return digest.hexdigest()


def body_cache_key(record: Mapping[str, Any], *, model: str) -> str | None:
    """The cache key (sha256 hex) of a body record, or None when the body is not cached (an
    SMPL-X body, the cache turned off, a record that is not plain JSON)."""
    if model != "anny" or not body_cache_enabled():
        return None
    try:
        text = json.dumps(record, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError):  # not JSON (numpy scalars from a caller, NaN): rebuild
        return None
    digest = hashlib.sha256(f"{_FORMAT}\n{model}\n{code_digest()}\n".encode())
    digest.update(text.encode())
    return digest.hexdigest()


def load_cached_body(key: str) -> Body | None:
    """The Body stored under ``key``, or None when there is none; an entry that cannot be read
    (truncated, damaged, another format, another key) is deleted and None returned."""
    path = body_cache_dir() / f"{key}.npz"
    try:
        handle = np.load(path, allow_pickle=False)
    except OSError:  # none, or a cache folder that cannot be read: a miss, nothing to delete
        return None
    except Exception as exc:  # a damaged zip reads as many kinds of error: all mean rebuild
        _drop(path, exc)
        return None
    try:
        with handle:
            arrays = {name: handle[name] for name in (*_ARRAY_FIELDS, "landmarks", "skeleton")}
            meta = json.loads(handle["meta"].tobytes().decode("utf-8"))
        if meta.get("format") != _FORMAT or meta.get("key") != key:
            raise ValueError("entry was written for another key or format")
        landmarks, skeleton = arrays.pop("landmarks"), arrays.pop("skeleton")
        body = Body(
            **arrays,
            joint_names=tuple(meta["joint_names"]),
            shape_parameters=meta["shape_parameters"],
            measurements_m=meta["measurements_m"],
            landmarks_m=dict(zip(meta["landmark_names"], landmarks, strict=True)),
            skeleton_m=dict(zip(meta["skeleton_names"], skeleton, strict=True)),
            weight_kg=meta["weight_kg"],
            model=meta["model"],
            inputs=meta["inputs"],
        )
    except Exception as exc:  # KeyError, ValueError, zipfile.BadZipFile (CRC), OSError ...
        _drop(path, exc)
        return None
    with contextlib.suppress(OSError):
        os.utime(path)  # recently used: pruned last
    return body


def store_body(key: str, body: Body) -> Path | None:
    """Write ``body`` under ``key`` atomically (temporary file, then rename); returns the path,
    or None when it was not written (a body whose inputs are not plain JSON, a cache folder
    that cannot be written: the cache is an optimisation, never an error)."""
    meta = {
        "format": _FORMAT,
        "key": key,
        "model": body.model,
        "joint_names": list(body.joint_names),
        "shape_parameters": body.shape_parameters,
        "measurements_m": body.measurements_m,
        "weight_kg": body.weight_kg,
        "inputs": body.inputs,
        "landmark_names": list(body.landmarks_m),
        "skeleton_names": list(body.skeleton_m),
    }
    try:
        text = json.dumps(meta, allow_nan=False)
    except (TypeError, ValueError):
        return None
    if json.loads(text)["inputs"] != body.inputs:  # tuples or non-str keys would come back changed
        return None
    arrays = {name: getattr(body, name) for name in _ARRAY_FIELDS}
    arrays["landmarks"] = np.array(list(body.landmarks_m.values()), dtype=np.float64).reshape(-1, 3)
    arrays["skeleton"] = np.array(list(body.skeleton_m.values()), dtype=np.float64).reshape(-1, 3)
    arrays["meta"] = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    folder = body_cache_dir()
    path = folder / f"{key}.npz"
    temporary = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            dir=folder, prefix=".partial-", suffix=".npz", delete=False
        ) as handle:
            temporary = Path(handle.name)
            np.savez(handle, **arrays)
        os.replace(temporary, path)
    except OSError as exc:
        _log.debug("body cache: cannot write %s (%s)", path, exc)
        if temporary is not None:
            temporary.unlink(missing_ok=True)
        return None
    _prune(folder)
    return path


def _drop(path: Path, exc: BaseException) -> None:
    _log.warning("body cache entry %s is unreadable (%s); rebuilding it", path.name, exc)
    with contextlib.suppress(OSError):
        path.unlink(missing_ok=True)


def _prune(folder: Path) -> None:
    """Delete the least recently used entries beyond ``MAX_ENTRIES``, and temporary files a
    killed writer left behind over an hour ago."""
    try:
        now = time.time()
        for partial in folder.glob(".partial-*.npz"):
            if now - partial.stat().st_mtime > 3600.0:
                partial.unlink(missing_ok=True)
        entries = [(p.stat().st_mtime, p) for p in folder.glob("*.npz") if p.name[0] != "."]
    except OSError:  # another process pruning at the same time
        return
    if len(entries) <= MAX_ENTRIES:
        return
    entries.sort()
    for _, path in entries[: len(entries) - MAX_ENTRIES]:
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)
