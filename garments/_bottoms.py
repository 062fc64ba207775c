"""Trousers, leggings and shorts from pattern files: leg pieces turned into our trouser panels.

A leg piece is told by its name (``LEG``, ``LEGGING``, ``PANT``...; ``garments._roles``) or by
its shape: long (>= 45 cm along the grain), one waist line across its top, a crotch point
sticking out sideways (>= 2.5 cm past the outline halfway up to the waist) 12-60 % of the way
down, narrowing from there to the hem, not symmetric about its grain (a bodice or a sleeve
is), and filling at least 58 % of its box over the crotch line (a sleeve's domed cap less).
Two kinds are read:

- a **half leg** (Gerber/Lectra "FRONT"/"BACK", "FT LEG"/"BK LEG"): the crotch on one side
  (the inner one), the outseam on the other; front and back pieces come separately;
- a **whole leg** (leggings: front and back in one piece, crotch points on both sides, no
  outseam): cut along the grain through the middle of its hem into a front and a back half
  (sewn back together along the cut); the back is the half with the longer rise.

Each half is turned as our ``trousers`` family drafts its legs (waist up, inner side at -x) and
cut at its key points into ``hem``, ``outseam``, ``waist``, ``rise``, ``crotch`` and ``inseam``;
a mirrored copy makes the other leg; seams are the family's (outseams and inseams front to
back, rises and crotches left to right). Waistbands, pockets and the like are left off, with a
note.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tryon3d.garments._dxf import DxfPiece
from tryon3d.garments._families import trouser_seams
from tryon3d.garments._panels import (
    _clean,
    _crossings,
    _length,
    _mirror_x,
    _path,
    _split,
    mirror_gap,
    ring_area,
    upright,
)
from tryon3d.garments._pattern import Edge, Panel, Placement, Seam, ring_spans

__all__ = ["LegShape", "distinct_legs", "is_leg", "leg_panels", "leg_shape"]

_MIN_LENGTH_M = 0.45  # shorter "legs" (shorts) are told by their names only
_MIN_EXTENSION_M = 0.025  # a crotch point sticks out at least this far past the waist's end
_WAIST_ZONE_M = 0.06  # waist corners lie this close under the top (a back's waist slants)
_SYMMETRIC_M = 0.01  # mean mirror gap [m] under which a piece is symmetric about its grain
# share of the box over the crotch line a leg's outline fills (real legs 0.62-0.63, sleeve caps
# 0.50-0.54)
_MIN_FILL = 0.58
_HEM_ZONE_M = 0.03  # the hem's ends lie this close over the bottom
_RISE_SHARE = 0.35  # the crotch edge: the lower 35 % of the inner side's height (as the family)


@dataclass(frozen=True)
class LegShape:
    """A leg piece upright (waist up), as measured by ``leg_shape``.

    Attributes:
        ring: outline (N, 2) [m], counter-clockwise, waist up.
        corners: indices into ``ring`` where edges start, shape (E,).
        crotch_y: height [m] of the widest row (the crotch line).
        extension: how far [m] the outline sticks out at the crotch line past its ends halfway
            up to the top, (left, right).
    """

    ring: np.ndarray
    corners: np.ndarray
    crotch_y: float
    extension: tuple[float, float]

    @property
    def whole(self) -> bool:
        """Crotch points on both sides: front and back in one piece."""
        left, right = self.extension
        return min(left, right) >= _MIN_EXTENSION_M and min(left, right) > 0.35 * max(left, right)


def _turn(ring: np.ndarray) -> np.ndarray:
    out = -ring  # a half turn keeps the outline counter-clockwise
    return out - out.min(axis=0)


def _profile(ring: np.ndarray, count: int = 120) -> tuple[np.ndarray, np.ndarray]:
    y0, y1 = float(ring[:, 1].min()), float(ring[:, 1].max())
    ys = np.linspace(y0 + 0.002, y1 - 0.002, count)
    return ys, ring_spans(ring, ys)


def _measure(ring: np.ndarray) -> tuple[float, float, tuple[float, float], float, float]:
    """Crotch height and position share from the top, extensions (left, right), widths at the
    crotch and near the hem [m]."""
    ys, spans = _profile(ring)
    widths = np.nan_to_num(spans[:, 1] - spans[:, 0])
    top, height = float(ring[:, 1].max()), float(np.ptp(ring[:, 1]))
    upper = ys > top - 0.6 * height
    k = int(np.flatnonzero(upper)[np.argmax(widths[upper])])
    # halfway up from the crotch line the rise has come most of the way in (a slanted waist's
    # ends lie too far apart in height to compare with)
    hip = ring_spans(ring, np.array([0.5 * (float(ys[k]) + top)]))[0]
    if not np.isfinite(hip).all():
        return float(ys[k]), 1.0, (0.0, 0.0), float(widths[k]), float(widths[0])
    ext = (float(hip[0] - spans[k, 0]), float(spans[k, 1] - hip[1]))
    hem = float(np.nanmax(widths[ys < ring[:, 1].min() + 0.1 * height]))
    return float(ys[k]), (top - float(ys[k])) / height, ext, float(widths[k]), hem


def leg_shape(piece: DxfPiece, *, flip: bool = False) -> LegShape | None:
    """The piece upright as a leg (waist up), or None when its shape is not a leg's."""
    ring, corners, _, _ = upright(piece, False)
    if float(np.ptp(ring[:, 1])) < 0.2:
        return None
    # the crotch (the widest row) lies nearer the waist than the hem
    ys, spans = _profile(ring)
    widths = np.nan_to_num(spans[:, 1] - spans[:, 0])
    if (float(ys[int(np.argmax(widths))]) < float(np.mean(ring[:, 1]))) != flip:
        ring = _turn(ring)
    crotch_y, share, ext, wide, hem = _measure(ring)
    if not 0.12 <= share <= 0.6 or max(ext) < _MIN_EXTENSION_M or hem > 0.85 * wide:
        return None
    top = float(ring[:, 1].max())
    if _crossings(ring, top - 0.01) > 2:
        return None  # a neckline and shoulders: a bodice
    if mirror_gap(ring, ring * [-1.0, 1.0]) < _SYMMETRIC_M:
        return None  # a bodice or a sleeve: a leg's two sides differ (outseam or back rise)
    box = (top - crotch_y) * float(np.ptp(ring[:, 0]))
    if _area_above(ring, crotch_y) < _MIN_FILL * box:
        return None  # a sleeve's cap: a dome over its underarm, not a waist over the crotch
    return LegShape(ring, corners, crotch_y, ext)


