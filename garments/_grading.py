"""AAMA grade rules: a base-size DXF plus a rule table (``.rul``) made into every size's pieces.

An AAMA pattern file may hold one size only (the sample size) with a grade rule number at each
grade point: a TEXT ``# 12`` (or a bare ``12``) on the point, on the boundary's, turn points',
curve points' or grade reference layer (1, 2, 3, 5). The rule table, a text file beside it with
the same name and suffix ``.rul`` (ANSI/AAMA-292 / ASTM D6673 rule file), reads::

    UNITS: METRIC
    GRADE RULE TABLE: TEES
    SAMPLE SIZE: M
    NUMBER OF SIZES: 3
    SIZE LIST: S M L
    RULE: DELTA 1  0.00, 0.00  0.00, 0.00  0.00, 0.00
    RULE: DELTA 2  -10.00, -20.00  0.00, 0.00  10.00, 20.00
    END

one ``dx, dy`` pair per size of the list, in the table's units (METRIC: millimetres, ENGLISH:
inches; decimal point, the comma separating dx from dy), each the point's move from its place
in the sample size. A rule may run over several lines (the pairs continue until the next
``RULE:``). Points without a rule (curve points) move in proportion between the graded points
either side of them along the outline, as CAD systems grade them; notches, internal lines,
grain and mirror lines move with the nearest outline point.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # _dxf imports this module when it reads a file with a rule table
    from tryon3d.garments._dxf import DxfPiece

__all__ = ["GradeRules", "find_rule_file", "grade_pieces", "read_rule_file"]

_UNIT_M = {"METRIC": 0.001, "MM": 0.001, "ENGLISH": 0.0254, "INCH": 0.0254, "CM": 0.01}
_PAIR = re.compile(r"(-?\d+(?:\.\d*)?|-?\.\d+)\s*,\s*(-?\d+(?:\.\d*)?|-?\.\d+)")
_MAX_RULE_FILE_BYTES = 20_000_000  # a rule table is text; beyond this it is not one


@dataclass(frozen=True)
class GradeRules:
    """A grade rule table.

    Attributes:
        sample_size: the base size the pattern file is drawn in.
        sizes: size labels in table order.
        deltas: rule number -> moves from the sample size [m], shape (len(sizes), 2).
        source: the file read.
    """

    sample_size: str
    sizes: tuple[str, ...]
    deltas: dict[int, np.ndarray]
    source: str


def find_rule_file(dxf: Path) -> Path | None:
    """The ``.rul`` beside a DXF (same name, any case of the suffix), or None."""
    for candidate in (dxf.with_suffix(".rul"), dxf.with_suffix(".RUL"), dxf.with_suffix(".Rul")):
        if candidate.is_file():
            return candidate
    return None


def read_rule_file(path: Path) -> GradeRules:
    """Read an AAMA/ASTM rule table (see the module doc).

    Raises:
        ValueError: one line: too big, no size list, a rule with the wrong number of pairs.
    """
    if path.stat().st_size > _MAX_RULE_FILE_BYTES:
        raise ValueError(
            f"grade rule file {path.name!r} is over {_MAX_RULE_FILE_BYTES // 1_000_000} MB"
        )
    text = path.read_text(encoding="utf-8", errors="replace")
    header: dict[str, str] = {}
    rules: dict[int, list[tuple[float, float]]] = {}
    current: int | None = None
    for raw in text.splitlines():
        line = raw.strip()
        upper = line.upper()
        if upper.startswith("RULE:"):
            match = re.match(r"RULE:\s*DELTA\s+(\d+)(.*)$", line, flags=re.IGNORECASE)
            if match is None:
                raise ValueError(f"grade rule file {path.name!r}: unreadable rule line {line!r}")
            current = int(match.group(1))
            rules[current] = [(float(a), float(b)) for a, b in _PAIR.findall(match.group(2))]
        elif upper == "END":
            current = None
        elif current is not None and _PAIR.search(line) and ":" not in line:
            rules[current] += [(float(a), float(b)) for a, b in _PAIR.findall(line)]
        elif ":" in line:
            key, value = line.split(":", 1)
            header[key.strip().upper()] = value.strip()
    sizes = tuple(header.get("SIZE LIST", "").split())
    if not sizes:
        raise ValueError(f"grade rule file {path.name!r} has no SIZE LIST")
    unit = _UNIT_M.get(
        header.get("UNITS", "METRIC").split()[0].upper() if header.get("UNITS") else "METRIC"
    )
    if unit is None:
        raise ValueError(
            f"grade rule file {path.name!r}: UNITS must be METRIC or ENGLISH, got "
            f"{header.get('UNITS')!r}"
        )
    deltas = {}
    for number, pairs in rules.items():
        if len(pairs) != len(sizes):
            raise ValueError(
                f"grade rule file {path.name!r}: rule {number} has {len(pairs)} dx, dy pairs for "
                f"{len(sizes)} sizes"
            )
        deltas[number] = np.asarray(pairs, dtype=np.float64) * unit
    sample = header.get("SAMPLE SIZE", "")
    if sample and sample not in sizes:
        raise ValueError(
            f"grade rule file {path.name!r}: sample size {sample!r} is not in its SIZE LIST "
            f"{list(sizes)}"
        )
    return GradeRules(sample, sizes, deltas, str(path))


def _vertex_moves(
    ring: np.ndarray, rule_ids: np.ndarray, rules: GradeRules, size_index: int
) -> np.ndarray:
    """Each outline vertex's move [m] for one size, shape (N, 2): its rule's, else in proportion
    by arc length between the graded vertices either side."""
    n = len(ring)
    graded = np.flatnonzero(rule_ids >= 0)
    moves = np.zeros((n, 2))
    if not len(graded):
        return moves
    for k in graded:
        moves[k] = rules.deltas[int(rule_ids[k])][size_index]
    seg = np.linalg.norm(np.roll(ring, -1, axis=0) - ring, axis=1)
    cum = np.concatenate([[0.0], np.cumsum(seg)])  # arc length of each vertex, and the total
    total = cum[-1]
    for j, a in enumerate(graded):
        b = graded[(j + 1) % len(graded)]
        span = (cum[b] - cum[a]) % total or total
        k = (a + 1) % n
        while k != b:
            t = ((cum[k] - cum[a]) % total) / span
            moves[k] = (1.0 - t) * moves[a] + t * moves[b]
            k = (k + 1) % n
    return moves


def _nearest_moves(points: np.ndarray, ring: np.ndarray, moves: np.ndarray) -> np.ndarray:
    if len(points) == 0:
        return points
    d = np.linalg.norm(points[:, None, :] - ring[None, :, :], axis=2)
    return points + moves[d.argmin(axis=1)]


def grade_pieces(pieces: tuple[DxfPiece, ...], rules: GradeRules) -> tuple[DxfPiece, ...]:
    """Every size's pieces from the sample size's (``DxfPiece.grade_rules``: the rule number
    at each outline vertex, -1 for none; a piece without any keeps its shape in every size).

    Raises:
        ValueError: a piece names a rule the table does not hold.
    """
    base = rules.sizes.index(rules.sample_size) if rules.sample_size else 0
    for piece in pieces:
        unknown = sorted(
            set(piece.grade_rules[piece.grade_rules >= 0].tolist()) - set(rules.deltas)
        )
        if unknown:
            raise ValueError(
                f"piece {piece.name!r} uses grade rules {unknown} that "
                f"{Path(rules.source).name!r} does not hold"
            )
    out = []
    for i, size in enumerate(rules.sizes):
        for piece in pieces:
            ids = piece.grade_rules
            if not (ids >= 0).any() or i == base:
                out.append(replace(piece, size=size))
                continue
            ring = piece.boundary
            moves = _vertex_moves(ring, ids, rules, i) - _vertex_moves(ring, ids, rules, base)

            def moved(points: np.ndarray | None, ring: np.ndarray = ring, m: np.ndarray = moves):
                return None if points is None else _nearest_moves(points, ring, m)

            out.append(
                replace(
                    piece,
                    size=size,
                    boundary=ring + moves,
                    sew_line=moved(piece.sew_line),
                    internal=tuple(_nearest_moves(p, ring, moves) for p in piece.internal),
                    notches=_nearest_moves(piece.notches, ring, moves),
                    drill_holes=_nearest_moves(piece.drill_holes, ring, moves),
                    turn_points=_nearest_moves(piece.turn_points, ring, moves),
                    grain=moved(piece.grain),
                    mirror=moved(piece.mirror),
                )
            )
    return tuple(out)
