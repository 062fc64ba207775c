"""DXF-AAMA / ASTM D6673 pattern files as CAD systems write them (Gerber AccuMark, Lectra,
Optitex, CLO, Valentina), read into plain pieces.

Layers (AAMA-DXF / ASTM D6673-04): ``1`` boundary (cut line), ``2`` turn points, ``3`` curve
points, ``4`` notches, ``5`` grade reference line, ``6`` mirror line, ``7`` grain line, ``8``
internal lines, ``13`` drill holes, ``14`` sew line, ``15`` annotation text; ``84``-``86``
(ASTM quality-validation copies of the boundary and internal lines) are ignored. A piece is a
BLOCK (one per piece and size in graded files: ``REGULAR TEEFR_42``) with texts ``Piece Name:``,
``Size:``, ``Quantity:``, ``Category:``, ``Annotation:``. Boundaries usually come as several
open polylines joined end to end (one per edge); they are chained here, and each joint, plus
every turn point on the line, starts an edge.

Units: the file's ``Units: ENGLISH`` (inches) or ``METRIC`` (millimetres) text, else
``$INSUNITS``, else the unit that gives the largest piece a garment's size (0.25-2.5 m). A
METRIC file whose pieces are 10x too small for a garment (CLO exports in centimetres) is read
in centimetres. ``DxfFile.units_note`` says what was assumed.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # ezdxf is untyped (Any to mypy); the names document what is passed
    from ezdxf.entities import DXFGraphic
    from ezdxf.layouts import BlockLayout

__all__ = ["DxfFile", "DxfPiece", "read_dxf_file", "ring_area", "unfold_mirror"]

_UNIT_M = {"inch": 0.0254, "mm": 0.001, "cm": 0.01, "m": 1.0}
_INSUNITS = {1: "inch", 4: "mm", 5: "cm", 6: "m"}
_PLAUSIBLE_M = (0.25, 2.5)  # largest extent of a garment's largest piece [m]
_JOIN_TOL = 1e-4  # polyline ends this close [m] are one point (the 0.1 mm of the cross-check)

_RULE_TEXT = re.compile(r"^\s*#?\s*(\d+)\s*$")
_KEY = re.compile(r"^\s*([A-Za-z][A-Za-z /]*?)\s*:\s*(.*?)\s*$")


@dataclass(frozen=True)
class DxfPiece:
    """One piece of one size, in the file's own frame [m].

    Attributes:
        name: the ``Piece Name:`` text (the block name without ``_size`` when absent).
        size: the ``Size:`` text ("" when none).
        block: the DXF block name.
        boundary: closed outline without the repeated point, shape (N, 2) [m], in file order.
        corners: indices into ``boundary`` where edges start (polyline joints, turn points),
            shape (E,), increasing.
        sew_line: the layer-14 sew line as a closed outline (M, 2) [m] with its ``sew_corners``,
            or None.
        internal: internal lines (layer 8), each (K, 2) [m].
        notches, drill_holes, turn_points: points on layers 4, 13, 2, shape (K, 2) [m].
        grain: grain line start and end (2, 2) [m] or None.
        mirror: mirror (fold) line start and end (2, 2) [m] or None.
        quantity: the first number of ``Quantity:`` (1 when absent).
        category: the ``Category:`` text.
        annotations: other texts (``Annotation:``, layer 15, fabric...), in file order.
        raw_boundary_vertices: vertices of the boundary polylines as written, before joining.
        grade_rules: the AAMA grade rule number at each ``boundary`` vertex (a ``# 12`` text on
            the point), -1 where none, shape (N,) int64; all -1 in files without rules.
    """

    name: str
    size: str
    block: str
    boundary: np.ndarray
    corners: np.ndarray
    sew_line: np.ndarray | None = None
    sew_corners: np.ndarray | None = None
    internal: tuple[np.ndarray, ...] = ()
    notches: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    drill_holes: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    turn_points: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    grain: np.ndarray | None = None
    mirror: np.ndarray | None = None
    quantity: int = 1
    category: str = ""
    annotations: tuple[str, ...] = ()
    raw_boundary_vertices: int = 0
    grade_rules: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


@dataclass(frozen=True)
class DxfFile:
    """A pattern file's pieces and header texts.

    Attributes:
        path: the file read.
        style: ``Style Name:`` text (the file stem when absent).
        sample_size: ``Sample Size:`` text (the base size), "" when absent.
        sizes: size labels in file order.
        unit: the length unit the coordinates were read in (``mm``/``cm``/``inch``/``m``).
        units_note: how the unit was decided, one line.
        author: ``Author:``/``Product:``/``Version:`` texts joined.
        pieces: every piece of every size.
        texts: the file's top-level texts (``{key: value}`` of ``Key: value`` lines).
    """

    path: str
    style: str
    sample_size: str
    sizes: tuple[str, ...]
    unit: str
    units_note: str
    author: str
    pieces: tuple[DxfPiece, ...]
    texts: dict = field(default_factory=dict)

    def piece_names(self) -> list[str]:
        return list(dict.fromkeys(p.name for p in self.pieces))

    def size_pieces(self, size: str) -> list[DxfPiece]:
        return [p for p in self.pieces if p.size in (size, "")]


def _polyline_points(entity: DXFGraphic) -> tuple[np.ndarray, bool] | None:
    kind = entity.dxftype()
    if kind == "POLYLINE":
        pts = [tuple(v)[:2] for v in entity.points()]
        closed = bool(entity.is_closed)
    elif kind == "LWPOLYLINE":
        pts = [tuple(p) for p in entity.get_points("xy")]
        closed = bool(entity.closed)
    elif kind == "LINE":
        pts = [tuple(entity.dxf.start)[:2], tuple(entity.dxf.end)[:2]]
        closed = False
    elif kind in ("ARC", "SPLINE", "CIRCLE", "ELLIPSE"):
        pts = [tuple(v)[:2] for v in entity.flattening(0.1)]
        closed = kind == "CIRCLE"
    else:
        return None
    if len(pts) < 2:
        return None
    return np.asarray(pts, dtype=np.float64), closed


def _chain(
    parts: list[tuple[np.ndarray, bool]], tol: float
) -> tuple[np.ndarray, np.ndarray] | None:
    """Join open polylines end to end into closed loops; the loop of largest area as
    (outline (N, 2) without the repeated point, joint indices (J,)), None when nothing closes."""
    loops: list[tuple[np.ndarray, list[int]]] = []
    pending = []
    for pts, closed in parts:
        # CAD exports repeat vertices (zero-length segments): drop them
        keep = np.concatenate([[True], np.linalg.norm(np.diff(pts, axis=0), axis=1) > tol])
        pts = pts[keep]
        if len(pts) < 2:
            continue
        if closed or (len(pts) > 2 and np.linalg.norm(pts[0] - pts[-1]) <= tol):
            ring = pts[:-1] if np.linalg.norm(pts[0] - pts[-1]) <= tol else pts
            loops.append((ring, [0]))
        else:
            pending.append(pts)
    used = [False] * len(pending)
    for start in range(len(pending)):
        if used[start]:
            continue
        used[start] = True
        chain, joints = [pending[start]], [0]
        length = len(pending[start])
        while np.linalg.norm(chain[-1][-1] - chain[0][0]) > tol:
            end = chain[-1][-1]
            found = False
            for k, pts in enumerate(pending):
                if used[k]:
                    continue
                if np.linalg.norm(pts[0] - end) <= tol:
                    nxt = pts
                elif np.linalg.norm(pts[-1] - end) <= tol:
                    nxt = pts[::-1]
                else:
                    continue
                used[k] = found = True
                joints.append(length - 1)
                chain.append(nxt[1:])
                length += len(nxt) - 1
                break
            if not found:
                break
        ring = np.concatenate(chain)
        if np.linalg.norm(ring[-1] - ring[0]) <= tol and len(ring) > 3:
            loops.append((ring[:-1], joints))
    if not loops:
        return None
    ring, joints = max(loops, key=lambda item: abs(ring_area(item[0])))
    return ring, np.unique(np.asarray(joints, dtype=np.int64) % len(ring))


def ring_area(ring: np.ndarray) -> float:
    """Signed area of a closed outline (N, 2) (shoelace; positive counter-clockwise)."""
    x, y = ring[:, 0], ring[:, 1]
    return float(0.5 * (np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))


def _on_ring(ring: np.ndarray, points: np.ndarray, tol: float) -> np.ndarray:
    """Indices of ring vertices within ``tol`` of each point (-1 where none)."""
    if len(points) == 0:
        return np.zeros(0, dtype=np.int64)
    d = np.linalg.norm(ring[None, :, :] - points[:, None, :], axis=2)
    idx = d.argmin(axis=1)
    return np.where(d[np.arange(len(points)), idx] <= tol, idx, -1)


def _texts(block: BlockLayout) -> list[tuple[str, str]]:
    out = []
    for entity in block:
        if entity.dxftype() in ("TEXT", "MTEXT"):
            text = entity.dxf.text if entity.dxftype() == "TEXT" else entity.text
            out.append((entity.dxf.layer, str(text)))
    return out


def _read_block(block: BlockLayout, scale: float, tol: float) -> DxfPiece | None:
    boundary_parts, sew_parts, internal = [], [], []
    points: dict[str, list] = {"2": [], "4": [], "13": []}
    grain = mirror = None
    for entity in block:
        layer = str(entity.dxf.layer)
        kind = entity.dxftype()
        if kind == "POINT":
            if layer in points:
                points[layer].append(np.asarray(entity.dxf.location)[:2] * scale)
            continue
        got = _polyline_points(entity)
        if got is None:
            continue
        pts, closed = got[0] * scale, got[1]
        if layer == "1":
            boundary_parts.append((pts, closed))
        elif layer == "14":
            sew_parts.append((pts, closed))
        elif layer == "8":
            internal.append(pts)
        elif layer == "7" and grain is None:
            grain = np.stack([pts[0], pts[-1]])
        elif layer == "6" and mirror is None:
            mirror = np.stack([pts[0], pts[-1]])
    joined = _chain(boundary_parts, tol)
    if joined is None:
        return None
    ring, joints = joined
    turns = np.asarray(points["2"]).reshape(-1, 2)
    on = _on_ring(ring, turns, tol)
    corners = np.unique(np.concatenate([joints, on[on >= 0]]))
    rule_ids = np.full(len(ring), -1, dtype=np.int64)
    for entity in block.query("TEXT"):
        # AAMA grade rule numbers: "# 12" (or a bare number) on a grade point
        match = _RULE_TEXT.match(str(entity.dxf.text))
        if match and str(entity.dxf.layer) in ("1", "2", "3", "5"):
            at = np.asarray(entity.dxf.insert)[:2].reshape(1, 2) * scale
            k = int(_on_ring(ring, at, max(tol, 1e-3))[0])
            if k >= 0:
                rule_ids[k] = int(match.group(1))
    sew = sew_corners = None
    if sew_parts and (sew_joined := _chain(sew_parts, tol)) is not None:
        sew, sew_corners = sew_joined
    name, size, quantity, category, notes = getattr(block, "name", ""), "", 1, "", []
    for layer, text in _texts(block):
        match = _KEY.match(text)
        key, value = (match.group(1).strip().lower(), match.group(2)) if match else ("", "")
        if key == "piece name":
            name = value
        elif key == "size":
            size = value
        elif key == "quantity":
            numbers = [int(n) for n in re.findall(r"\d+", value)]
            quantity = sum(numbers) if numbers else 1
        elif key == "category":
            category = value
        elif layer in ("1", "15") and text.strip() and not _RULE_TEXT.match(text):
            notes.append(text.strip())
    return DxfPiece(
        name=name,
        size=size,
        block=getattr(block, "name", ""),
        boundary=ring,
        corners=corners,
        sew_line=sew,
        sew_corners=sew_corners,
        internal=tuple(internal),
        notches=np.asarray(points["4"]).reshape(-1, 2),
        drill_holes=np.asarray(points["13"]).reshape(-1, 2),
        turn_points=turns,
        grain=grain,
        mirror=mirror,
        quantity=max(1, quantity),
        category=category,
        annotations=tuple(notes),
        raw_boundary_vertices=sum(len(p) for p, _ in boundary_parts),
        grade_rules=rule_ids,
    )


def _decide_unit(texts: dict, insunits: int | None, extent: float, author: str) -> tuple[str, str]:
    """The coordinates' unit and a note saying why, from the units text, $INSUNITS and the
    largest piece's extent ``extent`` [file units]."""
    lo, hi = _PLAUSIBLE_M
    stated = texts.get("units", "").strip().upper()
    if stated in ("ENGLISH", "INCH", "INCHES", "IMPERIAL"):
        return "inch", "Units: ENGLISH (inches)"
    if stated in ("METRIC", "MM"):
        if extent * _UNIT_M["mm"] < lo and lo <= extent * _UNIT_M["cm"] <= hi:
            return "cm", (
                f"Units: METRIC, but the largest piece would be {extent * 0.1:.0f} mm: read as "
                f"centimetres ({author or 'unknown CAD'} export)"
            )
        return "mm", "Units: METRIC (millimetres)"
    if insunits in _INSUNITS:
        return _INSUNITS[insunits], f"$INSUNITS = {insunits} ({_INSUNITS[insunits]})"
    for unit in ("mm", "cm", "inch", "m"):
        if lo <= extent * _UNIT_M[unit] <= hi:
            return (
                unit,
                f"no units in the file: assumed {unit} (largest piece "
                f"{extent * _UNIT_M[unit]:.2f} m)",
            )
    return "mm", "no units in the file and no plausible size: assumed mm"