def _area_above(ring: np.ndarray, level: float) -> float:
    """Area [m^2] of the outline's part above the height ``level`` (clipped to the half plane)."""
    kept = []
    n = len(ring)
    for i in range(n):
        p, q = ring[i], ring[(i + 1) % n]
        if p[1] >= level:
            kept.append(p)
        if (p[1] >= level) != (q[1] >= level):
            kept.append(p + (level - p[1]) / (q[1] - p[1]) * (q - p))
    return abs(ring_area(np.array(kept))) if len(kept) >= 3 else 0.0


def is_leg(piece: DxfPiece) -> bool:
    """Whether the piece has a leg's shape (long, see the module doc)."""
    shape = leg_shape(piece)
    return shape is not None and float(np.ptp(shape.ring[:, 1])) >= _MIN_LENGTH_M


def _cut(ring: np.ndarray, corners: np.ndarray, x: float) -> list[tuple[np.ndarray, np.ndarray]]:
    """A whole leg cut along the vertical line at ``x``: (left, right) halves with their corners
    (the cut's ends become corners). Raises ValueError unless the line crosses it twice."""
    n = len(ring)
    side = ring[:, 0] - x
    hits = [i for i in range(n) if side[i] * side[(i + 1) % n] < 0 or side[i] == 0]
    if len(hits) != 2:
        raise ValueError(
            f"a whole leg (front and back in one piece) must cross its centre line twice, "
            f"crosses it {len(hits)} times"
        )
    points = []
    for i in hits:
        p, q = ring[i], ring[(i + 1) % n]
        t = 0.0 if side[i] == 0 else side[i] / (side[i] - side[(i + 1) % n])
        points.append(p + t * (q - p))
    is_corner = np.zeros(n, dtype=bool)
    is_corner[corners] = True
    halves = []
    for k in range(2):
        i, j = hits[k], hits[1 - k]
        idx = []
        m = (i + 1) % n
        while True:
            idx.append(m)
            if m == j:
                break
            m = (m + 1) % n
        pts = np.vstack([points[k], ring[idx], points[1 - k]])
        flags = np.concatenate([[True], is_corner[idx], [True]])
        keep = np.concatenate([[True], np.linalg.norm(np.diff(pts, axis=0), axis=1) > 1e-6])
        pts, flags = pts[keep], flags[keep]
        if np.linalg.norm(pts[-1] - pts[0]) <= 1e-6:
            pts, flags = pts[:-1], flags[:-1]
            flags[0] = True
        halves.append((pts, np.flatnonzero(flags)))
    halves.sort(key=lambda h: float(h[0][:, 0].mean()))
    return halves


