"""The garments of a fit study: family names, or garment files that travel to the workers.

A garment file (a graded DXF, a GarmentCode ``.json``, a mesh) is read once, on the driver, into
a ``StudyGarment`` holding its bytes (and its ``<file>.tryon3d.json`` sidecar's, if there is one);
that record, not a path that may not exist on another node, goes through Ray's object store once
per garment. A worker writes the bytes to a private temporary folder under the file's own name
for the length of a task (a batch of jobs; removed after it, so nothing is left on a node) and
reads them with the importer every fit report uses (``sizing._sources.load_size``). Jobs are
keyed by the bytes' SHA-256 (and the sidecar's), not by the path: a renamed file redoes
nothing, an edited one redoes its jobs.

Every file is checked before any work: it exists, is a garment format, is within the size
limit, and each size the study drapes loads as a garment of a known kind (top, dress, bottom);
otherwise the importer's one-line reason is raised.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from tryon3d.sizing._judge import _family, is_family
from tryon3d.sizing._sources import ONE_SIZE, file_sizes, garment_file, load_size

__all__ = ["StudyGarment", "chosen_sizes", "materialized", "study_garments"]

#: What a sidecar's name adds to its pattern file's name (``garments._roles.read_sidecar``).
_SIDECAR_SUFFIX = ".tryon3d.json"


@dataclass(frozen=True)
class StudyGarment:
    """One garment of a study: a family name, or a garment file's content.

    Attributes:
        label: how rows and reports name it: the family name, or the file's name (its path as
            given when two files of a study share a name).
        family: the family name; ``""`` for a file.
        sizes: the file's own sizes in its order (``(ONE_SIZE,)`` for a one-size file); empty
            for a family (its chart's sizes, picked per body).
        file_name: the file's name (``"MEN CLASSIC TEE.DXF"``); ``""`` for a family.
        content: the file's bytes.
        sha256: the bytes' SHA-256, 64 hex digits.
        sidecar: the bytes of the file's ``<file>.tryon3d.json`` sidecar, or None.
        sidecar_sha256: the sidecar's SHA-256, or None.
        source: the path the file was read from, for messages (not part of job keys).
    """

    label: str
    family: str = ""
    sizes: tuple[str, ...] = ()
    file_name: str = ""
    content: bytes = b""
    sha256: str = ""
    sidecar: bytes | None = None
    sidecar_sha256: str | None = None
    source: str = ""

    @property
    def is_file(self) -> bool:
        """True for a garment file, False for a family."""
        return not self.family

    def key_spec(self) -> str | dict[str, Any]:
        """What determines the garment, for job keys: the family name, or the file's content
        hashes and format (never its name or folder)."""
        if not self.is_file:
            return self.family
        return {
            "file_sha256": self.sha256,
            "sidecar_sha256": self.sidecar_sha256,
            "format": Path(self.file_name).suffix.lower(),
        }


def _read_file(source: str | os.PathLike) -> tuple[Path, bytes, bytes | None]:
    """(the checked path, its bytes, its sidecar's bytes or None)."""
    from tryon3d.garments._io import file_limit

    path = garment_file(source)  # a garment format, and the file exists
    limit = file_limit("TRYON3D_MAX_GARMENT_BYTES")
    try:
        size = path.stat().st_size
        if size > limit:
            raise ValueError(
                f"garment file {path.name!r} is {size / 1e6:.1f} MB, over the limit of "
                f"{limit / 1e6:.1f} MB (set TRYON3D_MAX_GARMENT_BYTES to raise it)"
            )
        content = path.read_bytes()
        side = path.with_name(path.name + _SIDECAR_SUFFIX)
        sidecar = side.read_bytes() if side.is_file() else None
    except OSError as exc:
        reason = exc.strerror or exc
        raise ValueError(f"cannot read garment file {str(source)!r}: {reason}") from None
    if not content:
        raise ValueError(f"garment file {str(source)!r} is empty")
    return path, content, sidecar


@contextlib.contextmanager
def materialized(garments: Sequence[StudyGarment]) -> Iterator[dict[str, Path]]:
    """Garment files as files in this process while the context lasts: label -> path, each
    file's bytes (and sidecar) written under its own name to a temporary folder that is removed
    on exit (Ray workers do not run ``atexit`` handlers: nothing may outlive the task).

    A worker killed inside the context (SIGKILL) leaves its copy; no folder is made without
    files.

    Raises:
        ValueError: a family, not a file.
    """
    if not garments:  # a batch of families only: nothing to write
        yield {}
        return
    with tempfile.TemporaryDirectory(prefix="tryon3d-garment-") as tmp:
        paths = {}
        for i, garment in enumerate(garments):
            if not garment.is_file:
                raise ValueError(f"{garment.label!r} is a garment family, not a file")
            folder = Path(tmp) / str(i)  # two files of a study may share a name
            folder.mkdir()
            path = folder / garment.file_name
            path.write_bytes(garment.content)
            if garment.sidecar is not None:
                path.with_name(path.name + _SIDECAR_SUFFIX).write_bytes(garment.sidecar)
            paths[garment.label] = path
        yield paths


def _file_garment(source: str | os.PathLike) -> StudyGarment:
    path, content, sidecar = _read_file(source)
    return StudyGarment(
        label=path.name,
        file_name=path.name,
        content=content,
        sha256=hashlib.sha256(content).hexdigest(),
        sidecar=sidecar,
        sidecar_sha256=None if sidecar is None else hashlib.sha256(sidecar).hexdigest(),
        source=os.fspath(source),
    )


def chosen_sizes(garment: StudyGarment, sizes: Sequence[str] | None) -> list[str]:
    """The sizes of a garment file the study drapes: all, or those of ``sizes`` it holds (a
    one-size file drapes its one size whatever ``sizes`` says: there is nothing to choose)."""
    if sizes is None or list(garment.sizes) == [ONE_SIZE]:
        return list(garment.sizes)
    return [s for s in garment.sizes if s in sizes]


def study_garments(
    sources: Sequence[str | os.PathLike],
    *,
    sizes: Sequence[str] | None = None,
    edge_length_m: float = 0.03,
) -> list[StudyGarment]:
    """The study's garments, each checked before any work: family names, or garment files read
    and loaded at each size the study drapes (without a body: how the file is read, not how it
    sits on one).

    ``sizes`` are the labels to drape; each garment drapes those it holds (a family: its chart's
    XS..5XL; a graded file: its own sizes), and each label must be held by some garment.

    Raises:
        ValueError: no garments, an unknown family, a missing, unreadable, oversized or
            unsupported file, a file that cannot be worn (the importer's one-line reason), a
            garment given twice (for files: the same content), a graded file holding none of
            ``sizes`` (the message lists its sizes) or a size no garment holds.
    """
    from tryon3d import garments as garments_stage

    if isinstance(sources, (str, os.PathLike)) or not sources:
        raise ValueError(
            f"garments must be a non-empty list of family names or garment files, got {sources!r}"
        )
    out: list[StudyGarment] = []
    for source in sources:
        if isinstance(source, str) and is_family(source):
            out.append(StudyGarment(label=source, family=source))
        elif isinstance(source, (str, os.PathLike)) and Path(source).suffix:
            out.append(_file_garment(source))
        elif isinstance(source, str):
            _family(source)  # raises: an unknown family, naming the families
        else:
            raise TypeError(
                f"a garment is a family name or a file path, got {type(source).__name__}"
            )
    keys = [str(g.key_spec()) for g in out]
    for i, key in enumerate(keys):
        if key in keys[:i]:
            if not out[i].is_file:
                raise ValueError(f"each garment once, got {out[i].label!r} twice")
            first = out[keys.index(key)]
            raise ValueError(
                f"each garment once: {first.source!r} and {out[i].source!r} hold the same content"
            )
    names = [g.label for g in out]
    out = [
        g if names.count(g.label) == 1 else replace(g, label=g.source)  # two files named alike
        for g in out
    ]
    checked = []
    for garment in out:
        if garment.is_file:
            garment = _with_sizes(garment, sizes, edge_length_m)
        checked.append(garment)
    if sizes is not None:
        held: list[str] = []
        if any(not g.is_file for g in checked):
            held += list(garments_stage.size_chart("women"))  # the men's chart has its labels
        for garment in checked:
            held += [s for s in garment.sizes if s not in held]
        unknown = [s for s in sizes if s not in held]
        if unknown or not sizes:
            raise ValueError(f"sizes must be some of {held}, got {list(sizes)}")
    return checked


def _with_sizes(
    garment: StudyGarment, sizes: Sequence[str] | None, edge_length_m: float
) -> StudyGarment:
    """The file garment with its sizes, each size the study drapes loaded once here, from the
    bytes the workers will read."""
    from tryon3d import garments as garments_stage

    where = garment.source or garment.label
    try:
        with materialized([garment]) as paths:
            path = paths[garment.label]
            garment = replace(garment, sizes=tuple(file_sizes(path)))
            chosen = chosen_sizes(garment, sizes)
            if not chosen:
                raise ValueError(
                    f"{garment.file_name} holds none of the sizes {list(sizes or [])}; its "
                    f"sizes are {list(garment.sizes)}"
                )
            for size in chosen:
                garments_stage.garment_kind(load_size(path, size, edge_length_m=edge_length_m))
    except (ValueError, TypeError, KeyError, IndexError, ArithmeticError) as exc:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(f"garment file {where!r}: {text}") from None
    return garment