def read_dxf_file(path: str | os.PathLike) -> DxfFile:
    """Read every piece of every size of an AAMA/ASTM DXF pattern file.

    Raises:
        ValueError: missing or unreadable file; no piece with a closed boundary on layer 1.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"pattern file {str(path)!r} not found")
    from tryon3d.garments._io import _check_dxf_entity_count

    _check_dxf_entity_count(path)  # size and entity limits before ezdxf builds its document
    stat = path.stat()
    # a fit report reads one file once per size: parse it once (keyed by its content's stamp)
    read = _read_dxf_file(path.resolve(), stat.st_mtime_ns, stat.st_size)
    from tryon3d.garments._grading import find_rule_file

    rul = find_rule_file(path)
    if (
        rul is None
        or len(read.sizes) > 1
        or not any((p.grade_rules >= 0).any() for p in read.pieces)
    ):
        return read
    rstat = rul.stat()
    return _graded_file(
        path.resolve(),
        stat.st_mtime_ns,
        stat.st_size,
        rul.resolve(),
        rstat.st_mtime_ns,
        rstat.st_size,
    )


@functools.lru_cache(maxsize=8)
def _graded_file(
    path: Path, mtime_ns: int, size: int, rul: Path, rul_mtime_ns: int, rul_size: int
) -> DxfFile:
    """A base-size AAMA file graded by the rule table beside it (``garments._grading``)."""
    from tryon3d.garments._grading import grade_pieces, read_rule_file

    read = _read_dxf_file(path, mtime_ns, size)
    rules = read_rule_file(rul)
    try:
        pieces = grade_pieces(read.pieces, rules)
    except ValueError as exc:
        raise ValueError(f"{path.name}: {exc}") from None
    return replace(
        read,
        pieces=pieces,
        sizes=rules.sizes,
        sample_size=rules.sample_size or read.sample_size,
        units_note=f"{read.units_note}; sizes graded by {rul.name}",
    )


@functools.lru_cache(maxsize=8)
def _read_dxf_file(path: Path, mtime_ns: int, size: int) -> DxfFile:
    """``read_dxf_file`` of a checked path; cached per (path, mtime, size)."""
    import ezdxf

    try:
        doc = ezdxf.readfile(str(path))
    except (OSError, ezdxf.DXFError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read DXF pattern {path.name!r}: {exc}") from None
    texts: dict[str, str] = {}
    for _, text in _texts(doc.modelspace()):
        if match := _KEY.match(text):
            texts.setdefault(match.group(1).strip().lower(), match.group(2))
    author = " ; ".join(texts[k] for k in ("author", "product", "version") if texts.get(k))
    refs = [ref.dxf.name for ref in doc.modelspace().query("INSERT")]
    blocks = [
        doc.blocks.get(name) for name in dict.fromkeys(refs) if doc.blocks.get(name) is not None
    ]
    # the extent of the largest boundary in file units decides implausible unit statements
    extent = 0.0
    for block in blocks:
        for entity in block:
            if str(entity.dxf.layer) == "1" and (got := _polyline_points(entity)) is not None:
                extent = max(extent, float(np.ptp(got[0], axis=0).max()))
    insunits = doc.header.get("$INSUNITS")
    unit, note = _decide_unit(
        texts, int(insunits) if insunits is not None else None, extent, author
    )
    scale = _UNIT_M[unit]
    pieces = tuple(p for block in blocks if (p := _read_block(block, scale, _JOIN_TOL)) is not None)
    if not pieces:
        raise ValueError(
            f"DXF pattern {path.name!r} has no piece with a closed boundary on layer 1"
        )
    stems = [p.block.rsplit("_", 1)[0] for p in pieces if not p.size and "_" in p.block]
    if len(stems) != len(set(stems)):
        # graded without Size: texts: the block names carry the size (``FRONT_42``)
        pieces = tuple(
            p
            if p.size or "_" not in p.block
            else replace(
                p,
                size=p.block.rsplit("_", 1)[1],
                name=p.block.rsplit("_", 1)[0] if p.name == p.block else p.name,
            )
            for p in pieces
        )
    sizes = tuple(dict.fromkeys(p.size for p in pieces if p.size))
    return DxfFile(
        path=str(path),
        style=texts.get("style name", path.stem),
        sample_size=texts.get("sample size", ""),
        sizes=sizes,
        unit=unit,
        units_note=note,
        author=author,
        pieces=pieces,
        texts=texts,
    )


def unfold_mirror(
    ring: np.ndarray, corners: np.ndarray, mirror: np.ndarray, tol: float = 1e-3
) -> tuple[np.ndarray, np.ndarray] | None:
    """A half piece unfolded about its mirror (fold) line: the outline without the fold,
    followed by its reflection. The fold is the longest run of consecutive outline vertices on
    the mirror line (so a sew line, inset from the cut line's fold ends, unfolds too); its ends
    stop being corners (the edges across the fold become one symmetric edge). None when fewer
    than two consecutive vertices lie on the line.

    Args:
        ring: outline (N, 2) [m]; corners: edge starts (E,); mirror: fold line ends (2, 2) [m].
        tol: how far [m] a vertex may lie from the line and be on it.
    """
    n = len(ring)
    span = mirror[1] - mirror[0]
    if np.linalg.norm(span) < 1e-9:
        return None
    direction = span / np.linalg.norm(span)
    normal = np.array([-direction[1], direction[0]])
    on = np.abs((ring - mirror[0]) @ normal) <= tol
    if on.all() or on.sum() < 2:
        return None
    start = int(np.argmin(on))  # a vertex off the line: runs never wrap past it
    best, run = (0, -1, -1), []
    for k in range(1, n + 1):
        i = (start + k) % n
        if on[i]:
            run.append(i)
        if (not on[i] or k == n) and run:
            if len(run) > best[0]:
                best = (len(run), run[0], run[-1])
            run = []
    count, a, b = best
    if count < 2:
        return None
    # the rest of the outline runs from the fold's end b round to its start a
    path = [b]
    while path[-1] != a:
        path.append((path[-1] + 1) % n)
    half = ring[path]
    reflected = half - 2.0 * ((half - mirror[0]) @ normal)[:, None] * normal[None, :]
    full = np.concatenate([half, reflected[::-1][1:-1]])
    m = len(path)
    position = {v: k for k, v in enumerate(path)}
    kept = sorted({position[int(c)] for c in corners if int(c) in position} - {0, m - 1})
    # the reflected copy of path position k (0 < k < m - 1) sits at 2m - 2 - k in ``full``
    new_corners = sorted(set(kept) | {2 * m - 2 - k for k in kept})
    if len(new_corners) < 2:  # nothing but the fold's ends: keep them
        new_corners = sorted(set(new_corners) | {0, m - 1})
    return full, np.asarray(new_corners, dtype=np.int64)