def _rise_length(ring: np.ndarray, corners: np.ndarray) -> float:
    """Length [m] of the inner side from the waist to the crotch point (inner side at -x)."""
    keys = _leg_keys(ring, corners)
    return _length(_path(ring, keys["waist_in"], keys["crotch"]))


def _leg_keys(ring: np.ndarray, corners: np.ndarray) -> dict[str, int]:
    """Ring indices of a half leg's hem corners, waist corners and crotch point (inner at -x,
    counter-clockwise: hem left to right, outseam up, waist right to left, rise and crotch
    down, inseam down to the hem)."""
    y, x = ring[:, 1], ring[:, 0]
    top, height = float(y.max()), float(np.ptp(y))
    upper = np.flatnonzero(y > top - 0.6 * height)
    crotch = int(upper[np.argmin(x[upper])])
    # the hem's ends: the outermost corners on each side of its middle, near the bottom (a
    # curved hem's ends may sit a little higher)
    y0 = float(y.min())
    centre = float(np.nanmean(ring_spans(ring, np.array([y0 + 0.005]))[0]))
    low = np.flatnonzero(y < y0 + _HEM_ZONE_M)
    ends = []
    for sign in (-1.0, 1.0):
        near = [int(c) for c in corners if y[c] < y0 + _HEM_ZONE_M and sign * (x[c] - centre) > 0]
        pool = near or [int(i) for i in low if sign * (x[i] - centre) > 0] or [int(np.argmin(y))]
        ends.append(pool[int(np.argmax(sign * x[pool]))])
    hem_in, hem_out = ends
    # walking counter-clockwise from the outer hem corner to the crotch point: the first and
    # last corners near the top are the waist's ends
    n = len(ring)
    walk = [(hem_out + k) % n for k in range((crotch - hem_out) % n + 1)]
    corner_set = {int(c) for c in corners}
    zone = [i for i in walk if i in corner_set and y[i] > top - _WAIST_ZONE_M]
    if len(zone) < 2:
        raise ValueError("no waist line (two corners near the top) on the leg piece")
    return {
        "hem_in": hem_in,
        "hem_out": hem_out,
        "waist_out": zone[0],
        "waist_in": zone[-1],
        "crotch": crotch,
    }


def _leg_panel(name: str, ring: np.ndarray, corners: np.ndarray, part: str, side: str) -> Panel:
    k = _leg_keys(ring, corners)
    inner = _clean(_path(ring, k["waist_in"], k["crotch"]))
    y_top, y_low = float(inner[0, 1]), float(inner[-1, 1])
    level = y_low + _RISE_SHARE * (y_top - y_low)
    seg = np.linalg.norm(np.diff(inner, axis=0), axis=1)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    below = np.flatnonzero(inner[:, 1] <= level)
    j = max(int(below[0]), 1) if len(below) else len(inner) - 1
    p, q = inner[j - 1], inner[j]
    t = float(np.clip((p[1] - level) / max(p[1] - q[1], 1e-12), 0.0, 1.0))
    fraction = (cum[j - 1] + t * seg[j - 1]) / max(cum[-1], 1e-12)
    rise, crotch = _split(inner, float(np.clip(fraction, 0.05, 0.95)))
    edges = (
        Edge(_clean(_path(ring, k["hem_in"], k["hem_out"])), "hem"),
        Edge(_clean(_path(ring, k["hem_out"], k["waist_out"])), "outseam"),
        Edge(_clean(_path(ring, k["waist_out"], k["waist_in"])), "waist"),
        Edge(rise, "rise"),
        Edge(crotch, "crotch"),
        Edge(_clean(_path(ring, k["crotch"], k["hem_in"])), "inseam"),
    )
    y = ring[:, 1]
    knee = 0.5 * (float(ring[k["crotch"], 1]) + float(y.min()))
    span = ring_spans(ring, np.array([knee]))[0]
    centre = float(np.mean(span)) if np.isfinite(span).all() else float(np.mean(ring[:, 0]))
    placement = Placement(part, centre, side, "waist", float(ring[k["waist_out"], 1]))
    return Panel(name, edges, np.array([0.0, 1.0]), placement)


def _half(shape: LegShape) -> tuple[np.ndarray, np.ndarray]:
    """A half leg with its inner (crotch) side at -x."""
    left, right = shape.extension
    ring, corners = shape.ring, shape.corners
    return _mirror_x(ring, corners) if right > left else (ring, corners)


def distinct_legs(shapes: list[LegShape]) -> list[int]:
    """Indices of the half legs that are not another's copy or mirror image (a left and a right
    leg cut from one piece each: CLO and our own files write all four)."""
    kept: list[int] = []
    halves = [_half(shape)[0] for shape in shapes]
    for k, ring in enumerate(halves):
        if not any(
            len(ring) == len(halves[j]) and mirror_gap(ring, halves[j]) < 0.002 for j in kept
        ):
            kept.append(k)
    return kept


def leg_panels(
    front: LegShape | None, back: LegShape | None, whole: LegShape | None
) -> tuple[list[Panel], list[Seam], list[str]]:
    """Four trouser panels (``front_l``, ``front_r``, ``back_l``, ``back_r``), their seams and
    notes, from a front and a back half leg or from one whole leg.

    Raises:
        ValueError: one line saying which key point or cut the shape does not give.
    """
    notes = []
    if whole is not None:
        centre = float(np.mean(ring_spans(whole.ring, np.array([whole.ring[:, 1].min() + 0.01]))))
        (lr, lc), (rr, rc) = _cut(whole.ring, whole.corners, centre)
        # the left half's crotch is at its left already; the right half is mirrored
        halves = [(lr, lc), _mirror_x(rr, rc)]
        halves.sort(key=lambda h: _rise_length(*h))  # the back's rise is the longer
        (fr, fc), (br, bc) = halves
        notes.append("whole leg cut along its grain into a front and a back (sewn as outseams)")
    else:
        if front is None or back is None:
            raise ValueError("a front and a back leg piece (or one whole leg) are needed")
        fr, fc = _half(front)
        br, bc = _half(back)
    front_l = _leg_panel("front_l", fr, fc, "leg_left", "front")
    back_r = _leg_panel("back_r", br, bc, "leg_right", "back")
    panels = [
        front_l,
        front_l.mirrored("front_r", side="leg_right"),
        back_r.mirrored("back_l", side="leg_left"),
        back_r,
    ]
    seams = trouser_seams()
    return panels, seams, notes
